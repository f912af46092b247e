"""Pair meta-features, store builds and the learners (MetaTrans, EasyTransferability).

- :func:`compute_meta_features` — the meta-features of a pair (no target labels);
- store builds: :class:`BuildConfig`, pair specs (:func:`load_spec_file`, :func:`draw`,
  :func:`materialize`, :func:`pair_identity`), :func:`plan`, :func:`run_pair`, :func:`build`,
  :func:`record_evaluation`, and the built-in pair lists :data:`RECIPES`.
  The store itself (persistence) is :mod:`transferability.meta_store`;
- EasyTransferability: :func:`assess` (is this source worth it for a labelling budget of k
  per class?), its models (:func:`train_easytrans`, :func:`save_easytrans`, :func:`load_easytrans`);
- MetaTrans: :func:`recommend` (which method, with intervals and reasons).
"""

from ._features import (
    FEATURE_NAMES, FEATURE_SCHEMA_VERSION, LABEL_FEATURES, LABEL_FREE_FEATURES, compute_meta_features, sliced_wasserstein,
)
from ._build import (
    DEFAULT_BASE_ESTIMATORS, BuildConfig, build, check_run_settings, draw, effective_params, load_spec_file, materialize,
    pair_identity, plan, record_evaluation, run_pair,
)
from ._recipes import RECIPES, default_recipe
from ._recommend import Recommendation, recommend
from ._easytrans import (
    Assessment, EasyTransModels, assess, assess_from_features, load_easytrans, save_easytrans, train_easytrans,
)

__all__ = [
    "FEATURE_NAMES", "FEATURE_SCHEMA_VERSION", "LABEL_FEATURES", "LABEL_FREE_FEATURES", "compute_meta_features",
    "sliced_wasserstein",
    "Assessment", "EasyTransModels", "assess", "assess_from_features", "train_easytrans", "save_easytrans",
    "load_easytrans", "Recommendation", "recommend",
    "BuildConfig", "DEFAULT_BASE_ESTIMATORS", "build", "check_run_settings", "plan", "run_pair", "draw", "materialize", "pair_identity",
    "load_spec_file", "record_evaluation", "effective_params", "RECIPES", "default_recipe",
]
