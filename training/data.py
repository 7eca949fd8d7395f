"""Training examples from files or the app's database, windows over long texts, splits.

``load_examples(path)`` reads, chosen by the file's kind:

* ``.jsonl`` / ``.ndjson`` / ``.json``: interchange records
  (ARCHITECTURE.md). Labels are taken as they are (a foreign label set
  trains as it is); a record whose spans cannot be tagged (offsets outside
  the text, text that does not match, overlaps) is skipped and reported.
* ``.txt`` / ``.bio``: one ``char,TAG`` / ``char TAG`` / ``char<TAB>TAG``
  line per character, a blank line between sentences. The line is split at
  its LAST separator, so the character itself may be ``,`` or a space; the
  project's own placeholders (``▁``, ``U+000A``, see
  :mod:`tcm_desktop.store.bio`) and ``# {"id": ...}`` comment lines are
  understood. A stray tag (not ``O`` and not ``B-X``/``I-X``/``E-X``/``S-X``
  with X of letters and ``_``) becomes ``O`` and is counted; a malformed
  line skips its sentence (reported with ``file:line``).
* ``.db`` / ``.sqlite`` / ``.sqlite3``: the app's database, records whose
  status is in ``statuses`` with their current annotation spans.

Spans are ``(start, end, label)`` tuples, code points, end exclusive.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tcm_desktop.domain import Record, RecordStatus, Span, TcmError
from tcm_desktop.store import Database, ImportedRecord, StoreError, decode_text, read_records
from tcm_desktop.store.bio import token_char
from training.tags import OUTSIDE, SpanTuple, tags_to_spans

DEFAULT_STATUSES: tuple[str, ...] = (RecordStatus.CORRECTED.value, RecordStatus.VERIFIED.value)
_GOOD_TAG = re.compile(r"^[BIES]-[A-Za-z_]+$")
_SEPARATORS = (",", " ", "\t")


class DataError(TcmError):
    """The training data cannot be read."""


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    spans: tuple[SpanTuple, ...]
    source: str = ""  # where it came from, e.g. "train.txt:120"
    specialty: str = ""


@dataclass(frozen=True)
class Skipped:
    where: str  # "train.txt:120", "clinic.db:R0007"
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.why}"


@dataclass
class LoadReport:
    """What :func:`load_examples` read: counts, cleaned tags, skipped items."""

    source: str
    kind: str
    examples: int = 0
    characters: int = 0
    spans: Counter[str] = field(default_factory=Counter)  # label -> spans
    cleaned_tags: Counter[str] = field(default_factory=Counter)  # stray BIO tag -> lines; unwanted label -> spans
    skipped: list[Skipped] = field(default_factory=list)
    fingerprint: str = ""  # sha256 (12 hex) of the examples' ids, texts and spans

    def count(self, examples: Sequence[Example]) -> None:
        self.examples = len(examples)
        self.characters = sum(len(e.text) for e in examples)
        self.spans = Counter(label for e in examples for _, _, label in e.spans)
        self.fingerprint = fingerprint(examples)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, for a model's training-data provenance."""
        return {
            "source": self.source,
            "kind": self.kind,
            "examples": self.examples,
            "characters": self.characters,
            "spans": dict(sorted(self.spans.items())),
            "cleaned_tags": dict(sorted(self.cleaned_tags.items())),
            "skipped": [str(s) for s in self.skipped],
            "fingerprint": self.fingerprint,
        }

    def __str__(self) -> str:
        lines = [
            f"{self.source} ({self.kind}): {self.examples} example(s), {self.characters} character(s), "
            f"{sum(self.spans.values())} span(s), {len(self.skipped)} skipped"
        ]
        lines += [f"  {label}: {n}" for label, n in sorted(self.spans.items())]
        lines += [f"  cleaned {tag!r} -> O: {n}" for tag, n in sorted(self.cleaned_tags.items())]
        lines += [f"  skipped {s}" for s in self.skipped]
        return "\n".join(lines)


def fingerprint(examples: Iterable[Example]) -> str:
    """First 12 hex digits of a sha256 over every example's id, text and spans, in order."""
    digest = hashlib.sha256()
    for e in examples:
        digest.update(json.dumps([e.id, e.text, [list(s) for s in e.spans]], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()[:12]


# --- loading -------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    statuses: frozenset[str]
    labels: frozenset[str] | None


Loader = Callable[[Path, LoadReport, _Options], list[Example]]


def load_examples(
    source: Path, *, statuses: Iterable[str] = DEFAULT_STATUSES, labels: Collection[str] | None = None
) -> tuple[list[Example], LoadReport]:
    """Examples and a report from a file or database (see the module docstring).

    ``statuses`` applies to a database only. ``labels``, when given, is the
    label set the source is meant to have: any other label is cleaned like a
    stray tag (BIO: the tag becomes O; records: the span is dropped) and
    counted in ``LoadReport.cleaned_tags`` (tag -> lines for BIO, label -> spans
    for records; e.g. tcm_ner test.txt's one ``B-Person`` span).
    Raises :class:`DataError` if the source is missing, of an unknown kind or
    unreadable as a whole.
    """
    path = Path(source)
    if not path.is_file():
        raise DataError(f"{path} does not exist or is not a file")
    kind = _KIND_BY_SUFFIX.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"cannot load {path.name}: use one of {', '.join(sorted(_KIND_BY_SUFFIX))}")
    try:
        wanted = {RecordStatus(s).value for s in statuses}
    except ValueError as exc:
        raise DataError(f"unknown record status in {list(statuses)}: {exc}") from exc
    report = LoadReport(str(path), kind)
    examples = _LOADERS[kind](path, report, _Options(frozenset(wanted), None if labels is None else frozenset(labels)))
    report.count(examples)
    return examples, report


def _read_text(path: Path) -> str:
    try:
        return decode_text(path.read_bytes(), path.name)[0]
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except StoreError as exc:
        raise DataError(str(exc)) from exc


def _split_bio_line(line: str) -> tuple[str, str] | None:
    cut = max(line.rfind(sep) for sep in _SEPARATORS)
    if cut <= 0 or cut == len(line) - 1:
        return None
    return line[:cut], line[cut + 1 :]


@dataclass
class _Sentence:
    chars: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line number, line)
    meta: dict[str, Any] = field(default_factory=dict)
    first_line: int = 0


def _load_bio(path: Path, report: LoadReport, options: _Options) -> list[Example]:
    examples: list[Example] = []
    number = 0
    sentence = _Sentence()

    def flush() -> None:
        nonlocal number, sentence
        if sentence.chars or sentence.bad:
            number += 1
            example_id = str(sentence.meta.get("id") or f"{path.stem}-{number}")
            if sentence.bad:
                lineno, line = sentence.bad[0]
                more = f" (and {len(sentence.bad) - 1} more)" if len(sentence.bad) > 1 else ""
                why = f"sentence {example_id} skipped: malformed line {line!r}, expected 'char TAG'{more}"
                report.skipped.append(Skipped(f"{path.name}:{lineno}", why))
            else:
                text = "".join(sentence.chars)
                spans = tuple(tags_to_spans(sentence.tags))
                specialty = str(sentence.meta.get("specialty") or "")
                examples.append(Example(example_id, text, spans, f"{path.name}:{sentence.first_line}", specialty))
        sentence = _Sentence()

    for lineno, raw in enumerate(_read_text(path).split("\n"), 1):
        line = raw.removesuffix("\r")
        if not line.strip():
            flush()
            continue
        if line.startswith("-DOCSTART-"):
            continue
        if line.startswith("# {"):
            flush()
            try:
                meta = json.loads(line[2:])
            except json.JSONDecodeError:
                meta = None
            if isinstance(meta, dict):
                sentence.meta = meta
                continue
        sentence.first_line = sentence.first_line or lineno
        parts = _split_bio_line(line)
        char = token_char(parts[0]) if parts else None
        if parts is None or char is None:
            sentence.bad.append((lineno, line))
            continue
        tag = parts[1]
        if tag != OUTSIDE and (
            not _GOOD_TAG.match(tag) or (options.labels is not None and tag[2:] not in options.labels)
        ):
            report.cleaned_tags[tag] += 1
            tag = OUTSIDE
        sentence.chars.append(char)
        sentence.tags.append(tag)
    flush()
    return examples


def _taggable_problem(text: str, spans: Sequence[SpanTuple], span_texts: Sequence[str]) -> str | None:
    """Why these spans cannot become tags (None if they can). Edge punctuation is tolerated."""
    previous_end = 0
    for (start, end, label), span_text in sorted(zip(spans, span_texts, strict=True)):
        if not 0 <= start < end <= len(text):
            return f"span {start}..{end} {label} is outside the text (length {len(text)})"
        if span_text != text[start:end]:
            return f"span {start}..{end} {label} says {span_text!r} but the text there is {text[start:end]!r}"
        if start < previous_end:
            return f"span {start}..{end} {label} overlaps the span before it"
        previous_end = end
    return None


def _keep_known(spans: Iterable[SpanTuple], report: LoadReport, labels: frozenset[str] | None) -> tuple[SpanTuple, ...]:
    kept = []
    for span in sorted(spans):
        if labels is None or span[2] in labels:
            kept.append(span)
        else:
            report.cleaned_tags[span[2]] += 1
    return tuple(kept)


def _load_records(path: Path, report: LoadReport, options: _Options) -> list[Example]:
    examples: list[Example] = []
    try:
        items = list(read_records(path))
    except StoreError as exc:
        raise DataError(str(exc)) from exc
    for item in items:
        if not isinstance(item, ImportedRecord):
            report.skipped.append(Skipped(item.where, f"{item.what}: {item.why}"))
            continue
        record = item.record
        spans = tuple((s.start, s.end, s.label) for s in record.spans)
        problem = _taggable_problem(record.text, spans, [s.text for s in record.spans])
        if problem:
            report.skipped.append(Skipped(item.where, f"record {record.id}: {problem}"))
            continue
        spans = _keep_known(spans, report, options.labels)
        examples.append(Example(record.id, record.text, spans, item.where, record.specialty))
    return examples


def _load_database(path: Path, report: LoadReport, options: _Options) -> list[Example]:
    examples: list[Example] = []
    try:
        with Database.open(path) as db:
            for record_id in db.records.ids():
                stored = db.records.get(record_id)
                if stored.status.value not in options.statuses:
                    continue
                record = stored.record
                spans = _keep_known(((s.start, s.end, s.label) for s in record.spans), report, options.labels)
                examples.append(Example(record.id, record.text, spans, f"{path.name}:{record.id}", record.specialty))
    except StoreError as exc:
        raise DataError(str(exc)) from exc
    return examples


_KIND_BY_SUFFIX: Mapping[str, str] = {
    **dict.fromkeys((".jsonl", ".ndjson", ".json"), "records"),
    **dict.fromkeys((".txt", ".bio"), "bio"),
    **dict.fromkeys((".db", ".sqlite", ".sqlite3"), "database"),
}
_LOADERS: Mapping[str, Loader] = {"records": _load_records, "bio": _load_bio, "database": _load_database}


# --- labels --------------------------------------------------------------------


def as_records(examples: Iterable[Example], spans: Mapping[str, Sequence[SpanTuple]] | None = None) -> list[Record]:
    """The examples as records for :func:`training.evaluation.evaluate`: with their own spans, or with
    ``spans[example.id]`` (a prediction)."""
    return [
        Record(
            id=e.id,
            specialty="general",  # span scores only: no form is filled
            text=e.text,
            spans=tuple(
                Span(s, t, label, e.text[s:t]) for s, t, label in (spans[e.id] if spans is not None else e.spans)
            ),
        )
        for e in examples
    ]


def label_set(examples: Iterable[Example]) -> list[str]:
    """The sorted names of every label used by a span."""
    return sorted({label for e in examples for _, _, label in e.spans})


def map_labels(examples: Iterable[Example], mapping: Mapping[str, str | None]) -> list[Example]:
    """Rename labels; a label mapped to None loses its spans; a label not in ``mapping`` stays."""
    out: list[Example] = []
    for e in examples:
        spans = []
        for start, end, label in e.spans:
            new = mapping.get(label, label)
            if new is not None:
                spans.append((start, end, new))
        out.append(replace(e, spans=tuple(spans)))
    return out


# --- windows -------------------------------------------------------------------

SENTENCE_ENDS = frozenset("。！？；!?;\n")
CLAUSE_ENDS = frozenset("，、,：:")


@dataclass(frozen=True)
class Window:
    example_id: str
    offset: int  # of the window's first character in the example text
    text: str
    spans: tuple[SpanTuple, ...]  # relative to the window
    clipped: tuple[SpanTuple, ...] = ()  # pieces (relative) of spans longer than the window that had to be cut


def _cut(text: str, inside: Sequence[bool], start: int, max_chars: int) -> int:
    """Where the window starting at ``start`` ends (exclusive)."""
    limit = start + max_chars
    floor = start + max(1, max_chars // 2)  # a preferred cut must keep the window at least half full
    for ends in (SENTENCE_ENDS, CLAUSE_ENDS):
        for cut in range(limit, floor - 1, -1):
            if text[cut - 1] in ends and not inside[cut]:
                return cut
    for cut in range(limit, start, -1):
        if not inside[cut]:
            return cut
    return limit  # only a span longer than the window is left: cut it


def windows(example: Example, max_chars: int) -> list[Window]:
    """Consecutive windows of at most ``max_chars`` that cover the text exactly once.

    The whole example is one window when it fits. Otherwise each window ends,
    by preference, after the last sentence end (``。！？；`` or a newline),
    else after the last ``，``/``、`` in its second half, else at the last
    position that is not inside a span. Only a span longer than ``max_chars``
    is ever cut; its pieces are listed in ``Window.clipped``.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    text, n = example.text, len(example.text)
    if n <= max_chars:
        return [Window(example.id, 0, text, example.spans)]
    inside = [False] * (n + 1)  # inside[c]: a cut before character c would split a span
    for start, end, _ in example.spans:
        for c in range(start + 1, end):
            inside[c] = True
    cuts = [0]
    while cuts[-1] < n:
        start = cuts[-1]
        cuts.append(n if n - start <= max_chars else _cut(text, inside, start, max_chars))
    out: list[Window] = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        spans, clipped = [], []
        for s, e, label in example.spans:
            if s < end and e > start:
                piece = (max(s, start) - start, min(e, end) - start, label)
                spans.append(piece)
                if s < start or e > end:
                    clipped.append(piece)
        out.append(Window(example.id, start, text[start:end], tuple(sorted(spans)), tuple(sorted(clipped))))
    return out


# --- splitting -----------------------------------------------------------------


def split(examples: Sequence[Example], dev_fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """(train, dev), each in the input order; the same input and seed give the same split.

    Examples are ranked by a hash of (seed, text) and the first
    ``round(len * dev_fraction)`` go to dev, extended so that identical texts
    always land on the same side (no duplicate leaks from train into dev). An
    example keeps its side when other examples are added or the input is
    reordered, as long as the ranking cut does not pass it.
    """
    if not 0.0 <= dev_fraction < 1.0:
        raise ValueError(f"dev_fraction must be in [0, 1), got {dev_fraction}")
    examples = list(examples)

    def rank(i: int) -> tuple[str, str, int]:
        key = hashlib.sha256(f"{seed}\0{examples[i].text}".encode()).hexdigest()
        return key, examples[i].id, i

    order = sorted(range(len(examples)), key=rank)
    want = round(len(examples) * dev_fraction)
    dev_ids = set(order[:want])
    if want:
        last_text = examples[order[want - 1]].text
        for i in order[want:]:
            if examples[i].text != last_text:
                break
            dev_ids.add(i)
    train = [e for i, e in enumerate(examples) if i not in dev_ids]
    dev = [e for i, e in enumerate(examples) if i in dev_ids]
    return train, dev
