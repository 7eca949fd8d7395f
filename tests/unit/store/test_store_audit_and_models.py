from __future__ import annotations

import sqlite3

import pytest

from tcm_desktop.domain import Record
from tcm_desktop.store import Database, StoreError


def test_audit_rows_cannot_be_changed_or_deleted(db: Database) -> None:
    db.records.add(Record("R1", "general", "咳嗽"), who="importer")
    entry_id = db.audit.entries()[0].id
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.conn.execute("UPDATE audit_log SET who = 'mallory' WHERE id = ?", (entry_id,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.conn.execute("DELETE FROM audit_log")
    assert db.audit.entries()[0].who == "importer"


def test_audit_entries_newest_first_with_filter_and_limit(db: Database) -> None:
    db.audit.append("a", "one", "R1", None, {"x": 1})
    db.audit.append("b", "two", "R2", {"x": 1}, {"x": "二"}, model_version="m1")
    db.audit.append("c", "three", "R1")
    assert [e.action for e in db.audit.entries()] == ["three", "two", "one"]
    assert [e.action for e in db.audit.entries("R1")] == ["three", "one"]
    assert [e.action for e in db.audit.entries(limit=1)] == ["three"]
    two = db.audit.entries("R2")[0]
    assert (two.who, two.before, two.after, two.model_version) == ("b", {"x": 1}, {"x": "二"}, "m1")
    assert two.at.endswith("+00:00")


def test_model_registry_register_activate_and_roll_back(db: Database) -> None:
    assert db.models.active() is None and db.models.list() == []
    db.models.register("2024.1", "tcm-ner", "models/v1", {"labels": ["SYM"], "f1": 0.8}, who="lead")
    db.models.register("2024.2", "tcm-ner", "models/v2", {"labels": ["SYM"], "f1": 0.85}, who="trainer")
    with pytest.raises(StoreError, match="already registered"):
        db.models.register("2024.2", "x", "y", {}, who="trainer")
    assert db.models.active() is None

    db.models.activate("2024.2", who="dr")
    assert db.models.active().version == "2024.2"
    db.models.activate("2024.1", who="dr")  # roll back
    active = db.models.active()
    assert (active.version, active.path, active.manifest["f1"]) == ("2024.1", "models/v1", 0.8)
    assert [(m.version, m.active) for m in db.models.list()] == [("2024.1", True), ("2024.2", False)]
    entry = db.audit.entries(limit=1)[0]
    assert (entry.action, entry.before, entry.after) == ("activate_model", {"version": "2024.2"}, {"version": "2024.1"})
    with pytest.raises(StoreError, match="no model version"):
        db.models.activate("9.9", who="dr")
    assert db.models.active().version == "2024.1"


def test_training_runs(db: Database) -> None:
    run = db.training_runs.start("2024.1", {"epochs": 3, "lr": 1e-4})
    (started,) = db.training_runs.list()
    assert (started.id, started.status, started.finished_at, started.params["epochs"]) == (run, "running", None, 3)
    db.training_runs.finish(run, "succeeded", "2024.2", {"f1": 0.86})
    done = db.training_runs.get(run)
    assert (done.status, done.new_model, done.metrics) == ("succeeded", "2024.2", {"f1": 0.86})
    assert done.finished_at is not None
    with pytest.raises(StoreError, match="no training run"):
        db.training_runs.finish(999, "failed", None, {})
