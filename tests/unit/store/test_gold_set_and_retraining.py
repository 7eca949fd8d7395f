"""The frozen gold set, the model history behind switch and roll back, and the retraining ledger (no Qt, no torch)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tcm_desktop.domain import Record, RecordStatus
from tcm_desktop.domain.retraining import DoneEvent, RetrainOptions
from tcm_desktop.store import BaseModel, Database, GoldSetError, RetrainLedger, StoreError
from tcm_desktop.store.gold_set import choose_gold_ids, gold_set_size

TEXT = "咳嗽3天，舌红，苔黄。"
SPECIALTIES = ("gastro", "respiratory", "orthopedics")


def add_records(db: Database, n: int, status: RecordStatus, prefix: str = "R") -> list[str]:
    ids = []
    for i in range(n):
        record_id = f"{prefix}{i:02d}"
        db.records.add(Record(record_id, SPECIALTIES[i % len(SPECIALTIES)], TEXT))
        if status is not RecordStatus.NEW:
            db.annotations.save(record_id, (), {}, who="dr", verify=status is RecordStatus.VERIFIED)
        ids.append(record_id)
    return ids


def test_gold_set_size_bounds() -> None:
    assert [gold_set_size(n) for n in (0, 1, 2, 5, 12, 100, 5000)] == [0, 0, 2, 2, 2, 20, 200]


def test_choice_is_deterministic_and_spread_over_specialties() -> None:
    candidates = [(f"R{i}", SPECIALTIES[i % 3]) for i in range(30)]
    chosen = choose_gold_ids(candidates, 6)
    assert chosen == choose_gold_ids(list(reversed(candidates)), 6)
    specialty = dict(candidates)
    assert sorted(specialty[i] for i in chosen) == sorted(SPECIALTIES * 2)


def test_freezing_sets_verified_records_aside_once_and_for_all(db: Database) -> None:
    verified = add_records(db, 12, RecordStatus.VERIFIED)
    corrected = add_records(db, 3, RecordStatus.CORRECTED, prefix="C")
    add_records(db, 2, RecordStatus.NEW, prefix="N")
    assert not db.gold_set.is_frozen and db.gold_set.ids() == ()

    gold = db.gold_set.freeze("lead")
    assert len(gold) == 2 and set(gold) <= set(verified) and db.gold_set.is_frozen
    entry = db.audit.entries(limit=1)[0]
    assert (entry.action, entry.who, entry.after) == ("freeze_gold_set", "lead", {"records": list(gold)})

    more = add_records(db, 10, RecordStatus.VERIFIED, prefix="V")
    assert db.gold_set.freeze("someone else") == gold  # frozen: more verified records change nothing
    training = db.gold_set.training_ids()
    assert not set(training) & set(gold)
    assert set(training) == (set(verified) | set(corrected) | set(more)) - set(gold)
    with pytest.raises(sqlite3.DatabaseError, match="frozen"):
        db.conn.execute("DELETE FROM gold_set")
    with pytest.raises(sqlite3.DatabaseError, match="frozen"):
        db.conn.execute("UPDATE gold_set SET record_id = 'N00'")
    assert db.gold_set.ids() == gold


def test_too_few_verified_records_freeze_nothing(db: Database) -> None:
    add_records(db, 1, RecordStatus.VERIFIED)
    add_records(db, 8, RecordStatus.CORRECTED, prefix="C")
    with pytest.raises(GoldSetError, match="at least 2 verified"):
        db.gold_set.freeze("lead")
    assert not db.gold_set.is_frozen


def test_roll_back_returns_to_the_version_in_use_before(db: Database) -> None:
    for version in ("m@1", "m@2", "m@3"):
        db.models.register(version, "m", f"models/{version}", {}, who="t")
    assert db.models.previous() is None
    db.models.activate("m@1", who="dr")
    db.models.activate("m@3", who="dr")  # m@2 was registered but never used
    assert db.models.previous().version == "m@1"
    assert db.models.roll_back("dr").version == "m@1"
    assert db.models.active().version == "m@1" and db.models.previous() is None
    assert db.audit.entries(limit=1)[0].after == {"version": "m@1", "roll_back": True}
    with pytest.raises(StoreError, match="no earlier model"):
        db.models.roll_back("dr")
    db.models.activate("m@2", who="dr")
    assert db.models.history() == ["m@1", "m@2"] and db.models.previous().version == "m@1"


def write_bundle(folder: Path, name: str, version: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"name": name, "version": version}), encoding="utf-8")
    return folder


def test_ledger_plans_registers_and_abandons(db: Database, tmp_path: Path) -> None:
    add_records(db, 12, RecordStatus.VERIFIED)
    ledger = RetrainLedger(db, tmp_path / "user" / "models", who="dr")
    readiness = ledger.readiness()
    assert (readiness.training_records, readiness.gold_records, readiness.gold_frozen, readiness.ready) == (
        10,
        2,
        False,
        True,
    )
    shipped = write_bundle(tmp_path / "installed" / "tcm-text", "tcm-text", "0.1.0")
    base = BaseModel(shipped, "tcm-text@0.1.0")
    now = datetime(2025, 1, 5, 14, 30, tzinfo=UTC)
    job, run_id = ledger.plan(base, RetrainOptions(epochs=1), now=now)
    assert db.gold_set.is_frozen and ledger.readiness().gold_frozen
    assert job.model_version == "tcm-text@r20250105-1430"
    assert job.out_dir == tmp_path / "user" / "models" / "tcm-text-r20250105-1430"
    assert job.init_from is None and job.base_model == shipped  # a shipped bundle has no checkpoint
    assert db.training_runs.get(run_id).status == "running"

    # the child wrote the bundle; registering adds the base (active) and the new version (not yet active)
    write_bundle(job.bundle_dir, "tcm-text", job.version)
    done = DoneEvent(job.bundle_dir, job.checkpoint, job.model_version, 10, 2)
    with pytest.raises(StoreError, match="reported"):
        ledger.register(job, run_id, DoneEvent(tmp_path, None, job.model_version, 10, 2), {}, base)
    assert db.models.list() == []
    model = ledger.register(job, run_id, done, {"gold_set_new": {"micro": {"f1": 0.5}}}, base)
    assert [(m.version, m.active) for m in db.models.list()] == [("tcm-text@0.1.0", True), (job.model_version, False)]
    assert model.path == str(job.bundle_dir)
    run = db.training_runs.get(run_id)
    assert (run.status, run.new_model, run.metrics["gold_set_new"]) == (
        "succeeded",
        job.model_version,
        {"micro": {"f1": 0.5}},
    )

    # a second plan the same minute gets another version; abandoning it removes its folder and registers nothing
    job2, run2 = ledger.plan(base, now=now)
    assert job2.version == "r20250105-1430-2"
    job2.bundle_dir.mkdir(parents=True)
    ledger.abandon(job2, run2, "cancelled")
    assert not job2.out_dir.exists() and db.training_runs.get(run2).status == "cancelled"
    assert len(db.models.list()) == 2


def test_plan_refuses_without_enough_training_records(db: Database, tmp_path: Path) -> None:
    add_records(db, 5, RecordStatus.VERIFIED)
    ledger = RetrainLedger(db, tmp_path / "models", who="dr")
    assert not ledger.readiness().ready
    with pytest.raises(StoreError, match="at least 5"):
        ledger.plan(None)
    assert db.training_runs.list() == [] and not db.gold_set.is_frozen


def test_plan_fine_tunes_the_shipped_checkpoint_unless_a_new_model_is_asked_for(db: Database, tmp_path: Path) -> None:
    add_records(db, 12, RecordStatus.VERIFIED)
    shipped = tmp_path / "installed" / "tcm-text"
    shipped.mkdir(parents=True)
    (shipped / "manifest.json").write_text(json.dumps({"checkpoint": "../tcm-text-1.checkpoint.pt"}), "utf-8")
    (tmp_path / "installed" / "tcm-text-1.checkpoint.pt").write_bytes(b"weights")
    ledger = RetrainLedger(db, tmp_path / "models", who="dr")
    base = BaseModel(shipped, "tcm-text@1")
    job, _ = ledger.plan(base, now=datetime(2025, 1, 5, 14, 30, tzinfo=UTC))
    assert job.init_from == (tmp_path / "installed" / "tcm-text-1.checkpoint.pt").resolve()
    fresh, _ = ledger.plan(base, RetrainOptions(new_model=True), now=datetime(2025, 1, 5, 14, 31, tzinfo=UTC))
    assert fresh.init_from is None and fresh.base_model == shipped
