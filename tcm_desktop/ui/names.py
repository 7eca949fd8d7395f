"""Display names of statuses and of the schema's categories, specialties and form fields.

Statuses are translated through Qt's catalogues; the schema carries its own
Chinese and English names (``zh``, ``en`` in ``resources/schema``), chosen
here by the interface language, so the YAML stays the one place for them.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from tcm_desktop.domain import RecordStatus, Schema
from tcm_desktop.domain.schema import FormField, Label, Specialty
from tcm_desktop.ui.i18n import SOURCE_LANGUAGE, current_language

_STATUS_NAMES = {
    RecordStatus.NEW: QT_TRANSLATE_NOOP("RecordStatus", "未处理"),
    RecordStatus.PREDICTED: QT_TRANSLATE_NOOP("RecordStatus", "已预测"),
    RecordStatus.CORRECTED: QT_TRANSLATE_NOOP("RecordStatus", "已校正"),
    RecordStatus.VERIFIED: QT_TRANSLATE_NOOP("RecordStatus", "已审核"),
}


def status_name(status: RecordStatus | str) -> str:
    """The status as the clinician reads it (未处理, 已预测, 已校正, 已审核)."""
    try:
        status = RecordStatus(status)
    except ValueError:
        return str(status)
    return QCoreApplication.translate("RecordStatus", _STATUS_NAMES[status])


def display_name(item: Label | Specialty | FormField) -> str:
    """The schema's name of ``item`` in the interface language."""
    return item.zh if current_language() == SOURCE_LANGUAGE else item.en


def specialty_name(schema: Schema, code: str) -> str:
    """The schema's name of a specialty in the interface language; the code itself when unknown."""
    for specialty in schema.specialties:
        if specialty.code == code:
            return display_name(specialty)
    return code


def label_name(schema: Schema, code: str) -> str:
    """The schema's name of a span category in the interface language; ``code`` itself when unknown."""
    try:
        return display_name(schema.label(code))
    except KeyError:
        return code


def field_name(schema: Schema, name: str) -> str:
    """The schema's name of a form field in the interface language; ``name`` itself when unknown."""
    try:
        return display_name(schema.field(name))
    except KeyError:
        return name
