"""Chinese display names of statuses and specialties, translatable later."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from tcm_desktop.domain import RecordStatus, Schema

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


def specialty_name(schema: Schema, code: str) -> str:
    """The schema's Chinese name of a specialty; the code itself when unknown."""
    for specialty in schema.specialties:
        if specialty.code == code:
            return specialty.zh
    return code
