"""The learners' room: pair meta-features, training tables, MetaTrans and EasyTransferability
(each fit on a table, no store inside), their model files, and the entry points
:func:`recommend` and :func:`assess` that return result objects.

This room never imports :mod:`transferability.meta.build` or
:mod:`transferability.meta.evaluation` (``tests/test_architecture.py`` keeps it so): the
learners fit what they are told to fit; choosing a configuration on held-out groups is the
evaluation's job (:func:`transferability.meta.evaluation.train_models`).
"""

from transferability.utils.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "._features": ["FEATURE_NAMES", "FEATURE_SCHEMA_VERSION", "LABEL_FEATURES", "LABEL_FREE_FEATURES",
                   "compute_meta_features", "pair_meta_features", "sliced_wasserstein"],
    "._table": ["TrainingTable", "build_tables", "load_records", "records_hash"],
    "._modelfiles": ["ModelSet", "MetaTransModel", "fit_models", "save_models", "load_models", "models_dir",
                     "shipped_records_hash"],
    "._easytrans": ["Assessment", "EasyTransModels", "assess", "assess_from_features", "fit_easytrans",
                    "save_easytrans", "load_easytrans", "label_pair", "build_label_tables", "KSHOT_LADDER"],
    "._recommend": ["Recommendation", "MethodPrediction", "recommend", "recommend_from_features"],
    "._runtime": ["RuntimeModel"],
})
