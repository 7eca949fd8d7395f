"""Reading records from files (one reader class per format) and importing them.

``read_records(path)`` yields :class:`ImportedRecord` (a domain ``Record``
plus the resolved image path, where it came from and the text encoding) or
:class:`ImportIssue` (something in the input that could not be read).
``import_records(path, db)`` validates and stores each record in its own
transaction and reports every problem instead of raising.

Formats (chosen by the first reader in :data:`READERS` that accepts the path):

* ``.jsonl``: one interchange record per line (extra keys ignored).
* ``.json``: a list of interchange records, one record object, or
  ``{"records": [...]}``; issues name ``file.json[i]`` (item index).
* ``.csv``: a header row with ``id`` and ``text`` (required) and
  ``specialty``, ``image``, ``spans``, ``form``, ``form_evidence`` (JSON text)
  optional; quoted multi-line text is fine.
* a folder: every ``.txt`` file below it is one record; id = file stem;
  the specialty is the name of the file's folder when that is a known
  specialty, else ``general``; the image is a ``.jpg/.jpeg/.png`` file with
  the same stem beside it (optional). Newlines become ``\\n`` and the text is
  stripped.
* ``.bio`` (or a ``.txt`` file whose first line looks like ``char TAG``):
  see :mod:`tcm_desktop.store.bio`; ids ``<file stem>-<n>`` unless a
  ``# {"id": ...}`` comment line names them; a record with a malformed line
  is skipped with one issue naming that line.
* any other ``.txt`` file: one record, id = file stem.

Image paths in a file are relative to that file's folder (absolute paths work).
Text is decoded by :func:`~tcm_desktop.store.encoding.decode_text`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tcm_desktop.domain import GENERAL, Record, RecordError, default_schema
from tcm_desktop.store.bio import is_tag, tags_to_spans, token_char
from tcm_desktop.store.deidentify import deidentify_record
from tcm_desktop.store.encoding import decode_text
from tcm_desktop.store.errors import DecodeError, InvalidRecordError, StoreError

if TYPE_CHECKING:
    from tcm_desktop.store.database import Database

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def _json_reason(exc: json.JSONDecodeError) -> str:
    # json's messages end in "starting at" for strings; the column follows in our words
    return f"not valid JSON: {exc.msg.removesuffix(' at')} (column {exc.colno})"


class _BadJson(ValueError):
    """JSON text that cannot be read, with the reason in words and the line it is on."""

    def __init__(self, reason: str, lineno: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.lineno = lineno


def _load_json(text: str) -> Any:
    """``json.loads``, every way it can fail turned into :class:`_BadJson` (never a crash)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _BadJson(_json_reason(exc), exc.lineno) from exc
    except RecursionError as exc:  # [[[[... thousands deep
        raise _BadJson("not valid JSON: nested too deeply") from exc
    except ValueError as exc:  # an integer of more than 4300 digits
        raise _BadJson("not valid JSON: a number with too many digits") from exc


@dataclass(frozen=True)
class ImportIssue:
    """One thing that could not be imported: ``where`` (``file.jsonl:17``,
    ``notes/R3.txt``), ``what`` (the record id, or ``line``/``file``/a column)
    and ``why`` in words."""

    where: str
    what: str
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}: {self.why}"


@dataclass(frozen=True)
class ImportedRecord:
    """A record read from a file, with its image resolved to a path (None if it names none)."""

    record: Record
    image_path: Path | None
    where: str
    encoding: str = "utf-8"


@dataclass
class ImportReport:
    imported: int = 0
    skipped: int = 0  # records (or unreadable lines/files) not imported
    issues: list[ImportIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # not problems, e.g. "notes.csv: read as gb18030"
    cancelled: bool = False  # stopped by the caller; what was imported before stays
    total: int = 0  # items read from the input (records and unreadable lines/files)

    def __str__(self) -> str:
        lines = [f"Imported {self.imported} record(s); skipped {self.skipped}; {len(self.issues)} problem(s)."]
        if self.cancelled:
            lines.append(f"Cancelled after {self.imported + self.skipped} of {self.total} item(s).")
        lines += [f"  {issue}" for issue in self.issues]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    summary = __str__


Item = ImportedRecord | ImportIssue


# --- readers ------------------------------------------------------------------


class RecordReader(ABC):
    """One input format."""

    name: ClassVar[str]

    @abstractmethod
    def accepts(self, path: Path) -> bool: ...

    @abstractmethod
    def read(self, path: Path) -> Iterator[Item]: ...


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _resolve_image(base: Path, image: str | None) -> Path | None:
    if not image:
        return None
    return base / image.replace("\\", "/")


def _record_item(raw: Any, base: Path, where: str, encoding: str) -> Item:
    """An interchange object -> ImportedRecord, or an issue naming the bad part."""
    try:
        record = Record.from_dict(raw)
    except RecordError as exc:
        what = str(raw.get("id")) if isinstance(raw, Mapping) and raw.get("id") not in (None, "") else "record"
        what = what.encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate in an id must still print
        return ImportIssue(where, what, str(exc))
    return ImportedRecord(record, _resolve_image(base, record.image), where, encoding)


class _TextFileReader(RecordReader):
    """A reader of one text file: decodes it and hands the text to :meth:`parse`."""

    suffixes: ClassVar[tuple[str, ...]] = ()

    def accepts(self, path: Path) -> bool:
        return path.is_file() and path.suffix.lower() in self.suffixes

    def read(self, path: Path) -> Iterator[Item]:
        try:
            text, encoding = decode_text(_read_bytes(path), path.name)
        except DecodeError as exc:
            yield ImportIssue(path.name, "file", str(exc).removeprefix(f"{path.name}: "))
            return
        yield from self.parse(path, text, encoding)

    @abstractmethod
    def parse(self, path: Path, text: str, encoding: str) -> Iterator[Item]: ...


class JsonlReader(_TextFileReader):
    name = "jsonl"
    suffixes = (".jsonl", ".ndjson")

    def parse(self, path: Path, text: str, encoding: str) -> Iterator[Item]:
        # split on "\n" only: str.splitlines would also split inside strings at U+2028.
        for lineno, line in enumerate(text.split("\n"), 1):
            line = line.strip()
            if not line:
                continue
            where = f"{path.name}:{lineno}"
            try:
                raw = _load_json(line)
            except _BadJson as exc:
                yield ImportIssue(where, "line", exc.reason)
                continue
            yield _record_item(raw, path.parent, where, encoding)


class JsonReader(_TextFileReader):
    name = "json"
    suffixes = (".json",)

    def parse(self, path: Path, text: str, encoding: str) -> Iterator[Item]:
        try:
            doc = _load_json(text)
        except _BadJson as exc:
            yield ImportIssue(f"{path.name}:{exc.lineno}", "file", exc.reason)
            return
        if isinstance(doc, Mapping) and isinstance(doc.get("records"), list):
            doc = doc["records"]
        if isinstance(doc, Mapping):
            yield _record_item(doc, path.parent, path.name, encoding)
            return
        if not isinstance(doc, list):
            yield ImportIssue(path.name, "file", "expected a list of records or one record object")
            return
        for i, raw in enumerate(doc):
            yield _record_item(raw, path.parent, f"{path.name}[{i}]", encoding)


class CsvReader(_TextFileReader):
    name = "csv"
    suffixes = (".csv",)
    json_columns: ClassVar[tuple[str, ...]] = ("spans", "form", "form_evidence")

    def parse(self, path: Path, text: str, encoding: str) -> Iterator[Item]:
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = next(reader, None)
        except csv.Error as exc:
            yield ImportIssue(f"{path.name}:1", "header", f"not valid CSV ({exc})")
            return
        columns = [h.strip().lower() for h in header or []]
        missing = [c for c in ("id", "text") if c not in columns]
        if missing:
            yield ImportIssue(f"{path.name}:1", "header", f"missing column(s) {', '.join(missing)}")
            return
        next_line = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield ImportIssue(f"{path.name}:{next_line}", "line", f"not valid CSV ({exc}); the rest is skipped")
                return
            where, next_line = f"{path.name}:{next_line}", reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(columns):
                yield ImportIssue(where, "line", f"{len(row)} fields but the header has {len(columns)}")
                continue
            yield self._row_item(dict(zip(columns, row, strict=False)), path, where, encoding)

    def _row_item(self, row: dict[str, str], path: Path, where: str, encoding: str) -> Item:
        raw: dict[str, Any] = {k: v for k, v in row.items() if k not in self.json_columns and v != ""}
        if "text" in row:
            raw["text"] = row["text"]
        for column in self.json_columns:
            cell = row.get(column, "").strip()
            if not cell:
                continue
            try:
                raw[column] = _load_json(cell)
            except _BadJson as exc:
                return ImportIssue(where, f"{row.get('id') or 'record'} {column}", exc.reason)
        return _record_item(raw, path.parent, where, encoding)


_BIO_LINE = re.compile(r"^(.+?)[ \t,](\S+)$")


def _looks_like_bio(line: str) -> bool:
    match = _BIO_LINE.match(line)
    return bool(match and token_char(match.group(1)) is not None and is_tag(match.group(2)))


class BioReader(_TextFileReader):
    name = "bio"
    suffixes = (".bio", ".txt")

    def accepts(self, path: Path) -> bool:
        if not super().accepts(path):
            return False
        if path.suffix.lower() == ".bio":
            return True
        try:
            with path.open("rb") as fh:
                head = fh.read(4096)
        except OSError:
            return False
        first = next((ln for ln in head.decode("utf-8", "ignore").splitlines() if ln.strip()), "")
        return first.startswith("# {") or _looks_like_bio(first.lstrip("\ufeff"))

    def parse(self, path: Path, text: str, encoding: str) -> Iterator[Item]:
        stem = path.stem
        chars: list[str] = []
        tags: list[str] = []
        meta: dict[str, Any] = {}
        first_line = 0
        bad: list[tuple[int, str]] = []
        count = 0

        def flush() -> Iterator[Item]:
            nonlocal chars, tags, meta, bad, first_line, count
            if chars or bad or meta:
                count += 1
                record_id = str(meta.get("id") or f"{stem}-{count}")
                if bad:
                    lineno, line = bad[0]
                    more = f" (and {len(bad) - 1} more bad line(s))" if len(bad) > 1 else ""
                    why = f"malformed line {line!r}, expected 'char TAG' with TAG O, B-X or I-X{more}"
                    yield ImportIssue(f"{path.name}:{lineno}", record_id, why)
                else:
                    text = "".join(chars)
                    specialty = str(meta.get("specialty") or GENERAL)
                    record = Record(record_id, specialty, text, None, tuple(tags_to_spans(text, tags)))
                    yield ImportedRecord(record, None, f"{path.name}:{first_line}", encoding)
            chars, tags, meta, bad, first_line = [], [], {}, [], 0

        for lineno, raw in enumerate(text.split("\n"), 1):
            line = raw.rstrip("\r")
            if not line.strip():
                yield from flush()
                continue
            if line.startswith("-DOCSTART-"):
                continue
            if line.startswith("# {"):
                yield from flush()
                try:
                    parsed = _load_json(line[2:])
                except _BadJson:
                    parsed = None
                if isinstance(parsed, dict):
                    meta = parsed
                    first_line = lineno
                    continue
            first_line = first_line or lineno
            match = _BIO_LINE.match(line)
            char = token_char(match.group(1)) if match else None
            if match is None or char is None or not is_tag(match.group(2)):
                bad.append((lineno, line))
                continue
            chars.append(char)
            tags.append(match.group(2))
        yield from flush()


class PlainTextFileReader(_TextFileReader):
    name = "text"
    suffixes = (".txt",)

    def parse(self, path: Path, text: str, encoding: str) -> Iterator[Item]:
        yield _text_item(path, text, encoding, path.name, GENERAL)


def _text_item(path: Path, text: str, encoding: str, where: str, specialty: str) -> Item:
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return ImportIssue(where, path.stem, "the file has no text")
    candidates = (path.with_name(path.stem + s) for suffix in IMAGE_SUFFIXES for s in (suffix, suffix.upper()))
    image = next((p for p in candidates if p.is_file()), None)
    record = Record(path.stem, specialty, text, image.name if image else None)
    return ImportedRecord(record, image, where, encoding)


class TextFolderReader(RecordReader):
    name = "folder"

    def accepts(self, path: Path) -> bool:
        return path.is_dir()

    def read(self, path: Path) -> Iterator[Item]:
        specialties = set(default_schema().specialty_codes)
        try:
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".txt")
        except OSError as exc:
            raise StoreError(f"cannot list the folder {path}: {exc.strerror or exc}") from exc
        for file in files:
            where = f"{path.name}/{file.relative_to(path).as_posix()}"
            specialty = file.parent.name if file.parent != path and file.parent.name in specialties else GENERAL
            try:
                data = file.read_bytes()
                text, encoding = decode_text(data, where)
            except OSError as exc:
                yield ImportIssue(where, file.stem, f"cannot read the file ({exc.strerror or exc})")
                continue
            except DecodeError as exc:
                yield ImportIssue(where, file.stem, str(exc).removeprefix(f"{where}: "))
                continue
            yield _text_item(file, text, encoding, where, specialty)


# Order matters: the first reader that accepts a path reads it.
READERS: list[RecordReader] = [
    TextFolderReader(),
    JsonlReader(),
    JsonReader(),
    CsvReader(),
    BioReader(),
    PlainTextFileReader(),
]


def reader_for(path: Path) -> RecordReader:
    """The reader for ``path``; StoreError if it does not exist or no format fits."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{path} does not exist")
    for reader in READERS:
        if reader.accepts(path):
            return reader
    names = ", ".join(s for r in READERS for s in getattr(r, "suffixes", ()))
    raise StoreError(f"cannot import {path.name}: not a folder and not one of {names}")


def read_records(path: Path) -> Iterator[ImportedRecord | ImportIssue]:
    """Records and issues from ``path`` in file order (see the module docstring)."""
    path = Path(path)
    return reader_for(path).read(path)


def import_records(
    path: Path,
    db: Database,
    who: str = "import",
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    deidentify: bool = False,
) -> ImportReport:
    """Import every good record from ``path``; report (never raise on) bad ones.

    Each record is checked (``record_problems`` against the default schema)
    and stored in its own transaction with its image; a missing or unreadable
    image, a duplicate id or a schema problem skips that record and adds an
    issue. Forms are stored exactly as given (no defaults filled in), so an
    export gives them back unchanged. ``on_progress(done, total)`` is called
    after each item; an exception raised from it stops the import (records
    already imported stay). ``should_stop()`` is asked before each item; when it
    answers True the import stops there and the report says ``cancelled``
    (records already imported stay). ``deidentify`` masks names, ID-card
    numbers, phone numbers and addresses before anything is stored
    (:mod:`tcm_desktop.store.deidentify`). Raises StoreError only if ``path`` cannot be read.
    """
    items = list(read_records(path))
    report = ImportReport(total=len(items))
    encodings: dict[str, str] = {}
    for done, item in enumerate(items, 1):
        if should_stop is not None and should_stop():
            report.cancelled = True
            break
        if isinstance(item, ImportIssue):
            report.issues.append(item)
            report.skipped += 1
        else:
            if item.encoding not in ("utf-8", "utf-8-sig"):
                encodings.setdefault(re.sub(r"(:\d+|\[\d+\])$", "", item.where), item.encoding)
            if deidentify:
                item = replace(item, record=deidentify_record(item.record))
            _import_one(item, db, who, report)
        if on_progress is not None:
            on_progress(done, len(items))
    report.notes += [f"{where}: read as {encoding}" for where, encoding in encodings.items()]
    return report


def _import_one(item: ImportedRecord, db: Database, who: str, report: ImportReport) -> None:
    record = item.record
    try:
        db.records.add(record, item.image_path, who=who, source=item.where)
    except InvalidRecordError as exc:
        report.issues += [ImportIssue(item.where, record.id, problem) for problem in exc.problems]
        report.skipped += 1
    except StoreError as exc:
        report.issues.append(ImportIssue(item.where, record.id, str(exc)))
        report.skipped += 1
    else:
        report.imported += 1
