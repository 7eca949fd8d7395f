"""File > Export: the records (all, verified, or those the list shows) as JSONL, JSON, CSV or BIO.

The writing is :func:`tcm_desktop.store.export_records` (one writer per
format, a temporary file renamed into place); here it runs as a pool task on
its own connection, with progress and cancel. A cancelled or failed export
leaves no file behind and no copied images.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.domain import RecordStatus, TcmError
from tcm_desktop.store import EXPORTERS, FORMATS, Database, export_records
from tcm_desktop.ui.record_browser import RecordFilter
from tcm_desktop.ui.task_worker import TaskRunner, TaskState

ERROR_STYLE = "color: #b91c1c;"


class ExportScope(Enum):
    ALL = "all"
    VERIFIED = "verified"
    FILTERED = "filtered"


@dataclass(frozen=True)
class ExportRequest:
    db_path: Path
    data_dir: Path
    fmt: str
    out: Path
    records: RecordFilter  # RecordFilter() = every record, in the order they were added
    deidentify: bool = True  # mask names, ID-card numbers, phone numbers and addresses


@dataclass(frozen=True)
class ExportSummary:
    out: Path
    fmt: str
    count: int


def run_export(request: ExportRequest, state: TaskState) -> ExportSummary:
    """The export itself (no Qt): runs on the pool thread with its own database connection."""
    with Database.open(request.db_path, request.data_dir) as db:
        f = request.records
        ids = None
        if f != RecordFilter():
            rows = db.records.list(**f.store_query(), order_by="created")
            ids = [row.id for row in rows]
        count = export_records(
            db,
            request.fmt,
            request.out,
            ids,
            on_progress=state.progress,
            should_stop=state.should_stop,
            deidentify=request.deidentify,
        )
    return ExportSummary(request.out, request.fmt, count)


def _count(db: Database, f: RecordFilter) -> int:
    try:
        return db.records.count(**f.store_query())
    except TcmError:
        return 0


class ExportDialog(QDialog):
    """Choose format, records and destination; export off the GUI thread.

    ``shown_filter`` is the filter of the record list, offered as "the records
    the list shows" when it is not "all".
    """

    def __init__(self, db: Database, shown_filter: RecordFilter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("导出病历"))
        self.setMinimumWidth(620)
        self._db_path, self._data_dir = db.path, db.data_dir
        self._filters = {
            ExportScope.ALL: RecordFilter(),
            ExportScope.VERIFIED: RecordFilter(status=RecordStatus.VERIFIED),
            ExportScope.FILTERED: shown_filter,
        }
        self._counts = {scope: _count(db, f) for scope, f in self._filters.items()}
        self._confirmed: Path | None = None  # chosen in the save dialog, which asked about overwriting
        self.summary: ExportSummary | None = None
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._show_progress)
        self.runner.finished.connect(self._show_summary)
        self.runner.cancelled.connect(self._show_cancelled)
        self.runner.failed.connect(self._show_failure)
        self._build(db)
        self._update_buttons()

    def _build(self, db: Database) -> None:
        self.format_combo = QComboBox()
        names = {
            "jsonl": self.tr("JSONL（每行一条病历，含标注和表单）"),
            "json": self.tr("JSON（病历列表）"),
            "csv": self.tr("CSV（Excel 可打开）"),
            "bio": self.tr("BIO（每行“字 标签”，用于训练）"),
        }
        for fmt in FORMATS:
            self.format_combo.addItem(names.get(fmt, fmt), fmt)
        self.format_combo.currentIndexChanged.connect(self._format_changed)

        self.scope_buttons = QButtonGroup(self)
        texts = {
            ExportScope.ALL: self.tr("全部病历（{0} 条）"),
            ExportScope.VERIFIED: self.tr("仅已审核的病历（{0} 条）"),
            ExportScope.FILTERED: self.tr("列表当前显示的病历（{0} 条）"),
        }
        scope_box = QVBoxLayout()
        self.scope_radios: dict[ExportScope, QRadioButton] = {}
        for scope in ExportScope:
            radio = QRadioButton(texts[scope].format(self._counts[scope]))
            self.scope_radios[scope] = radio
            self.scope_buttons.addButton(radio)
            scope_box.addWidget(radio)
        self.scope_radios[ExportScope.FILTERED].setVisible(self._filters[ExportScope.FILTERED] != RecordFilter())
        self.scope_radios[ExportScope.ALL].setChecked(True)

        self.out_edit = QLineEdit(str(self._default_out(db)))
        self.out_edit.textChanged.connect(self._update_buttons)
        self.browse_button = QPushButton(self.tr("浏览(&B)…"))
        self.browse_button.clicked.connect(self._choose_out)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(self.browse_button)
        self.images_label = QLabel()
        self.images_label.setWordWrap(True)
        self.deidentify_check = QCheckBox(self.tr("去除身份信息（姓名、身份证号、电话、地址）"))
        self.deidentify_check.setChecked(True)

        form = QFormLayout()
        form.addRow(self.tr("格式："), self.format_combo)
        form.addRow(self.tr("病历："), scope_box)
        form.addRow(self.tr("保存到："), out_row)
        form.addRow("", self.images_label)
        form.addRow("", self.deidentify_check)

        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m")
        self.progress.setValue(0)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.export_button = QPushButton(self.tr("导出(&E)"))
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.cancel_button = QPushButton(self.tr("停止导出"))
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton(self.tr("关闭"))
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.export_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.result_label)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self._format_changed()
        for radio in self.scope_radios.values():
            radio.toggled.connect(self._update_buttons)

    def _default_out(self, db: Database) -> Path:
        documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        folder = Path(documents) if documents else Path.home()
        return folder / f"{db.path.stem}-export.{FORMATS[0]}"

    # -- public ----------------------------------------------------------------
    @property
    def fmt(self) -> str:
        return str(self.format_combo.currentData())

    @property
    def scope(self) -> ExportScope:
        return next(scope for scope, radio in self.scope_radios.items() if radio.isChecked())

    @property
    def out(self) -> Path | None:
        text = self.out_edit.text().strip()
        return Path(text).expanduser() if text else None

    def set_format(self, fmt: str) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(fmt))

    def set_scope(self, scope: ExportScope) -> None:
        self.scope_radios[scope].setChecked(True)

    def set_out(self, path: Path) -> None:
        self.out_edit.setText(str(path))

    def start(self) -> bool:
        """Start the export; False when there is nothing to do or the user keeps an existing file."""
        out = self.out
        if out is None or self.runner.running or self._counts[self.scope] == 0:
            return False
        if out.is_dir():
            self._show_error(self.tr("{0} 是文件夹，请输入文件名。").format(out))
            return False
        if out.exists() and out != self._confirmed and not self.confirm_overwrite(out):
            return False
        self.summary = None
        self.result_label.setStyleSheet("")
        self.result_label.setText(self.tr("正在导出…"))
        self.progress.setRange(0, max(self._counts[self.scope], 1))
        self.progress.setValue(0)
        request = ExportRequest(
            self._db_path, self._data_dir, self.fmt, out, self._filters[self.scope], self.deidentify_check.isChecked()
        )
        self.runner.start(lambda state: run_export(request, state))
        self._update_buttons()
        return True

    def cancel(self) -> None:
        if self.runner.running:
            self.runner.cancel()
            self.cancel_button.setEnabled(False)
            self.result_label.setText(self.tr("正在停止…"))

    def reject(self) -> None:
        if self.runner.running:  # closing while exporting stops the export; nothing is left behind
            self.cancel()
            return
        super().reject()

    def confirm_overwrite(self, out: Path) -> bool:
        """Ask before replacing a file the user typed (the save dialog asks on its own)."""
        answer = QMessageBox.question(self, self.tr("替换文件"), self.tr("{0} 已存在。要替换它吗？").format(out))
        return answer == QMessageBox.StandardButton.Yes

    # -- slots -----------------------------------------------------------------
    def _format_changed(self) -> None:
        fmt = self.fmt
        out = self.out
        if out is not None and out.suffix.lower().lstrip(".") in FORMATS:
            self.out_edit.setText(str(out.with_suffix(f".{fmt}")))
        if EXPORTERS[fmt].copies_images:
            stem = self.out.stem if self.out else "export"
            self.images_label.setText(self.tr("舌象照片复制到同一文件夹下的 {0}_images/。").format(stem))
        else:
            self.images_label.setText(self.tr("BIO 文件只含文本和实体标注，不含表单和照片。"))

    def _choose_out(self) -> None:
        fmt = self.fmt
        path, _filter = QFileDialog.getSaveFileName(
            self,
            self.tr("导出到"),
            str(self.out or Path.home()),
            self.tr("{0} 文件 (*.{1});;所有文件 (*)").format(fmt.upper(), fmt),
        )
        if path:
            self._confirmed = Path(path)
            self.set_out(Path(path))

    def _update_buttons(self) -> None:
        running = self.runner.running
        ready = self.out is not None and any(r.isChecked() for r in self.scope_radios.values())
        self.export_button.setEnabled(not running and ready and self._counts[self.scope] > 0)
        self.cancel_button.setEnabled(running)
        self.close_button.setEnabled(not running)
        for widget in (self.format_combo, self.out_edit, self.browse_button, self.deidentify_check):
            widget.setEnabled(not running)
        for radio in self.scope_radios.values():
            radio.setEnabled(not running)

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _show_summary(self, summary: ExportSummary) -> None:
        self.summary = summary
        self.progress.setValue(self.progress.maximum())
        self.result_label.setText(self.tr("已导出 {0} 条病历到 {1}").format(summary.count, summary.out))
        self._update_buttons()

    def _show_cancelled(self) -> None:
        self.progress.setValue(0)
        self.result_label.setText(self.tr("导出已停止，没有写入文件。"))
        self._update_buttons()

    def _show_failure(self, message: str) -> None:
        self.progress.setValue(0)
        self._show_error(self.tr("导出失败，没有写入文件：{0}").format(message))
        self._update_buttons()

    def _show_error(self, message: str) -> None:
        self.result_label.setStyleSheet(ERROR_STYLE)
        self.result_label.setText(message)
