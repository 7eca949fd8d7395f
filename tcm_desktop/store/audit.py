"""The append-only, hash-chained audit log: who did what to which record, when, with which model.

Two defences, one inside the file and one that survives it being opened with
other tools:

* SQLite triggers (migrations 0001 and 0003) refuse any UPDATE or DELETE of
  ``audit_log`` rows and any INSERT that does not continue the chain, so the
  history cannot be rewritten through the program or a stray SQL statement.
* Each row carries ``prev_hash`` (the ``hash`` of the row before it; 64 zeros
  for the first) and ``hash = sha256(prev_hash + "\\n" + canonical JSON of the
  row)`` (:func:`row_hash`). :func:`verify_chain` recomputes the chain and names
  the first row that was changed, deleted or slipped in -- what someone with
  access to the file could do after dropping the triggers.

Rows written before migration 0003 are chained by the migration itself
(:func:`seal_legacy_rows`, run inside the migration's transaction), so the
chain covers the whole history. A chain without an outside anchor cannot stop
someone who recomputes every hash after an edit: :func:`verify_chain` reports
the head (last id and hash) so it can be noted elsewhere, and every backup
holds the chain as it was.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tcm_desktop.store.rows import from_json, to_json, utc_now

if TYPE_CHECKING:
    from tcm_desktop.store.database import Database

GENESIS_HASH = "0" * 64  # the prev_hash of the first row
_CONTENT = "id, at, who, action, record_id, before_json, after_json, model_version"


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


def canonical_row(content: Sequence[Any]) -> str:
    """The text a row's hash covers: its content columns (in ``_CONTENT`` order, JSON
    kept as the stored text) as a compact JSON array."""
    return json.dumps(list(content), ensure_ascii=False, separators=(",", ":"))


def row_hash(prev_hash: str, content: Sequence[Any]) -> str:
    """sha256 (hex) of ``prev_hash``, a newline and :func:`canonical_row`."""
    return hashlib.sha256(f"{prev_hash}\n{canonical_row(content)}".encode()).hexdigest()


def _next_link(conn: sqlite3.Connection) -> tuple[int, str]:
    """(id, prev_hash) for the next row; call with the write lock held."""
    last = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
    next_id = max(int(last[0]) if last else 0, int(seq[0]) if seq else 0) + 1
    return next_id, (last[1] if last and last[1] else GENESIS_HASH)


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
            entry_id, prev_hash = _next_link(conn)
            content = (
                entry_id,
                utc_now(),
                who,
                action,
                record_id,
                None if before is None else to_json(before),
                None if after is None else to_json(after),
                model_version,
            )
            conn.execute(
                f"INSERT INTO audit_log ({_CONTENT}, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*content, prev_hash, row_hash(prev_hash, content)),
            )
            return entry_id

    def entries(self, record_id: str | None = None, limit: int | None = None) -> list[AuditEntry]:
        """Entries newest first, for one record or for everything."""
        sql = f"SELECT {_CONTENT} FROM audit_log"
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

    def verify(self) -> ChainReport:
        """Recompute the hash chain (see :func:`verify_chain`)."""
        return verify_chain(self._db.conn)


# --- the chain -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    """Row ``row_id`` of the audit log is not as it was written, because ``why``."""

    row_id: int
    why: str

    def __str__(self) -> str:
        return f"audit row {self.row_id}: {self.why}"


@dataclass(frozen=True)
class ChainReport:
    rows: int  # rows checked
    head_id: int | None  # the last row
    head_hash: str  # its hash (GENESIS_HASH for an empty log): note it to detect a rewrite later
    problems: tuple[ChainProblem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            return f"the audit log is intact: {self.rows} row(s), last row {self.head_id} hash {self.head_hash}"
        lines = [f"the audit log was tampered with: {len(self.problems)} problem(s) in {self.rows} row(s)"]
        return "\n".join(lines + [f"  {p}" for p in self.problems])


def verify_chain(conn: sqlite3.Connection) -> ChainReport:
    """Check every row of ``audit_log`` against the chain, oldest first.

    Finds a row whose content was edited (its hash does not match), an edited
    row whose hash was recomputed (the next row no longer links to it), a
    deleted row (a gap in the ids, which the log never leaves), rows deleted
    from the end (the id counter is past the last row) and a row added without
    a hash. Reads only.
    """
    problems: list[ChainProblem] = []
    expected_prev, last_id, count = GENESIS_HASH, 0, 0
    rows = conn.execute(f"SELECT {_CONTENT}, prev_hash, hash FROM audit_log ORDER BY id")
    for row in rows:
        count += 1
        content, prev_hash, stored = tuple(row[:8]), row[8], row[9]
        row_id = int(content[0])
        if row_id != last_id + 1:
            gone = f"row {last_id + 1}" if row_id == last_id + 2 else f"rows {last_id + 1} to {row_id - 1}"
            problems.append(ChainProblem(last_id + 1, f"{gone} deleted (row {row_id} follows row {last_id})"))
        elif prev_hash is not None and prev_hash != expected_prev:
            where = f"row {last_id}" if last_id else "the start of the log"
            problems.append(
                ChainProblem(row_id, f"does not link to {where}: one of them was changed and its hash recomputed")
            )
        if stored is None or prev_hash is None:
            problems.append(ChainProblem(row_id, "has no hash: it was added outside TCM Desktop"))
        elif row_hash(prev_hash, content) != stored:
            problems.append(ChainProblem(row_id, "changed after it was written (its hash does not match)"))
        expected_prev, last_id = stored or "", row_id
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
    if seq is not None and int(seq[0]) > last_id:
        last = int(seq[0])
        gone = f"row {last}" if last == last_id + 1 else f"rows {last_id + 1} to {last}"
        problems.append(ChainProblem(last_id + 1, f"{gone} deleted from the end (the last row written was {last})"))
    return ChainReport(count, last_id or None, expected_prev or GENESIS_HASH, tuple(problems))


def seal_legacy_rows(conn: sqlite3.Connection) -> int:
    """Chain the rows that have no hash yet (written before migration 0003), oldest first.

    Runs inside migration 0003's transaction, while every row is still
    unsealed; the update trigger of 0003 lets a row gain its hash once and
    nothing else. Returns how many rows were sealed.
    """
    prev = GENESIS_HASH
    sealed = 0
    rows = conn.execute(f"SELECT {_CONTENT}, hash FROM audit_log ORDER BY id").fetchall()
    for row in rows:
        content, stored = tuple(row[:8]), row[8]
        if stored is not None:
            prev = stored
            continue
        digest = row_hash(prev, content)
        conn.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, content[0]))
        prev = digest
        sealed += 1
    return sealed
