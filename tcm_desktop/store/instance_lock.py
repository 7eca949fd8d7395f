"""A lock file that says a program has a database open: ``<database>.lock`` beside it.

SQLite already keeps two programs from corrupting one file (WAL, a busy
timeout, ``BEGIN IMMEDIATE``); this lock is for people. The GUI holds it while
a database is open, so a second window on the same file can warn "already
open in another program", and a restore (which replaces the file) refuses to
run under a program that has it open.

The lock is an OS lock on the file (``flock`` on POSIX, ``msvcrt.locking`` on
Windows), released by the OS when the process ends, so a crash never leaves a
stale lock. The file itself stays behind; its text names the last holder.
"""

from __future__ import annotations

import contextlib
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from tcm_desktop.files import PRIVATE_FILE_MODE, restrict
from tcm_desktop.store.errors import DatabaseInUse

_WINDOWS_LOCK_OFFSET = 4096  # msvcrt locks a byte range; keep it clear of the holder text


def lock_path(db_path: Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".lock")


def _try_lock(fh: IO[str]) -> bool:
    if os.name == "nt":
        import msvcrt

        fh.seek(_WINDOWS_LOCK_OFFSET)
        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class InstanceLock:
    """The held lock of one database; :meth:`release` (or closing the program) frees it."""

    def __init__(self, path: Path, fh: IO[str]) -> None:
        self.path = path
        self._fh: IO[str] | None = fh

    @classmethod
    def acquire(cls, db_path: Path, what: str = "TCM Desktop") -> InstanceLock:
        """Take the lock of ``db_path``; :class:`DatabaseInUse` naming the holder when another has it."""
        path = lock_path(db_path)
        try:
            fh = path.open("a+", encoding="utf-8")
        except OSError as exc:  # a read-only folder: nobody can hold the lock there either
            raise DatabaseInUse(db_path, f"cannot create {path.name}: {exc.strerror or exc}") from exc
        restrict(path, PRIVATE_FILE_MODE)
        if not _try_lock(fh):
            fh.close()
            holder = cls.holder(db_path)
            raise DatabaseInUse(db_path, f"open in {holder}" if holder else f"{path.name} is locked")
        fh.seek(0)
        fh.truncate()
        since = datetime.now(UTC).isoformat(timespec="seconds")
        fh.write(f"{what} (process {os.getpid()} on {socket.gethostname()}) since {since}\n")
        fh.flush()
        return cls(path, fh)

    @staticmethod
    def holder(db_path: Path) -> str:
        """What the lock file says about who holds (or last held) the lock; "" if nothing."""
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return lock_path(db_path).read_text(encoding="utf-8").strip()
        return ""

    @property
    def held(self) -> bool:
        return self._fh is not None

    def release(self) -> None:
        """Free the lock (closing the file releases the OS lock); safe to call twice."""
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
