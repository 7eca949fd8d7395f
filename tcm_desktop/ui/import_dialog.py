"""File > Import: records from a JSONL, JSON, CSV or BIO file or a folder of .txt files.

The reading and storing is :func:`tcm_desktop.store.import_records` (one reader
per format, one transaction per record); here it runs as a pool task on its
own connection to the same database file, with a progress bar and a cancel
button, and ends in a report that lists every skipped line or file with where
and why. ``imported(ImportSummary)`` carries that report; ``database_changed()``
follows every run, whatever its end, so the window refreshes its list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.domain import TcmError
from tcm_desktop.store import Database, ImportIssue, ImportReport, import_records
from tcm_desktop.store.importers import reader_for
from tcm_desktop.ui.tables import read_only_table
from tcm_desktop.ui.task_worker import TaskRunner, TaskState

ERROR_STYLE = "color: #b91c1c;"


@dataclass(frozen=True)
class ImportRequest:
    """What to import into which database (the task opens its own connection)."""

    source: Path
    db_path: Path
    data_dir: Path
    who: str
    deidentify: bool = False  # mask names, ID numbers, phones and addresses before storing


@dataclass(frozen=True)
class ImportSummary:
    """The outcome of one import, immutable so it can cross threads."""

    source: Path
    imported: int
    skipped: int
    total: int
    cancelled: bool
    issues: tuple[ImportIssue, ...]
    notes: tuple[str, ...]

    @classmethod
    def of(cls, source: Path, report: ImportReport) -> ImportSummary:
        return cls(
            source,
            report.imported,
            report.skipped,
            report.total,
            report.cancelled,
            tuple(report.issues),
            tuple(report.notes),
        )


def run_import(request: ImportRequest, state: TaskState) -> ImportSummary:
    """The import itself (no Qt): runs on the pool thread with its own database connection."""
    with Database.open(request.db_path, request.data_dir) as db:
        report = import_records(
            request.source,
            db,
            who=request.who,
            on_progress=state.progress,
            should_stop=state.should_stop,
            deidentify=request.deidentify,
        )
    return ImportSummary.of(request.source, report)


class ImportDialog(QDialog):
    """Pick a file or folder, import it off the GUI thread, show what happened."""

    imported = Signal(object)  # ImportSummary, also after a cancelled import (what was stored stays)
    database_changed = Signal()  # after every run: finished, cancelled or failed

    def __init__(self, db: Database, who: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("导入病历"))
        self.setMinimumSize(720, 480)
        self._db_path, self._data_dir, self._who = db.path, db.data_dir, who
        self.summary: ImportSummary | None = None
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._show_progress)
        self.runner.finished.connect(self._show_summary)
        self.runner.cancelled.connect(self._show_cancelled)
        self.runner.failed.connect(self._on_failed)
        self._build()
        self._update_buttons()

    def _build(self) -> None:
        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText(self.tr("JSONL、JSON、CSV、BIO 文件或 .txt 文件夹"))
        self.source_edit.textChanged.connect(self._describe_source)
        self.file_button = QPushButton(self.tr("选择文件(&F)…"))
        self.file_button.clicked.connect(self._choose_file)
        self.folder_button = QPushButton(self.tr("选择文件夹(&D)…"))
        self.folder_button.clicked.connect(self._choose_folder)
        source_row = QHBoxLayout()
        source_row.addWidget(QLabel(self.tr("来源：")))
        source_row.addWidget(self.source_edit, 1)
        source_row.addWidget(self.file_button)
        source_row.addWidget(self.folder_button)

        self.format_label = QLabel()
        self.deidentify_check = QCheckBox(self.tr("导入时去除身份信息（姓名、身份证号、电话、地址）"))
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m")
        self.progress.setValue(0)
        self.summary_label = QLabel(self.tr("选择要导入的文件或文件夹。"))
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.issues_table = QTableWidget(0, 3)
        read_only_table(table=self.issues_table)
        self.issues_table.setHorizontalHeaderLabels([self.tr("位置"), self.tr("记录或内容"), self.tr("原因")])
        header = self.issues_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.notes_label = QLabel()
        self.notes_label.setWordWrap(True)

        self.import_button = QPushButton(self.tr("导入(&I)"))
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(self.start)
        self.cancel_button = QPushButton(self.tr("停止导入"))
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton(self.tr("关闭"))
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.import_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addLayout(source_row)
        layout.addWidget(self.format_label)
        layout.addWidget(self.deidentify_check)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.issues_table, 1)
        layout.addWidget(self.notes_label)
        layout.addLayout(buttons)

    # -- public ----------------------------------------------------------------
    def set_source(self, path: Path) -> None:
        self.source_edit.setText(str(path))

    @property
    def source(self) -> Path | None:
        text = self.source_edit.text().strip()
        return Path(text).expanduser() if text else None

    def start(self) -> bool:
        """Start importing the chosen source; False (with the reason shown) if it cannot be read."""
        source = self.source
        if source is None or self.runner.running:
            return False
        try:
            reader_for(source)
        except TcmError as exc:
            self._show_failure(str(exc))
            return False
        self.summary = None
        self.issues_table.setRowCount(0)
        self.notes_label.clear()
        self.progress.setRange(0, 0)  # reading the file: no count yet
        self.summary_label.setStyleSheet("")
        self.summary_label.setText(self.tr("正在导入 {0}…").format(source.name))
        request = ImportRequest(source, self._db_path, self._data_dir, self._who, self.deidentify_check.isChecked())
        self.runner.start(lambda state: run_import(request, state))
        self._update_buttons()
        return True

    def cancel(self) -> None:
        """Stop after the record being stored; what was imported stays and is reported."""
        if self.runner.running:
            self.runner.cancel()
            self.cancel_button.setEnabled(False)
            self.summary_label.setText(self.tr("正在停止…"))

    def reject(self) -> None:
        if self.runner.running:  # closing while importing stops the import; the report follows
            self.cancel()
            return
        super().reject()

    # -- slots -----------------------------------------------------------------
    def _choose_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            self.tr("选择要导入的文件"),
            str(self.source.parent if self.source else Path.home()),
            self.tr("可导入的文件 (*.jsonl *.ndjson *.json *.csv *.bio *.txt);;所有文件 (*)"),
        )
        if path:
            self.set_source(Path(path))

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, self.tr("选择 .txt 病历所在的文件夹"), str(self.source or Path.home())
        )
        if path:
            self.set_source(Path(path))

    def _describe_source(self) -> None:
        source = self.source
        names = {
            "folder": self.tr("文件夹：每个 .txt 文件一条病历，同名图片为舌象照片"),
            "jsonl": self.tr("JSONL：每行一条病历"),
            "json": self.tr("JSON：病历列表"),
            "csv": self.tr("CSV：需有 id 和 text 列"),
            "bio": self.tr("BIO：每行“字 标签”，空行分隔病历"),
            "text": self.tr("文本文件：一条病历"),
        }
        if source is None:
            self.format_label.clear()
        elif not source.exists():
            self.format_label.setText(self.tr("找不到 {0}").format(source))
        else:
            try:
                name = reader_for(source).name
            except TcmError as exc:
                self.format_label.setText(str(exc))
            else:
                self.format_label.setText(self.tr("格式：{0}").format(names.get(name, name)))
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.runner.running
        source = self.source
        self.import_button.setEnabled(not running and source is not None and source.exists())
        self.cancel_button.setEnabled(running)
        self.close_button.setEnabled(not running)
        for widget in (self.source_edit, self.file_button, self.folder_button):
            widget.setEnabled(not running)

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _show_summary(self, summary: ImportSummary) -> None:
        self.summary = summary
        self.progress.setRange(0, max(summary.total, 1))
        self.progress.setValue(summary.imported + summary.skipped)
        text = self.tr("已导入 {0} 条病历，跳过 {1} 条，{2} 个问题。")
        text = text.format(summary.imported, summary.skipped, len(summary.issues))
        if summary.cancelled:
            done = summary.imported + summary.skipped
            stopped = self.tr("已停止：处理了 {0} / {1} 项，已导入的病历保留在数据库中。").format(done, summary.total)
            text = f"{stopped}\n{text}"
        self.summary_label.setText(text)
        self.issues_table.setRowCount(len(summary.issues))
        for row, issue in enumerate(summary.issues):
            for column, value in enumerate((issue.where, issue.what, issue.why)):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                self.issues_table.setItem(row, column, item)
        self.notes_label.setText("\n".join(summary.notes))
        self._update_buttons()
        self.imported.emit(summary)
        self.database_changed.emit()

    def _show_cancelled(self) -> None:
        self.summary_label.setText(self.tr("导入已停止。"))
        self._update_buttons()
        self.database_changed.emit()

    def _show_failure(self, message: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.summary_label.setStyleSheet(ERROR_STYLE)
        self.summary_label.setText(self.tr("无法导入：{0}").format(message))
        self._update_buttons()

    def _on_failed(self, message: str) -> None:
        self._show_failure(message)
        self.database_changed.emit()  # records stored before the failure stay
