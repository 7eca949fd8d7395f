"""``training.retrain`` on a real (tiny) database: the gold set never trains, the bundle loads, errors are events."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

from tcm_desktop.demo.generator import generate_records  # noqa: E402
from tcm_desktop.domain import Record, default_schema  # noqa: E402
from tcm_desktop.domain.retraining import (  # noqa: E402
    DoneEvent,
    ErrorEvent,
    MetricsEvent,
    ProgressEvent,
    RetrainEvent,
    RetrainJob,
    RetrainOptions,
    parse_event,
)
from tcm_desktop.inference.bundle import ModelBundle  # noqa: E402
from tcm_desktop.store import Database  # noqa: E402
from training import retrain  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
TINY = RetrainOptions(
    epochs=1,
    model_overrides={"hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64, "lstm_hidden": 16},
    max_train_windows=8,
    max_chars=128,
    threads=1,
)


def verified_database(path: Path, n: int = 12, freeze: bool = True) -> tuple[str, ...]:
    """``n`` generated records, each verified through the store; returns the gold ids (frozen)."""
    with Database.open(path) as db:
        for generated in generate_records(n, seed=7):
            record = generated.record
            db.records.add(record)
            db.annotations.save(record.id, record.spans, record.form, who="dr", verify=True)
        return db.gold_set.freeze("dr") if freeze else ()


def test_gold_records_never_reach_the_training_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_path = tmp_path / "clinic.db"
    gold_ids = verified_database(db_path)
    training, gold = retrain.read_training_data(db_path)
    assert [r.id for r in gold] == list(gold_ids) and len(training) == 10
    assert not {r.id for r in training} & set(gold_ids)

    written: list[str] = []
    write = retrain.write_examples

    def spy(records: list[Record], path: Path) -> None:
        written.extend(r.id for r in records)
        write(records, path)

    monkeypatch.setattr(retrain, "write_examples", spy)
    events: list[RetrainEvent] = []
    job = RetrainJob(db_path, tmp_path / "out", "tiny", "r1", options=TINY)
    job.out_dir.mkdir()
    done = retrain.run_retrain(job, events.append)

    assert sorted(written) == sorted(r.id for r in training) and not set(written) & set(gold_ids)
    progress = [e for e in events if isinstance(e, ProgressEvent)]
    assert [p.done for p in progress] == sorted(p.done for p in progress) and progress[-1].done == progress[-1].total
    (metrics,) = [e for e in events if isinstance(e, MetricsEvent)]
    assert metrics.old is None and metrics.new["records"] == 2
    assert list(metrics.new["per_label"]) == list(default_schema().label_codes)
    assert done == DoneEvent(job.bundle_dir, job.checkpoint, "tiny@r1", 10, 2)
    assert sorted(p.name for p in job.out_dir.iterdir()) == ["bundle", "checkpoint.pt"]
    bundle = ModelBundle.load(job.bundle_dir, threads=1)  # the manifest rewrite kept every hash valid
    assert bundle.model_version == "tiny@r1" and bundle.manifest["metrics"]["gold_set"]["records"] == 2


def test_the_child_reports_a_missing_gold_set_as_an_error_event_and_leaves_nothing(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    verified_database(db_path, n=3, freeze=False)
    out = tmp_path / "models" / "new"
    job = RetrainJob(db_path, out, "tiny", "r1", options=TINY)
    result = subprocess.run(
        [sys.executable, *job.arguments()], cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=120
    )
    assert result.returncode == 2, result.stderr[-2000:]
    events = [parse_event(line) for line in result.stdout.splitlines()]  # stdout holds events only
    assert isinstance(events[-1], ErrorEvent) and "gold set" in events[-1].message
    assert not out.exists()
