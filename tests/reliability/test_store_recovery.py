"""What opening a database and starting a retraining clean up after a killed process.

The kill tests (test_kill_safety.py) show these run at the right moments;
here each is checked on its own: the orphan image sweep (and that it never
races a writer), and the booking of interrupted training runs.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tcm_desktop.domain import Record
from tcm_desktop.domain.retraining import DoneEvent, RetrainJob, RetrainOptions
from tcm_desktop.store import Database, RetrainLedger, StoreError
from tcm_desktop.store.images import INCOMING_PREFIX

from .fuzz_data import png_bytes
from .kill_harness import _gastro, prepare


def test_opening_removes_image_files_no_record_references(tmp_path: Path) -> None:
    (tmp_path / "photo.png").write_bytes(png_bytes(seed=1))
    with Database.open(tmp_path / "clinic.db") as db:
        db.records.add(Record("R1", "gastro", "舌淡红。"), tmp_path / "photo.png")
        kept = db.records.get("R1").image_path
        orphan = db.images_dir / ("0" * 64 + ".png")
        temp = db.images_dir / f"{INCOMING_PREFIX}abc.png"
        orphan.write_bytes(png_bytes(seed=2))  # written by an import that was killed before its commit
        temp.write_bytes(b"\x89PNG half")  # killed while writing
    with Database.open(tmp_path / "clinic.db") as db:
        assert sorted(p.name for p in db.last_sweep.removed) == sorted([orphan.name, temp.name])
        assert kept is not None and kept.is_file() and not orphan.exists() and not temp.exists()
        assert db.records.get("R1").image_path == kept


def test_the_sweep_never_races_a_writer(tmp_path: Path) -> None:
    with Database.open(tmp_path / "clinic.db") as db:
        db.images_dir.mkdir(parents=True)
        in_flight = db.images_dir / ("1" * 64 + ".png")
    writer = sqlite3.connect(tmp_path / "clinic.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another program is adding a record: its file is not referenced yet
    in_flight.write_bytes(png_bytes(seed=3))
    try:
        with Database.open(tmp_path / "clinic.db") as db:
            assert "busy" in db.last_sweep.skipped and db.last_sweep.removed == ()
            assert in_flight.exists()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_failed_import_leaves_no_image_file(tmp_path: Path) -> None:
    (tmp_path / "photo.png").write_bytes(png_bytes(seed=4))
    with Database.open(tmp_path / "clinic.db") as db:
        db.records.add(_gastro("R1"))
        db.conn.execute("CREATE TRIGGER no_more BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        with pytest.raises(StoreError, match="disk full"):
            db.records.add(_gastro("R2"), tmp_path / "photo.png")
        assert db.records.ids() == ["R1"]
        assert not db.images_dir.exists() or list(db.images_dir.iterdir()) == []


def _plan_and_write(ledger: RetrainLedger) -> tuple[RetrainJob, int]:
    job, run_id = ledger.plan(None, RetrainOptions(epochs=1))
    job.bundle_dir.mkdir(parents=True)
    manifest = {"name": job.name, "version": job.version}
    (job.bundle_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return job, run_id


def test_interrupted_training_runs_are_booked_and_their_folders_removed(tmp_path: Path) -> None:
    prepare("retrain", tmp_path, seed=1)
    models = tmp_path / "models"
    with Database.open(tmp_path / "clinic.db") as db:
        ledger = RetrainLedger(db, models, "test")
        done_job, done_run = _plan_and_write(ledger)
        done = DoneEvent(done_job.bundle_dir, None, done_job.model_version, 5, 2)
        ledger.register(done_job, done_run, done, {}, None)
        killed_job, killed_run = _plan_and_write(ledger)  # the program dies here
        outside = tmp_path / "elsewhere"
        outside.mkdir()
        db.conn.execute(
            "UPDATE training_runs SET params_json = json_set(params_json, '$.out_dir', ?) WHERE id = ?",
            (str(outside), db.training_runs.start(None, {})),
        )
        assert sorted(ledger.recover_interrupted()) == [killed_run, killed_run + 1]
        runs = {run.id: run for run in db.training_runs.list()}
        assert runs[killed_run].status == "interrupted" and runs[done_run].status == "succeeded"
        assert not killed_job.out_dir.exists()
        assert done_job.bundle_dir.is_dir()
        assert outside.is_dir(), "a folder outside the models folder is never removed"
        assert ledger.recover_interrupted() == []
