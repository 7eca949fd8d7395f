"""``tcm structure``: structure a file of records into interchange JSONL, resumably.

Output lines are written a chunk at a time and flushed to disk, so a run that
is stopped (Ctrl+C, a crash, a power cut) keeps every finished record; run
the same command again and it skips the ids already in the output. A last
line cut short by a kill is dropped before resuming.

Each output line is the input record in the interchange format with the
model's ``spans`` (with confidences), ``form`` and ``form_evidence``, plus
``model_version``, ``uncertainty``, ``tongue`` (attribute probabilities from
the photo, if any) and ``flags``. ``image`` is rewritten relative to the
output file so the output stays readable by ``tcm import``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from tcm_desktop.domain import TcmError
from tcm_desktop.domain.records import Prediction, Record
from tcm_desktop.inference.structuring import Structurer
from tcm_desktop.store.importers import ImportedRecord, ImportIssue, read_records

CHUNK_RECORDS = 32

RecordProgress = Callable[[int, int], None]


@dataclass
class StructureReport:
    structured: int = 0
    resumed: int = 0  # already in the output from an earlier run
    skipped: int = 0
    issues: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"Structured {self.structured} record(s); {self.resumed} already done; "
            f"skipped {self.skipped}; {len(self.issues)} problem(s)."
        ]
        return "\n".join(lines + [f"  {issue}" for issue in self.issues])


def done_ids(out: Path) -> set[str]:
    """Ids already written to ``out``; a last line cut short by a kill is removed from the file."""
    if not out.exists():
        return set()
    ids: set[str] = set()
    good_end = 0
    with out.open("rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break  # cut short: everything up to good_end stays
            try:
                ids.add(str(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise TcmError(f"{out} is not output of tcm structure (line {len(ids) + 1}: {exc})") from exc
            good_end += len(line)
    if good_end != out.stat().st_size:
        with out.open("r+b") as fh:
            fh.truncate(good_end)
    return ids


def prediction_line(record: Record, prediction: Prediction, image: Path | None, out_dir: Path) -> dict[str, Any]:
    """The interchange object of ``record`` as the model structured it."""
    structured = replace(
        record,
        image=_relative_image(image, out_dir) if image is not None else None,
        spans=prediction.spans,
        form={v.field: v.value for v in prediction.form},
        form_evidence={v.field: v.evidence for v in prediction.form if v.evidence},
    )
    line = structured.to_dict()
    line["model_version"] = prediction.model_version
    line["uncertainty"] = round(prediction.uncertainty, 4)
    if prediction.tongue:
        line["tongue"] = {k: {v: round(p, 4) for v, p in probs.items()} for k, probs in prediction.tongue.items()}
    if prediction.flags:
        line["flags"] = list(prediction.flags)
    return line


def _relative_image(image: Path, out_dir: Path) -> str:
    try:
        return Path(os.path.relpath(image.resolve(), out_dir.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return str(image.resolve())


def _chunks(items: Sequence[ImportedRecord], size: int) -> Iterator[Sequence[ImportedRecord]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def structure_file(
    source: Path,
    out: Path,
    structurer: Structurer,
    use_image: bool = True,
    on_progress: RecordProgress | None = None,
    chunk_records: int = CHUNK_RECORDS,
) -> StructureReport:
    """Structure every record of ``source`` (any format ``tcm import`` reads) into ``out``, resuming."""
    report = StructureReport()
    already = done_ids(out)
    todo: list[ImportedRecord] = []
    seen: set[str] = set()
    for item in read_records(source):
        if isinstance(item, ImportIssue):
            report.skipped += 1
            report.issues.append(str(item))
            continue
        record_id = item.record.id
        if record_id in seen:
            report.skipped += 1
            report.issues.append(f"{item.where}: {record_id}: the id appears more than once; kept the first")
            continue
        seen.add(record_id)
        if record_id in already:
            report.resumed += 1
        else:
            todo.append(item)
    out.parent.mkdir(parents=True, exist_ok=True)
    total = len(todo)
    if on_progress is not None:
        on_progress(0, total)
    with out.open("a", encoding="utf-8", newline="\n") as fh:
        for chunk in _chunks(todo, chunk_records):
            _structure_chunk(chunk, fh, out.parent, structurer, use_image)
            report.structured += len(chunk)
            if on_progress is not None:
                on_progress(report.structured, total)
    return report


def _structure_chunk(
    chunk: Sequence[ImportedRecord], fh: TextIO, out_dir: Path, structurer: Structurer, use_image: bool
) -> None:
    records = [item.record for item in chunk]
    images = [item.image_path for item in chunk]
    predictions = structurer.structure(records, images=images, use_image=use_image)
    lines = [
        json.dumps(prediction_line(item.record, p, item.image_path, out_dir), ensure_ascii=False)
        for item, p in zip(chunk, predictions, strict=True)
    ]
    fh.write("".join(line + "\n" for line in lines))
    fh.flush()
    os.fsync(fh.fileno())
