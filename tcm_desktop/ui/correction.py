"""The correction flow: edits in the text and the form become undoable commands on a
:class:`~tcm_desktop.domain.DraftModel`; Ctrl+S stores the result and verifies the record.

:class:`CorrectionController` ties one :class:`RecordTextView` and one
:class:`FormEditor` to the model:

- text: select (mouse or Shift+arrows) and press a category key (the legend's
  letters) to mark a span; the key with the cursor in a span, or on a selection
  that is exactly a span, relabels it; Delete removes the span at the cursor
  (or every span in the selection); a click on a span (or the Menu key) opens
  a menu to relabel or delete it;
- form: each widget's change is one command (consecutive steps of one field
  merge);
- evidence: the span at the text cursor highlights the form fields that cite
  it; a form field in focus underlines its evidence spans;
- undo/redo: :attr:`undo_stack`, with :attr:`undo_action` and :attr:`redo_action`;
- save (:attr:`save_action`, Ctrl+S): annotation, diff against the latest
  prediction, audit entry and the status ``verified``, in one transaction
  (:meth:`AnnotationRepository.save`); a failure leaves the database as it
  was, keeps the edits and is shown to the user;
- :meth:`confirm_leave` is the guard the main window asks before another
  record, another database or closing replaces unsaved edits: Save, Discard
  or Cancel, asked through an injectable :class:`Prompter`.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, QObject, QPoint, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from tcm_desktop.domain import DraftAnnotation, DraftModel, EditError, Record, Schema, SpanKey, TcmError
from tcm_desktop.store import Database
from tcm_desktop.ui.form_editor import FormEditor
from tcm_desktop.ui.names import display_name
from tcm_desktop.ui.text_view import RecordTextView
from tcm_desktop.ui.undo_commands import (
    AddSpanCommand,
    DeleteSpansCommand,
    DraftCommand,
    RelabelSpanCommand,
    RestoreDraftCommand,
    SetFormValueCommand,
)


class LeaveChoice(Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


class Prompter(Protocol):
    """The questions the correction flow asks the user (injectable so tests never block)."""

    def ask_unsaved(self, parent: QWidget, record_id: str) -> LeaveChoice: ...

    def show_error(self, parent: QWidget, title: str, message: str) -> None: ...


class MessageBoxPrompter:
    """The real dialogs: QMessageBox with Save / Discard / Cancel, and a critical box for errors."""

    def ask_unsaved(self, parent: QWidget, record_id: str) -> LeaveChoice:
        buttons = QMessageBox.StandardButton
        question = QCoreApplication.translate("MessageBoxPrompter", "病历 {0} 的修改尚未保存。保存并审核吗？")
        answer = QMessageBox.question(
            parent,
            QCoreApplication.translate("MessageBoxPrompter", "未保存的修改"),
            question.format(record_id),
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        if answer == buttons.Save:
            return LeaveChoice.SAVE
        if answer == buttons.Discard:
            return LeaveChoice.DISCARD
        return LeaveChoice.CANCEL

    def show_error(self, parent: QWidget, title: str, message: str) -> None:
        QMessageBox.critical(parent, title, message)


def default_user() -> str:
    """Who the audit log names when nobody said: the operating-system login."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (e.g. a service account without one)
        return "unknown"


class CorrectionController(QObject):
    """See the module docstring. ``saved(record_id)`` follows a successful save;
    ``message(text)`` is a line for the status bar (a refused edit, a save)."""

    saved = Signal(str)
    message = Signal(str)
    dirty_changed = Signal(bool)

    def __init__(
        self,
        db: Database,
        schema: Schema,
        text_view: RecordTextView,
        form_editor: FormEditor,
        who: str | None = None,
        prompter: Prompter | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._db = db
        self._schema = schema
        self._dialog_parent = parent if parent is not None else text_view
        self.text_view = text_view
        self.form_editor = form_editor
        self.who = who or default_user()
        self.prompter: Prompter = prompter if prompter is not None else MessageBoxPrompter()
        self.model = DraftModel()
        self.undo_stack = QUndoStack(self)
        self.span_menu: QMenu | None = None
        self._build_actions()

        self.model.events.loaded.connect(self._on_loaded)
        self.model.events.changed.connect(self._on_changed)
        self.model.events.dirty_changed.connect(self.dirty_changed.emit)
        text_view.category_key_pressed.connect(self.mark)
        text_view.delete_pressed.connect(self.delete_at_cursor)
        text_view.span_menu_requested.connect(self.show_span_menu)
        text_view.cursor_span_changed.connect(self._highlight_fields_citing)
        form_editor.value_edited.connect(self.set_form_value)
        form_editor.field_activated.connect(self._emphasise_evidence)

    def _build_actions(self) -> None:
        self.undo_action = self.undo_stack.createUndoAction(self, self.tr("撤销"))
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, self.tr("重做"))
        # Both usual redo keys everywhere (a platform binds only one of them).
        redo_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
        redo_keys += [k for k in map(QKeySequence, ("Ctrl+Shift+Z", "Ctrl+Y")) if k not in redo_keys]
        self.redo_action.setShortcuts(redo_keys)
        self.save_action = QAction(self.tr("保存并审核(&S)"), self)
        self.save_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Save))
        self.save_action.setToolTip(self.tr("保存标注和表单，记录与模型预测的差异，并将病历标为已审核"))
        self.save_action.triggered.connect(self.save)

    def actions(self) -> list[QAction]:
        """Undo, redo and save, for the main window's menu."""
        return [self.undo_action, self.redo_action, self.save_action]

    # -- state -------------------------------------------------------------
    @property
    def draft(self) -> DraftAnnotation | None:
        return self.model.draft

    @property
    def is_dirty(self) -> bool:
        return self.model.is_dirty

    def set_database(self, db: Database) -> None:
        """Save into ``db`` from now on (the main window opened another file)."""
        self._db = db

    def load(self, record: Record | None) -> None:
        """Start correcting ``record`` as it is shown (its annotation or the model's prediction)."""
        self.undo_stack.clear()
        self.model.load(None if record is None else DraftAnnotation.from_record(record, self._schema))

    def offer(self, record: Record) -> bool:
        """Show ``record`` (the model's answer for the record being shown) unless the
        clinician has already changed something; False when the edits were kept."""
        draft = self.model.draft
        if draft is not None and (draft.record_id != record.id or self.model.is_dirty):
            return False
        self.load(record)
        return True

    # -- edits ---------------------------------------------------------------
    def mark(self, label: str) -> None:
        """Mark the selection as ``label``, or relabel the span at the cursor (the category keys)."""
        draft = self.model.draft
        if draft is None:
            return
        start, end = self.text_view.selection()
        if start == end:
            span = self.text_view.span_at_cursor()
            if span is None:
                self.message.emit(self.tr("先选中要标注的文字（鼠标或 Shift+方向键），再按类别键"))
                return
            self._push(lambda: RelabelSpanCommand(self.model, (span.start, span.end), label))
            return
        try:
            key = draft.trimmed(start, end)
        except EditError as exc:
            self._refuse(exc)
            return
        if any((s.start, s.end) == key for s in draft.spans):
            self._push(lambda: RelabelSpanCommand(self.model, key, label))
        elif self._push(lambda: AddSpanCommand(self.model, start, end, label)):
            self.text_view.select_range(key[1], key[1])  # ready for the next Shift+arrows

    def relabel(self, key: SpanKey, label: str) -> None:
        self._push(lambda: RelabelSpanCommand(self.model, key, label))

    def delete(self, keys: list[SpanKey]) -> None:
        if keys:
            self._push(lambda: DeleteSpansCommand(self.model, keys))

    def delete_at_cursor(self) -> None:
        """Delete every span in the selection, or the span at the cursor (the Delete key)."""
        draft = self.model.draft
        if draft is None:
            return
        start, end = self.text_view.selection()
        if start != end:
            keys = [(s.start, s.end) for s in draft.overlapping(start, end)]
        else:
            span = self.text_view.span_at_cursor()
            keys = [] if span is None else [(span.start, span.end)]
        if not keys:
            self.message.emit(self.tr("光标处没有可删除的标注"))
        self.delete(keys)

    def set_form_value(self, name: str, value: Any) -> None:
        self._push(lambda: SetFormValueCommand(self.model, name, value))

    def restore(self, draft: DraftAnnotation) -> bool:
        """Put recovered unsaved edits of the record being edited back, as one undoable step."""
        current = self.model.draft
        if current is None or current.record_id != draft.record_id:
            return False
        return self._push(lambda: RestoreDraftCommand(self.model, draft))

    def _push(self, make: Callable[[], DraftCommand]) -> bool:
        """Push the command ``make`` builds; a refused edit is reported, nothing pushed."""
        if self.model.draft is None:
            return False
        try:
            command = make()
        except EditError as exc:
            self._refuse(exc)
            return False
        if command.changes_anything:
            self.undo_stack.push(command)
        return True

    def _refuse(self, exc: EditError) -> None:
        self.message.emit(self.tr("无法修改：{0}").format(exc))
        self._on_changed(self.model.draft)  # a form widget shows the value the draft still has

    # -- the span menu ---------------------------------------------------------
    def show_span_menu(self, start: int, end: int, where: QPoint) -> QMenu | None:
        """Pop up (non-blocking) the relabel / delete menu of the span at ``start..end``."""
        draft = self.model.draft
        if draft is None:
            return None
        try:
            span = draft.span((start, end))
        except EditError:
            return None
        menu = QMenu(self.text_view)
        menu.setObjectName("span_menu")
        menu.setToolTipsVisible(True)
        menu.addSection(f"“{span.text}”")
        for label in self._schema.labels:
            action = menu.addAction(f"{display_name(label)}(&{label.key})")
            action.setData(label.code)
            action.setCheckable(True)
            action.setChecked(label.code == span.label)
            action.triggered.connect(lambda _checked=False, code=label.code: self.relabel((start, end), code))
        menu.addSeparator()
        delete = menu.addAction(self.tr("删除标注(&X)"))
        delete.setData("delete")
        delete.triggered.connect(lambda: self.delete([(start, end)]))
        menu.aboutToHide.connect(menu.deleteLater)
        self._highlight_fields_citing((start, end))
        self.span_menu = menu
        menu.popup(where)
        return menu

    # -- saving and leaving --------------------------------------------------------
    def save(self) -> bool:
        """Store the draft and verify the record (one transaction); False, after telling
        the user and with the edits kept, when that fails."""
        self.form_editor.commit_pending()
        draft = self.model.draft
        if draft is None:
            return False
        try:
            self._db.annotations.save(
                draft.record_id,
                draft.spans,
                dict(draft.form),
                who=self.who,
                form_evidence=draft.form_evidence(),
                verify=True,
            )
        except TcmError as exc:
            title = self.tr("未能保存")
            text = self.tr("病历 {0} 未保存，数据库保持原样，修改仍在编辑中。\n\n原因：{1}").format(
                draft.record_id, exc
            )
            self.message.emit(self.tr("未能保存 {0}：{1}").format(draft.record_id, exc))
            self.prompter.show_error(self._dialog_parent, title, text)
            return False
        self.model.mark_saved()
        self.undo_stack.setClean()
        self.saved.emit(draft.record_id)
        return True

    def confirm_leave(self, _leaving: str | None = None, _next: str | None = None) -> bool:
        """May the record being edited be replaced? Asks Save / Discard / Cancel when it has
        unsaved edits; True after a successful save or a discard."""
        self.form_editor.commit_pending()
        draft = self.model.draft
        if draft is None or not self.model.is_dirty:
            return True
        choice = self.prompter.ask_unsaved(self._dialog_parent, draft.record_id)
        if choice is LeaveChoice.SAVE:
            return self.save()
        if choice is LeaveChoice.DISCARD:
            self.model.revert()
            self.undo_stack.clear()
            return True
        return False

    # -- views follow the model ------------------------------------------------------
    def _on_loaded(self, draft: DraftAnnotation | None) -> None:
        if draft is None:
            self.text_view.clear_record()
        else:
            self.text_view.show_text(draft.text, draft.spans)
        self.form_editor.show_draft(draft)

    def _on_changed(self, draft: DraftAnnotation | None) -> None:
        if draft is None:
            return
        self.text_view.set_spans(draft.spans)
        self.form_editor.update_draft(draft)
        span = self.text_view.span_at_cursor()
        self._highlight_fields_citing(None if span is None else (span.start, span.end))

    def _highlight_fields_citing(self, key: SpanKey | None) -> None:
        draft = self.model.draft
        self.form_editor.highlight_fields(() if draft is None or key is None else draft.fields_citing(key))

    def _emphasise_evidence(self, name: str) -> None:
        draft = self.model.draft
        if draft is None:
            return
        try:
            spans = draft.evidence_spans(name)
        except EditError:
            spans = ()
        self.text_view.emphasise((s.start, s.end) for s in spans)
