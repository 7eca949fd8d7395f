"""Removing image files no record references: what a killed import leaves behind.

A record's image is written into ``<data_dir>/images`` inside the transaction
that inserts the record (:meth:`RecordRepository.add`), so outside a writer's
transaction every file there is referenced by a committed record -- unless a
process died between writing the file and committing, or a commit failed.
:func:`sweep_orphan_images` runs when a database is opened: it takes the write
lock (so no other connection is half way through adding a record), lists the
folder and removes every file no record names, and every half-written
``.incoming-*`` temp file.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from tcm_desktop.store.images import INCOMING_PREFIX

# How long the sweep waits for another connection's write lock before leaving
# the sweep to the next open (it must never hold up opening the database).
SWEEP_LOCK_WAIT_MS = 250


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did: the files it removed, or why it did not run."""

    removed: tuple[Path, ...] = ()
    skipped: str = ""  # non-empty when the sweep did not run (e.g. another program was writing)
    failed: tuple[Path, ...] = field(default=())  # orphans that could not be removed (kept for next time)


def sweep_orphan_images(conn: sqlite3.Connection, images_dir: Path, restore_timeout_ms: int) -> SweepResult:
    """Remove unreferenced files from ``images_dir`` under the write lock (see the module docstring).

    ``conn`` must be in autocommit mode with no transaction open; its busy
    timeout is set back to ``restore_timeout_ms`` afterwards. Never raises for
    a busy database or an undeletable file: those are reported in the result.
    """
    if not images_dir.is_dir() or conn.in_transaction:
        return SweepResult(skipped="" if not conn.in_transaction else "a transaction is open")
    conn.execute(f"PRAGMA busy_timeout = {SWEEP_LOCK_WAIT_MS}")
    try:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            return SweepResult(skipped=f"the database is busy ({exc})")
        try:
            referenced = {row[0] for row in conn.execute("SELECT image_file FROM records WHERE image_file IS NOT NULL")}
            removed: list[Path] = []
            failed: list[Path] = []
            for entry in images_dir.iterdir():
                if entry.name in referenced and not entry.name.startswith(INCOMING_PREFIX):
                    continue
                if not entry.is_file():
                    continue
                try:
                    entry.unlink()
                except OSError:  # e.g. open in a viewer on Windows: the next open tries again
                    failed.append(entry)
                else:
                    removed.append(entry)
        finally:
            conn.execute("ROLLBACK")  # nothing was written; this releases the lock
    except (sqlite3.Error, OSError) as exc:
        return SweepResult(skipped=f"could not sweep {images_dir} ({exc})")
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(restore_timeout_ms)}")
    return SweepResult(tuple(removed), "", tuple(failed))
