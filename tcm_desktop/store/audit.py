"""The append-only audit log: who did what to which record, when, with which model.

SQLite triggers refuse any UPDATE or DELETE of ``audit_log`` rows, so the
history cannot be rewritten through the program or a stray SQL statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tcm_desktop.store.rows import from_json, to_json, utc_now

if TYPE_CHECKING:
    from tcm_desktop.store.database import Database


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str  # UTC ISO-8601
    who: str
    action: str  # import, save, verify, predict, set_status, register_model, activate_model
    record_id: str | None
    before: Any  # JSON-able, None when there was nothing before
    after: Any
    model_version: str | None


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def append(
        self,
        who: str,
        action: str,
        record_id: str | None = None,
        before: Any = None,
        after: Any = None,
        model_version: str | None = None,
    ) -> int:
        """Add one entry (inside the caller's transaction if there is one); returns its id."""
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO audit_log (at, who, action, record_id, before_json, after_json, model_version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    utc_now(),
                    who,
                    action,
                    record_id,
                    None if before is None else to_json(before),
                    None if after is None else to_json(after),
                    model_version,
                ),
            )
            return int(cursor.lastrowid or 0)

    def entries(self, record_id: str | None = None, limit: int | None = None) -> list[AuditEntry]:
        """Entries newest first, for one record or for everything."""
        sql = "SELECT id, at, who, action, record_id, before_json, after_json, model_version FROM audit_log"
        params: list[Any] = []
        if record_id is not None:
            sql += " WHERE record_id = ?"
            params.append(record_id)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [
            AuditEntry(row[0], row[1], row[2], row[3], row[4], from_json(row[5]), from_json(row[6]), row[7])
            for row in self._db.conn.execute(sql, params)
        ]
