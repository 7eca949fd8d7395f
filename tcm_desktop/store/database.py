"""The SQLite database: opening, migrations, transactions, and the repositories.

One :class:`Database` wraps one ``sqlite3`` connection in autocommit mode;
writes go through :meth:`Database.transaction` (``BEGIN IMMEDIATE`` so a
writer waits for the lock up front instead of failing half way). A
``Database`` belongs to the thread that opened it; a worker thread opens its
own on the same file (WAL lets readers and one writer work side by side).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tcm_desktop.files import PRIVATE_FILE_MODE, create_private_file, make_private_dir, restrict
from tcm_desktop.store.annotations import AnnotationRepository
from tcm_desktop.store.audit import AuditLog, seal_legacy_rows
from tcm_desktop.store.errors import DatabaseCorrupt, DatabaseInUse, SchemaVersionError, StoreError
from tcm_desktop.store.gold_set import GoldSetRepository
from tcm_desktop.store.migrations import load_migrations
from tcm_desktop.store.models import ModelRegistry, TrainingRunRepository
from tcm_desktop.store.predictions import PredictionRepository
from tcm_desktop.store.records import RecordRepository
from tcm_desktop.store.review_queue import ReviewQueue
from tcm_desktop.store.sweep import SweepResult, sweep_orphan_images

BUSY_TIMEOUT_MS = 10_000
_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")
_DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")
# Python steps of a migration, run inside its transaction after its SQL.
_AFTER_MIGRATION = {3: seal_legacy_rows}


class Database:
    """An open TCM Desktop database file and the folder that holds its images."""

    def __init__(self, conn: sqlite3.Connection, path: Path, data_dir: Path) -> None:
        self.conn = conn
        self.path = path
        self.data_dir = data_dir
        self._savepoints = 0
        self.last_sweep = SweepResult()  # what opening removed from the images folder
        self.audit = AuditLog(self)
        self.records = RecordRepository(self)
        self.annotations = AnnotationRepository(self)
        self.predictions = PredictionRepository(self)
        self.models = ModelRegistry(self)
        self.training_runs = TrainingRunRepository(self)
        self.gold_set = GoldSetRepository(self)
        self.review_queue = ReviewQueue(self)

    @classmethod
    def open(cls, path: Path, data_dir: Path | None = None, check: bool = False) -> Database:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date.

        ``data_dir`` is where image files are kept; it defaults to
        ``<db stem>_data`` beside the database file. A new database file (and
        its WAL/SHM files) is readable by the user only (POSIX). ``check`` runs
        ``PRAGMA quick_check`` first (the GUI and the ``tcm`` commands do; a
        worker reopening a file already checked does not). A file that is not
        a database or fails the check raises :class:`DatabaseCorrupt`.
        """
        path = Path(path).resolve()
        data_dir = Path(data_dir).resolve() if data_dir is not None else path.with_name(f"{path.stem}_data")
        try:
            make_private_dir(path.parent)
            created = create_private_file(path)
            conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the database {path}: {exc}") from exc
        try:
            _configure(conn, path)
            if check:
                _quick_check(conn, path)
            _migrate(conn, path)
            if created:  # SQLite gives them the database file's mode; make sure
                for suffix in ("-wal", "-shm"):
                    restrict(path.with_name(path.name + suffix), PRIVATE_FILE_MODE)
        except BaseException:
            conn.close()
            raise
        db = cls(conn, path, data_dir)
        # image files a killed import wrote but never committed (see store/sweep.py)
        db.last_sweep = sweep_orphan_images(conn, db.images_dir, BUSY_TIMEOUT_MS)
        return db

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; ``ROLLBACK`` on any exception.

        Nested use becomes a savepoint, so a repository method called inside
        a caller's transaction joins it and its failure undoes only its part.
        """
        conn = self.conn
        if conn.in_transaction:
            self._savepoints += 1
            name = f"sp{self._savepoints}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield conn
            except BaseException:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                raise
            else:
                conn.execute(f"RELEASE {name}")
            finally:
                self._savepoints -= 1
            return
        try:
            conn.execute("BEGIN IMMEDIATE")  # waits up to BUSY_TIMEOUT_MS for another program's write
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorname", "") in _BUSY:
                raise DatabaseInUse(self.path) from exc
            raise StoreError(f"the database {self.path.name} cannot be written: {exc}") from exc
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StoreError(f"could not save to {self.path.name}: {exc}") from exc


def _configure(conn: sqlite3.Connection, path: Path) -> None:
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = _set_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        raise _classified(exc, path) from exc
    if str(mode).lower() != "wal":
        raise StoreError(f"cannot use write-ahead logging for {path} (journal mode {mode}); is it on a network drive?")


def _set_wal(conn: sqlite3.Connection) -> str:
    """Switch to WAL, retrying while another program does the same to a new file: SQLite
    answers that switch with "database is locked" at once, without its busy handler."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorname", "") not in _BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _classified(exc: sqlite3.Error, path: Path) -> StoreError:
    """The store error for what SQLite said while opening ``path``."""
    name = getattr(exc, "sqlite_errorname", "")
    if name in _BUSY:
        return DatabaseInUse(path, str(exc))
    if name in _DAMAGED or isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return DatabaseCorrupt(
            path, "open", str(exc), f"{path} is not a TCM Desktop database (or it is damaged): {exc}"
        )
    return StoreError(f"cannot open the database {path}: {exc}")


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    """DatabaseCorrupt unless ``PRAGMA quick_check`` says ok (every page and b-tree readable)."""
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") in _BUSY:
            raise DatabaseInUse(path, str(exc)) from exc
        raise DatabaseCorrupt(path, "quick_check", str(exc)) from exc
    if rows != ["ok"]:
        raise DatabaseCorrupt(path, "quick_check", "; ".join(rows))


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    migrations = load_migrations()
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current > len(migrations):
        raise SchemaVersionError(
            f"{path.name} was written by a newer version of TCM Desktop (schema {current}, "
            f"this version knows up to {len(migrations)}); please update the program"
        )
    for migration in migrations[current:]:
        # executescript commits anything pending first, so the transaction is
        # part of the script; the version bump commits with the tables and with
        # the migration's Python step.
        script = f"BEGIN IMMEDIATE;\n{migration.sql}\nPRAGMA user_version = {migration.version};\n"
        try:
            conn.executescript(script)
            after = _AFTER_MIGRATION.get(migration.version)
            if after is not None:
                after(conn)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if int(conn.execute("PRAGMA user_version").fetchone()[0]) >= migration.version:
                continue  # another program opening the file at the same moment applied it first
            if getattr(exc, "sqlite_errorname", "") in _BUSY:
                raise DatabaseInUse(path, str(exc)) from exc
            raise StoreError(f"could not upgrade {path.name} with {migration.name}: {exc}") from exc
