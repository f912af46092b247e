"""The meta store's SQLite schema (version :data:`SCHEMA_VERSION`).

Version 2 adds ``outcomes.balanced_accuracy``, ``kshot.balanced_accuracy``, ``kshot.reason``
(why a k-shot baseline is missing: NULL accuracy) and the ``ceiling`` table. A version-1 store
opened for writing is **migrated in place** (:data:`MIGRATIONS`: the new nullable columns and
table, then the version; one transaction), its old rows keeping NULL in the new columns; opened
read-only it is read as it is (the new fields read as NULL) and never modified.

``pairs.task`` and ``pairs.base`` (the real task and the underlying dataset a pair derives from,
NULL when unknown) are nullable columns added to version 1 without a version bump: every
statement names its columns, so readers and writers that predate them still work, and a store
opened for writing gains them (:data:`ADDED_COLUMNS`)."""

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS store_info (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS datasets (
    id          INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,      -- sha256 of shape, features (float64) and labels
    n_samples   INTEGER NOT NULL,
    n_features  INTEGER NOT NULL,
    n_classes   INTEGER,                   -- NULL when unlabelled
    classes     TEXT,                      -- JSON list of class labels (as strings)
    provenance  TEXT NOT NULL              -- JSON: file / generator and its parameters
);
CREATE TABLE IF NOT EXISTS pairs (
    id             INTEGER PRIMARY KEY,
    key            TEXT NOT NULL UNIQUE,   -- sha256 of (source fp, target fp, preprocess)
    source_id      INTEGER NOT NULL REFERENCES datasets(id),
    target_id      INTEGER NOT NULL REFERENCES datasets(id),
    name           TEXT NOT NULL,
    family         TEXT NOT NULL,
    preprocess     TEXT NOT NULL,
    feature_schema INTEGER NOT NULL,
    meta_features  TEXT NOT NULL,          -- JSON object name -> number
    created_at     TEXT NOT NULL,
    task           TEXT,                   -- the real (source, target) task, NULL when unknown
    base           TEXT                    -- the underlying dataset, NULL when unknown
);
CREATE TABLE IF NOT EXISTS outcomes (
    id              INTEGER PRIMARY KEY,
    pair_id         INTEGER NOT NULL REFERENCES pairs(id),
    method          TEXT NOT NULL,
    params          TEXT NOT NULL,          -- canonical JSON (sorted keys)
    base_estimator  TEXT NOT NULL,
    seed            INTEGER NOT NULL,
    target_accuracy REAL,                   -- NULL when failed
    balanced_accuracy REAL,                 -- mean per-class recall, NULL when failed or not measured (schema 1)
    runtime_s       REAL NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error           TEXT,
    library_version TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (pair_id, method, params, base_estimator, seed)
);
CREATE TABLE IF NOT EXISTS kshot (
    id             INTEGER PRIMARY KEY,
    pair_id        INTEGER NOT NULL REFERENCES pairs(id),
    base_estimator TEXT NOT NULL,
    k              INTEGER NOT NULL,
    seed           INTEGER NOT NULL,
    n_draws        INTEGER NOT NULL,
    accuracy       REAL,                    -- NULL when the target cannot support k (see reason)
    balanced_accuracy REAL,                 -- NULL likewise, or not measured (schema 1)
    reason         TEXT,                    -- why accuracy is NULL (e.g. a class with <= k samples)
    UNIQUE (pair_id, base_estimator, k, seed)
);
CREATE TABLE IF NOT EXISTS ceiling (
    id                INTEGER PRIMARY KEY,
    pair_id           INTEGER NOT NULL REFERENCES pairs(id),
    base_estimator    TEXT NOT NULL,
    seed              INTEGER NOT NULL,
    n_folds           INTEGER NOT NULL,     -- stratified folds used (fewer than 5 when a class is small)
    accuracy          REAL,                 -- cross-validated accuracy on the labelled target
    balanced_accuracy REAL,
    reason            TEXT,                 -- why fewer folds, or why NULL
    UNIQUE (pair_id, base_estimator, seed)
);
CREATE INDEX IF NOT EXISTS outcomes_pair ON outcomes(pair_id);
CREATE INDEX IF NOT EXISTS kshot_pair ON kshot(pair_id);
CREATE INDEX IF NOT EXISTS ceiling_pair ON ceiling(pair_id);
CREATE INDEX IF NOT EXISTS pairs_family ON pairs(family);
"""

#: Nullable columns added to version 1 after its first release: ``(table, column, type)``.
ADDED_COLUMNS = (("pairs", "task", "TEXT"), ("pairs", "base", "TEXT"))

#: Schema versions this code can read (read-only) and migrate to :data:`SCHEMA_VERSION` (writing).
READABLE_VERSIONS = (1, 2)

#: Version -> nullable columns that version lacks: ``(table, column, type)``; the ``ceiling``
#: table comes from :data:`SCHEMA` (``CREATE TABLE IF NOT EXISTS``).
MIGRATIONS = {1: (("outcomes", "balanced_accuracy", "REAL"), ("kshot", "balanced_accuracy", "REAL"),
                  ("kshot", "reason", "TEXT"))}

#: Outcome rows of a base-estimator-free method (``uses_base_estimator = False``: MEDA, EasyTL)
#: are recorded once per pair with this ``base_estimator``; they hold for every base estimator.
BASE_FREE = "-"

#: ``store_info`` key that marks a store read-only for every process (the shipped default store).
READ_ONLY_KEY = "read_only"
