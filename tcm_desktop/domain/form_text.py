"""Text form fields built from spans (SCHEMA.md: "the tongue spans, as written")."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from tcm_desktop.domain.records import Span

NEGATION = "NEGATION"
# What may stand between a negation cue and the findings it negates: 无齿痕、裂纹 / 无齿痕及裂纹.
LIST_JOINERS = frozenset("、及和与或 ")
TEXT_FIELD_JOINER = "，"


def findings_as_written(text: str, spans: Sequence[Span], labels: Collection[str]) -> list[str]:
    """The texts of ``spans`` with a label in ``labels``, in text order.

    A finding negated by a cue keeps its cue ("无齿痕", "无裂纹"), so the
    field never says the opposite of the record. A cue reaches every finding
    of a list it starts (无齿痕及裂纹 -> 无齿痕, 无裂纹).
    """
    out: list[str] = []
    cue: str | None = None
    previous_end = -1
    for span in sorted(spans):
        gap = text[previous_end : span.start] if previous_end >= 0 else ""
        if span.label == NEGATION:
            cue = span.text
        elif cue is not None and not set(gap) <= LIST_JOINERS:
            cue = None
        if span.label in labels:
            out.append(f"{cue}{span.text}" if cue else span.text)
        elif span.label != NEGATION:
            cue = None
        previous_end = span.end
    return out


def joined_findings(text: str, spans: Sequence[Span], labels: Collection[str]) -> str:
    return TEXT_FIELD_JOINER.join(findings_as_written(text, spans, labels))
