"""``training.retrain`` on a real (tiny) database: the gold set never trains, the bundle loads, errors are events."""

from __future__ import annotations

import json
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
    LogEvent,
    MetricsEvent,
    ProgressEvent,
    RetrainEvent,
    RetrainJob,
    RetrainOptions,
    parse_event,
)
from tcm_desktop.inference.bundle import ModelBundle  # noqa: E402
from tcm_desktop.store import BaseModel, Database, RetrainLedger  # noqa: E402
from training import retrain  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
TINY = RetrainOptions(
    epochs=1,
    model_overrides={"hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64, "lstm_hidden": 16},
    max_train_windows=8,
    max_chars=128,
    threads=1,
    replay_records=10,
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

    corrected = [i.partition("#")[0] for i in written if not i.startswith("replay-")]
    assert set(corrected) == {r.id for r in training} and not set(corrected) & set(gold_ids)
    assert sum(i.startswith("replay-") for i in written) == 10 + 2  # training replay + its dev share
    progress = [e for e in events if isinstance(e, ProgressEvent)]
    assert [p.done for p in progress] == sorted(p.done for p in progress) and progress[-1].done == progress[-1].total
    (metrics,) = [e for e in events if isinstance(e, MetricsEvent)]
    assert metrics.old is None and metrics.new["records"] == 2
    assert list(metrics.new["per_label"]) == list(default_schema().label_codes)
    assert done == DoneEvent(job.bundle_dir, job.checkpoint, "tiny@r1", 10, 2)
    assert sorted(p.name for p in job.out_dir.iterdir()) == ["bundle", "checkpoint.pt"]
    bundle = ModelBundle.load(job.bundle_dir, threads=1)  # the manifest rewrite kept every hash valid
    assert bundle.model_version == "tiny@r1" and bundle.manifest["metrics"]["gold_set"]["records"] == 2


def test_mixed_data_weighs_corrections_against_replay_and_keeps_dev_apart() -> None:
    corrected = [g.record for g in generate_records(12, seed=3)]
    data = retrain.mixed_data(corrected, replay_records=40)
    held = {r.id for r in data.dev if not r.id.startswith("replay-")}
    assert held == {corrected[9].id}  # every 10th corrected record
    train_ids = [r.id for r in data.train]
    assert not {i.partition("#")[0] for i in train_ids} & held
    assert data.repeats == 4 and data.replay == 40  # ceil(40 / 11) copies of each of the 11 kept
    assert sum(not i.startswith("replay-") for i in train_ids) == 44 and len(set(train_ids)) == len(train_ids)
    assert len(data.dev) == 1 + 8  # and a fifth of the replay size, generated apart from the training part
    assert not {r.id for r in data.dev} & set(train_ids)
    alone = retrain.mixed_data(corrected[:5], replay_records=0)
    assert (alone.repeats, alone.dev, [r.id for r in alone.train]) == (1, [], [r.id for r in corrected[:5]])
    capped = retrain.mixed_data(corrected[:2], replay_records=100)
    assert capped.repeats == retrain.MAX_REPEATS


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


def test_fine_tuning_the_shipped_checkpoint_keeps_what_it_knew(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """One short epoch from the shipped model: its shape and labels stay, and it still tags the gold set
    (a new model after eight windows tags nothing)."""
    from training.checkpoint import Checkpoint

    shipped = ROOT / "models" / "tcm-text"
    db_path = tmp_path / "clinic.db"
    verified_database(db_path)
    with Database.open(db_path) as db:
        ledger = RetrainLedger(db, tmp_path / "models", who="dr")
        base = BaseModel(shipped, "tcm-text@shipped")
        options = RetrainOptions(epochs=1, max_train_windows=8, threads=1, replay_records=10)
        job, _ = ledger.plan(base, options)
    assert job.init_from is not None
    events: list[RetrainEvent] = []
    job.out_dir.mkdir(parents=True)
    retrain.run_retrain(job, events.append)
    logs = {e.key: e for e in events if isinstance(e, LogEvent)}
    assert logs["start"].values == {"base": job.init_from.name, "epochs": 1} and "fine-tuning" in logs["start"].message
    assert logs["epoch"].values["epoch"] == 1 and 0 <= logs["epoch"].values["f1"] <= 1
    assert {"data", "mix", "export", "photo_models_kept"} <= set(logs)
    assert "initialised" in capsys.readouterr().err  # the trainer's own lines: the technical log
    (metrics,) = [e for e in events if isinstance(e, MetricsEvent)]
    assert metrics.old is not None and metrics.new["micro"]["f1"] > 0.9
    assert metrics.new["micro"]["f1"] >= metrics.old["micro"]["f1"] - 0.05
    new, old = Checkpoint.load(job.checkpoint), Checkpoint.load(job.init_from)
    assert new.labels == old.labels and new.model_config == old.model_config
    from tcm_desktop.inference.structuring import Structurer

    structurer = Structurer.load(job.bundle_dir, threads=1)  # every hash checked, the photo models too
    shipped_image = json.loads((shipped / "manifest.json").read_text(encoding="utf-8"))["image"]
    assert structurer.has_image_model and structurer.bundle.manifest["image"] == shipped_image
