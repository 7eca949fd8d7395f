"""Backups with SQLite's backup API, rotation, a damaged database found on open, restore."""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tcm_desktop.cli import EXIT_FAILED, EXIT_OK, main
from tcm_desktop.domain import Record
from tcm_desktop.store import Database, DatabaseCorrupt, DatabaseInUse, StoreError
from tcm_desktop.store.backup import (
    backup_database,
    backup_due,
    backups_dir,
    list_backups,
    newest_good_backup,
    open_or_recover,
    restore_database,
    verify_backup,
)
from tcm_desktop.store.instance_lock import InstanceLock

TEXT = "咳嗽三天，痰黄，舌红苔黄腻，脉滑数。" * 10


def fill(db: Database, n: int, prefix: str = "R") -> None:
    for i in range(n):
        db.records.add(Record(f"{prefix}{i:04d}", "general", TEXT), who="test")


def corrupt(path: Path) -> None:
    """Overwrite one page in the middle of the file with garbage (what a failing disk does)."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek((size // 2) // 4096 * 4096)
        fh.write(bytes((i * 37 + 11) % 256 for i in range(4096)))


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    with Database.open(path) as db:
        fill(db, 120)
    return path


def test_a_backup_is_a_verified_self_contained_copy_in_the_data_folder(clinic: Path) -> None:
    backup = backup_database(clinic)
    assert backup.path.parent == clinic.parent / "clinic_data" / "backups" == backups_dir(clinic)
    assert backup.path.name.startswith("clinic-backup-") and backup.path.suffix == ".sqlite"
    assert not list(backup.path.parent.glob("*.partial")) and not list(backup.path.parent.glob("*-wal"))
    verify_backup(backup.path)
    conn = sqlite3.connect(backup.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file, no WAL beside it
    assert conn.execute("SELECT count(*) FROM records").fetchone()[0] == 120
    conn.close()


def test_a_backup_taken_while_another_connection_writes_is_consistent(clinic: Path) -> None:
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        with Database.open(clinic) as db:
            i = 0
            while not stop.is_set():
                db.records.add(Record(f"W{i:05d}", "general", TEXT), who="writer")
                written.append(i)
                i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        backups = [backup_database(clinic, keep=50) for _ in range(5)]
    finally:
        stop.set()
        thread.join()
    assert written  # the writer really ran alongside
    for backup in backups:
        verify_backup(backup.path)
        conn = sqlite3.connect(backup.path)
        records = conn.execute("SELECT count(*) FROM records").fetchone()[0]
        imports = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'import'").fetchone()[0]
        conn.close()
        assert records == imports  # each snapshot holds whole transactions only
    with Database.open(backups[-1].path) as copy:
        assert copy.audit.verify().ok


def test_rotation_keeps_the_newest_n(clinic: Path) -> None:
    start = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    made = [backup_database(clinic, keep=3, now=start + timedelta(minutes=i)) for i in range(5)]
    kept = list_backups(backups_dir(clinic), "clinic")
    assert [b.path for b in kept] == [b.path for b in reversed(made[-3:])]
    assert [b.created for b in kept] == [start + timedelta(minutes=m) for m in (4, 3, 2)]
    with pytest.raises(StoreError, match="at least one"):
        backup_database(clinic, keep=0)


def test_backup_due_follows_the_newest_backup(clinic: Path) -> None:
    assert backup_due(clinic, timedelta(hours=1))
    made = backup_database(clinic)
    assert not backup_due(clinic, timedelta(hours=1), now=made.created + timedelta(minutes=59))
    assert backup_due(clinic, timedelta(hours=1), now=made.created + timedelta(minutes=61))


def test_a_damaged_database_is_refused_on_open_with_what_the_check_found(clinic: Path) -> None:
    corrupt(clinic)
    with pytest.raises(DatabaseCorrupt) as caught:
        Database.open(clinic, check=True)
    error = caught.value
    assert error.path == clinic and error.check == "quick_check"
    assert "clinic.db" in str(error) and "damaged" in str(error) and "malformed" in error.detail
    with pytest.raises(DatabaseCorrupt, match="damaged"):  # nor can it be backed up
        backup_database(clinic)
    assert list_backups(backups_dir(clinic), "clinic") == []


def test_a_file_that_is_not_a_database_names_sqlites_finding(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"not sqlite " * 500)
    with pytest.raises(DatabaseCorrupt, match="file is not a database") as caught:
        Database.open(path, check=True)
    assert caught.value.check == "open"


def test_restore_replaces_the_database_and_keeps_the_damaged_one(clinic: Path) -> None:
    good = backup_database(clinic)
    with Database.open(clinic) as db:
        fill(db, 5, prefix="LATE")  # after the backup: lost by the restore, kept in the safety copy
    corrupt(clinic)
    result = restore_database(clinic, good.path)
    assert result.safety_copy is not None and result.safety_copy.parent == backups_dir(clinic)
    assert "before-restore" in result.safety_copy.name
    assert result.safety_copy.read_bytes()[:16] == b"SQLite format 3\x00"
    with Database.open(clinic, check=True) as db:
        assert db.records.count() == 120 and db.audit.verify().ok
    assert list_backups(backups_dir(clinic), "clinic")[0].path == good.path  # not counted as a backup


def test_restore_refuses_a_damaged_or_foreign_backup_and_changes_nothing(clinic: Path, tmp_path: Path) -> None:
    bad = backup_database(clinic)
    corrupt(bad.path)
    before = clinic.read_bytes()
    with pytest.raises(DatabaseCorrupt, match="backup"):
        restore_database(clinic, bad.path)
    foreign = tmp_path / "other.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(StoreError, match="not a TCM Desktop database"):
        restore_database(clinic, foreign)
    assert clinic.read_bytes() == before
    assert not list(backups_dir(clinic).glob("*before-restore*"))


def test_restore_refuses_while_another_program_holds_the_database(clinic: Path) -> None:
    backup = backup_database(clinic)
    with InstanceLock.acquire(clinic), pytest.raises(DatabaseInUse, match="in use by another program"):
        restore_database(clinic, backup.path)


def test_newest_good_backup_skips_damaged_ones(clinic: Path) -> None:
    start = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    older = backup_database(clinic, now=start)
    newer = backup_database(clinic, now=start + timedelta(hours=1))
    corrupt(newer.path)
    assert newest_good_backup(clinic) == older


def test_open_or_recover_offers_the_newest_good_backup(clinic: Path) -> None:
    good = backup_database(clinic)
    corrupt(clinic)
    asked: list[tuple[str, Path]] = []

    def decline(error: DatabaseCorrupt, backup) -> bool:
        asked.append((error.check, backup.path))
        return False

    with pytest.raises(DatabaseCorrupt):
        open_or_recover(clinic, decline)
    assert asked == [("quick_check", good.path)]
    db, result = open_or_recover(clinic, lambda error, backup: True)
    with db:
        assert result is not None and result.restored_from == good.path
        assert db.records.count() == 120


def test_cli_backup_and_restore(clinic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "elsewhere"
    assert main(["backup", "--db", str(clinic), "--to", str(folder), "--keep", "2"]) == EXIT_OK
    out = capsys.readouterr().out
    (made,) = list_backups(folder, "clinic")
    assert str(made.path) in out and "integrity_check ok" in out
    assert main(["backup", "--db", str(clinic), "--to", str(folder), "--list"]) == EXIT_OK
    assert str(made.path) in capsys.readouterr().out
    corrupt(clinic)
    assert main(["backup", "--db", str(clinic)]) == EXIT_FAILED
    assert "damaged" in capsys.readouterr().err
    assert main(["restore", "--db", str(clinic), "--from", str(made.path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "restored" in out and "before-restore" in out
    with Database.open(clinic, check=True) as db:
        assert db.records.count() == 120


def test_cli_refuses_bad_input_with_exit_2_and_no_traceback(
    clinic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backup", "--db", str(tmp_path / "none.db")]) == EXIT_FAILED
    assert "no database" in capsys.readouterr().err
    assert main(["backup", "--db", str(clinic), "--keep", "0"]) == EXIT_FAILED
    assert main(["restore", "--db", str(clinic), "--from", str(tmp_path / "none.sqlite")]) == EXIT_FAILED
    assert "no backup file" in capsys.readouterr().err
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(os.urandom(8192))
    assert main(["restore", "--db", str(clinic), "--from", str(junk)]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "junk.sqlite" in err and "Traceback" not in err
