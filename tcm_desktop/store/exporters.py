"""Writing records to files: one writer class per format, one atomic write.

* ``jsonl``: one interchange record per line (UTF-8).
* ``json``: a list of interchange records (UTF-8, indented).
* ``csv``: columns id, specialty, text, image, spans, form, form_evidence
  (the last three as JSON text); UTF-8 with a BOM so Excel shows Chinese.
* ``bio``: ``char TAG`` lines, a blank line between records, each record
  preceded by ``# {"id": ..., "specialty": ...}``; whitespace placeholders
  as in :mod:`tcm_desktop.store.bio`. Forms and images are not in BIO files.

For jsonl, json and csv each record's image is copied into
``<out stem>_images/`` beside the output and referenced relative to the
output's folder, so the export imports back as it is. The output file is
written to a temporary file and moved into place, so a failed or cancelled
export never leaves a half-written file; images it copied are removed again.

Exports are de-identified by default (:mod:`tcm_desktop.store.deidentify`:
names, ID-card numbers, phone numbers and addresses masked in the text and
the form, span offsets unchanged); ``deidentify=False`` writes the text as
stored.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TextIO

from tcm_desktop.domain import Record
from tcm_desktop.files import sha256_of
from tcm_desktop.store.bio import char_token, spans_to_tags
from tcm_desktop.store.deidentify import deidentify_record
from tcm_desktop.store.errors import ImageError, OperationCancelled, StoreError

if TYPE_CHECKING:
    from tcm_desktop.store.database import Database


class RecordWriter(ABC):
    """One output format."""

    name: ClassVar[str]
    encoding: ClassVar[str] = "utf-8"
    copies_images: ClassVar[bool] = True

    @abstractmethod
    def write(self, fh: TextIO, records: Iterable[Record]) -> int:
        """Write ``records``; return how many were written."""


class JsonlWriter(RecordWriter):
    name = "jsonl"

    def write(self, fh: TextIO, records: Iterable[Record]) -> int:
        count = 0
        for record in records:
            fh.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
            count += 1
        return count


class JsonWriter(RecordWriter):
    name = "json"

    def write(self, fh: TextIO, records: Iterable[Record]) -> int:
        items = [record.to_dict() for record in records]
        json.dump(items, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
        return len(items)


class CsvWriter(RecordWriter):
    name = "csv"
    encoding = "utf-8-sig"
    columns: ClassVar[tuple[str, ...]] = ("id", "specialty", "text", "image", "spans", "form", "form_evidence")

    def write(self, fh: TextIO, records: Iterable[Record]) -> int:
        writer = csv.writer(fh)
        writer.writerow(self.columns)
        count = 0
        for record in records:
            data = record.to_dict()
            writer.writerow(
                [
                    record.id,
                    record.specialty,
                    record.text,
                    record.image or "",
                    json.dumps(data["spans"], ensure_ascii=False),
                    json.dumps(data["form"], ensure_ascii=False) if "form" in data else "",
                    json.dumps(data["form_evidence"], ensure_ascii=False) if "form_evidence" in data else "",
                ]
            )
            count += 1
        return count


class BioWriter(RecordWriter):
    name = "bio"
    copies_images = False

    def write(self, fh: TextIO, records: Iterable[Record]) -> int:
        count = 0
        for record in records:
            fh.write("# " + json.dumps({"id": record.id, "specialty": record.specialty}, ensure_ascii=False) + "\n")
            for ch, tag in zip(record.text, spans_to_tags(record.text, record.spans), strict=True):
                fh.write(f"{char_token(ch)} {tag}\n")
            fh.write("\n")
            count += 1
        return count


EXPORTERS: dict[str, RecordWriter] = {w.name: w for w in (JsonlWriter(), JsonWriter(), CsvWriter(), BioWriter())}
FORMATS = tuple(EXPORTERS)


def _safe_name(text: str) -> str:
    return re.sub(r"[^\w.\-]", "_", text).strip(".") or "record"


class _ImageCopier:
    """Copies stored images next to the export under readable, unique names."""

    def __init__(self, out: Path) -> None:
        self.folder_name = f"{out.stem}_images"
        self.folder = out.parent / self.folder_name
        self.used: set[str] = set()
        self._made_folder = False
        self._created: list[Path] = []  # files this export added, removed again by rollback()

    def copy(self, record_id: str, source: Path) -> str:
        if not source.is_file():
            raise ImageError(f"the image of record {record_id} is missing from the data folder ({source})")
        name = f"{_safe_name(record_id)}{source.suffix}"
        if name.lower() in self.used:
            name = f"{_safe_name(record_id)}-{source.stem[:12]}{source.suffix}"
        self.used.add(name.lower())
        target = self.folder / name
        try:
            if not self.folder.is_dir():
                self.folder.mkdir(parents=True)
                self._made_folder = True
            if not (target.is_file() and sha256_of(target) == source.stem):
                existed = target.exists()
                partial = target.with_name(f".{target.name}.tmp")
                shutil.copyfile(source, partial)  # a copy cut short never takes the image's name
                os.replace(partial, target)
                if not existed:
                    self._created.append(target)
        except OSError as exc:
            raise StoreError(f"cannot copy the image of record {record_id} to {target}: {exc.strerror or exc}") from exc
        return f"{self.folder_name}/{name}"

    def rollback(self) -> None:
        """Remove what this export added (best effort: the export's own error is what the user needs)."""
        for path in (*self._created, *self.folder.glob(".*.tmp")):
            path.unlink(missing_ok=True)
        if self._made_folder:
            with contextlib.suppress(OSError):  # not empty: something else was put there meanwhile
                self.folder.rmdir()


def export_records(
    db: Database,
    fmt: str,
    out: Path,
    ids: Sequence[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    deidentify: bool = True,
) -> int:
    """Write the records (all, or ``ids`` in that order) to ``out`` in ``fmt``; returns the count.

    ``deidentify`` (the default) masks names, ID-card numbers, phone numbers
    and addresses in what is written; the database is not changed.

    Each record is exported with its current annotation (see
    :class:`~tcm_desktop.store.records.StoredRecord`); forms exactly as stored.
    ``on_progress(done, total)`` is called after each record; ``should_stop()``
    is asked before each one and, when it answers True, the export raises
    :class:`~tcm_desktop.store.errors.OperationCancelled` leaving ``out`` as it was.
    """
    writer = EXPORTERS.get(fmt)
    if writer is None:
        raise StoreError(f"unknown export format {fmt!r} (use one of {', '.join(FORMATS)})")
    out = Path(out)
    record_ids = list(ids) if ids is not None else db.records.ids()
    for record_id in record_ids:
        if not db.records.exists(record_id):
            raise StoreError(f"no record {record_id}")
    copier = _ImageCopier(out) if writer.copies_images else None

    def records() -> Iterator[Record]:
        for done, record_id in enumerate(record_ids):
            if should_stop is not None and should_stop():
                raise OperationCancelled(f"export to {out.name} cancelled; the file was not written")
            stored = db.records.get(record_id)
            image = copier.copy(record_id, stored.image_path) if copier and stored.image_path else None
            record = deidentify_record(stored.record) if deidentify else stored.record
            yield replace(record, image=image)
            if on_progress is not None:
                on_progress(done + 1, len(record_ids))

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise StoreError(f"cannot write to {out.parent}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding=writer.encoding, newline="") as fh:
            count = writer.write(fh, records())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, out)
    except OSError as exc:
        _discard(tmp_name, copier)
        raise StoreError(f"cannot write {out}: {exc.strerror or exc}") from exc
    except BaseException:
        _discard(tmp_name, copier)
        raise
    return count


def _discard(tmp_name: str, copier: _ImageCopier | None) -> None:
    Path(tmp_name).unlink(missing_ok=True)
    if copier is not None:
        copier.rollback()
