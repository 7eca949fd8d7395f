"""Every correction is a QUndoCommand over the Qt-free :class:`~tcm_desktop.domain.DraftModel`.

A command computes the next draft snapshot when it is made (so an edit the
rules refuse raises :class:`~tcm_desktop.domain.EditError` before anything is
pushed) and keeps both snapshots: ``redo`` puts the new one into the model,
``undo`` the old one. The views follow the model, never the commands.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QUndoCommand

from tcm_desktop.domain import DraftAnnotation, DraftModel, SpanKey
from tcm_desktop.ui.names import display_name, label_name

SET_FORM_VALUE_ID = 1


class DraftCommand(QUndoCommand):
    """Moves ``model`` from its current draft to ``after`` and back."""

    def __init__(self, model: DraftModel, after: DraftAnnotation, text: str) -> None:
        super().__init__(text)
        before = model.draft
        if before is None:
            raise ValueError("no record is being edited")
        self.model = model
        self.before = before
        self.after = after

    @property
    def changes_anything(self) -> bool:
        return self.after != self.before

    def redo(self) -> None:
        self.model.set_draft(self.after)

    def undo(self) -> None:
        self.model.set_draft(self.before)


def _current(model: DraftModel) -> DraftAnnotation:
    if model.draft is None:
        raise ValueError("no record is being edited")
    return model.draft


class AddSpanCommand(DraftCommand):
    def __init__(self, model: DraftModel, start: int, end: int, label: str) -> None:
        draft = _current(model)
        after = draft.add_span(start, end, label)
        added = next(s for s in after.spans if s not in draft.spans)
        super().__init__(
            model,
            after,
            QCoreApplication.translate("DraftCommand", "标注“{0}”为{1}").format(
                added.text, label_name(draft.schema, label)
            ),
        )
        self.span = added


class RelabelSpanCommand(DraftCommand):
    def __init__(self, model: DraftModel, key: SpanKey, label: str) -> None:
        draft = _current(model)
        span = draft.span(key)
        name = label_name(draft.schema, label)
        text = QCoreApplication.translate("DraftCommand", "“{0}”改为{1}").format(span.text, name)
        super().__init__(model, draft.relabel_span(key, label), text)


class DeleteSpansCommand(DraftCommand):
    def __init__(self, model: DraftModel, keys: Iterable[SpanKey]) -> None:
        after = _current(model)
        texts = []
        for key in keys:
            texts.append(after.span(key).text)
            after = after.delete_span(key)
        super().__init__(
            model,
            after,
            QCoreApplication.translate("DraftCommand", "删除{0}").format("、".join(f"“{t}”" for t in texts)),
        )


class SetFormValueCommand(DraftCommand):
    """Consecutive changes of one field merge into one undo step (a spin box stepped five times)."""

    def __init__(self, model: DraftModel, name: str, value: Any) -> None:
        draft = _current(model)
        shown = display_name(draft.form_field(name))
        text = QCoreApplication.translate("DraftCommand", "{0}改为{1}").format(shown, value)
        super().__init__(model, draft.set_form_value(name, value), text)
        self.name = name

    def id(self) -> int:
        return SET_FORM_VALUE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetFormValueCommand) or other.name != self.name or other.before != self.after:
            return False
        self.after = other.after
        self.setText(other.text())
        if self.after == self.before:
            self.setObsolete(True)  # changed back: nothing left to undo
        return True


class RestoreDraftCommand(DraftCommand):
    """Unsaved edits recovered after a crash, put back as one step (undo returns to the stored annotation)."""

    def __init__(self, model: DraftModel, restored: DraftAnnotation) -> None:
        super().__init__(model, restored, QCoreApplication.translate("DraftCommand", "恢复未保存的修改"))
