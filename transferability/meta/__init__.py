"""Pair meta-features and store builds (and, with later issues, the MetaTrans /
EasyTransferability learners).

- :func:`compute_meta_features` — the meta-features of a pair (no target labels);
- store builds: :class:`BuildConfig`, pair specs (:func:`load_spec_file`, :func:`draw`,
  :func:`materialize`, :func:`pair_identity`), :func:`plan`, :func:`run_pair`, :func:`build`,
  :func:`record_evaluation`, and the built-in pair lists :data:`RECIPES`.
  The store itself (persistence) is :mod:`transferability.meta_store`.
"""

from ._features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION, compute_meta_features
from ._build import (
    DEFAULT_BASE_ESTIMATORS, BuildConfig, build, check_run_settings, draw, effective_params, load_spec_file, materialize,
    pair_identity, plan, record_evaluation, run_pair,
)
from ._recipes import RECIPES, default_recipe

__all__ = [
    "FEATURE_NAMES", "FEATURE_SCHEMA_VERSION", "compute_meta_features",
    "BuildConfig", "DEFAULT_BASE_ESTIMATORS", "build", "check_run_settings", "plan", "run_pair", "draw", "materialize", "pair_identity",
    "load_spec_file", "record_evaluation", "effective_params", "RECIPES", "default_recipe",
]
