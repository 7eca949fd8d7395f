-- 0003: the audit log becomes a hash chain (see tcm_desktop/store/audit.py).
-- Each row carries the hash of the row before it and its own hash, computed
-- by the program (sha256 of prev_hash, a newline and the row as canonical
-- JSON). The rows already there are chained by the migration's Python step
-- (audit.seal_legacy_rows), in this same transaction.
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

-- Still no change of any kind, except that a row without a hash may gain one
-- (the sealing above) with everything else left as it was.
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (
    OLD.hash IS NULL AND OLD.prev_hash IS NULL AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
    AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.who IS OLD.who AND NEW.action IS OLD.action
    AND NEW.record_id IS OLD.record_id AND NEW.before_json IS OLD.before_json
    AND NEW.after_json IS OLD.after_json AND NEW.model_version IS OLD.model_version
)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed');
END;

-- A new row must continue the chain: carry a hash, and the hash of the last row.
CREATE TRIGGER audit_log_chained BEFORE INSERT ON audit_log
WHEN NEW.hash IS NULL OR NEW.prev_hash IS NOT COALESCE(
    (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1),
    '0000000000000000000000000000000000000000000000000000000000000000'
)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: a new entry must continue the hash chain');
END;
