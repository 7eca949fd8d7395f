"""Unsaved edits are journaled every few seconds and offered back after a crash.

The journal itself (tcm_desktop/domain/journal.py) without Qt; the window's
journaller and the restore offer with pytest-qt; and a real crash: a GUI
process SIGKILLed after its journal interval, then a new window restores.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from tcm_desktop.domain import DraftAnnotation, default_schema
from tcm_desktop.domain.journal import JOURNAL_FOLDER, DraftJournal, JournalEntry, JournalError
from tcm_desktop.store import Database
from tcm_desktop.ui.correction import LeaveChoice
from tcm_desktop.ui.main_window import MainWindow

from .gui_crash_driver import FORM, RELABEL
from .kill_harness import _driver_env, _gastro

INTERVAL_MS = 150


class Answers:
    """Scripted answers to both prompters (unsaved-edits guard and recovery); records what was asked."""

    def __init__(self, restore: bool = True, leave: LeaveChoice = LeaveChoice.DISCARD) -> None:
        self.restore = restore
        self.leave = leave
        self.offered: list[tuple[str, int]] = []
        self.messages: list[str] = []

    def ask_restore(self, parent: object, entry: JournalEntry, later: int) -> bool:
        self.offered.append((entry.record_id, later))
        return self.restore

    def show_message(self, parent: object, title: str, text: str) -> None:
        self.messages.append(text)

    def ask_unsaved(self, parent: object, record_id: str) -> LeaveChoice:
        return self.leave

    def show_error(self, parent: object, title: str, message: str) -> None:
        self.messages.append(message)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "clinic.db")
    for n in range(3):
        database.records.add(_gastro(f"R{n:03d}"), who="test")
    yield database
    database.close()


def journal_of(db: Database) -> DraftJournal:
    return DraftJournal(db.data_dir / JOURNAL_FOLDER, db.path)


def edited(db: Database, record_id: str = "R000") -> tuple[DraftAnnotation, DraftAnnotation]:
    base = DraftAnnotation.from_record(db.records.get(record_id).record, default_schema())
    return base, base.relabel_span(*RELABEL).set_form_value(*FORM)


# --- the journal, no Qt -------------------------------------------------------------------------


def test_a_journaled_draft_comes_back_onto_the_stored_record(db: Database) -> None:
    base, draft = edited(db)
    journal = journal_of(db)
    path = journal.write(draft, base)
    (entries, problems) = journal.entries()
    assert problems == [] and [e.path for e in entries] == [path]
    assert entries[0].apply_to(base) == draft
    assert not entries[0].base_changed(base)
    journal.remove("R000")
    assert journal.entries() == ([], [])


def test_a_write_cut_short_leaves_the_previous_journal_whole(db: Database) -> None:
    base, draft = edited(db)
    journal = journal_of(db)
    journal.write(draft, base)
    (journal.folder / ".writing-x1.json").write_text('{"format": 1, "record_id": "R0', encoding="utf-8")
    entries, problems = journal.entries()
    assert problems == [] and entries[0].apply_to(base) == draft
    assert not list(journal.folder.glob(".writing-*"))


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_journal_files_are_readable_by_their_owner_only(db: Database) -> None:
    base, draft = edited(db)
    path = journal_of(db).write(draft, base)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_journal_whose_record_text_changed_is_refused(db: Database) -> None:
    base, draft = edited(db)
    journal_of(db).write(draft, base)
    (entry,), _ = journal_of(db).entries()
    changed = DraftAnnotation("R000", base.specialty, "另一段文字" + base.text)
    with pytest.raises(JournalError, match="text of record R000 has changed"):
        entry.apply_to(changed)


def test_an_unreadable_journal_is_reported_not_raised(db: Database) -> None:
    journal = journal_of(db)
    journal.folder.mkdir(parents=True)
    (journal.folder / "draft-broken.json").write_bytes(b"\x00\xff not json")
    entries, problems = journal.entries()
    assert entries == [] and "draft-broken.json cannot be read" in str(problems[0])


# --- the window ---------------------------------------------------------------------------------


def open_window(qtbot, db: Database, tmp_path: Path, answers: Answers) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        db,
        default_schema(),
        settings=settings,
        who="dr.test",
        prompter=answers,  # type: ignore[arg-type]
        journal_interval_ms=INTERVAL_MS,
        recovery_prompter=answers,  # type: ignore[arg-type]
    )
    qtbot.addWidget(window)
    window.show()
    return window


def test_unsaved_edits_are_journaled_and_the_journal_goes_on_save(qtbot, db: Database, tmp_path: Path) -> None:
    window = open_window(qtbot, db, tmp_path, Answers())
    assert window.select_record("R000")
    window.correction.set_form_value(*FORM)
    path = journal_of(db).path_for("R000")
    qtbot.waitUntil(path.exists, timeout=5000)
    assert json.loads(path.read_text(encoding="utf-8"))["form"]["tongue_color"] == FORM[1]
    window.correction.relabel(*RELABEL)  # a later edit is journaled too

    def relabel_journaled() -> bool:
        spans = json.loads(path.read_text(encoding="utf-8"))["spans"]
        return any((s["start"], s["end"], s["label"]) == (*RELABEL[0], RELABEL[1]) for s in spans)

    qtbot.waitUntil(relabel_journaled, timeout=5000)
    assert window.correction.save()
    assert not path.exists()


def test_discarding_or_undoing_every_edit_removes_the_journal(qtbot, db: Database, tmp_path: Path) -> None:
    window = open_window(qtbot, db, tmp_path, Answers(leave=LeaveChoice.DISCARD))
    path = journal_of(db).path_for("R000")
    assert window.select_record("R000")
    window.correction.set_form_value(*FORM)
    qtbot.waitUntil(path.exists, timeout=5000)
    window.correction.undo_stack.undo()
    assert not path.exists()
    window.correction.set_form_value(*FORM)
    qtbot.waitUntil(path.exists, timeout=5000)
    assert window.select_record("R001")  # Discard
    assert not path.exists()


def test_restoring_puts_the_edits_back_unsaved_and_undoable(qtbot, db: Database, tmp_path: Path) -> None:
    base, draft = edited(db, "R001")
    journal_of(db).write(draft, base)
    answers = Answers(restore=True)
    window = open_window(qtbot, db, tmp_path, answers)
    outcome = window.offer_recovery()
    assert answers.offered == [("R001", 0)] and outcome.restored == "R001"
    assert window.browser.selected_id == "R001"
    assert window.correction.draft == draft and window.correction.is_dirty
    window.correction.undo_stack.undo()
    assert window.correction.draft == base and not window.correction.is_dirty
    assert db.annotations.current("R001") is not None and db.records.get("R001").status.value == "new"


def test_declining_deletes_the_journal(qtbot, db: Database, tmp_path: Path) -> None:
    base, draft = edited(db)
    journal_of(db).write(draft, base)
    window = open_window(qtbot, db, tmp_path, Answers(restore=False))
    outcome = window.offer_recovery()
    assert outcome.discarded == ["R000"] and journal_of(db).entries() == ([], [])
    assert not window.correction.is_dirty


def test_a_journal_for_changed_text_is_refused_and_kept_aside(qtbot, db: Database, tmp_path: Path) -> None:
    base, draft = edited(db)
    journal_of(db).write(draft, base)
    db.conn.execute("UPDATE records SET text = '另一段文字' || text WHERE id = 'R000'")
    answers = Answers(restore=True)
    window = open_window(qtbot, db, tmp_path, answers)
    outcome = window.offer_recovery()
    assert outcome.restored is None and answers.offered == []
    assert "text of record R000 has changed" in answers.messages[0]
    assert journal_of(db).entries() == ([], [])
    assert len(list((journal_of(db).folder / "refused").glob("draft-*.json"))) == 1
    assert not window.correction.is_dirty


# --- a real crash ---------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_killed_window_offers_its_edits_on_the_next_start(qtbot, db: Database, tmp_path: Path) -> None:
    db.close()  # the crashing process owns the file now
    driver = Path(__file__).with_name("gui_crash_driver.py")
    command = [sys.executable, str(driver), str(tmp_path / "clinic.db"), str(tmp_path / "crash.ini")]
    proc = subprocess.Popen(
        [*command, str(INTERVAL_MS), "R002"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_driver_env()
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().decode().strip() for _ in range(2)]
        assert lines == ["edited", "journaled R002"], proc.stderr.read() if proc.stderr else ""
        time.sleep(INTERVAL_MS / 1000)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    with Database.open(tmp_path / "clinic.db") as reopened:
        assert reopened.records.get("R002").status.value == "new"  # nothing was saved
        answers = Answers(restore=True)
        window = open_window(qtbot, reopened, tmp_path, answers)
        outcome = window.offer_recovery()
        assert answers.offered == [("R002", 0)] and outcome.restored == "R002"
        draft = window.correction.draft
        assert draft is not None and draft.value(FORM[0]) == FORM[1]
        assert draft.span(RELABEL[0]).label == RELABEL[1]
        assert window.correction.save()
        assert reopened.records.get("R002").status.value == "verified"
        assert journal_of(reopened).entries() == ([], [])
        window.close()
