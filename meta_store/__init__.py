"""The meta store: an embedded SQLite database of past transfer outcomes.

Installed as ``transferability.meta_store``. See ``docs/meta_store.md``.

- :class:`MetaStore` — open/create a store, record pairs and outcomes, statistics;
- :func:`export_records` / :func:`import_records` / :func:`read_records` — JSON lines or Parquet;
- :func:`build` with :class:`BuildConfig` and the recipes — fill a store (local or Dask);
- :func:`open_default_store` — the shipped store (read-only), made from ``records/*.jsonl``.
"""

from ._build import (
    BuildConfig, build, load_spec_file, materialize, plan, preprocess_key, record_evaluation, run_pair,
)
from ._paths import default_store_path, open_default_store, open_store, records_dir, user_store_path
from ._recipes import RECIPES, default_recipe
from ._records import comparable, export_records, import_records, iter_records, read_records
from ._schema import SCHEMA_VERSION
from ._store import MetaStore, StoreError, canonical_params, fingerprint, pair_key

__all__ = [
    "MetaStore", "StoreError", "SCHEMA_VERSION", "fingerprint", "pair_key", "canonical_params",
    "export_records", "import_records", "read_records", "iter_records", "comparable",
    "BuildConfig", "build", "plan", "run_pair", "materialize", "load_spec_file", "record_evaluation",
    "preprocess_key",
    "RECIPES", "default_recipe",
    "user_store_path", "records_dir", "default_store_path", "open_default_store", "open_store",
]
