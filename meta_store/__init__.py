"""The meta store: an embedded SQLite database of past transfer outcomes (persistence only).

Installed as ``transferability.meta_store``. See ``docs/meta_store.md``. It imports nothing
from the library but :mod:`transferability.utils`; builds (specs, plan, run, record) live in
:mod:`transferability.meta`.

- :class:`MetaStore` — open/create a store, record pairs and outcomes, statistics;
- :func:`export_records` / :func:`import_records` / :func:`read_records` /
  :func:`validate_records` — JSON lines or Parquet;
- :func:`open_store` (write), :func:`open_readable_store` (read: yours, else the shipped one),
  :func:`open_default_store` — the shipped store (read-only), made from ``records/*.jsonl``.
"""

from transferability.utils.identity import canonical_params, fingerprint, pair_key, preprocess_key

from ._paths import (
    DEFAULT_STORE_REASON, default_store_path, open_default_store, open_readable_store, open_store, records_dir,
    user_store_path,
)
from ._records import (
    comparable, export_records, import_records, iter_records, outcomes_for_base, read_records, validate_records,
)
from ._schema import BASE_FREE, SCHEMA_VERSION
from ._store import MetaStore, StoreError

__all__ = [
    "MetaStore", "StoreError", "SCHEMA_VERSION", "fingerprint", "pair_key", "canonical_params", "preprocess_key",
    "export_records", "import_records", "read_records", "validate_records", "iter_records", "comparable",
    "user_store_path", "records_dir", "default_store_path", "open_default_store", "open_store",
    "open_readable_store", "DEFAULT_STORE_REASON", "BASE_FREE", "outcomes_for_base",
]
