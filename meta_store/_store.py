"""SQLite access to a meta store: opening (with checks), recording, reading, statistics.

Guarantees
----------
- Every write is one transaction (``BEGIN IMMEDIATE``), so a killed process leaves either all of
  a record or none of it.
- Unique keys (dataset fingerprint; pair key; (pair, method, params, base estimator, seed);
  (pair, base estimator, k, seed)) with ``INSERT OR IGNORE``: recording the same thing twice,
  from one process or several, adds nothing.
- WAL journal and a 60 s busy timeout: concurrent writer processes wait for each other and lose
  nothing.
- A file that is not a store, a corrupt file, or a store of a schema version this code cannot
  read raises :class:`StoreError` (one line) and is never modified: it is inspected read-only
  first. A store of an older readable version (:data:`~._schema.READABLE_VERSIONS`) is read
  as it is when opened read-only (fields it lacks read as NULL) and migrated in place, in one
  transaction, when opened for writing (:data:`~._schema.MIGRATIONS`).
- Anything that is not a regular file (a FIFO, a device) is refused before it is opened, so a
  store path never blocks.
- A store opened for writing is checked writable at open (the file and its directory, where
  the WAL journal lives); a store marked read-only (the shipped default store) refuses it.
- Reading a store that no process has open creates no ``-wal``/``-shm`` files (SQLite's
  ``immutable`` read-only mode); a writer's last connection removes them on close.
"""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
import tempfile
from contextlib import contextmanager

import numpy as np

from transferability._version import __version__
from transferability.utils.identity import canonical_params, pair_key
from transferability.utils.io import check_regular_file
from transferability.utils.validation import InputError

from ._schema import ADDED_COLUMNS, MIGRATIONS, READ_ONLY_KEY, READABLE_VERSIONS, SCHEMA, SCHEMA_VERSION

__all__ = ["MetaStore", "StoreError"]

_BUSY_TIMEOUT_S = 60.0


class StoreError(InputError):
    """A store that cannot be used (missing, corrupt, not a store, other schema, read-only)."""


def _null_nan(v):
    """None for None or NaN (stored NULL), else the value."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return float(v)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _ro_uri(path: str) -> str:
    """A read-only URI. With no ``-wal`` file beside it nobody has the store open: read it as
    immutable, which creates no ``-shm``/``-wal`` files."""
    flags = "mode=ro" if os.path.exists(path + "-wal") else "mode=ro&immutable=1"
    return f"file:{path}?{flags}"


def _check_existing(path: str) -> dict:
    """Inspect ``path`` read-only: it must be an SQLite meta store of a readable schema version.
    Returns ``{"read_only": reason or None, "version": int, "columns": {table: set of columns}}``."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise StoreError(f"cannot read {path} ({exc.strerror})") from None
    if head != b"SQLite format 3\x00":
        raise StoreError(f"{path} is not a meta store (not an SQLite database)")
    try:
        con = sqlite3.connect(_ro_uri(path), uri=True, timeout=_BUSY_TIMEOUT_S)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "store_info" not in tables:
                raise StoreError(f"{path} is an SQLite database but not a meta store (no store_info table)")
            info = dict(con.execute("SELECT key, value FROM store_info").fetchall())
            ok = con.execute("PRAGMA quick_check").fetchone()
            columns = {t: {r[1] for r in con.execute(f"PRAGMA table_info({t})")}
                       for t in ("datasets", "pairs", "outcomes", "kshot", "ceiling")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is corrupt or not a meta store ({exc})") from None
    if ok is None or ok[0] != "ok":
        raise StoreError(f"{path} is corrupt (integrity check: {ok[0] if ok else 'no answer'})")
    version = info.get("schema_version")
    if version is None:
        raise StoreError(f"{path} has no schema version; not a meta store")
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise StoreError(f"{path} has a schema version that is not a number ({str(version)[:40]!r}); "
                         "not a meta store this transferability can read") from None
    if version in READABLE_VERSIONS:
        _check_tables(path, version, columns)
    if version not in READABLE_VERSIONS:
        raise StoreError(
            f"{path} has store schema version {version}, this transferability reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}; `transferability store export` it with the "
            "transferability that wrote it and `transferability store import` the records here"
        )
    return {"read_only": info.get(READ_ONLY_KEY), "version": version, "columns": columns}


def _schema_columns() -> dict:
    """Table -> columns of :data:`SCHEMA` (the current version), read from an in-memory copy."""
    con = sqlite3.connect(":memory:")
    try:
        con.executescript(SCHEMA)
        return {t: {r[1] for r in con.execute(f"PRAGMA table_info({t})")}
                for t in ("datasets", "pairs", "outcomes", "kshot", "ceiling")}
    finally:
        con.close()


def _check_tables(path: str, version: int, columns: dict) -> None:
    """A store of schema ``version`` has every table and column that version has (the columns
    added later, :data:`ADDED_COLUMNS` and :data:`MIGRATIONS`, may be missing): an SQLite file
    with a ``store_info`` table but not the rest is not a store, refused with one line."""
    later = {(t, c) for t, c, _ in ADDED_COLUMNS}
    later |= {(t, c) for v, cols in MIGRATIONS.items() if v >= version for t, c, _ in cols}
    for table, expected in _schema_columns().items():
        if table == "ceiling" and version < 2:  # the ceiling table came with version 2
            continue
        have = columns.get(table, set())
        if not have:
            raise StoreError(f"{path} is not a meta store: it has no {table} table")
        missing = sorted(c for c in expected - have if (table, c) not in later)
        if missing:
            raise StoreError(f"{path} is not a meta store: its {table} table lacks {', '.join(missing)}")


def _check_writable(path: str) -> None:
    """The store file and its directory (where SQLite keeps the WAL journal) must be writable.
    Checked by trying, before any SQLite connection (which would fall back to read-only and
    leave journal files behind); ``os.access`` is not enough (root, immutable files)."""
    try:
        with open(path, "r+b"):
            pass
    except OSError as exc:
        raise StoreError(f"{path} is not writable ({exc.strerror}); pass --store PATH of a store you can write") from None
    parent = os.path.dirname(os.path.abspath(path))
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise StoreError(f"cannot write in {parent} ({exc.strerror}), where the store {os.path.basename(path)} "
                         "keeps its journal") from None


def _create_atomically(path: str) -> None:
    """Create an empty store with its schema at ``path`` unless another process got there first.

    The schema is written to a private temporary file which is then hard-linked into place
    (``link`` fails if the name exists), so no process ever sees a half-initialised store.
    """
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise StoreError(f"cannot create a store in {parent}: no such directory")
    tmp = f"{path}.init-{os.getpid()}"
    try:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("BEGIN")
            for stmt in SCHEMA.split(";"):
                if stmt.strip():
                    con.execute(stmt)
            con.executemany("INSERT INTO store_info VALUES (?, ?)", [
                ("schema_version", str(SCHEMA_VERSION)), ("created_with", __version__), ("created_at", _now())])
            con.execute("COMMIT")
        finally:
            con.close()
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process created it: use theirs
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot create a store at {path} ({getattr(exc, 'strerror', None) or exc})") from None
    finally:
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(tmp + suffix)
            except FileNotFoundError:
                pass


class MetaStore:
    """A meta store on disk.

    Parameters
    ----------
    path : str or path-like
        SQLite file. Created (with its schema) when ``create=True`` and it does not exist.
    create : bool, default=True
    readonly : bool, default=False
        Open read-only; every write raises :class:`StoreError`.
    """

    def __init__(self, path, *, create=True, readonly=False):
        self.path = os.fspath(path)
        self.readonly = readonly
        self._con = None
        if check_regular_file(self.path, "meta store", error=StoreError, missing_ok=True):
            info = _check_existing(self.path)
            if not readonly:
                if info["read_only"]:
                    raise StoreError(f"{self.path} is {info['read_only']} and read-only; "
                                     "pass --store PATH to write to a store of your own")
                _check_writable(self.path)
        elif not create or readonly:
            raise StoreError(f"no meta store at {self.path}")
        else:
            _create_atomically(self.path)
            info = _check_existing(self.path)
        try:
            if readonly:
                self._con = sqlite3.connect(_ro_uri(self.path), uri=True, timeout=_BUSY_TIMEOUT_S)
            else:
                self._con = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
                self._con.execute("PRAGMA journal_mode=WAL")
                self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.execute("PRAGMA foreign_keys=ON")
            if not readonly:
                self._add_columns(info["columns"])
                self._migrate(info["version"])
            self._columns = {t: {r[1] for r in self._con.execute(f"PRAGMA table_info({t})")}
                             for t in ("pairs", "outcomes", "kshot", "ceiling")}
            self._pair_columns = self._columns["pairs"]
            self.schema_version = int(self._con.execute(
                "SELECT value FROM store_info WHERE key='schema_version'").fetchone()[0])
        except sqlite3.Error as exc:
            self.close()
            raise StoreError(f"cannot open the store {self.path} ({exc})") from None

    @staticmethod
    def _missing(columns):
        return [(t, c, ty) for t, c, ty in ADDED_COLUMNS if c not in columns.get(t, ())]

    def _add_columns(self, columns):
        """Add the nullable columns of :data:`ADDED_COLUMNS` that an older store lacks."""
        if not self._missing(columns):
            return
        with self.transaction() as con:
            for table, col, typ in ADDED_COLUMNS:  # re-read inside the lock: another writer may have added them
                if col not in {r[1] for r in con.execute(f"PRAGMA table_info({table})")}:
                    con.execute(f"ALTER TABLE {table} ADD COLUMN {col} {typ}")

    def _migrate(self, version):
        """Bring a store of an older readable schema version to :data:`SCHEMA_VERSION` in one
        transaction: the nullable columns it lacks, the tables it lacks, then the version."""
        if version >= SCHEMA_VERSION:
            return
        with self.transaction() as con:
            now = int(con.execute("SELECT value FROM store_info WHERE key='schema_version'").fetchone()[0])
            if now >= SCHEMA_VERSION:  # another writer migrated it meanwhile
                return
            for v in range(now, SCHEMA_VERSION):
                for table, col, typ in MIGRATIONS.get(v, ()):
                    if col not in {r[1] for r in con.execute(f"PRAGMA table_info({table})")}:
                        con.execute(f"ALTER TABLE {table} ADD COLUMN {col} {typ}")
            for stmt in SCHEMA.split(";"):  # new tables and indexes (IF NOT EXISTS)
                if stmt.strip():
                    con.execute(stmt)
            con.execute("UPDATE store_info SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))
            con.execute("INSERT OR REPLACE INTO store_info VALUES (?, ?)",
                        (f"migrated_from_{now}", f"{_now()} by transferability {__version__}"))

    def column(self, table, name):
        """``name`` if ``table`` has that column in this store, else ``NULL AS name`` (a
        read-only store of an older schema), for SELECT lists."""
        return name if name in self._columns.get(table, ()) else f"NULL AS {name}"

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self):
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def transaction(self):
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error)."""
        if self.readonly:
            raise StoreError(f"{self.path} is opened read-only; pass --store PATH to write to a store of your own")
        con = self._con
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    # -- writing --------------------------------------------------------------------------------
    def _dataset_id(self, con, fp, X_shape, y, provenance):
        classes = None if y is None else sorted({str(v) for v in np.asarray(y).tolist()})
        row = con.execute("SELECT id FROM datasets WHERE fingerprint=?", (fp,)).fetchone()
        if row:
            if classes is not None:  # first seen as a target (labels not kept): its classes are known now
                con.execute("UPDATE datasets SET n_classes=?, classes=? WHERE id=? AND classes IS NULL",
                            (len(classes), json.dumps(classes), row[0]))
            return row[0]
        con.execute(
            "INSERT OR IGNORE INTO datasets (fingerprint, n_samples, n_features, n_classes, classes, provenance)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (fp, int(X_shape[0]), int(X_shape[1]), None if classes is None else len(classes),
             None if classes is None else json.dumps(classes), json.dumps(provenance or {}, sort_keys=True)),
        )
        return con.execute("SELECT id FROM datasets WHERE fingerprint=?", (fp,)).fetchone()[0]

    def record_pair(self, *, name, family, preprocess, source, target, meta_features, feature_schema,
                    outcomes=(), kshot=(), task=None, base=None, ceiling=(), con=None):
        """Record a pair, its meta-features, outcomes and k-shot baselines in one transaction.

        ``source``/``target`` are dicts with ``fingerprint``, ``shape``, ``y`` (or None) and
        ``provenance``. ``outcomes``: dicts with ``method``, ``params``, ``base_estimator``, ``seed``,
        ``target_accuracy``, ``runtime_s``, ``status``, ``error``. ``kshot``: dicts with
        ``base_estimator``, ``k``, ``seed``, ``n_draws``, ``accuracy``, optional
        ``balanced_accuracy`` and ``reason`` (why accuracy is None). ``ceiling``: dicts with
        ``base_estimator``, ``seed``, ``n_folds``, ``accuracy``, ``balanced_accuracy``,
        ``reason``. Outcomes may carry ``balanced_accuracy``. ``task``/``base``: the real
        task and underlying dataset the pair derives from (or None). Existing records are kept
        (nothing duplicated). Returns ``(pair_id, n_outcomes_added)``.
        """
        def work(c):
            sid = self._dataset_id(c, source["fingerprint"], source["shape"], source.get("y"), source.get("provenance"))
            tid = self._dataset_id(c, target["fingerprint"], target["shape"], None, target.get("provenance"))
            key = pair_key(source["fingerprint"], target["fingerprint"], preprocess)
            c.execute(
                "INSERT OR IGNORE INTO pairs (key, source_id, target_id, name, family, preprocess, feature_schema,"
                " meta_features, created_at, task, base) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, sid, tid, name, family, preprocess, int(feature_schema),
                 json.dumps(meta_features, sort_keys=True, allow_nan=True), _now(), task, base),
            )
            pid = c.execute("SELECT id FROM pairs WHERE key=?", (key,)).fetchone()[0]
            added = self._insert_outcomes(c, pid, outcomes)
            self._insert_kshot(c, pid, kshot)
            self._insert_ceiling(c, pid, ceiling)
            return pid, added

        if con is not None:
            return work(con)
        with self.transaction() as c:
            return work(c)

    def insert_outcomes(self, pair_key, outcomes=(), kshot=(), ceiling=()) -> int:
        """Add outcomes, k-shot baselines and ceilings to the recorded pair ``pair_key`` in one
        transaction (a resumed build adds to a pair it recorded before); returns how many
        outcomes were new."""
        with self.transaction() as con:
            row = con.execute("SELECT id FROM pairs WHERE key=?", (pair_key,)).fetchone()
            if row is None:
                raise StoreError(f"{self.path} has no pair {pair_key[:12]}... to add outcomes to")
            added = self._insert_outcomes(con, row[0], outcomes)
            self._insert_kshot(con, row[0], kshot)
            self._insert_ceiling(con, row[0], ceiling)
        return added

    def update_meta_features(self, pair_key, meta_features, feature_schema) -> None:
        """Replace the meta-features of the recorded pair ``pair_key`` and their feature-schema
        version, in one transaction (``store build --refresh-features``). Its outcomes, k-shot
        baselines, datasets and identity are untouched."""
        with self.transaction() as con:
            cur = con.execute("UPDATE pairs SET meta_features=?, feature_schema=? WHERE key=?",
                              (json.dumps(meta_features, sort_keys=True, allow_nan=True), int(feature_schema),
                               pair_key))
            if cur.rowcount != 1:
                raise StoreError(f"{self.path} has no pair {str(pair_key)[:12]}... to update the meta-features of")

    def kshot_values(self, pair_key) -> list:
        """``(base_estimator, k, seed)`` of the k-shot rows of the recorded pair ``pair_key``
        that hold a value (NULL rows left out); empty for a pair the store does not hold."""
        return [tuple(r) for r in self.query(
            "SELECT k.base_estimator, k.k, k.seed FROM kshot k JOIN pairs p ON p.id = k.pair_id"
            " WHERE p.key = ? AND k.accuracy IS NOT NULL ORDER BY 1, 2, 3", (pair_key,))]

    def repair_kshot(self, pair_key, unsupported) -> int:
        """Set to NULL, with its reason, every stored k-shot value of the pair ``pair_key`` whose
        ``k`` its target cannot support: ``unsupported`` holds dicts with ``base_estimator``,
        ``k``, ``seed`` and ``reason``. One transaction; returns how many values were replaced."""
        rows = [dict(r, accuracy=None, balanced_accuracy=None) for r in unsupported]
        if not rows:
            return 0
        with self.transaction() as con:
            row = con.execute("SELECT id FROM pairs WHERE key=?", (pair_key,)).fetchone()
            if row is None:
                raise StoreError(f"{self.path} has no pair {str(pair_key)[:12]}... to repair the k-shot rows of")
            return self._insert_kshot(con, row[0], rows)

    def mark_read_only(self, reason: str) -> None:
        """Mark the store read-only for every process that opens it later (``reason`` says what
        it is, e.g. "the shipped default store"); opening it for writing then raises."""
        with self.transaction() as con:
            con.execute("INSERT OR REPLACE INTO store_info VALUES (?, ?)", (READ_ONLY_KEY, str(reason)))

    def checkpoint_and_close_journal(self) -> None:
        """Fold the WAL into the database file, switch it to a rollback journal and close: the
        file is then complete on its own (to be moved, shipped or opened read-only)."""
        if self.readonly:
            raise StoreError(f"{self.path} is opened read-only")
        self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._con.execute("PRAGMA journal_mode=DELETE")
        self.close()

    @staticmethod
    def _insert_outcomes(con, pair_id, outcomes):
        added = 0
        for o in outcomes:
            cur = con.execute(
                "INSERT OR IGNORE INTO outcomes (pair_id, method, params, base_estimator, seed, target_accuracy,"
                " balanced_accuracy, runtime_s, status, error, library_version, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (pair_id, o["method"], canonical_params(o.get("params")), o["base_estimator"], int(o.get("seed", 0)),
                 o.get("target_accuracy"), _null_nan(o.get("balanced_accuracy")), float(o.get("runtime_s", 0.0)),
                 o.get("status", "ok"), o.get("error"),
                 o.get("library_version", __version__), o.get("created_at", _now())),
            )
            added += cur.rowcount
        return added

    @staticmethod
    def _insert_kshot(con, pair_id, kshot) -> int:
        """Insert k-shot rows (existing keys kept), except that a row saying its ``k`` is not
        supported (NULL accuracy with a ``reason``) replaces a stored value of the same key:
        such a value was measured on fewer samples per class than ``k`` (by ``evaluate`` before
        it reported null for such a ``k``, or by a schema-1 build) and is no k-shot baseline.
        Returns how many stored values it replaced."""
        repaired = 0
        for r in kshot:
            key = (pair_id, r["base_estimator"], int(r["k"]), int(r.get("seed", 0)))
            acc, why = _null_nan(r.get("accuracy")), r.get("reason")
            if acc is None and why:
                repaired += con.execute(
                    "UPDATE kshot SET accuracy = NULL, balanced_accuracy = NULL, reason = ? WHERE pair_id = ?"
                    " AND base_estimator = ? AND k = ? AND seed = ? AND accuracy IS NOT NULL", (why, *key)).rowcount
            con.execute(
                "INSERT OR IGNORE INTO kshot (pair_id, base_estimator, k, seed, n_draws, accuracy, balanced_accuracy,"
                " reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, int(r.get("n_draws", 5)), acc, _null_nan(r.get("balanced_accuracy")), why),
            )
        return repaired

    @staticmethod
    def _insert_ceiling(con, pair_id, ceiling):
        for r in ceiling:
            con.execute(
                "INSERT OR IGNORE INTO ceiling (pair_id, base_estimator, seed, n_folds, accuracy, balanced_accuracy,"
                " reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (pair_id, r["base_estimator"], int(r.get("seed", 0)), int(r.get("n_folds", 5)),
                 _null_nan(r.get("accuracy")), _null_nan(r.get("balanced_accuracy")), r.get("reason")),
            )

    # -- reading --------------------------------------------------------------------------------
    def query(self, sql, args=()):
        """Rows of a read-only SQL query (inspection and tests; library code uses the methods)."""
        return self._con.execute(sql, args).fetchall()

    def kshot_keys(self, seed) -> set:
        """Set of (pair key, base estimator, k) with a k-shot baseline of ``seed``."""
        return set(self.query(
            "SELECT p.key, k.base_estimator, k.k FROM kshot k JOIN pairs p ON p.id = k.pair_id WHERE k.seed=?",
            (int(seed),)))

    def ceiling_keys(self, seed) -> set:
        """Set of (pair key, base estimator) with a ceiling of ``seed`` (empty on a read-only
        store of an older schema)."""
        if "pair_id" not in self._columns.get("ceiling", ()):
            return set()
        return set(self.query(
            "SELECT p.key, c.base_estimator FROM ceiling c JOIN pairs p ON p.id = c.pair_id WHERE c.seed=?",
            (int(seed),)))

    def count_other_feature_schema(self, version) -> int:
        """How many pairs hold meta-features of another feature schema than ``version``."""
        return self.query("SELECT COUNT(*) FROM pairs WHERE feature_schema != ?", (int(version),))[0][0]

    def pair_rows(self):
        """``(id, key, source_id, target_id, name, family, preprocess, feature_schema,
        meta_features, created_at, task, base)`` of every pair, by key (NULL task/base on a
        read-only store that predates those columns)."""
        extra = ", ".join(c if c in self._pair_columns else f"NULL AS {c}" for c in ("task", "base"))
        return self.query(
            "SELECT id, key, source_id, target_id, name, family, preprocess, feature_schema, meta_features,"
            f" created_at, {extra} FROM pairs ORDER BY key")

    def done_keys(self):
        """Set of (pair key, method, canonical params, base estimator, seed) already recorded."""
        rows = self.query(
            "SELECT p.key, o.method, o.params, o.base_estimator, o.seed FROM outcomes o JOIN pairs p ON p.id = o.pair_id")
        return set(rows)

    def pair_keys(self):
        return {r[0] for r in self.query("SELECT key FROM pairs")}

    def stats(self) -> dict:
        """Counts for ``store stats``."""
        q = lambda sql: self.query(sql)[0][0]  # noqa: E731
        families = dict(self.query("SELECT family, COUNT(*) FROM pairs GROUP BY family ORDER BY family"))
        n_out = q("SELECT COUNT(*) FROM outcomes")
        n_failed = q("SELECT COUNT(*) FROM outcomes WHERE status='failed'")
        return {
            "path": self.path,
            "schema_version": int(self.query("SELECT value FROM store_info WHERE key='schema_version'")[0][0]),
            "n_datasets": q("SELECT COUNT(*) FROM datasets"),
            "n_pairs": q("SELECT COUNT(*) FROM pairs"),
            "n_outcomes": n_out,
            "n_failed": n_failed,
            "failed_fraction": (n_failed / n_out) if n_out else 0.0,
            "n_families": len(families),
            "families": families,
            "methods": [r[0] for r in self.query("SELECT DISTINCT method FROM outcomes ORDER BY method")],
            "base_estimators": [r[0] for r in self.query("SELECT DISTINCT base_estimator FROM outcomes ORDER BY base_estimator")],
            "n_kshot": q("SELECT COUNT(*) FROM kshot"),
            "n_ceilings": q("SELECT COUNT(*) FROM ceiling") if self._columns.get("ceiling") else 0,
            "kshot_k": [r[0] for r in self.query("SELECT DISTINCT k FROM kshot WHERE accuracy IS NOT NULL ORDER BY k")],
            "feature_schemas": [r[0] for r in self.query("SELECT DISTINCT feature_schema FROM pairs ORDER BY 1")],
            "read_only": self.readonly,
        }
