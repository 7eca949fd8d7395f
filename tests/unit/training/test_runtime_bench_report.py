"""``tcm bench``'s tables: targets met / missed / not measured, ratios and the Markdown, on hand-made numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from training.runtime_bench_report import (
    Measured,
    RuntimeTargets,
    check_targets,
    figure,
    ratios,
    render_markdown,
)


def _row(key: str, rps: float, **changes: Any) -> Measured:
    figures: dict[str, Any] = {
        "key": key,
        "title": f"({key[0]}) config {key}",
        "records_per_s": rps,
        "chars_per_s": rps * 1000,
        "long_ms_median": 200.0,
        "peak_rss_mib": 250.0,
        "cold_start_s": 0.5,
        "size_bytes": 8_000_000,
        "records": 200,
        "long_records": 10,
    }
    return Measured(**(figures | changes))


def _statuses(rows: dict[str, Measured], f1: dict[str, float]) -> list[str]:
    return [t.status for t in check_targets(rows, f1)]


def test_every_target_met() -> None:
    rows = {"a": _row("a", 80), "b": _row("b", 20), "c": _row("c", 10)}
    assert _statuses(rows, {"a": 0.990, "b": 0.993}) == ["met"] * 7


def test_every_target_missed() -> None:
    rows = {
        "a": _row("a", 50, peak_rss_mib=301.0, size_bytes=25_100_000, long_ms_median=251.0, cold_start_s=1.01),
        "c": _row("c", 11),  # 50 / 11 < 5
    }
    targets = check_targets(rows, {"a": 0.980, "b": 0.989})  # 0.9 points apart
    assert [t.status for t in targets] == ["missed"] * 7
    assert targets[0].measured == "50.0 records/s (text only: no image model in the bundle)"
    assert targets[6].measured == "98.00 vs 98.90 (-0.90)"


def test_text_and_image_row_is_the_shipped_pipeline_but_speedup_compares_text_with_text() -> None:
    rows = {"a": _row("a", 100), "a+image": _row("a+image", 55, peak_rss_mib=320.0), "c": _row("c", 19)}
    targets = check_targets(rows, {})
    assert [t.status for t in targets] == ["missed", "missed", "met", "met", "met", "met", "not measured"]
    assert targets[0].measured == "55.0 records/s"
    assert targets[5].measured == "5.3x"


def test_unmeasured_parts_say_so_and_limits_are_inclusive() -> None:
    limits = RuntimeTargets()
    rows = {
        "a": _row(
            "a",
            limits.min_records_per_s,
            peak_rss_mib=None,
            long_ms_median=None,
            size_bytes=int(limits.max_bundle_mb * 1e6),
            cold_start_s=limits.max_cold_start_s,
        )
    }
    assert _statuses(rows, {"a": 0.99}) == ["met", "not measured", "met", "not measured", "met"] + ["not measured"] * 2


def test_the_f1_gap_counts_in_either_direction() -> None:
    rows = {"a": _row("a", 80)}
    assert _statuses(rows, {"a": 0.999, "b": 0.990})[-1] == "missed"
    assert _statuses(rows, {"a": 0.990, "b": 0.997})[-1] == "met"


def test_figures_keep_about_three_significant_digits() -> None:
    assert [figure(v) for v in (1234.5, 61.34, 3.254, 0.5, 0.02812, 0.0)] == [
        "1,234",
        "61.3",
        "3.25",
        "0.50",
        "0.0281",
        "0.00",
    ]


def test_ratios_divide_by_the_base_and_skip_missing_figures() -> None:
    base = _row("a", 80)
    other = _row("b", 20, peak_rss_mib=None, size_bytes=32_000_000, cold_start_s=2.0)
    r = ratios(other, base)
    assert r["records_per_s"] == pytest.approx(0.25)
    assert r["size_bytes"] == pytest.approx(4.0) and r["cold_start_s"] == pytest.approx(4.0)
    assert r["peak_rss_mib"] is None and r["long_ms_median"] == pytest.approx(1.0)


def test_projected_rows_take_records_per_second_from_chars_per_second() -> None:
    raw = {"chars_per_s": 1000.0, "records_per_s": 3.0, "cold_start_s": 9.0, "size_bytes": 1, "records": 2}
    row = Measured.from_worker("c", "(c) large", raw | {"long_records": 1}, mix_mean_chars=500.0)
    assert row.records_per_s == pytest.approx(2.0) and row.long_ms_median is None


def test_markdown_shows_every_row_with_ratios_and_the_targets() -> None:
    rows = {"a": _row("a", 80), "b": _row("b", 20, cold_start_s=2.5)}
    f1 = {"a": 0.99, "b": 0.991}
    result = {
        "date": "2026-12-05T00:00:00+00:00",
        "machine": {"cpu": "Test CPU", "logical_cpus": 2, "threads": 2, "onnxruntime": "1.0", "torch": "2.0"},
        "settings": {"seed": 1, "passes": 3},
        "records": {"mix": 200, "mix_mean_chars": 900.0, "mix_over_5000": 15, "long": 10, "long_chars": [5001, 6999]},
        "rows": {k: vars(v) for k, v in rows.items()},
        "ratios": {k: ratios(v, rows["a"]) for k, v in rows.items()},
        "f1": f1,
        "skipped": {"c": "--large-records 0"},
        "targets": [t.to_dict() for t in check_targets(rows, f1)],
    }
    text = render_markdown(result)
    assert "| (a) config a | 80.0 | 80,000 | 200 | 250 | 0.50 | 8.00 |" in text
    assert "| (b) config b | 20.0 (0.25×) |" in text and "2.50 (5.00×)" in text
    assert "(c) not measured: --large-records 0." in text
    assert "Test CPU, 2 logical CPUs, 2 threads used" in text and "onnxruntime 1.0, torch 2.0" in text
    assert "| bundle <= 25 MB | 8.0 MB | **met** |" in text
    assert "(a) 99.00, (b) 99.10" in text


def test_the_manifest_may_name_the_checkpoint(tmp_path: Path) -> None:
    from training.runtime_bench import default_checkpoint

    (tmp_path / "manifest.json").write_text(json.dumps({"training": {"checkpoint": "best.pt"}}), encoding="utf-8")
    assert default_checkpoint(tmp_path) is None  # named but absent
    (tmp_path / "best.pt").write_bytes(b"x")
    assert default_checkpoint(tmp_path) == tmp_path / "best.pt"


def test_tcm_delegates_bench_to_the_training_module() -> None:
    from tcm_desktop.cli import DELEGATED

    assert DELEGATED["bench"][0] == "training.cli:bench_main"
