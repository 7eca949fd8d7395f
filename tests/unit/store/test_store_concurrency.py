"""Two programs on one database: real processes writing at once, a clear "in use", the instance lock."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tcm_desktop.domain import Record
from tcm_desktop.store import Database, DatabaseInUse, database
from tcm_desktop.store.instance_lock import InstanceLock, lock_path

ROOT = Path(__file__).resolve().parents[3]
N_PER_PROCESS = 300

# Waits for the "go" file, then adds N records (each with its import audit entry) and saves
# an annotation for every third one: many short write transactions, interleaved with the other process.
WRITER = """
import sys, time
from pathlib import Path
from tcm_desktop.domain import Record, Span
from tcm_desktop.store import Database
db_path, prefix, n, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.005)
started = time.time()
with Database.open(db_path) as db:
    for i in range(n):
        rid = f"{prefix}{i:04d}"
        db.records.add(Record(rid, "general", "咳嗽三天，痰黄。"), who=prefix)
        if i % 3 == 0:
            db.annotations.save(rid, [Span(0, 2, "SYM", "咳嗽")], {}, who=prefix)
print("done", started, time.time(), flush=True)
"""

OPENER = """
import sys, time
from pathlib import Path
from tcm_desktop.store import Database
db_path, go = Path(sys.argv[1]), Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
with Database.open(db_path) as db:
    db.audit.append(sys.argv[3], "opened")
print("done", flush=True)
"""

HOLDER = """
import sys
from pathlib import Path
from tcm_desktop.store.instance_lock import InstanceLock
lock = InstanceLock.acquire(Path(sys.argv[1]), "the test's other program")
print("locked", flush=True)
sys.stdin.readline()
"""


def _spawn(script: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str], timeout: float = 120) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return out


def test_two_processes_writing_at_once_keep_the_file_whole_and_every_write(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    Database.open(path).close()  # both open an existing file: schema already there
    go = tmp_path / "go"
    writers = [_spawn(WRITER, path, prefix, N_PER_PROCESS, go) for prefix in ("A", "B")]
    for writer in writers:  # both imported and waiting: neither can finish before the other starts
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    go.touch()
    spans = []
    for writer in writers:
        word, start, end = _finish(writer).split()
        assert word == "done"
        spans.append((float(start), float(end)))
    elapsed = time.perf_counter() - started
    with Database.open(path, check=True) as db:
        assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = db.records.ids()
        assert len(ids) == 2 * N_PER_PROCESS
        assert {i[0] for i in ids} == {"A", "B"}
        assert len(db.annotations.corrections()) == 2 * len(range(0, N_PER_PROCESS, 3))
        assert db.audit.verify().ok  # the chain stays linear although two programs appended
    # the two really wrote at the same time: each began before the other ended
    assert max(s for s, _ in spans) < min(e for _, e in spans)
    switches = sum(1 for a, b in zip(ids, ids[1:], strict=False) if a[0] != b[0])
    print(f"two writers, {2 * N_PER_PROCESS} records, {switches} interleavings, {elapsed:.2f} s")


def test_two_processes_creating_the_same_new_database_both_succeed(tmp_path: Path) -> None:
    for attempt in range(3):
        path = tmp_path / f"fresh{attempt}.db"
        go = tmp_path / f"go{attempt}"
        openers = [_spawn(OPENER, path, go, who) for who in ("first", "second")]
        time.sleep(0.5)
        go.touch()
        for opener in openers:
            _finish(opener)
        with Database.open(path, check=True) as db:
            assert sorted(e.who for e in db.audit.entries()) == ["first", "second"]
            assert db.audit.verify().ok


def test_a_write_blocked_past_the_busy_timeout_says_the_database_is_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "busy.db"
    db = Database.open(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        started = time.perf_counter()
        with pytest.raises(DatabaseInUse, match="busy.db is in use by another program; try again"):
            db.records.add(Record("R1", "general", "咳嗽"), who="t")
        assert 0.15 < time.perf_counter() - started < 5
        assert db.records.count() == 0  # a read still works meanwhile (WAL)
    finally:
        other.execute("ROLLBACK")
        other.close()
    db.records.add(Record("R1", "general", "咳嗽"), who="t")  # free again
    assert db.records.count() == 1
    db.close()


def test_the_instance_lock_names_the_other_program_and_frees_when_it_ends(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    Database.open(path).close()
    holder = _spawn(HOLDER, path)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    try:
        with pytest.raises(DatabaseInUse, match="in use by another program") as caught:
            InstanceLock.acquire(path)
        assert f"process {holder.pid}" in str(caught.value) and "the test's other program" in str(caught.value)
        with Database.open(path) as db:  # the lock is advisory: the database itself still opens
            db.audit.append("second", "opened")
    finally:
        _finish(holder) if holder.stdin is None else holder.communicate("\n", timeout=30)
    with InstanceLock.acquire(path) as lock:  # released by the OS when the holder exited
        assert lock.held and lock_path(path).is_file()
    assert not lock.held
