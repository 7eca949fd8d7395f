"""The recovery journal: unsaved corrections kept on disk so a crash does not lose them.

While a record has unsaved edits the GUI writes its draft here every few
seconds (:meth:`DraftJournal.write`: temp file, fsync, rename, so a file is
either the old draft or the new one, never half of each) and removes it when
the edits are saved or discarded. After a crash the files are still there;
on the next start the GUI offers to restore them (:meth:`JournalEntry.apply_to`
puts the edits back onto the record as it is stored now).

One file per record, ``draft-<hash of the id>.json``, in a ``journal`` folder
inside the database's data folder (so it belongs to that database)::

    {"format": 1, "database": "...", "record_id": "R0001", "written_at": "...",
     "text_sha256": "...", "base_sha256": "...",
     "spans": [...], "form": {...}, "form_evidence": {"field": [0, 2]}}

``text_sha256`` is the record text the edits were made on: a journal whose
record text has changed since is refused (:class:`JournalError`), because its
offsets would point at other words. ``base_sha256`` is the annotation the
edits started from; if it changed (saved elsewhere) the restore still works
and says so. The files hold patient data and are written readable by the
owner only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tcm_desktop.domain.draft import DraftAnnotation, span_key
from tcm_desktop.domain.errors import TcmError
from tcm_desktop.domain.records import Span

JOURNAL_FOLDER = "journal"
SET_ASIDE_FOLDER = "refused"  # inside the journal folder: journals that could not be restored
FORMAT = 1
_PREFIX = "draft-"


class JournalError(TcmError):
    """A journal file cannot be read, or its edits cannot be applied to the record as it is now."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def annotation_sha256(
    spans: Sequence[Span], form: Mapping[str, Any], form_evidence: Mapping[str, Sequence[int]]
) -> str:
    """A hash of an annotation's content (spans with labels, form values, evidence)."""
    data = {
        "spans": [[s.start, s.end, s.label] for s in sorted(spans)],
        "form": dict(form),
        "form_evidence": {k: list(v) for k, v in sorted(form_evidence.items())},
    }
    encoded = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8", "surrogatepass")
    return hashlib.sha256(encoded).hexdigest()


def draft_sha256(draft: DraftAnnotation) -> str:
    return annotation_sha256(draft.spans, draft.form, draft.form_evidence())


@dataclass(frozen=True)
class JournalEntry:
    """One journal file: the unsaved draft of ``record_id`` as it was at ``written_at``."""

    path: Path
    database: str
    record_id: str
    written_at: str
    text_sha256: str
    base_sha256: str
    spans: tuple[Span, ...]
    form: Mapping[str, Any]
    form_evidence: Mapping[str, tuple[int, ...]]

    @classmethod
    def read(cls, path: Path) -> JournalEntry:
        """Parse a journal file; JournalError naming the file if it is unreadable or not a journal."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(f"not a format-{FORMAT} journal")
            spans = tuple(Span.from_dict(s) for s in data["spans"])
            evidence = {str(k): tuple(int(i) for i in v) for k, v in dict(data.get("form_evidence") or {}).items()}
            return cls(
                path,
                str(data.get("database", "")),
                str(data["record_id"]),
                str(data.get("written_at", "")),
                str(data["text_sha256"]),
                str(data.get("base_sha256", "")),
                spans,
                dict(data.get("form") or {}),
                evidence,
            )
        except (OSError, ValueError, KeyError, TypeError, TcmError, RecursionError) as exc:
            raise JournalError(f"the recovery file {path.name} cannot be read ({exc})", path) from exc

    def apply_to(self, current: DraftAnnotation) -> DraftAnnotation:
        """The journaled edits on ``current`` (the record's draft as stored now).

        Raises JournalError when it is another record or its text has changed
        since the edits were made.
        """
        if current.record_id != self.record_id:
            raise JournalError(
                f"these unsaved edits belong to record {self.record_id}, not {current.record_id}", self.path
            )
        if text_sha256(current.text) != self.text_sha256:
            raise JournalError(
                f"the text of record {self.record_id} has changed since these unsaved edits were made"
                f" ({self.written_at}); their marks would fall on other words, so they were not restored",
                self.path,
            )
        evidence = {
            name: tuple(span_key(self.spans[i]) for i in indices if 0 <= i < len(self.spans))
            for name, indices in self.form_evidence.items()
        }
        return DraftAnnotation(
            current.record_id, current.specialty, current.text, self.spans, dict(self.form), evidence, current.schema
        )

    def base_changed(self, current: DraftAnnotation) -> bool:
        """Whether the stored annotation differs from the one the edits started from."""
        return bool(self.base_sha256) and draft_sha256(current) != self.base_sha256


class DraftJournal:
    """The journal folder of one database (see the module docstring)."""

    def __init__(self, folder: Path, database: Path | str = "") -> None:
        self.folder = Path(folder)
        self.database = str(database)

    def path_for(self, record_id: str) -> Path:
        digest = hashlib.sha256(record_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.folder / f"{_PREFIX}{digest}.json"

    def write(self, draft: DraftAnnotation, base: DraftAnnotation | None, now: datetime | None = None) -> Path:
        """Write ``draft`` (started from ``base``) atomically; OSError if the disk refuses."""
        data = {
            "format": FORMAT,
            "database": self.database,
            "record_id": draft.record_id,
            "written_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
            "text_sha256": text_sha256(draft.text),
            "base_sha256": draft_sha256(base) if base is not None else "",
            "spans": [s.to_dict() for s in draft.spans],
            "form": dict(draft.form),
            "form_evidence": {k: list(v) for k, v in draft.form_evidence().items()},
        }
        payload = json.dumps(data, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass")
        target = self.path_for(draft.record_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".writing-", suffix=".json", dir=self.folder)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_folder(self.folder)
        return target

    def remove(self, record_id: str) -> None:
        """Forget the journal of ``record_id`` (saved or discarded); nothing if there is none."""
        with contextlib.suppress(OSError):  # a leftover is offered next start and is harmless
            self.path_for(record_id).unlink(missing_ok=True)

    def entries(self) -> tuple[list[JournalEntry], list[JournalError]]:
        """The readable journals, newest first, and a problem for each unreadable one."""
        if not self.folder.is_dir():
            return [], []
        for leftover in self.folder.glob(".writing-*"):  # a write cut short by a crash; the old file stands
            with contextlib.suppress(OSError):
                leftover.unlink()
        found: list[JournalEntry] = []
        problems: list[JournalError] = []
        for path in sorted(self.folder.glob(f"{_PREFIX}*.json")):
            try:
                found.append(JournalEntry.read(path))
            except JournalError as exc:
                problems.append(exc)
        found.sort(key=lambda e: e.written_at, reverse=True)
        return found, problems

    def set_aside(self, path: Path) -> Path:
        """Move a journal that cannot be restored into ``refused/`` (kept, never offered again)."""
        target_dir = self.folder / SET_ASIDE_FOLDER
        target_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        target = target_dir / f"{path.stem}-{stamp}{path.suffix}"
        os.replace(path, target)
        return target


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows cannot open a folder for this."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
