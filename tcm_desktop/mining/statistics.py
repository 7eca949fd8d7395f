"""Corpus statistics: entity counts by category, model confidence, correction rate per model version.

Inputs are plain values (labels, confidences, review events) so any source can
feed them: the database through :mod:`tcm_desktop.mining_data`, a JSONL file,
a test. Pure Python: no Qt, no store.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from tcm_desktop.domain import Label, Schema, TcmError, default_schema


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class ReviewEvent:
    """One saved review of a model's prediction: which model, when (ISO-8601), and whether anything changed."""

    model_version: str
    at: str
    changed: bool


@dataclass(frozen=True)
class CorrectionRate:
    model_version: str
    period: str  # "2025-03-14", "2025-W11" or "2025-03"
    reviewed: int
    changed: int

    @property
    def rate(self) -> float:
        return self.changed / self.reviewed if self.reviewed else 0.0


@dataclass(frozen=True)
class Statistics:
    """Everything the statistics plots show."""

    entity_counts: tuple[tuple[Label, int], ...]  # schema order, every category (zero too)
    confidences: Mapping[str, Sequence[float]] = field(default_factory=dict)  # model version -> span confidences
    correction_rates: tuple[CorrectionRate, ...] = ()
    records: int = 0

    @property
    def total_spans(self) -> int:
        return sum(count for _, count in self.entity_counts)


def entity_counts(labels: Iterable[str], schema: Schema | None = None) -> tuple[tuple[Label, int], ...]:
    """How many spans each category has, in the schema's order; labels the schema lacks are left out."""
    schema = schema or default_schema()
    counts = Counter(labels)
    return tuple((label, counts.get(label.code, 0)) for label in schema.labels)


def period_of(at: str, period: Period = Period.WEEK) -> str:
    """The calendar period an ISO-8601 time stamp falls in (UTC date part); TcmError if it is not a time."""
    try:
        day = datetime.datetime.fromisoformat(at).date()
    except ValueError as exc:
        raise TcmError(f"not a time stamp: {at!r}") from exc
    if period is Period.DAY:
        return day.isoformat()
    if period is Period.MONTH:
        return f"{day.year:04d}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def correction_rates(events: Iterable[ReviewEvent], period: Period = Period.WEEK) -> tuple[CorrectionRate, ...]:
    """Share of reviews that changed the prediction, per model version and period, oldest period first."""
    reviewed: dict[tuple[str, str], int] = defaultdict(int)
    changed: dict[tuple[str, str], int] = defaultdict(int)
    for event in events:
        key = (event.model_version, period_of(event.at, period))
        reviewed[key] += 1
        changed[key] += int(event.changed)
    return tuple(
        CorrectionRate(version, when, reviewed[(version, when)], changed[(version, when)])
        for version, when in sorted(reviewed, key=lambda k: (k[1], k[0]))
    )


def histogram(values: Sequence[float], bins: int = 10) -> list[tuple[float, float, int]]:
    """(low, high, count) for ``bins`` equal bins over 0..1; the last bin includes 1.0."""
    if bins < 1:
        raise TcmError("a histogram needs at least one bin")
    counts = [0] * bins
    for value in values:
        k = min(bins - 1, max(0, int(value * bins)))
        counts[k] += 1
    return [(k / bins, (k + 1) / bins, counts[k]) for k in range(bins)]
