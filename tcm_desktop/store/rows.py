"""Small helpers shared by the repositories: time stamps, JSON, span rows."""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from tcm_desktop.domain import Record, Span, default_schema, record_problems

# Longest record text the store accepts: far beyond any clinical note (a 500-page
# book), short enough that the text view and the model stay responsive.
MAX_TEXT_CHARS = 1_000_000


def utc_now() -> str:
    """The current time as a UTC ISO-8601 string with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def to_json(value: Any) -> str:
    """Compact JSON that keeps Chinese readable and key order as given."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def span_from_row(row: sqlite3.Row | Sequence[Any]) -> Span:
    """A span from (start, end, label, text, confidence)."""
    start, end, label, text, confidence = row[0], row[1], row[2], row[3], row[4]
    return Span(int(start), int(end), str(label), str(text), None if confidence is None else float(confidence))


def spans_to_json(spans: Iterable[Span]) -> list[dict[str, Any]]:
    return [s.to_dict() for s in spans]


def annotation_dict(
    spans: Sequence[Span], form: Mapping[str, Any], form_evidence: Mapping[str, Sequence[int]]
) -> dict[str, Any]:
    """The JSON-able form of an annotation, as the audit log stores it."""
    return {
        "spans": spans_to_json(spans),
        "form": dict(form),
        "form_evidence": {k: list(v) for k, v in form_evidence.items()},
    }


def record_gold(record: Record) -> dict[str, Any] | None:
    """What an imported record says about its own annotation, or None if nothing."""
    if not record.spans and not record.form and not record.form_evidence:
        return None
    return annotation_dict(record.spans, record.form, record.form_evidence)


def _visible(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch)[0] != "C"


def store_problems(record: Record) -> list[str]:
    """Why the store refuses ``record``: the schema's ``record_problems`` plus the
    store's own rules (some text, at most ``MAX_TEXT_CHARS`` of it; evidence only
    for fields the form has)."""
    problems = [str(p) for p in record_problems(record, default_schema())]
    if not any(_visible(c) for c in record.text):  # stops at the first visible character
        problems.append("text: the record has no text (only blanks or control characters)")
    if len(record.text) > MAX_TEXT_CHARS:
        problems.append(
            f"text: the record is {len(record.text):,} characters long; at most {MAX_TEXT_CHARS:,} are allowed"
            " (split it into several records)"
        )
    problems += [
        f"form_evidence.{name}: evidence for a field that has no value in the form"
        for name in record.form_evidence
        if name not in record.form
    ]
    return problems
