"""The store-building room: pair specs and the built-in recipes, the build plan and runner
(joblib locally, Dask when given a scheduler), recording a user's evaluation, store statistics.

Imports the learners' meta-features (a built pair carries the features the learners read),
never :mod:`transferability.meta.evaluation`. The store itself (persistence) is
:mod:`transferability.meta_store`.
"""

from transferability.utils.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "._build": ["DEFAULT_BASE_ESTIMATORS", "BuildConfig", "build", "check_run_settings", "draw", "effective_params",
                "load_spec_file", "materialize", "pair_identity", "plan", "record_evaluation", "run_pair"],
    "._recipes": ["RECIPES", "default_recipe"],
    "._store_stats": ["store_stats", "family_table"],
})
