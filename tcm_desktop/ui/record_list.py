"""The record list panel: search box, specialty and status filters, the table, the count."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.domain import RecordStatus, Schema
from tcm_desktop.ui.names import display_name, specialty_name, status_name
from tcm_desktop.ui.record_browser import RecordBrowser
from tcm_desktop.ui.tables import read_only_table

SEARCH_DELAY_MS = 250
UNCERTAINTY_BANDS = (0.05, 0.1, 0.2)  # the "low confidence" choices of the filter
_Index = QModelIndex | QPersistentModelIndex


class RecordTableModel(QAbstractTableModel):
    """The browser's current page as rows: 编号, 专科, 状态, 字数."""

    COLUMNS = ("id", "specialty", "status", "length")

    def __init__(self, browser: RecordBrowser, schema: Schema, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._browser = browser
        self._schema = schema
        self._headers = (self.tr("编号"), self.tr("专科"), self.tr("状态"), self.tr("字数"))

    def reload(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else len(self._browser.summaries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._browser.summaries):
            return None
        summary = self._browser.summaries[index.row()]
        column = self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == "id":
                return summary.id
            if column == "specialty":
                return specialty_name(self._schema, summary.specialty)
            if column == "status":
                return status_name(summary.status)
            return summary.length
        if role == Qt.ItemDataRole.TextAlignmentRole and column == "length":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == "id":
            tip = self.tr("有舌象照片") if summary.has_image else self.tr("无舌象照片")
            if summary.uncertainty is not None:
                tip += self.tr("，不确定度 {0:.2f}").format(summary.uncertainty)
            return tip
        if role == Qt.ItemDataRole.UserRole:
            return summary.id
        return None


class RecordListPanel(QWidget):
    """Search, filters and the table of records; selecting a row selects it in the browser.

    Up/Down in the table move the selection, and so the record shown (unless the
    browser's leave guard keeps the record, e.g. for unsaved edits: the row moves back).
    """

    def __init__(self, browser: RecordBrowser, schema: Schema, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._browser = browser
        self._syncing = False

        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText(self.tr("搜索病历文本或编号…"))
        self.search_edit.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply_search)
        self.search_edit.textChanged.connect(lambda _text: self._search_timer.start())
        self.search_edit.returnPressed.connect(self._apply_search)

        self.specialty_combo = QComboBox()
        self.specialty_combo.addItem(self.tr("全部专科"), None)
        for specialty in schema.specialties:
            self.specialty_combo.addItem(display_name(specialty), specialty.code)
        self.specialty_combo.currentIndexChanged.connect(
            lambda _i: browser.set_specialty(self.specialty_combo.currentData())
        )

        self.status_combo = QComboBox()
        self.status_combo.addItem(self.tr("全部状态"), None)
        for status in RecordStatus:
            self.status_combo.addItem(status_name(status), status.value)
        self.status_combo.currentIndexChanged.connect(lambda _i: browser.set_status(self.status_combo.currentData()))

        self.confidence_combo = QComboBox()
        self.confidence_combo.addItem(self.tr("全部置信度"), None)
        for threshold in UNCERTAINTY_BANDS:
            self.confidence_combo.addItem(self.tr("低置信度：不确定度 ≥ {0:.2f}").format(threshold), threshold)
        self.confidence_combo.currentIndexChanged.connect(
            lambda _i: browser.set_min_uncertainty(self.confidence_combo.currentData())
        )

        self.model = RecordTableModel(browser, schema, self)
        self.table = read_only_table(self.model)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(RecordTableModel.COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)

        self.count_label = QLabel()
        self.previous_button = QPushButton(self.tr("上一页"))
        self.next_button = QPushButton(self.tr("下一页"))
        self.previous_button.clicked.connect(lambda: browser.set_page(browser.page - 1))
        self.next_button.clicked.connect(lambda: browser.set_page(browser.page + 1))

        filters = QHBoxLayout()
        filters.addWidget(self.specialty_combo, 1)
        filters.addWidget(self.status_combo, 1)
        footer = QHBoxLayout()
        footer.addWidget(self.count_label, 1)
        footer.addWidget(self.previous_button)
        footer.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search_edit)
        layout.addLayout(filters)
        layout.addWidget(self.confidence_combo)  # its own row: the list stays as narrow as before
        layout.addWidget(self.table, 1)
        layout.addLayout(footer)
        self.setFocusProxy(self.table)

        browser.events.changed.connect(self._on_browser_changed)
        browser.events.selection_changed.connect(self._sync_selection)
        # The guard kept the shown record: move the row back once the table has
        # finished handling the click or key that moved it.
        browser.events.selection_kept.connect(
            lambda _record_id: QTimer.singleShot(0, lambda: self._sync_selection(self._browser.selected_id))
        )
        self._on_browser_changed()

    def _apply_search(self) -> None:
        self._search_timer.stop()
        self._browser.set_search(self.search_edit.text())

    def _on_browser_changed(self) -> None:
        browser = self._browser
        self.model.reload()
        text = self.tr("共 {0} 条").format(browser.total)
        if browser.page_count > 1:
            text += self.tr("（第 {0}/{1} 页）").format(browser.page + 1, browser.page_count)
        self.count_label.setText(text)
        paged = browser.page_count > 1
        self.previous_button.setVisible(paged)
        self.next_button.setVisible(paged)
        self.previous_button.setEnabled(browser.page > 0)
        self.next_button.setEnabled(browser.page + 1 < browser.page_count)
        self._sync_selection(browser.selected_id)

    def _sync_selection(self, record_id: str | None) -> None:
        """Make the table's current row follow the browser's selection."""
        row = self._browser.row_of(record_id)
        selection = self.table.selectionModel()
        self._syncing = True
        try:
            if row is None:
                selection.clear()
                return
            index = self.model.index(row, 0)
            if selection.currentIndex().row() != row or not selection.isRowSelected(row):
                flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
                selection.setCurrentIndex(index, flags)
            self.table.scrollTo(index)
        finally:
            self._syncing = False

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        record_id = self.model.data(current, Qt.ItemDataRole.UserRole)
        if record_id is not None:
            self._browser.select(record_id)
