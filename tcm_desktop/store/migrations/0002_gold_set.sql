-- 0002: the frozen gold set. Verified records set aside once, the first time a
-- model is retrained, so that every retrained model is evaluated on the same
-- records; they are never training data. Rows can be neither changed nor
-- removed: a gold set that moved would make old and new metrics incomparable.
CREATE TABLE gold_set (
    record_id  TEXT PRIMARY KEY REFERENCES records (id),
    added_at   TEXT NOT NULL,
    added_by   TEXT NOT NULL
);
CREATE TRIGGER gold_set_no_update BEFORE UPDATE ON gold_set
BEGIN
    SELECT RAISE(ABORT, 'the gold set is frozen: its records cannot be changed');
END;
CREATE TRIGGER gold_set_no_delete BEFORE DELETE ON gold_set
BEGIN
    SELECT RAISE(ABORT, 'the gold set is frozen: its records cannot be removed');
END;
