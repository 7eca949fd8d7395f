"""The audit log as a hash chain: append-only triggers, and `tcm audit verify` naming the row an attacker touched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tcm_desktop.cli import EXIT_FAILED, EXIT_OK, EXIT_WITH_ISSUES, main
from tcm_desktop.domain import Record
from tcm_desktop.store import Database
from tcm_desktop.store.audit import GENESIS_HASH, row_hash, verify_chain
from tcm_desktop.store.migrations import load_migrations


def _log(path: Path, n: int = 6) -> Path:
    with Database.open(path) as db:
        for i in range(n):
            db.audit.append("dr.li", "note", f"R{i}", {"n": i}, {"n": i + 1, "text": "舌红"})
    return path


def _attacker(path: Path) -> sqlite3.Connection:
    """What someone with the file and the sqlite3 shell can do: drop the triggers, then edit."""
    conn = sqlite3.connect(path, isolation_level=None)
    for trigger in ("audit_log_no_update", "audit_log_no_delete", "audit_log_chained"):
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    return conn


def test_each_row_links_to_the_one_before(db: Database) -> None:
    db.records.add(Record("R1", "general", "咳嗽"), who="importer")
    db.audit.append("a", "note", "R1", None, {"x": "二"})
    rows = db.conn.execute(
        "SELECT id, at, who, action, record_id, before_json, after_json, model_version, prev_hash, hash"
        " FROM audit_log ORDER BY id"
    ).fetchall()
    assert len(rows) == 2 and rows[0][8] == GENESIS_HASH and rows[1][8] == rows[0][9]
    for row in rows:
        assert row[9] == row_hash(row[8], row[:8])
    report = db.audit.verify()
    assert report.ok and report.rows == 2 and report.head_id == rows[1][0] and report.head_hash == rows[1][9]


def test_the_database_refuses_changes_deletions_and_unchained_rows(db: Database) -> None:
    entry = db.audit.append("a", "note")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.conn.execute("UPDATE audit_log SET who = 'mallory' WHERE id = ?", (entry,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.conn.execute("UPDATE audit_log SET hash = NULL WHERE id = ?", (entry,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.conn.execute("DELETE FROM audit_log")
    with pytest.raises(sqlite3.IntegrityError, match="hash chain"):
        db.conn.execute("INSERT INTO audit_log (at, who, action) VALUES ('x', 'mallory', 'forged')")
    with pytest.raises(sqlite3.IntegrityError, match="hash chain"):
        db.conn.execute(
            "INSERT INTO audit_log (at, who, action, prev_hash, hash) VALUES ('x', 'm', 'forged', ?, ?)",
            (GENESIS_HASH, "f" * 64),
        )
    assert db.audit.verify().ok


def test_an_edited_row_is_named(tmp_path: Path) -> None:
    path = _log(tmp_path / "a.db")
    conn = _attacker(path)
    conn.execute("UPDATE audit_log SET who = 'mallory' WHERE id = 3")
    report = verify_chain(conn)
    assert not report.ok and [p.row_id for p in report.problems] == [3]
    assert str(report.problems[0]) == "audit row 3: changed after it was written (its hash does not match)"


def test_an_edited_row_with_its_hash_recomputed_is_caught_by_the_next_link(tmp_path: Path) -> None:
    path = _log(tmp_path / "a.db")
    conn = _attacker(path)
    row = conn.execute(
        "SELECT id, at, who, action, record_id, before_json, after_json, model_version, prev_hash"
        " FROM audit_log WHERE id = 2"
    ).fetchone()
    forged = (*row[:2], "mallory", *row[3:8])
    conn.execute("UPDATE audit_log SET who = 'mallory', hash = ? WHERE id = 2", (row_hash(row[8], forged),))
    (problem,) = verify_chain(conn).problems
    assert problem.row_id == 3 and "does not link to row 2" in str(problem)


def test_deleted_rows_are_named(tmp_path: Path) -> None:
    path = _log(tmp_path / "a.db")
    conn = _attacker(path)
    conn.execute("DELETE FROM audit_log WHERE id = 4")
    (problem,) = verify_chain(conn).problems
    assert str(problem) == "audit row 4: row 4 deleted (row 5 follows row 3)"
    conn.execute("DELETE FROM audit_log WHERE id = 6")  # the last row: no row after it to notice
    problems = verify_chain(conn).problems
    assert [p.row_id for p in problems] == [4, 6] and "deleted from the end" in str(problems[1])


def test_tcm_audit_verify_exits_1_naming_the_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _log(tmp_path / "a.db")
    assert main(["audit", "verify", "--db", str(path)]) == EXIT_OK
    assert "intact: 6 row(s)" in capsys.readouterr().out
    conn = _attacker(path)
    conn.execute("UPDATE audit_log SET after_json = '{}' WHERE id = 2")
    conn.close()
    assert main(["audit", "verify", "--db", str(path)]) == EXIT_WITH_ISSUES
    err = capsys.readouterr().err
    assert "audit row 2: changed after it was written" in err
    conn = _attacker(path)
    conn.execute("DELETE FROM audit_log WHERE id = 5")
    conn.close()
    assert main(["audit", "verify", "--db", str(path)]) == EXIT_WITH_ISSUES
    err = capsys.readouterr().err
    assert "audit row 2:" in err and "audit row 5: row 5 deleted" in err
    assert main(["audit", "verify", "--db", str(tmp_path / "missing.db")]) == EXIT_FAILED
    assert "no database" in capsys.readouterr().err


def test_rows_written_before_the_chain_existed_are_sealed_by_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for migration in load_migrations()[:2]:  # a database from before migration 0003
        conn.executescript(f"BEGIN;\n{migration.sql}\nPRAGMA user_version = {migration.version};\nCOMMIT;")
    for i in range(4):
        conn.execute(
            "INSERT INTO audit_log (at, who, action, record_id, after_json) VALUES (?, 'old', 'import', ?, ?)",
            (f"2024-01-0{i + 1}T00:00:00+00:00", f"R{i}", '{"text":"旧"}'),
        )
    conn.close()
    with Database.open(path) as db:
        assert db.schema_version == len(load_migrations())
        assert db.conn.execute("SELECT count(*) FROM audit_log WHERE hash IS NULL").fetchone()[0] == 0
        db.audit.append("new", "note")
        report = db.audit.verify()
        assert report.ok and report.rows == 5
    conn = _attacker(path)
    conn.execute("UPDATE audit_log SET who = 'mallory' WHERE id = 1")  # the legacy rows are covered too
    assert [p.row_id for p in verify_chain(conn).problems] == [1]
