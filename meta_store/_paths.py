"""Where stores live: the user's store and the shipped default store."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ._store import MetaStore, StoreError

__all__ = ["user_store_path", "records_dir", "default_store_path", "open_default_store", "open_store"]

ENV_STORE = "TRANSFERABILITY_STORE"


def user_store_path() -> str:
    """``$TRANSFERABILITY_STORE``, else ``$XDG_DATA_HOME/transferability/store.sqlite``
    (``~/.local/share/transferability/store.sqlite``)."""
    env = os.environ.get(ENV_STORE)
    if env:
        return env
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return os.path.join(base, "transferability", "store.sqlite")


def records_dir() -> Path:
    """The shipped default store's text records (``meta_store/records/*.jsonl``)."""
    return Path(__file__).resolve().parent / "records"


def _records_digest() -> str:
    h = hashlib.sha256()
    for p in sorted(records_dir().glob("*.jsonl")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def default_store_path() -> str:
    """The SQLite file made from the shipped records, in the user's cache (keyed by their hash)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return os.path.join(base, "transferability", f"default-store-{_records_digest()}.sqlite")


def open_default_store() -> MetaStore:
    """Open the shipped default store read-only, creating its SQLite file from the records once."""
    from ._records import import_records, read_records

    files = sorted(records_dir().glob("*.jsonl"))
    if not files:
        raise StoreError("this installation ships no default store records (meta_store/records/*.jsonl)")
    path = default_store_path()
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.build-{os.getpid()}"
        try:
            with MetaStore(tmp) as st:
                for f in files:
                    import_records(st, read_records(f))
                st.query("PRAGMA wal_checkpoint(TRUNCATE)")
                st._con.execute("PRAGMA journal_mode=DELETE")
            os.replace(tmp, path)  # atomic: readers never see a partial default store
        finally:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(tmp + suffix):
                    os.unlink(tmp + suffix)
    return MetaStore(path, readonly=True)


def open_store(path=None, *, create=True) -> MetaStore:
    """Open ``path`` (default: the user's store) for reading and writing."""
    return MetaStore(path or user_store_path(), create=create)
