"""Backups of the database: verified copies made with SQLite's backup API, rotation, restore.

A backup is a consistent snapshot even while the program (or another one)
keeps writing: :func:`backup_database` copies every page inside one read
transaction (``sqlite3.Connection.backup``), turns the copy into a single
self-contained file (rollback journal, no WAL), checks it with
``PRAGMA integrity_check`` and only then gives it its name. Backups live in
``<data folder>/backups`` as ``<db stem>-backup-YYYYmmdd-HHMMSS-mmm.sqlite``
(UTC), readable by the user only; the oldest beyond ``keep`` are removed.

:func:`restore_database` refuses a damaged backup or one that is not a TCM
Desktop database, refuses while another program holds the database
(:mod:`tcm_desktop.store.instance_lock`), keeps the file it replaces (and its
WAL) as ``<stem>-before-restore-<time>.sqlite`` beside the backups, and puts
the backup in place with an atomic rename. :func:`open_or_recover` is what
the GUI does on start: open with a check and, when the file is damaged, offer
the newest backup that passes its own check.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tcm_desktop.files import PRIVATE_FILE_MODE, create_private_file, make_private_dir, restrict
from tcm_desktop.store.database import BUSY_TIMEOUT_MS, Database
from tcm_desktop.store.errors import DatabaseCorrupt, SchemaVersionError, StoreError
from tcm_desktop.store.instance_lock import InstanceLock
from tcm_desktop.store.migrations import load_migrations

BACKUP_FOLDER = "backups"
DEFAULT_KEEP = 10
SUFFIX = ".sqlite"
_STAMP = "%Y%m%d-%H%M%S"
_REQUIRED_TABLES = ("records", "audit_log")
STALE_PARTIAL_S = 3600


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    created: datetime  # UTC, from the file name
    size: int  # bytes


@dataclass(frozen=True)
class RestoreResult:
    restored_from: Path
    database: Path
    safety_copy: Path | None  # the replaced database (None when there was no file)


def backups_dir(db_path: Path, data_dir: Path | None = None) -> Path:
    """``<data folder>/backups``; the data folder defaults to ``<db stem>_data`` as in :meth:`Database.open`."""
    db_path = Path(db_path).resolve()
    return (Path(data_dir) if data_dir is not None else db_path.with_name(f"{db_path.stem}_data")) / BACKUP_FOLDER


def _pattern(stem: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(stem)}-backup-(\d{{8}}-\d{{6}})-(\d{{3}}){re.escape(SUFFIX)}$")


def _name(stem: str, when: datetime, kind: str = "backup") -> str:
    return f"{stem}-{kind}-{when.strftime(_STAMP)}-{when.microsecond // 1000:03d}{SUFFIX}"


def _free_name(folder: Path, stem: str, kind: str, now: datetime | None) -> tuple[Path, datetime]:
    """A name in ``folder`` not taken yet, at millisecond resolution (later by a millisecond if it is)."""
    when = now or datetime.now(UTC)
    when = when.replace(microsecond=when.microsecond // 1000 * 1000)
    while (folder / _name(stem, when, kind)).exists():
        when += timedelta(milliseconds=1)
    return folder / _name(stem, when, kind), when


def list_backups(folder: Path, stem: str) -> list[BackupInfo]:
    """The backups of the database called ``stem`` in ``folder``, newest first."""
    pattern = _pattern(stem)
    found: list[BackupInfo] = []
    if not Path(folder).is_dir():
        return found
    for entry in Path(folder).iterdir():
        match = pattern.match(entry.name)
        if match is None or not entry.is_file():
            continue
        stamp = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
        created = stamp + timedelta(milliseconds=int(match.group(2)))
        found.append(BackupInfo(entry, created, entry.stat().st_size))
    return sorted(found, key=lambda b: b.path.name, reverse=True)


def backup_due(db_path: Path, interval: timedelta, folder: Path | None = None, now: datetime | None = None) -> bool:
    """True when the newest backup of ``db_path`` is older than ``interval`` (or there is none)."""
    db_path = Path(db_path).resolve()
    backups = list_backups(folder or backups_dir(db_path), db_path.stem)
    return not backups or (now or datetime.now(UTC)) - backups[0].created >= interval


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    if path.is_dir() and os.name != "posix":
        return  # Windows cannot open a folder to flush it
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_copy(conn: sqlite3.Connection, path: Path, what: str) -> None:
    """DatabaseCorrupt unless ``integrity_check`` passes; StoreError unless it is a TCM Desktop database."""
    try:
        result = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(5)").fetchall()]
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise DatabaseCorrupt(path, "integrity_check", str(exc), f"{what} {path} is damaged: {exc}") from exc
    if result != ["ok"]:
        detail = "; ".join(result)
        raise DatabaseCorrupt(path, "integrity_check", detail, f"{what} {path} is damaged (integrity_check: {detail})")
    if version < 1 or not set(_REQUIRED_TABLES) <= tables:
        raise StoreError(f"{what} {path} is not a TCM Desktop database")
    if version > len(load_migrations()):
        raise SchemaVersionError(f"{what} {path} was written by a newer version of TCM Desktop (schema {version})")


def verify_backup(path: Path) -> None:
    """Check that ``path`` is an intact TCM Desktop database; raises DatabaseCorrupt or StoreError."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"there is no backup file {path}")
    try:  # reading changes nothing; a read-only URI would refuse a WAL file without its -shm
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the backup {path}: {exc}") from exc
    try:
        _check_copy(conn, path, "the backup")
    finally:
        conn.close()


def backup_database(
    db_path: Path, folder: Path | None = None, keep: int = DEFAULT_KEEP, now: datetime | None = None
) -> BackupInfo:
    """Write a verified backup of ``db_path`` into ``folder`` (default :func:`backups_dir`), then keep
    only the newest ``keep``. Safe while other connections read and write. Raises StoreError
    (DatabaseCorrupt when the copy fails its check: the database itself is damaged)."""
    db_path = Path(db_path).resolve()
    if keep < 1:
        raise StoreError("keep at least one backup")
    if not db_path.is_file():
        raise StoreError(f"there is no database at {db_path}")
    folder = Path(folder) if folder is not None else backups_dir(db_path)
    try:
        make_private_dir(folder)
    except OSError as exc:
        raise StoreError(f"cannot create the backup folder {folder}: {exc.strerror or exc}") from exc
    target, when = _free_name(folder, db_path.stem, "backup", now)
    partial = folder / f".{target.name}.partial"
    try:
        create_private_file(partial)
        _copy(db_path, partial)
        _fsync(partial)
        os.replace(partial, target)
        _fsync(folder)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"cannot write the backup {target}: {exc.strerror or exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    rotate_backups(folder, db_path.stem, keep)
    _remove_stale_partials(folder)
    return BackupInfo(target, when, target.stat().st_size)


def _remove_stale_partials(folder: Path) -> None:
    """Remove copies a program killed while backing up left behind (an hour old: none is still running)."""
    limit = datetime.now(UTC).timestamp() - STALE_PARTIAL_S
    for partial in folder.glob(".*.partial"):
        with contextlib.suppress(OSError):
            if partial.stat().st_mtime < limit:
                partial.unlink()


def _copy(db_path: Path, partial: Path) -> None:
    """SQLite's online backup of ``db_path`` into ``partial``, made self-contained and checked."""
    try:
        source = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the database {db_path}: {exc}") from exc
    try:
        target = sqlite3.connect(partial, isolation_level=None)
        try:
            source.backup(target)  # all pages in one step: one read transaction, one snapshot
            target.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
            _check_copy(target, db_path, "the database")
        except sqlite3.Error as exc:
            raise DatabaseCorrupt(db_path, "backup", str(exc), f"cannot back up {db_path}: {exc}") from exc
        finally:
            target.close()
    finally:
        source.close()


def rotate_backups(folder: Path, stem: str, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` backups of ``stem``; returns what was removed."""
    removed = []
    for old in list_backups(folder, stem)[keep:]:
        with contextlib.suppress(OSError):
            old.path.unlink()
            removed.append(old.path)
    return removed


def newest_good_backup(db_path: Path, folder: Path | None = None) -> BackupInfo | None:
    """The newest backup of ``db_path`` that passes :func:`verify_backup`, or None."""
    db_path = Path(db_path).resolve()
    for backup in list_backups(folder or backups_dir(db_path), db_path.stem):
        try:
            verify_backup(backup.path)
        except StoreError:
            continue
        return backup
    return None


def _move(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)
        source.unlink()


def restore_database(db_path: Path, backup: Path, folder: Path | None = None) -> RestoreResult:
    """Replace the database at ``db_path`` by the backup ``backup`` (see the module docstring).

    Raises DatabaseCorrupt for a damaged backup, StoreError for a file that is
    not a TCM Desktop database, DatabaseInUse while another program holds the
    database. Nothing is changed when it raises.
    """
    db_path, backup = Path(db_path).resolve(), Path(backup).resolve()
    if backup == db_path:
        raise StoreError("the backup to restore is the database itself")
    verify_backup(backup)
    folder = Path(folder) if folder is not None else backups_dir(db_path)
    with InstanceLock.acquire(db_path, "a restore"):
        safety = None
        try:
            make_private_dir(folder)
            make_private_dir(db_path.parent)
            incoming = db_path.with_name(f".{db_path.name}.restoring")
            incoming.unlink(missing_ok=True)
            create_private_file(incoming)
            shutil.copyfile(backup, incoming)
            _fsync(incoming)
            if db_path.exists():
                safety, _when = _free_name(folder, db_path.stem, "before-restore", None)
                shutil.copy2(db_path, safety)
                restrict(safety, PRIVATE_FILE_MODE)
                wal = db_path.with_name(db_path.name + "-wal")
                if wal.exists():  # committed changes not yet in the main file go with the safety copy
                    _move(wal, safety.with_name(safety.name + "-wal"))
            db_path.with_name(db_path.name + "-shm").unlink(missing_ok=True)
            os.replace(incoming, db_path)
            _fsync(db_path.parent)
        except OSError as exc:
            with contextlib.suppress(OSError):
                db_path.with_name(f".{db_path.name}.restoring").unlink(missing_ok=True)
            raise StoreError(f"cannot restore {db_path} from {backup}: {exc.strerror or exc}") from exc
    return RestoreResult(backup, db_path, safety)


ConfirmRestore = Callable[[DatabaseCorrupt, BackupInfo], bool]


def open_or_recover(
    db_path: Path, confirm: ConfirmRestore, data_dir: Path | None = None, folder: Path | None = None
) -> tuple[Database, RestoreResult | None]:
    """Open ``db_path`` with its check; when it is damaged, ask ``confirm(error, newest good backup)``
    and, on yes, restore that backup and open it. The DatabaseCorrupt is raised again when there is
    no good backup or the answer is no."""
    try:
        return Database.open(db_path, data_dir, check=True), None
    except DatabaseCorrupt as exc:
        backup = newest_good_backup(db_path, folder or backups_dir(db_path, data_dir))
        if backup is None or not confirm(exc, backup):
            raise
        result = restore_database(db_path, backup.path, folder or backups_dir(db_path, data_dir))
    return Database.open(db_path, data_dir, check=True), result
