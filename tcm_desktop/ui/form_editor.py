"""The structured form as typed widgets: a combo per enum, radio buttons per ternary field,
spin boxes for numbers, line edits for text and lists.

The editor shows a :class:`~tcm_desktop.domain.DraftAnnotation` and reports
what the clinician does -- ``value_edited(field, value)`` with a value of the
field's type, ``field_activated(field)`` when a field gets the focus or its
name is clicked -- but changes no draft itself (the correction controller
turns edits into undoable commands, and the model's changes come back
through :meth:`FormEditor.update_draft`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.domain import GENERAL, DraftAnnotation, FieldType, FormField, Schema
from tcm_desktop.ui.form_view import LIST_SEPARATOR, format_value
from tcm_desktop.ui.names import display_name, specialty_name

HIGHLIGHT_STYLE = "background: #fff1a8; font-weight: bold;"
_LIST_SPLIT = re.compile(r"[、，,；;]+")
_HERB_DOSE = re.compile(r"^(?P<herb>.+?)\s*(?P<dose>\d[\d.]*\s*[^\d\s]*)$")
_NUMBER_RANGE = 1_000_000


class FieldEditor(QWidget):
    """One field's widget; ``edited(value)`` only for the user's changes, never for :meth:`set_value`."""

    edited = Signal(object)

    def __init__(self, form_field: FormField, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form_field = form_field
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        """Report typing not yet confirmed (Enter or leaving the field) as an edit."""

    def focus_widgets(self) -> list[QWidget]:
        """The widgets whose focus means "this field" (for evidence highlighting)."""
        return [self.focusProxy() or self]


class EnumEditor(FieldEditor):
    def __init__(self, form_field: FormField, parent: QWidget | None = None) -> None:
        super().__init__(form_field, parent)
        self.combo = QComboBox()
        for value in form_field.values:
            self.combo.addItem(value, value)
        self.combo.activated.connect(lambda index: self.edited.emit(self.combo.itemData(index)))
        self.layout_.addWidget(self.combo, 1)
        self.setFocusProxy(self.combo)

    def set_value(self, value: Any) -> None:
        index = self.combo.findData(value)
        with QSignalBlocker(self.combo):
            self.combo.setCurrentIndex(index)  # -1 (blank) for a value the schema does not know


class TernaryEditor(FieldEditor):
    """Three radio buttons (有 / 无 / 未提及); arrow keys move between them."""

    def __init__(self, form_field: FormField, parent: QWidget | None = None) -> None:
        super().__init__(form_field, parent)
        self.group = QButtonGroup(self)
        self.buttons: list[QRadioButton] = []
        for i, value in enumerate(form_field.values):
            button = QRadioButton(value)
            button.setObjectName(f"{form_field.name}_{i}")
            self.group.addButton(button, i)
            self.buttons.append(button)
            self.layout_.addWidget(button)
        self.layout_.addStretch(1)
        self.group.idToggled.connect(self._toggled)
        self.setFocusProxy(self.buttons[0])

    def _toggled(self, index: int, checked: bool) -> None:
        if checked:
            self.edited.emit(self.form_field.values[index])

    def set_value(self, value: Any) -> None:
        index = self.form_field.values.index(value) if value in self.form_field.values else -1
        with QSignalBlocker(self.group):
            self.group.setExclusive(index >= 0)
            for i, button in enumerate(self.buttons):
                button.setChecked(i == index)
            self.group.setExclusive(True)
        if index >= 0:
            self.setFocusProxy(self.buttons[index])

    def focus_widgets(self) -> list[QWidget]:
        return list(self.buttons)


class NumberEditor(FieldEditor):
    """A spin box; its lowest step, shown as "—", means no value (null)."""

    def __init__(self, form_field: FormField, parent: QWidget | None = None) -> None:
        super().__init__(form_field, parent)
        decimals = form_field.decimals if form_field.type is FieldType.DECIMAL else 0
        self.spin: QSpinBox | QDoubleSpinBox
        step = 10 ** -(decimals or 0)
        low = (form_field.minimum if form_field.minimum is not None else -_NUMBER_RANGE) - step
        high = form_field.maximum if form_field.maximum is not None else _NUMBER_RANGE
        if form_field.type is FieldType.INTEGER:
            self.spin = QSpinBox()
            self.spin.setRange(int(low), int(high))
        else:
            self.spin = QDoubleSpinBox()
            self.spin.setDecimals(decimals or 0)
            self.spin.setRange(low, high)
            self.spin.setSingleStep(step)
        self._none = low
        self.spin.setSpecialValueText("—")
        if form_field.unit:
            self.spin.setSuffix(f" {form_field.unit}")
        self.spin.setKeyboardTracking(False)  # one edit per finished number, not per digit
        self.spin.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
        self.spin.valueChanged.connect(self._changed)
        self.layout_.addWidget(self.spin)
        self.layout_.addStretch(1)
        self.setFocusProxy(self.spin)

    def _changed(self, value: float) -> None:
        self.edited.emit(self._value(value))

    def _value(self, value: float) -> int | float | None:
        if value <= self._none + 1e-9:
            return None
        if self.form_field.type is FieldType.INTEGER:
            return int(value)
        return round(float(value), self.form_field.decimals or 0)

    def value(self) -> int | float | None:
        return self._value(self.spin.value())

    def set_value(self, value: Any) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            value = None  # a value of the wrong type (not allowed by the schema) shows as "no value"
        with QSignalBlocker(self.spin):
            if isinstance(self.spin, QSpinBox):
                self.spin.setValue(int(self._none if value is None else value))
            else:
                self.spin.setValue(float(self._none if value is None else value))

    def commit(self) -> None:
        if self.spin.text() != self.spin.specialValueText():  # Qt reads "—" back as 0, not as "no value"
            self.spin.interpretText()


class LineEditor(FieldEditor):
    """Free text, a list ("痰热壅肺、肺气虚") or herbs ("党参 15g、炒白术 10g") in one line."""

    def __init__(self, form_field: FormField, parent: QWidget | None = None) -> None:
        super().__init__(form_field, parent)
        self.line = QLineEdit()
        if form_field.type is FieldType.LIST:
            self.line.setPlaceholderText(self.tr("以“、”分隔"))
        elif form_field.type is FieldType.HERB_LIST:
            self.line.setPlaceholderText(self.tr("药名 剂量、药名 剂量"))
        self._shown: Any = None
        self.line.editingFinished.connect(self._finished)
        self.layout_.addWidget(self.line, 1)
        self.setFocusProxy(self.line)

    def parse(self, text: str) -> Any:
        kind = self.form_field.type
        if kind is FieldType.LIST:
            return [item.strip() for item in _LIST_SPLIT.split(text) if item.strip()]
        if kind is FieldType.HERB_LIST:
            return [_parse_herb(item.strip()) for item in _LIST_SPLIT.split(text) if item.strip()]
        return text.strip()

    def commit(self) -> None:
        self._finished()

    def _finished(self) -> None:
        value = self.parse(self.line.text())
        if value != self._shown:
            self._shown = value
            self.edited.emit(value)

    def set_value(self, value: Any) -> None:
        self._shown = value
        text = "" if value in (None, "", []) else format_value(self.form_field, value)
        if self.form_field.type is FieldType.TEXT:
            text = "" if value is None else str(value)
        if self.line.text() != text:
            self.line.setText(text)


def _parse_herb(item: str) -> dict[str, str | None]:
    """ "党参 15g" / "党参15g" -> {herb: 党参, dose: 15g}; a herb without a dose keeps dose None."""
    parts = item.rsplit(maxsplit=1)
    if len(parts) == 2 and any(ch.isdigit() for ch in parts[1]):
        return {"herb": parts[0], "dose": parts[1]}
    match = _HERB_DOSE.match(item)
    if match:
        return {"herb": match["herb"], "dose": match["dose"].replace(" ", "")}
    return {"herb": item, "dose": None}


def make_editor(form_field: FormField) -> FieldEditor:
    """The widget for ``form_field``'s type (no if-ladder at the call sites)."""
    return _EDITORS.get(form_field.type, LineEditor)(form_field)


_EDITORS: dict[FieldType, type[FieldEditor]] = {
    FieldType.ENUM: EnumEditor,
    FieldType.TERNARY: TernaryEditor,
    FieldType.INTEGER: NumberEditor,
    FieldType.DECIMAL: NumberEditor,
}


class FormEditor(QScrollArea):
    """One group per block of the record's specialty (general, then its own), a typed
    editor per field. See the module docstring for the signals."""

    value_edited = Signal(str, object)  # field name, new value
    field_activated = Signal(str)  # field name

    def __init__(self, schema: Schema, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._schema = schema
        self._groups: list[QGroupBox] = []
        self._editors: dict[str, FieldEditor] = {}
        self._names: dict[str, QLabel] = {}
        self._values: dict[str, Any] = {}
        self._highlighted: tuple[str, ...] = ()
        self._focus_owner: dict[QObject, str] = {}
        self._shown: tuple[str, str] | None = None  # (record id, specialty) the widgets were built for
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.clear_record()

    # -- showing ---------------------------------------------------------------
    def show_draft(self, draft: DraftAnnotation | None) -> None:
        """Build the widgets for ``draft``'s record and show its values."""
        if draft is None:
            self.clear_record()
            return
        focused = self._focused_field()
        content, layout = self._new_content()
        blocks: dict[str, list[FormField]] = {}
        for form_field in draft.fields:
            blocks.setdefault(form_field.block, []).append(form_field)
        for block, fields in blocks.items():
            self._add_group(layout, block, fields)
        layout.addStretch(1)
        self._shown = (draft.record_id, draft.specialty)
        self.update_draft(draft)
        # Filled before it is set: children added to a visible widget are shown (and
        # laid out) only on a later event-loop pass, too late for a screenshot.
        self.setWidget(content)
        if focused is not None:  # the keyboard stays in the form, on the same field if it has one
            editor = self._editors.get(focused) or next(iter(self._editors.values()), None)
            if editor is not None:
                editor.setFocus(Qt.FocusReason.OtherFocusReason)

    def _focused_field(self) -> str | None:
        """The field whose widget has the keyboard focus ("" for another spot in the form)."""
        focus = QApplication.focusWidget()
        if focus is None or not self.isAncestorOf(focus):
            return None
        return next((name for name, e in self._editors.items() if e is focus or e.isAncestorOf(focus)), "")

    def update_draft(self, draft: DraftAnnotation) -> None:
        """Show ``draft``'s values (after an edit, undo or redo) in the widgets already built."""
        if self._shown != (draft.record_id, draft.specialty):
            self.show_draft(draft)
            return
        for name, editor in self._editors.items():
            value = draft.value(name)
            self._values[name] = value
            editor.set_value(value)
            evidence = draft.evidence_spans(name)
            tip = editor.form_field.en
            if evidence:
                tip += "\n" + self.tr("依据：{0}").format(LIST_SEPARATOR.join(s.text for s in evidence))
            self._names[name].setToolTip(tip)

    def clear_record(self) -> None:
        content, layout = self._new_content()
        layout.addStretch(1)
        self._shown = None
        self.setWidget(content)  # deletes the previous content

    def focus_first_field(self) -> None:
        """Give the keyboard focus to the first field (Tab moves on from there)."""
        if self._editors:
            next(iter(self._editors.values())).setFocus(Qt.FocusReason.ShortcutFocusReason)

    def commit_pending(self) -> None:
        """Turn typing not yet confirmed (a line still being edited) into an edit, e.g. before a save."""
        for editor in list(self._editors.values()):
            editor.commit()

    # -- evidence highlighting -------------------------------------------------
    def highlight_fields(self, names: Iterable[str]) -> None:
        """Mark the rows of ``names`` (e.g. the fields citing the span at the text cursor)."""
        self._highlighted = tuple(n for n in names if n in self._names)
        for name, label in self._names.items():
            label.setStyleSheet(f"QLabel {{ {HIGHLIGHT_STYLE} }}" if name in self._highlighted else "")
        if self._highlighted:
            self.ensureWidgetVisible(self._names[self._highlighted[0]])

    def highlighted_fields(self) -> tuple[str, ...]:
        return self._highlighted

    # -- reading (tests, main window) ----------------------------------------------
    def group_titles(self) -> list[str]:
        return [group.title() for group in self._groups]

    def value_text(self, field_name: str) -> str:
        """The field's value as the clinician reads it; KeyError when the form does not show it."""
        editor = self._editors[field_name]
        return format_value(editor.form_field, self._values.get(field_name))

    def editor(self, field_name: str) -> FieldEditor:
        """The widget of ``field_name``; KeyError when the form does not show it."""
        return self._editors[field_name]

    # -- building --------------------------------------------------------------
    def _new_content(self) -> tuple[QWidget, QVBoxLayout]:
        for editor in self._editors.values():
            # The old widgets belong to another record: a line losing focus as it is
            # deleted must not report its text as an edit of the next one.
            editor.blockSignals(True)
        self._groups.clear()
        self._editors.clear()
        self._names.clear()
        self._values.clear()
        self._focus_owner.clear()
        self._highlighted = ()
        content = QWidget()
        return content, QVBoxLayout(content)

    def _block_title(self, block: str) -> str:
        if block == GENERAL:
            return self.tr("通用")
        return specialty_name(self._schema, block)

    def _add_group(self, parent: QVBoxLayout, block: str, fields: list[FormField]) -> None:
        group = QGroupBox(self._block_title(block))
        group.setObjectName(f"block_{block}")
        layout = QGridLayout(group)
        layout.setColumnStretch(1, 1)
        for row, form_field in enumerate(fields):
            name = QLabel(self.tr("{0}：").format(display_name(form_field)))
            name.setObjectName(f"name_{form_field.name}")
            editor = make_editor(form_field)
            editor.setObjectName(f"field_{form_field.name}")
            name.setBuddy(editor)
            editor.edited.connect(lambda value, n=form_field.name: self.value_edited.emit(n, value))
            for widget in (name, *editor.focus_widgets()):
                self._focus_owner[widget] = form_field.name
                widget.installEventFilter(self)
            layout.addWidget(name, row, 0, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            layout.addWidget(editor, row, 1)
            self._editors[form_field.name] = editor
            self._names[form_field.name] = name
        parent.addWidget(group)
        self._groups.append(group)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        name = self._focus_owner.get(watched)
        if name is not None:
            if event.type() == QEvent.Type.FocusIn:
                self.field_activated.emit(name)
            elif event.type() == QEvent.Type.MouseButtonPress and isinstance(watched, QLabel):
                self._editors[name].setFocus(Qt.FocusReason.MouseFocusReason)
                self.field_activated.emit(name)
        return super().eventFilter(watched, event)
