"""The review queue dock: unreviewed records, those the model is least sure of first, each with its reason.

The order and the reasons come from :class:`~tcm_desktop.store.ReviewQueue`
(model uncertainty, text-image disagreements on the tongue); this dock only
shows them. A click on a row emits ``record_chosen(record_id)``, which the
main window turns into opening the record. It refreshes when asked and
while hidden only notes that it should, so a closed dock costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.domain import Schema, TcmError
from tcm_desktop.store import QueueEntry
from tcm_desktop.ui.names import field_name
from tcm_desktop.ui.tables import read_only_table

QUEUE_LIMIT = 500  # rows shown; the queue's head is what matters
_Index = QModelIndex | QPersistentModelIndex
QueueSource = Callable[[int], Sequence[QueueEntry]]


class ReviewQueueModel(QAbstractTableModel):
    """Rows of queue entries: 编号, 原因."""

    def __init__(self, schema: Schema, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._schema = schema
        self.entries: tuple[QueueEntry, ...] = ()
        self._headers = (self.tr("编号"), self.tr("原因"))

    def set_entries(self, entries: Sequence[QueueEntry]) -> None:
        self.beginResetModel()
        self.entries = tuple(entries)
        self.endResetModel()

    def reason(self, entry: QueueEntry) -> str:
        """Why ``entry`` is where it is, e.g. "不确定度 0.31；舌象图文不一致: 舌色"."""
        if not entry.predicted:
            return self.tr("尚未预测")
        parts = [self.tr("不确定度 {0:.2f}").format(entry.uncertainty)]
        if entry.disagreements:
            fields = "、".join(field_name(self._schema, d.field) for d in entry.disagreements)
            parts.append(self.tr("舌象图文不一致: {0}").format(fields))
        if entry.image_problem:
            parts.append(self.tr("舌象照片无法使用"))
        return "；".join(parts)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.entries):
            return None
        entry = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.record_id if index.column() == 0 else self.reason(entry)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tr("优先级 {0:.2f}").format(entry.score) + (
                self.tr("（模型 {0}）").format(entry.model_version) if entry.model_version else ""
            )
        if role == Qt.ItemDataRole.UserRole:
            return entry.record_id
        return None


class ReviewQueueDock(QDockWidget):
    """The queue as a dock; ``source(limit)`` gives the entries (e.g. ``db.review_queue.entries``)."""

    record_chosen = Signal(str)

    def __init__(self, source: QueueSource, schema: Schema, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("待审核队列"), parent)
        self.setObjectName("review_queue_dock")
        self._source = source
        self._stale = True
        self.model = ReviewQueueModel(schema, self)
        self.table = read_only_table(self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.clicked.connect(self._choose)
        self.table.activated.connect(self._choose)
        self.count_label = QLabel()
        self.refresh_button = QPushButton(self.tr("刷新"))
        self.refresh_button.clicked.connect(lambda: self.refresh(force=True))
        footer = QHBoxLayout()
        footer.addWidget(self.count_label, 1)
        footer.addWidget(self.refresh_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(footer)
        self.setWidget(body)

    def focus_table(self) -> None:
        """Show the queue (if it was closed) and put the keyboard in it: arrows move, Enter opens."""
        self.show()
        self.raise_()
        self.refresh(force=True)
        self.table.setFocus()
        if not self.table.currentIndex().isValid() and self.model.rowCount() > 0:
            self.table.setCurrentIndex(self.model.index(0, 0))

    def refresh(self, *_args: object, force: bool = False) -> None:
        """Reload the queue now when visible (or ``force``), else when it is next shown."""
        if not (force or self.isVisible()):
            self._stale = True
            return
        try:
            entries = self._source(QUEUE_LIMIT)
        except TcmError as exc:
            self.count_label.setText(self.tr("队列无法读取：{0}").format(exc))
            return
        self._stale = False
        chosen = self.model.data(self.table.currentIndex(), Qt.ItemDataRole.UserRole)
        self.model.set_entries(entries)
        rows = [e.record_id for e in self.model.entries]
        if chosen in rows:  # keep the row the clinician is on (selecting it does not open it again)
            self.table.selectRow(rows.index(chosen))
        shown = self.tr("待审核 {0} 条").format(len(entries))
        self.count_label.setText(
            shown if len(entries) < QUEUE_LIMIT else self.tr("待审核：前 {0} 条").format(QUEUE_LIMIT)
        )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh(force=True)

    def _choose(self, index: QModelIndex) -> None:
        record_id = self.model.data(index, Qt.ItemDataRole.UserRole)
        if record_id:
            self.record_chosen.emit(str(record_id))
