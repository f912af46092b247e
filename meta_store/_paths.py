"""Where stores live: the user's store and the shipped default store."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ._schema import SCHEMA_VERSION
from ._store import MetaStore, StoreError

__all__ = ["user_store_path", "records_dir", "default_store_path", "open_default_store", "open_store",
           "open_readable_store", "DEFAULT_STORE_REASON"]

ENV_STORE = "TRANSFERABILITY_STORE"
#: What the shipped default store's SQLite file says it is when something tries to write to it.
DEFAULT_STORE_REASON = "the shipped default store"


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
    """The SQLite file made from the shipped records, in the user's cache (keyed by their hash
    and the store schema version)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return os.path.join(base, "transferability", f"shipped-store-s{SCHEMA_VERSION}-{_records_digest()}.sqlite")


def open_default_store() -> MetaStore:
    """Open the shipped default store read-only, creating its SQLite file from the records once.

    The file is marked read-only inside (every later open for writing is refused, whoever
    asks) and has no journal files beside it."""
    from ._records import import_records, read_records

    files = sorted(records_dir().glob("*.jsonl"))
    if not files:
        raise StoreError("this installation ships no default store records (meta_store/records/*.jsonl)")
    path = default_store_path()
    if not os.path.exists(path):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the default store's cache directory {os.path.dirname(path)} "
                             f"({exc.strerror})") from None
        tmp = f"{path}.build-{os.getpid()}"
        try:
            st = MetaStore(tmp)
            try:
                for f in files:
                    import_records(st, read_records(f))
                st.mark_read_only(DEFAULT_STORE_REASON)
                st.checkpoint_and_close_journal()
            finally:
                st.close()
            os.chmod(tmp, 0o444)
            os.replace(tmp, path)  # atomic: readers never see a partial default store
        finally:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(tmp + suffix):
                    os.unlink(tmp + suffix)
    return MetaStore(path, readonly=True)


def open_store(path=None, *, create=True) -> MetaStore:
    """Open ``path`` (default: the user's store, whose directory is created if needed) for
    reading and writing.

    Fails at open, with a one-line :class:`StoreError`, when the store cannot be written (an
    unwritable or immutable file or directory, the shipped default store), so a caller can
    check the store before running anything whose results it would record. (The shipped
    store's file is marked read-only inside when it is made, see :func:`open_default_store`.)"""
    if path is None:  # the user's store: its directory is made on first use
        path = user_store_path()
        if create and not os.path.exists(path):
            try:
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the directory of your store {path} ({exc.strerror})") from None
    return MetaStore(os.fspath(path), create=create)


def open_readable_store(path=None):
    """Open a store to read: ``path`` if given, else the user's store when it exists, else the
    shipped default store. Returns ``(store, which)`` with ``which`` one of ``"given"``,
    ``"user"``, ``"default"``."""
    if path is not None:
        return MetaStore(path, create=False, readonly=True), "given"
    user = user_store_path()
    if os.path.exists(user):
        return MetaStore(user, create=False, readonly=True), "user"
    return open_default_store(), "default"
