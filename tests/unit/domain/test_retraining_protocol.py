"""The retraining contract between the GUI and its child process: the job's command line, the events, the table."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tcm_desktop.domain.retraining import (
    FINE_TUNE_EPOCHS,
    FROM_SCRATCH_EPOCHS,
    MICRO,
    REPLAY_RECORDS,
    DoneEvent,
    ErrorEvent,
    LogEvent,
    MetricsEvent,
    ProgressEvent,
    RetrainError,
    RetrainJob,
    RetrainOptions,
    checkpoint_for_bundle,
    event_line,
    metrics_rows,
    new_version,
    parse_event,
)


def scores(p: float, r: float, f1: float, tp: int = 1, fn: int = 1) -> dict[str, float | int]:
    return {"precision": p, "recall": r, "f1": f1, "tp": tp, "fp": 0, "fn": fn}


def test_the_job_becomes_the_childs_command_line(tmp_path: Path) -> None:
    tiny = RetrainOptions(epochs=1, model_overrides={"hidden_size": 32}, max_train_windows=8, threads=1)
    job = RetrainJob(tmp_path / "c.db", tmp_path / "out", "tcm-text", "r1", tmp_path / "base", None, tiny)
    args = job.arguments()
    assert args[:2] == ["-m", "training.retrain"]
    flags = dict(zip(args[2::2], args[3::2], strict=True))
    assert flags["--db"] == str(tmp_path / "c.db") and flags["--base-model"] == str(tmp_path / "base")
    assert (flags["--epochs"], flags["--max-train-windows"], flags["--threads"]) == ("1", "8", "1")
    assert json.loads(flags["--model"]) == {"hidden_size": 32} and "--init-from" not in flags
    assert flags["--replay"] == str(REPLAY_RECORDS)
    assert job.model_version == "tcm-text@r1" and job.bundle_dir == tmp_path / "out" / "bundle"
    assert RetrainJob(tmp_path, tmp_path, "m", "1").epochs == FROM_SCRATCH_EPOCHS
    assert RetrainJob(tmp_path, tmp_path, "m", "1", init_from=tmp_path / "c.pt").epochs == FINE_TUNE_EPOCHS


def test_every_event_survives_the_line_round_trip(tmp_path: Path) -> None:
    events = [
        ProgressEvent("train", 2, 5),
        LogEvent("epoch 1: dev F1 0.5"),
        LogEvent("epoch 1: dev F1 0.5", "epoch", {"epoch": 1, "f1": 0.5, "seconds": 3.0}),
        MetricsEvent(None, {"micro": scores(0.5, 0.5, 0.5), "per_label": {"SYM": scores(1, 1, 1)}}),
        DoneEvent(tmp_path / "bundle", None, "m@1", 10, 2),
        ErrorEvent("失败"),
    ]
    for event in events:
        line = event_line(event)
        assert "\n" not in line and parse_event(line) == event


def test_a_log_key_or_values_this_version_does_not_know_keep_the_message_only() -> None:
    unknown = '{"event": "log", "message": "resampling", "key": "resample", "values": {"n": 3}}'
    nested = '{"event": "log", "message": "m", "key": "data", "values": {"training": [1]}}'
    assert parse_event(unknown) == LogEvent("resampling")
    assert parse_event(nested) == LogEvent("m")


@pytest.mark.parametrize(
    "line",
    [
        "Traceback (most recent call last):",
        "[1, 2]",
        '{"event": "progress", "stage": "train", "done": 7, "total": 5}',
        '{"event": "progress", "stage": "sleeping", "done": 1, "total": 5}',
        '{"event": "metrics", "old": null, "new": {"micro": {"precision": 1}}}',
        '{"event": "done", "bundle": "x"}',
        '{"event": "party"}',
    ],
)
def test_anything_else_is_a_protocol_error(line: str) -> None:
    with pytest.raises(RetrainError):
        parse_event(line)


def test_metrics_rows_put_micro_first_then_every_category_of_either_side() -> None:
    old = {"micro": scores(0.8, 0.7, 0.75), "per_label": {"SYM": scores(0.9, 0.9, 0.9), "HERB": scores(0.5, 0.5, 0.5)}}
    new = {"micro": scores(0.9, 0.8, 0.85, tp=8, fn=2), "per_label": {"SYM": scores(0.95, 0.9, 0.92)}}
    rows = metrics_rows(old, new)
    assert [r.label for r in rows] == [MICRO, "SYM", "HERB"]
    assert rows[0].new is not None and rows[0].new.support == 10
    assert rows[0].f1_change == pytest.approx(0.10)
    assert rows[2].new is None and rows[2].f1_change is None
    assert [r.old for r in metrics_rows(None, new)] == [None, None]


def test_versions_and_checkpoints_beside_bundles(tmp_path: Path) -> None:
    now = datetime(2025, 3, 1, 9, 5)
    assert new_version(now, set()) == "r20250301-0905"
    assert new_version(now, {"r20250301-0905", "r20250301-0905-2"}) == "r20250301-0905-3"
    bundle = tmp_path / "m-r1" / "bundle"
    bundle.mkdir(parents=True)
    assert checkpoint_for_bundle(bundle) is None
    (bundle.parent / "checkpoint.pt").write_bytes(b"x")
    assert checkpoint_for_bundle(bundle) == bundle.parent / "checkpoint.pt"
    assert checkpoint_for_bundle(tmp_path / "models" / "tcm-text") is None and checkpoint_for_bundle(None) is None


def test_a_shipped_bundle_names_its_checkpoint_in_the_manifest(tmp_path: Path) -> None:
    shipped = tmp_path / "models" / "tcm-text"
    shipped.mkdir(parents=True)
    manifest = shipped / "manifest.json"
    manifest.write_text(json.dumps({"name": "tcm-text", "checkpoint": "../tcm-text-1.0.checkpoint.pt"}), "utf-8")
    assert checkpoint_for_bundle(shipped) is None  # named but not installed (inference-only)
    (tmp_path / "models" / "tcm-text-1.0.checkpoint.pt").write_bytes(b"x")
    assert checkpoint_for_bundle(shipped) == (tmp_path / "models" / "tcm-text-1.0.checkpoint.pt").resolve()
    for broken in ("{not json", json.dumps([1]), json.dumps({"checkpoint": 3}), json.dumps({"checkpoint": ""})):
        manifest.write_text(broken, "utf-8")
        assert checkpoint_for_bundle(shipped) is None


def test_the_real_shipped_bundle_is_fine_tuned_from_its_checkpoint() -> None:
    shipped = Path(__file__).resolve().parents[3] / "models" / "tcm-text"
    checkpoint = checkpoint_for_bundle(shipped)
    assert checkpoint is not None and checkpoint.name.endswith(".checkpoint.pt")
