"""Records, spans, form values and predictions, and their interchange form.

The interchange format (one JSON object per record, ARCHITECTURE.md):
``{"id", "specialty", "text", "image"?, "spans"?, "form"?, "form_evidence"?}``
with code-point offsets, end exclusive. ``form_evidence`` is this project's
optional extension: field name -> indices into ``spans``.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from tcm_desktop.domain.errors import RecordError
from tcm_desktop.domain.schema import Schema

MAX_ID_LENGTH = 128


class RecordStatus(StrEnum):
    NEW = "new"
    PREDICTED = "predicted"
    CORRECTED = "corrected"
    VERIFIED = "verified"


class SetBy(StrEnum):
    """Who set a span or a form value."""

    MODEL = "model"
    USER = "user"
    IMPORT = "import"


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    label: str
    text: str
    confidence: float | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end, "label": self.label, "text": self.text}
        if self.confidence is not None:
            out["confidence"] = round(self.confidence, 4)
        return out

    @classmethod
    def from_dict(cls, raw: Any, where: str = "span") -> Span:
        if not isinstance(raw, Mapping):
            raise RecordError("a span must be an object with start, end, label, text", where)
        try:
            start, end, label = raw["start"], raw["end"], raw["label"]
        except KeyError as exc:
            raise RecordError(f"missing {exc.args[0]!r}", where) from exc
        if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) or not isinstance(end, int):
            raise RecordError("start and end must be whole numbers", where)
        if not isinstance(label, str) or not label:
            raise RecordError("label must be a non-empty string", where)
        text = raw.get("text")
        if text is not None and not isinstance(text, str):
            raise RecordError("text must be a string", where)
        confidence = raw.get("confidence")
        if confidence is not None and (
            isinstance(confidence, bool) or not isinstance(confidence, int | float) or not math.isfinite(confidence)
        ):
            raise RecordError("confidence must be a number", where)
        return cls(start, end, label, text or "", None if confidence is None else float(confidence))


@dataclass(frozen=True)
class FormValue:
    """One filled form field with the spans it came from and who set it."""

    field: str
    value: Any
    evidence: tuple[int, ...] = ()
    set_by: SetBy = SetBy.MODEL


@dataclass(frozen=True)
class Record:
    id: str
    specialty: str
    text: str
    image: str | None = None
    spans: tuple[Span, ...] = ()
    form: Mapping[str, Any] = field(default_factory=dict)
    form_evidence: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "specialty": self.specialty, "text": self.text}
        if self.image:
            out["image"] = self.image
        out["spans"] = [s.to_dict() for s in self.spans]
        if self.form:
            out["form"] = dict(self.form)
        if self.form_evidence:
            out["form_evidence"] = {k: list(v) for k, v in self.form_evidence.items()}
        return out

    @classmethod
    def from_dict(cls, raw: Any) -> Record:
        """Parse the interchange form; raises RecordError naming the bad part."""
        if not isinstance(raw, Mapping):
            raise RecordError("a record must be a JSON object")
        broken = not_unicode(raw)
        if broken is not None:
            raise RecordError("holds text that is not valid Unicode (a lone surrogate such as \\ud800)", broken)
        record_id = raw.get("id")
        if isinstance(record_id, int) and not isinstance(record_id, bool):
            record_id = str(record_id)
        if not isinstance(record_id, str) or not record_id.strip():
            raise RecordError("missing or empty record id", "id")
        if len(record_id) > MAX_ID_LENGTH or any(unicodedata.category(c)[0] == "C" for c in record_id):
            raise RecordError(f"record id must be at most {MAX_ID_LENGTH} printable characters", "id")
        text = raw.get("text")
        if not isinstance(text, str):
            raise RecordError("missing text (a string)", "text")
        specialty = raw.get("specialty", "general")
        if not isinstance(specialty, str):
            raise RecordError("specialty must be a string", "specialty")
        image = raw.get("image")
        if image is not None and (not isinstance(image, str) or not image.strip()):
            raise RecordError("image must be a file path", "image")
        raw_spans = raw.get("spans") or []
        if not isinstance(raw_spans, list):
            raise RecordError("spans must be a list", "spans")
        spans = tuple(Span.from_dict(s, f"spans[{i}]") for i, s in enumerate(raw_spans))
        # A span without text takes it from the record; a wrong one is caught by span_problems.
        spans = tuple(s if s.text else replace(s, text=text[s.start : s.end]) for s in spans)
        form = raw.get("form") or {}
        if not isinstance(form, Mapping):
            raise RecordError("form must be an object", "form")
        evidence_raw = raw.get("form_evidence") or {}
        if not isinstance(evidence_raw, Mapping) or not all(
            isinstance(v, list) and all(isinstance(i, int) for i in v) for v in evidence_raw.values()
        ):
            raise RecordError("form_evidence must map field names to lists of span indices", "form_evidence")
        return cls(
            id=record_id.strip(),
            specialty=specialty.strip() or "general",
            text=text,
            image=image.strip() if image else None,
            spans=spans,
            form=dict(form),
            form_evidence={k: tuple(v) for k, v in evidence_raw.items()},
        )


def not_unicode(value: Any, where: str = "record") -> str | None:
    """Where in ``value`` (nested dicts, lists, strings) a string holds a lone surrogate, or None.

    JSON's ``\\ud800`` escapes make such strings; they cannot be written as
    UTF-8 (not to the database, not to a file), so a record holding one is refused.
    """
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:  # iterative: a deeply nested form must not exhaust the stack
        item, at = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return at
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                stack.append((key, at))
                name = str(key).encode("utf-8", "backslashreplace").decode("utf-8")  # the message must print
                stack.append((inner, f"{at}.{name}" if at != "record" else name))
        elif isinstance(item, list | tuple):
            stack.extend((inner, f"{at}[{i}]") for i, inner in enumerate(item))
    return None


@dataclass(frozen=True)
class Prediction:
    """What a model said about one record."""

    record_id: str
    model_version: str
    spans: tuple[Span, ...]
    form: tuple[FormValue, ...] = ()
    uncertainty: float = 0.0
    tongue: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    flags: tuple[str, ...] = ()


def is_edge_char(ch: str) -> bool:
    """Whether ``ch`` may not start or end a span (whitespace, punctuation, separators)."""
    # Whitespace, punctuation and separators never start or end a span (SCHEMA.md);
    # unit marks (%, °, ℃) are symbols (S*), not punctuation, so they may.
    category = unicodedata.category(ch)
    return ch.isspace() or category[0] in "PZC" and ch not in "%‰"


def span_problems(text: str, spans: Sequence[Span], labels: Iterable[str] | None = None) -> list[RecordError]:
    """Every way ``spans`` break the span rules for ``text``.

    ``labels`` limits the allowed categories; None accepts any label (a
    foreign label set for training).
    """
    allowed = set(labels) if labels is not None else None
    problems: list[RecordError] = []
    ordered = sorted(range(len(spans)), key=lambda i: (spans[i].start, spans[i].end))
    previous_end, previous_index = -1, -1
    for i in ordered:
        span, where = spans[i], f"spans[{i}]"
        if not 0 <= span.start < span.end <= len(text):
            reason = f"offsets {span.start}..{span.end} outside the text (length {len(text)})"
            problems.append(RecordError(reason, where))
            continue
        if text[span.start : span.end] != span.text:
            problems.append(
                RecordError(f"text {span.text!r} does not match the record at {span.start}..{span.end}", where)
            )
        if allowed is not None and span.label not in allowed:
            problems.append(RecordError(f"unknown label {span.label!r}", where))
        if is_edge_char(span.text[:1]) or is_edge_char(span.text[-1:]):
            problems.append(RecordError(f"span {span.text!r} starts or ends with whitespace or punctuation", where))
        if span.start < previous_end:
            problems.append(RecordError(f"overlaps spans[{previous_index}]", where))
        if span.end > previous_end:
            previous_end, previous_index = span.end, i
    return problems


def record_problems(record: Record, schema: Schema) -> list[RecordError]:
    """Every way ``record`` breaks the schema: specialty, spans, form, evidence."""
    problems: list[RecordError] = []
    if record.specialty not in schema.specialty_codes:
        problems.append(
            RecordError(
                f"unknown specialty {record.specialty!r} (expected one of {', '.join(schema.specialty_codes)})",
                "specialty",
            )
        )
        return problems
    problems.extend(span_problems(record.text, record.spans, schema.label_codes))
    for name, reason in schema.form_problems(record.specialty, record.form):
        problems.append(RecordError(reason, f"form.{name}"))
    for name, indices in record.form_evidence.items():
        if any(not 0 <= i < len(record.spans) for i in indices):
            problems.append(RecordError("evidence points at a span that does not exist", f"form_evidence.{name}"))
    return problems
