"""The structured form of a record, read-only for now: general block, then the specialty's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QScrollArea, QVBoxLayout, QWidget

from tcm_desktop.domain import GENERAL, FieldType, FormField, Record, Schema
from tcm_desktop.ui.names import display_name, specialty_name

EMPTY = "—"
LIST_SEPARATOR = "、"


def format_value(form_field: FormField, value: Any) -> str:
    """A form value as the clinician reads it: lists joined, herbs as "党参 15g"."""
    if value is None or value == "" or value == []:
        return EMPTY
    if form_field.type is FieldType.HERB_LIST and isinstance(value, list):
        return LIST_SEPARATOR.join(_format_herb(item) for item in value)
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(item) for item in value)
    if form_field.type is FieldType.DECIMAL and isinstance(value, int | float) and form_field.decimals is not None:
        return f"{value:.{form_field.decimals}f}"
    return str(value)


def _format_herb(item: Any) -> str:
    if not isinstance(item, Mapping):
        return str(item)
    herb, dose = item.get("herb", ""), item.get("dose")
    return f"{herb} {dose}" if dose else str(herb)


class FormView(QScrollArea):
    """One QGroupBox per block of the record's specialty, each field's zh name and value."""

    def __init__(self, schema: Schema, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._schema = schema
        self._groups: list[QGroupBox] = []
        self._values: dict[str, QLabel] = {}
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.clear_record()

    def show_record(self, record: Record) -> None:
        specialty = record.specialty if record.specialty in self._schema.specialty_codes else GENERAL
        form = self._schema.complete_form(specialty, record.form)
        blocks: dict[str, list[FormField]] = {}
        for form_field in self._schema.fields_for(specialty):
            blocks.setdefault(form_field.block, []).append(form_field)
        content, layout = self._new_content()
        for block, fields in blocks.items():
            self._add_group(layout, block, fields, form)
        layout.addStretch(1)
        # Filled before it is set: children added to a visible widget are shown (and
        # laid out) only on a later event-loop pass, too late for a screenshot.
        self.setWidget(content)

    def clear_record(self) -> None:
        content, layout = self._new_content()
        layout.addStretch(1)
        self.setWidget(content)  # deletes the previous content

    def _new_content(self) -> tuple[QWidget, QVBoxLayout]:
        self._groups.clear()
        self._values.clear()
        content = QWidget()
        return content, QVBoxLayout(content)

    def group_titles(self) -> list[str]:
        return [group.title() for group in self._groups]

    def value_text(self, field_name: str) -> str:
        """The text shown for ``field_name``; KeyError when the form does not show it."""
        return self._values[field_name].text()

    def _block_title(self, block: str) -> str:
        if block == GENERAL:
            return self.tr("通用")
        return specialty_name(self._schema, block)

    def _add_group(self, parent: QVBoxLayout, block: str, fields: list[FormField], form: Mapping[str, Any]) -> None:
        group = QGroupBox(self._block_title(block))
        group.setObjectName(f"block_{block}")
        # A grid, not a QFormLayout: only the grid gives wrapped values (long herb lists) their height.
        layout = QGridLayout(group)
        layout.setColumnStretch(1, 1)
        top = Qt.AlignmentFlag.AlignTop
        for row, form_field in enumerate(fields):
            name = QLabel(self.tr("{0}：").format(display_name(form_field)))
            name.setToolTip(form_field.zh if display_name(form_field) == form_field.en else form_field.en)
            value = QLabel(format_value(form_field, form.get(form_field.name)))
            value.setObjectName(f"field_{form_field.name}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(name, row, 0, top | Qt.AlignmentFlag.AlignLeft)
            layout.addWidget(value, row, 1, top)
            self._values[form_field.name] = value
        parent.addWidget(group)
        self._groups.append(group)
