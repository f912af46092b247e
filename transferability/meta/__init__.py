"""Pair meta-features, store builds, the learners (MetaTrans, EasyTransferability) and their
evaluation, in three rooms that import downwards only (DESIGN.md, Layout):

- :mod:`transferability.meta.build` — pair specs, recipes, the build runner, store statistics;
- :mod:`transferability.meta.learners` — :func:`compute_meta_features`, the two learners, their
  model files, :func:`recommend` (which method) and :func:`assess` (worth transferring?);
- :mod:`transferability.meta.evaluation` — group-held-out protocols, :func:`train_models` /
  :func:`train_easytrans` (choose on held-out groups, then fit), the evaluation page.

The names below are re-exported lazily (imported on first use); the build runner itself is
:func:`transferability.meta.build.build` (``transferability.meta.build`` is the room). The store itself (persistence)
is :mod:`transferability.meta_store`.
"""

from transferability.utils.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".learners": ["FEATURE_NAMES", "FEATURE_SCHEMA_VERSION", "LABEL_FEATURES", "LABEL_FREE_FEATURES",
                  "compute_meta_features", "sliced_wasserstein", "Assessment", "EasyTransModels", "assess",
                  "assess_from_features", "fit_easytrans", "save_easytrans", "load_easytrans", "fit_models",
                  "save_models", "load_models", "Recommendation", "recommend"],
    ".build": ["BuildConfig", "DEFAULT_BASE_ESTIMATORS", "check_run_settings", "plan", "run_pair", "draw",
               "materialize", "pair_identity", "load_spec_file", "record_evaluation", "effective_params", "RECIPES",
               "default_recipe"],
    ".evaluation": ["train_models", "train_easytrans", "write_evaluation"],
})
