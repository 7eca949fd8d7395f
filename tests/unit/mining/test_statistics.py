"""Statistics: entity counts in schema order, correction rate per model version and period, histograms."""

from __future__ import annotations

import pytest

from tcm_desktop.domain import TcmError, default_schema
from tcm_desktop.mining import Period, ReviewEvent, correction_rates, entity_counts
from tcm_desktop.mining.statistics import histogram, period_of


def test_entity_counts_follow_the_schema_and_skip_unknown_labels() -> None:
    counts = entity_counts(["SYM", "SYM", "HERB", "NOT_A_LABEL"])
    assert [label.code for label, _ in counts] == list(default_schema().label_codes)
    as_dict = {label.code: n for label, n in counts}
    assert (as_dict["SYM"], as_dict["HERB"], as_dict["PULSE"]) == (2, 1, 0)
    assert sum(as_dict.values()) == 3


def test_correction_rate_per_model_version_and_week() -> None:
    events = [
        ReviewEvent("v1", "2025-03-03T09:00:00.000+00:00", True),  # Monday of week 10
        ReviewEvent("v1", "2025-03-09T23:59:00.000+00:00", False),  # Sunday, same week
        ReviewEvent("v1", "2025-03-10T08:00:00.000+00:00", True),  # week 11
        ReviewEvent("v2", "2025-03-11T08:00:00.000+00:00", False),
        ReviewEvent("v2", "2025-03-12T08:00:00.000+00:00", False),
    ]
    rates = correction_rates(events)
    assert [(r.model_version, r.period, r.reviewed, r.changed) for r in rates] == [
        ("v1", "2025-W10", 2, 1),
        ("v1", "2025-W11", 1, 1),
        ("v2", "2025-W11", 2, 0),
    ]
    assert [r.rate for r in rates] == [0.5, 1.0, 0.0]
    monthly = correction_rates(events, Period.MONTH)
    assert [(r.model_version, r.period, r.rate) for r in monthly] == [("v1", "2025-03", 2 / 3), ("v2", "2025-03", 0.0)]


def test_periods_of_a_time_stamp() -> None:
    at = "2024-12-30T10:00:00+00:00"  # ISO week 1 of 2025
    assert (period_of(at, Period.DAY), period_of(at, Period.WEEK), period_of(at, Period.MONTH)) == (
        "2024-12-30",
        "2025-W01",
        "2024-12",
    )
    with pytest.raises(TcmError, match="not a time stamp"):
        period_of("yesterday")


def test_histogram_bins_cover_zero_to_one() -> None:
    bins = histogram([0.0, 0.05, 0.5, 0.99, 1.0], bins=4)
    assert [(lo, hi) for lo, hi, _ in bins] == [(0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)]
    assert [c for _, _, c in bins] == [2, 0, 1, 2]
