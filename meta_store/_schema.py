"""The meta store's SQLite schema (version :data:`SCHEMA_VERSION`).

``pairs.task`` and ``pairs.base`` (the real task and the underlying dataset a pair derives from,
NULL when unknown) are nullable columns added to version 1 without a version bump: every
statement names its columns, so readers and writers that predate them still work, and a store
opened for writing gains them (:data:`ADDED_COLUMNS`)."""

SCHEMA_VERSION = 1

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
    accuracy       REAL,                    -- NULL when no target sample was left to test on
    UNIQUE (pair_id, base_estimator, k, seed)
);
CREATE INDEX IF NOT EXISTS outcomes_pair ON outcomes(pair_id);
CREATE INDEX IF NOT EXISTS kshot_pair ON kshot(pair_id);
CREATE INDEX IF NOT EXISTS pairs_family ON pairs(family);
"""

#: Nullable columns added to version 1 after its first release: ``(table, column, type)``.
ADDED_COLUMNS = (("pairs", "task", "TEXT"), ("pairs", "base", "TEXT"))

#: ``store_info`` key that marks a store read-only for every process (the shipped default store).
READ_ONLY_KEY = "read_only"
