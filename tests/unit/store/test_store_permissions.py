"""On POSIX the database, its WAL/SHM files, backups and the data folder are the user's alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from store_testkit import write_image

from tcm_desktop.domain import Record
from tcm_desktop.paths import user_data_dir
from tcm_desktop.store import Database
from tcm_desktop.store.backup import backup_database

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _open_umask():
    old = os.umask(0o022)  # a usual umask: without care, files would be world-readable
    yield
    os.umask(old)


def test_a_new_database_and_its_wal_and_shm_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new" / "clinic.db"
    with Database.open(path) as db:
        db.records.add(Record("R1", "general", "咳嗽"), image_source=write_image(tmp_path / "R1.jpg"), who="t")
        wal, shm = path.with_name("clinic.db-wal"), path.with_name("clinic.db-shm")
        assert wal.exists() and shm.exists()
        assert {p.name: mode(p) for p in (path, wal, shm)} == dict.fromkeys(
            ("clinic.db", "clinic.db-wal", "clinic.db-shm"), 0o600
        )
        assert mode(path.parent) == 0o700  # a folder the program created
        assert mode(db.data_dir) == 0o700 and mode(db.images_dir) == 0o700
        assert all(mode(p) == 0o600 for p in db.images_dir.iterdir())
        backup = backup_database(path)
        assert mode(backup.path) == 0o600 and mode(backup.path.parent) == 0o700


def test_the_users_data_folder_is_created_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TCM_DATA_DIR", str(tmp_path / "data" / "tcm"))
    assert mode(user_data_dir()) == 0o700 and mode(tmp_path / "data") == 0o700


def test_an_existing_database_keeps_the_mode_its_owner_chose(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    Database.open(path).close()
    os.chmod(path, 0o640)  # e.g. shared with a group on purpose
    Database.open(path).close()
    assert mode(path) == 0o640
