from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tcm_desktop.store import Database, SchemaVersionError, StoreError
from tcm_desktop.store.migrations import load_migrations


def test_open_creates_file_applies_migrations_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "clinic.db"
    with Database.open(path) as db:
        assert path.exists()
        assert db.schema_version == len(load_migrations()) >= 1
        assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        assert db.data_dir == path.parent / "clinic_data"
        tables = {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"records", "annotations", "predictions", "audit_log", "corrections", "models"} <= tables


def test_reopening_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    with Database.open(path, data_dir=tmp_path / "pictures") as db:
        assert db.data_dir == tmp_path / "pictures"
        db.audit.append("tester", "hello")
    with Database.open(path) as db:
        assert db.schema_version == len(load_migrations())
        assert [e.action for e in db.audit.entries()] == ["hello"]


def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    Database.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(SchemaVersionError, match="newer version"):
        Database.open(path)


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a TCM Desktop database"):
        Database.open(path)


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        db.conn.execute("INSERT INTO annotations (record_id, updated_at, updated_by) VALUES ('nope', 'x', 'y')")


def test_transaction_rolls_back_on_error_and_nests_as_savepoint(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction():
        db.audit.append("a", "first")
        raise RuntimeError("boom")
    assert db.audit.entries() == []
    assert not db.conn.in_transaction

    with db.transaction():
        db.audit.append("a", "outer")
        with pytest.raises(RuntimeError), db.transaction():
            db.audit.append("a", "inner")
            raise RuntimeError("inner fails")
    assert [e.action for e in db.audit.entries()] == ["outer"]
