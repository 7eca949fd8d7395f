-- 0001: the initial schema. Applied by tcm_desktop.store.database inside one
-- transaction that also sets PRAGMA user_version = 1. Never edit a released
-- migration; add 0002_*.sql instead.

-- One row per clinical record. `gold_json` keeps what the import file said
-- (spans, form, form_evidence) and never changes; the live annotation is in
-- annotation_* below. Image files live in <data_dir>/images/<sha256>.<ext>.
CREATE TABLE records (
    id            TEXT PRIMARY KEY,
    specialty     TEXT NOT NULL,
    text          TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'new'
                  CHECK (status IN ('new', 'predicted', 'corrected', 'verified')),
    image_sha256  TEXT CHECK (image_sha256 IS NULL OR length(image_sha256) = 64),
    image_file    TEXT,              -- file name inside <data_dir>/images
    image_name    TEXT,              -- the name the image had when imported
    image_size    INTEGER,           -- bytes
    image_width   INTEGER,
    image_height  INTEGER,
    uncertainty   REAL,              -- of the latest prediction, for the review queue
    source        TEXT,              -- where it was imported from ("file.jsonl:17")
    gold_json     TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CHECK ((image_sha256 IS NULL) = (image_file IS NULL))
);
CREATE INDEX records_specialty ON records (specialty);
CREATE INDEX records_status ON records (status);
CREATE INDEX records_uncertainty ON records (uncertainty);

-- The final (current) annotation of a record: a header row, its spans in
-- order (form_evidence indexes into that order) and its form values.
CREATE TABLE annotations (
    record_id   TEXT PRIMARY KEY REFERENCES records (id) ON DELETE CASCADE,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL
);
CREATE TABLE annotation_spans (
    record_id   TEXT NOT NULL REFERENCES annotations (record_id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    start       INTEGER NOT NULL,
    "end"       INTEGER NOT NULL,
    label       TEXT NOT NULL,
    text        TEXT NOT NULL,
    confidence  REAL,
    set_by      TEXT NOT NULL CHECK (set_by IN ('model', 'user', 'import')),
    PRIMARY KEY (record_id, idx),
    CHECK (0 <= start AND start < "end")
);
CREATE TABLE annotation_form (
    record_id      TEXT NOT NULL REFERENCES annotations (record_id) ON DELETE CASCADE,
    pos            INTEGER NOT NULL,
    field          TEXT NOT NULL,
    value_json     TEXT NOT NULL,
    evidence_json  TEXT,            -- JSON list of span indices, NULL when none given
    set_by         TEXT NOT NULL CHECK (set_by IN ('model', 'user', 'import')),
    PRIMARY KEY (record_id, field)
);

-- What a model said. Never updated; the latest per record is the one with the
-- highest id.
CREATE TABLE predictions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id      TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    model_version  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    uncertainty    REAL NOT NULL,
    tongue_json    TEXT NOT NULL,
    flags_json     TEXT NOT NULL
);
CREATE INDEX predictions_record ON predictions (record_id, id);
CREATE TABLE prediction_spans (
    prediction_id  INTEGER NOT NULL REFERENCES predictions (id) ON DELETE CASCADE,
    idx            INTEGER NOT NULL,
    start          INTEGER NOT NULL,
    "end"          INTEGER NOT NULL,
    label          TEXT NOT NULL,
    text           TEXT NOT NULL,
    confidence     REAL,
    PRIMARY KEY (prediction_id, idx)
);
CREATE TABLE prediction_form (
    prediction_id  INTEGER NOT NULL REFERENCES predictions (id) ON DELETE CASCADE,
    pos            INTEGER NOT NULL,
    field          TEXT NOT NULL,
    value_json     TEXT NOT NULL,
    evidence_json  TEXT NOT NULL,
    set_by         TEXT NOT NULL,
    PRIMARY KEY (prediction_id, field)
);

-- Append-only log of who did what and when. No foreign key on record_id so
-- the history outlives anything else.
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TEXT NOT NULL,
    who            TEXT NOT NULL,
    action         TEXT NOT NULL,
    record_id      TEXT,
    before_json    TEXT,
    after_json     TEXT,
    model_version  TEXT
);
CREATE INDEX audit_log_record ON audit_log (record_id, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be deleted');
END;

-- The diff between a saved annotation and what it was compared with (the
-- latest prediction, else the previous annotation): training signal.
CREATE TABLE corrections (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id      TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    audit_id       INTEGER NOT NULL REFERENCES audit_log (id),
    prediction_id  INTEGER REFERENCES predictions (id),
    model_version  TEXT,
    base           TEXT NOT NULL CHECK (base IN ('prediction', 'annotation', 'none')),
    at             TEXT NOT NULL,
    who            TEXT NOT NULL,
    diff_json      TEXT NOT NULL
);
CREATE INDEX corrections_record ON corrections (record_id, id);

-- Model bundles the program knows about; at most one is active.
CREATE TABLE models (
    version        TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    path           TEXT NOT NULL,
    manifest_json  TEXT NOT NULL,
    registered_at  TEXT NOT NULL,
    registered_by  TEXT NOT NULL,
    active         INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
);
CREATE UNIQUE INDEX models_one_active ON models (active) WHERE active = 1;

CREATE TABLE training_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    base_model    TEXT,
    params_json   TEXT NOT NULL,
    status        TEXT NOT NULL,
    new_model     TEXT,
    metrics_json  TEXT
);
