"""Records: the text, specialty, image and review status of each clinical note."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tcm_desktop.domain import Record, RecordStatus, SetBy, Span
from tcm_desktop.store.annotations import write_annotation
from tcm_desktop.store.errors import DuplicateRecordError, InvalidRecordError, RecordNotFoundError, StoreError
from tcm_desktop.store.images import StoredImage, read_incoming, write_image
from tcm_desktop.store.rows import from_json, record_gold, store_problems, to_json, utc_now

if TYPE_CHECKING:
    from tcm_desktop.store.database import Database


@dataclass(frozen=True)
class StoredRecord:
    """A record as the database holds it.

    ``record`` carries the text and specialty and the current annotation
    (final spans, form, form_evidence) if there is one, else the annotation
    the import file gave, else none. ``record.image`` is the name the image
    file had when it was imported; ``image_path`` is where the stored copy is.
    """

    record: Record
    status: RecordStatus
    image_path: Path | None
    image_sha256: str | None
    created_at: str
    updated_at: str
    source: str | None = None  # where it was imported from, e.g. "notes.jsonl:17"


@dataclass(frozen=True)
class RecordSummary:
    """One row of the record list."""

    id: str
    specialty: str
    status: RecordStatus
    length: int  # code points
    uncertainty: float | None  # of the latest prediction
    has_image: bool


# Orders the list can be sorted by; "uncertainty" is the active-learning queue.
_ORDERS: Mapping[str, str] = {
    "id": "r.id",
    "uncertainty": "r.uncertainty IS NULL, r.uncertainty DESC, r.id",
    "updated": "r.updated_at DESC, r.id",
    "created": "r.rowid",
}


def _unreadable(what: str, path: Path, exc: sqlite3.Error) -> StoreError:
    """A StoreError for rows SQLite cannot hand over, in words (not the raw bytes it quotes)."""
    if "decode" in str(exc).lower():
        reason = "it holds bytes that are not UTF-8 text; was the file changed by another program?"
    else:
        reason = str(exc)[:200]
    return StoreError(f"{what} cannot be read from {path.name}: {reason}")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class RecordRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- writing -----------------------------------------------------------

    def add(
        self, record: Record, image_source: Path | None = None, who: str = "import", source: str | None = None
    ) -> None:
        """Store a new record, its image and its imported annotation, all or nothing.

        The record is checked against the schema first. The image (if any) is
        checked to be a JPEG/PNG and copied into ``data_dir/images`` under its
        sha256 inside the transaction that references it; if anything later
        fails the copy is removed again before the transaction ends (unless the
        same picture was already stored for another record), and a copy left by
        a process killed in between is swept when the database is next opened.
        Raises :class:`StoreError` (:class:`DuplicateRecordError` for a taken id).
        """
        problems = store_problems(record)
        if problems:
            raise InvalidRecordError(record.id, problems)
        if self.exists(record.id):
            raise DuplicateRecordError(record.id)
        incoming = read_incoming(Path(image_source)) if image_source is not None else None
        with self._db.transaction():
            image: StoredImage | None = None
            try:
                if incoming is not None:
                    image = write_image(incoming, self._db.images_dir)
                self._insert(record, image, who, source)
            except BaseException:
                if image is not None:
                    image.discard_if_created()  # still under the write lock: no other record can share it yet
                raise

    def _insert(self, record: Record, image: StoredImage | None, who: str, source: str | None) -> None:
        now = utc_now()
        gold = record_gold(record)
        with self._db.transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO records (id, specialty, text, status, image_sha256, image_file, image_name,"
                    " image_size, image_width, image_height, source, gold_json, created_at, updated_at)"
                    " VALUES (?, ?, ?, 'new', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.id,
                        record.specialty,
                        record.text,
                        image.sha256 if image else None,
                        image.file_name if image else None,
                        (record.image or image.original_name) if image else None,
                        image.size if image else None,
                        image.width if image else None,
                        image.height if image else None,
                        source,
                        None if gold is None else to_json(gold),
                        now,
                        now,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                if "records.id" in str(exc):
                    raise DuplicateRecordError(record.id) from exc
                raise StoreError(f"cannot store record {record.id}: {exc}") from exc
            if gold is not None:
                write_annotation(
                    conn,
                    record.id,
                    record.spans,
                    record.form,
                    record.form_evidence,
                    span_set_by=[SetBy.IMPORT] * len(record.spans),
                    form_set_by=dict.fromkeys(record.form, SetBy.IMPORT),
                    who=who,
                    at=now,
                )
            after: dict[str, Any] = {"specialty": record.specialty, "text": record.text, "source": source}
            if image is not None:
                after["image_sha256"] = image.sha256
            if gold is not None:
                after.update(gold)
            self._db.audit.append(who, "import", record.id, None, after)

    def set_status(self, record_id: str, status: RecordStatus, who: str) -> None:
        """Change the review status (audited)."""
        status = RecordStatus(status)
        with self._db.transaction() as conn:
            before = self._status(record_id)
            conn.execute(
                "UPDATE records SET status = ?, updated_at = ? WHERE id = ?", (status.value, utc_now(), record_id)
            )
            self._db.audit.append(who, "set_status", record_id, {"status": before.value}, {"status": status.value})

    def _status(self, record_id: str) -> RecordStatus:
        row = self._db.conn.execute("SELECT status FROM records WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            raise RecordNotFoundError(record_id)
        return RecordStatus(row[0])

    # --- reading -----------------------------------------------------------

    def get(self, record_id: str) -> StoredRecord:
        """The record with its current annotation; RecordNotFoundError if there is none, StoreError
        if its rows cannot be read (e.g. bytes that are not UTF-8, written by another program)."""
        try:
            return self._get(record_id)
        except sqlite3.Error as exc:
            raise _unreadable(f"record {record_id}", self._db.path, exc) from exc

    def _get(self, record_id: str) -> StoredRecord:
        row = self._db.conn.execute(
            "SELECT id, specialty, text, status, image_sha256, image_file, image_name, gold_json,"
            " created_at, updated_at, source FROM records WHERE id = ?",
            (record_id,),
        ).fetchone()
        if row is None:
            raise RecordNotFoundError(record_id)
        rid, specialty, text, status, sha, image_file, image_name, gold_json, created, updated, source = row
        spans: tuple[Span, ...] = ()
        form: dict[str, Any] = {}
        evidence: dict[str, tuple[int, ...]] = {}
        current = self._db.annotations.current(rid)
        if current is not None:
            spans, form, evidence = current
        elif gold_json is not None:
            gold = Record.from_dict({"id": rid, "text": text, **from_json(gold_json)})
            spans, form, evidence = gold.spans, dict(gold.form), dict(gold.form_evidence)
        record = Record(rid, specialty, text, image_name, spans, form, evidence)
        image_path = self._db.images_dir / image_file if image_file else None
        return StoredRecord(record, RecordStatus(status), image_path, sha, created, updated, source)

    def gold(self, record_id: str) -> Record | None:
        """The annotation exactly as the import file gave it (never changed by corrections), or None."""
        row = self._db.conn.execute(
            "SELECT specialty, text, gold_json FROM records WHERE id = ?", (record_id,)
        ).fetchone()
        if row is None:
            raise RecordNotFoundError(record_id)
        if row[2] is None:
            return None
        return Record.from_dict({"id": record_id, "specialty": row[0], "text": row[1], **from_json(row[2])})

    def _where(
        self,
        search: str | None,
        specialty: str | None,
        status: RecordStatus | None,
        min_uncertainty: float | None = None,
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if search:
            pattern = f"%{_escape_like(search)}%"
            clauses.append("(r.id LIKE ? ESCAPE '\\' OR r.text LIKE ? ESCAPE '\\')")
            params += [pattern, pattern]
        if specialty:
            clauses.append("r.specialty = ?")
            params.append(specialty)
        if status is not None:
            clauses.append("r.status = ?")
            params.append(RecordStatus(status).value)
        if min_uncertainty is not None:  # the model's least confident records (never-predicted ones are not)
            clauses.append("r.uncertainty >= ?")
            params.append(float(min_uncertainty))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def list(
        self,
        search: str | None = None,
        specialty: str | None = None,
        status: RecordStatus | None = None,
        limit: int | None = None,
        offset: int = 0,
        order_by: str = "id",
        min_uncertainty: float | None = None,
    ) -> list[RecordSummary]:
        """Summaries of matching records. ``search`` matches a part of the id or the text
        (ASCII letters ignore case). ``order_by``: id, uncertainty (most uncertain first,
        never-predicted last), updated (newest first) or created (order added).
        ``min_uncertainty`` keeps records whose latest prediction is at least that uncertain."""
        if order_by not in _ORDERS:
            raise StoreError(f"cannot sort records by {order_by!r} (use one of {', '.join(_ORDERS)})")
        where, params = self._where(search, specialty, status, min_uncertainty)
        sql = (
            "SELECT r.id, r.specialty, r.status, length(r.text), r.uncertainty, r.image_file IS NOT NULL"
            f" FROM records r{where} ORDER BY {_ORDERS[order_by]} LIMIT ? OFFSET ?"
        )
        params += [-1 if limit is None else int(limit), int(offset)]
        try:
            return [
                RecordSummary(row[0], row[1], RecordStatus(row[2]), int(row[3]), row[4], bool(row[5]))
                for row in self._db.conn.execute(sql, params)
            ]
        except sqlite3.Error as exc:
            raise _unreadable("the record list", self._db.path, exc) from exc

    def count(
        self,
        search: str | None = None,
        specialty: str | None = None,
        status: RecordStatus | None = None,
        min_uncertainty: float | None = None,
    ) -> int:
        where, params = self._where(search, specialty, status, min_uncertainty)
        try:
            return int(self._db.conn.execute(f"SELECT count(*) FROM records r{where}", params).fetchone()[0])
        except sqlite3.Error as exc:
            raise _unreadable("the record count", self._db.path, exc) from exc

    def ids(self) -> list[str]:
        """Every record id, in the order the records were added (an export keeps the import order)."""
        try:
            return [row[0] for row in self._db.conn.execute("SELECT id FROM records ORDER BY rowid")]
        except sqlite3.Error as exc:
            raise _unreadable("the record ids", self._db.path, exc) from exc

    def exists(self, record_id: str) -> bool:
        return self._db.conn.execute("SELECT 1 FROM records WHERE id = ?", (record_id,)).fetchone() is not None
