"""``tcm bench`` end to end on a tiny model: every configuration in its own process, JSON, the docs section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")

TINY_LARGE = {"hidden_size": 32, "num_layers": 2, "num_heads": 2, "intermediate_size": 64}


@pytest.fixture(scope="module")
def tiny(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The tiny trained checkpoint and the INT8 bundle built from it."""
    from training.bundle import build_bundle

    bundle = tmp_path_factory.mktemp("bench-model") / "bundle"
    build_bundle(tiny_checkpoint, bundle, name="tiny", version="0.0.1")
    return tiny_checkpoint, bundle


def _args(bundle: Path, *extra: str) -> list[str]:
    return ["--model", str(bundle), "--records", "3", "--long", "1", "--passes", "2", "--threads", "1", *extra]


@pytest.fixture(scope="module")
def full_run(tiny: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    from training.cli import bench_main

    checkpoint, bundle = tiny
    out = tmp_path_factory.mktemp("bench-out")
    extra = ["--checkpoint", str(checkpoint), "--large-records", "2", "--large-shape", json.dumps(TINY_LARGE)]
    extra += ["--out-json", str(out / "result.json"), "--docs", str(out / "benchmarks.md")]
    assert bench_main(_args(bundle, *extra)) == 0
    return json.loads((out / "result.json").read_text(encoding="utf-8")), out / "benchmarks.md"


def test_a_run_measures_every_configuration_in_its_own_process(full_run: tuple[dict[str, Any], Path]) -> None:
    result, _ = full_run
    assert set(result["rows"]) == {"a", "b", "c"} and result["skipped"] == {}
    configs = result["configs"]
    assert len({c["pid"] for c in configs.values()}) == 3
    assert configs["a"]["torch_loaded"] is False and configs["b"]["torch_loaded"] is True
    assert result["records"]["mix"] == 3 and result["records"]["long"] == 1
    assert 5000 <= result["records"]["long_chars"][0] <= 7000
    for key, row in result["rows"].items():
        assert row["records_per_s"] > 0 and row["cold_start_s"] > 0 and row["size_bytes"] > 0, key
        assert row["peak_rss_mib"] > 0 and row["long_ms_median"] > 0, key
    assert configs["a"]["records"] == 3 and len(configs["a"]["pass_seconds"]) == 2
    assert configs["c"]["records"] == 2 and len(configs["c"]["pass_seconds"]) == 1
    assert result["settings"]["large_shape"]["num_layers"] == 2


def test_a_run_gives_ratios_f1_and_targets(full_run: tuple[dict[str, Any], Path]) -> None:
    result, _ = full_run
    assert result["ratios"]["a"]["records_per_s"] == pytest.approx(1.0)
    b = result["rows"]["b"]
    assert result["ratios"]["b"]["records_per_s"] == pytest.approx(
        b["records_per_s"] / result["rows"]["a"]["records_per_s"]
    )
    assert set(result["f1"]) == {"a", "b"} and all(0.0 <= v <= 1.0 for v in result["f1"].values())
    assert len(result["targets"]) == 7
    assert {t["status"] for t in result["targets"]} <= {"met", "missed"}


def test_a_run_writes_its_section_of_the_benchmark_page(full_run: tuple[dict[str, Any], Path]) -> None:
    _, doc = full_run
    text = doc.read_text(encoding="utf-8")
    assert text.count("<!-- BEGIN runtime -->") == 1 and "<!-- END runtime -->" in text
    assert "## Runtime (`tcm bench`)" in text and "### Targets" in text
    assert "(a) tiny 0.0.1" in text and "(b) the same model" in text and "(c) BERT-Large shape (2 layers" in text
    assert "Written by `tcm bench`" in text


def test_no_docs_and_no_checkpoint_measure_only_the_shipped_pipeline(
    tiny: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from training.runtime_bench import bench_main

    _, bundle = tiny
    doc = tmp_path / "benchmarks.md"
    args = _args(
        bundle, "--large-records", "0", "--no-docs", "--docs", str(doc), "--out-json", str(tmp_path / "r.json")
    )
    assert bench_main(args) == 0
    assert not doc.exists()
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert set(result["rows"]) == {"a"} and set(result["skipped"]) == {"b", "c"}
    assert [t["status"] for t in result["targets"]][-2:] == ["not measured", "not measured"]
    assert "(b) not measured: no FP32 checkpoint" in capsys.readouterr().out


def test_a_missing_bundle_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from training.runtime_bench import bench_main

    assert bench_main(["--model", str(tmp_path / "nowhere"), "--no-docs"]) == 2
    assert "no model bundle at" in capsys.readouterr().err
