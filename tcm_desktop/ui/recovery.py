"""Unsaved corrections survive a crash: journaled while dirty, offered back on the next start.

:class:`DraftJournaller` watches the correction flow's :class:`DraftModel`:
a few seconds (``interval_ms``) after an edit leaves the draft unsaved it
writes the draft to the database's :class:`~tcm_desktop.domain.journal.DraftJournal`,
and it removes that file as soon as the draft is clean again (saved,
discarded, or every edit undone).

:func:`offer_recovery` runs after a database is opened: for each journal left
by a crash it opens the record and asks (through an injectable
:class:`RecoveryPrompter`) whether to restore the edits; restored edits are
one undoable step on top of the stored annotation, still unsaved. A journal
whose record is gone or whose text changed is refused with a message and
moved to ``journal/refused`` rather than deleted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from tcm_desktop.domain import DraftAnnotation, DraftModel
from tcm_desktop.domain.journal import DraftJournal, JournalEntry, JournalError
from tcm_desktop.ui.correction import CorrectionController

JOURNAL_INTERVAL_MS = 3_000


class DraftJournaller(QObject):
    """Writes ``model``'s unsaved draft to ``journal()`` at most every ``interval_ms``; see the module docstring.

    ``failed(message)`` says the journal could not be written (a full disk):
    the edits are still in the window, only the crash protection is missing.
    """

    written = Signal(str)  # record id
    failed = Signal(str)

    def __init__(
        self,
        model: DraftModel,
        journal: Callable[[], DraftJournal | None],
        interval_ms: int = JOURNAL_INTERVAL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._journal = journal
        self._journaled: str | None = None  # the record whose journal file this window looks after
        self._last: DraftAnnotation | None = None  # what that file holds
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(1, int(interval_ms)))
        self._timer.timeout.connect(self.flush)
        model.events.changed.connect(self._on_changed)
        model.events.dirty_changed.connect(self._on_dirty_changed)
        model.events.loaded.connect(self._on_loaded)

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    def set_interval_ms(self, interval_ms: int) -> None:
        self._timer.setInterval(max(1, int(interval_ms)))

    @property
    def pending(self) -> bool:
        """Whether an edit waits for the next journal write."""
        return self._timer.isActive()

    def flush(self) -> None:
        """Write the draft now if it is unsaved and differs from what the journal holds."""
        self._timer.stop()
        draft = self._model.draft
        if draft is None or not self._model.is_dirty or draft == self._last:
            return
        journal = self._journal()
        if journal is None:
            return
        try:
            journal.write(draft, self._model.saved)
        except OSError as exc:
            self.failed.emit(self.tr("无法写入恢复文件（{0}）；未保存的修改在程序崩溃时可能丢失").format(exc))
            return
        self._journaled, self._last = draft.record_id, draft
        self.written.emit(draft.record_id)

    def forget(self) -> None:
        """Remove the journal file (the edits were saved or discarded)."""
        self._timer.stop()
        if self._journaled is not None:
            journal = self._journal()
            if journal is not None:
                journal.remove(self._journaled)
        self._journaled, self._last = None, None

    def _on_changed(self, draft: DraftAnnotation) -> None:
        if not self._model.is_dirty:
            return
        if self._journaled != draft.record_id:
            # ours from now on, even before the first write: a restored draft's file came from a crash
            self.forget()
            self._journaled = draft.record_id
        if not self._timer.isActive():
            self._timer.start()

    def _on_dirty_changed(self, dirty: bool) -> None:
        if not dirty:
            self.forget()

    def _on_loaded(self, _draft: DraftAnnotation | None) -> None:
        self._timer.stop()  # another record: its own edits will start the timer again


class RecoveryPrompter(Protocol):
    """The questions recovery asks (injectable so tests never block)."""

    def ask_restore(self, parent: QWidget, entry: JournalEntry, later: int) -> bool: ...

    def show_message(self, parent: QWidget, title: str, text: str) -> None: ...


class MessageBoxRecoveryPrompter:
    """The real dialogs: Restore / Discard, and a warning for journals that cannot be restored."""

    def ask_restore(self, parent: QWidget, entry: JournalEntry, later: int) -> bool:
        buttons = QMessageBox.StandardButton
        text = QCoreApplication.translate(
            "MessageBoxRecoveryPrompter", "程序上次意外退出时，病历 {0} 有未保存的修改（{1}）。恢复这些修改吗？"
        ).format(entry.record_id, entry.written_at)
        if later:
            text += "\n" + QCoreApplication.translate(
                "MessageBoxRecoveryPrompter", "另有 {0} 份病历的未保存修改将在下次启动时提供。"
            ).format(later)
        answer = QMessageBox.question(
            parent,
            QCoreApplication.translate("MessageBoxRecoveryPrompter", "恢复未保存的修改"),
            text,
            buttons.Yes | buttons.Discard,
            buttons.Yes,
        )
        return answer == buttons.Yes

    def show_message(self, parent: QWidget, title: str, text: str) -> None:
        QMessageBox.warning(parent, title, text)


@dataclass
class RecoveryOutcome:
    """What :func:`offer_recovery` did."""

    restored: str | None = None  # the record whose edits are back (unsaved)
    base_changed: bool = False  # its stored annotation changed after the edits were journaled
    discarded: list[str] = field(default_factory=list)  # records whose edits the user declined
    refused: list[str] = field(default_factory=list)  # why journals could not be restored (set aside)
    remaining: int = 0  # journals left for the next start (only one record can be restored at a time)


def offer_recovery(
    journal: DraftJournal,
    correction: CorrectionController,
    select: Callable[[str], bool],
    prompter: RecoveryPrompter,
    parent: QWidget,
) -> RecoveryOutcome:
    """Offer the newest restorable journal of ``journal`` (see the module docstring)."""
    outcome = RecoveryOutcome()
    entries, unreadable = journal.entries()
    for problem in unreadable:
        _set_aside(journal, problem.path, str(problem), outcome)
    for index, entry in enumerate(entries):
        if outcome.restored is not None:
            outcome.remaining += 1
            continue
        if not select(entry.record_id) or correction.draft is None or correction.draft.record_id != entry.record_id:
            why = QCoreApplication.translate("Recovery", "病历 {0} 无法打开（可能已被删除），其未保存的修改未能恢复")
            _set_aside(journal, entry.path, why.format(entry.record_id), outcome)
            continue
        current = correction.draft
        try:
            restored = entry.apply_to(current)
        except JournalError as exc:
            _set_aside(journal, entry.path, str(exc), outcome)
            continue
        if restored == current:  # nothing that is not already stored
            journal.remove(entry.record_id)
            continue
        if not prompter.ask_restore(parent, entry, len(entries) - index - 1):
            journal.remove(entry.record_id)
            outcome.discarded.append(entry.record_id)
            continue
        outcome.base_changed = entry.base_changed(current)
        if correction.restore(restored):
            outcome.restored = entry.record_id
    if outcome.refused:
        title = QCoreApplication.translate("Recovery", "未能恢复的修改")
        where = QCoreApplication.translate("Recovery", "这些恢复文件已移至 {0}").format(journal.folder / "refused")
        prompter.show_message(parent, title, "\n\n".join([*outcome.refused, where]))
    return outcome


def _set_aside(journal: DraftJournal, path: Path | None, why: str, outcome: RecoveryOutcome) -> None:
    outcome.refused.append(why)
    if path is None:
        return
    with contextlib.suppress(OSError):  # it stays where it is and is offered (and refused) again next time
        journal.set_aside(path)
