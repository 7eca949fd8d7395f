"""The Retrain dialog: train on the corrected records in a child process, compare, register, switch or roll back.

Start freezes the gold set (the first time) and starts ``training.retrain``
through :class:`RetrainProcess`; the progress bar, the stage and a log pane
follow its events. When it succeeds the new version is registered (with the
training run) and the old and new gold-set scores stand side by side; "使用新
模型" switches the running model to it and "回滚" goes back. Cancel kills the
child; a cancelled or failed run registers nothing and its folder is removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QCloseEvent, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.domain import Schema, TcmError
from tcm_desktop.domain.retraining import (
    MICRO,
    MIN_TRAINING_RECORDS,
    RETRAIN_MODULE,
    DoneEvent,
    LogEvent,
    MetricsRow,
    RetrainJob,
    RetrainOptions,
    ScoreCell,
    metrics_rows,
)
from tcm_desktop.store import BaseModel, RetrainLedger
from tcm_desktop.store.gold_set import MIN_GOLD_RECORDS
from tcm_desktop.ui.model_switcher import ModelSwitcher
from tcm_desktop.ui.names import label_name
from tcm_desktop.ui.retrain_process import RetrainProcess

STOP_WAIT_MS = 10_000
GAIN, LOSS = QColor("#1b7f3b"), QColor("#b3261e")


class RetrainDialog(QDialog):
    """One retraining of ``ledger``'s database, starting from ``base`` (the model in use, if any).

    ``switcher`` is the :class:`~tcm_desktop.ui.model_menu.ModelSwitcher` that
    switches and rolls back. ``model_registered(version)`` is emitted once the
    new version is in the registry; ``finished_run(status)`` when a run ends
    (``succeeded``, ``failed``, ``cancelled``).
    """

    model_registered = Signal(str)
    finished_run = Signal(str)

    def __init__(
        self,
        ledger: RetrainLedger,
        base: BaseModel | None,
        switcher: ModelSwitcher,
        schema: Schema,
        options: RetrainOptions | None = None,
        parent: QWidget | None = None,
        process: RetrainProcess | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("重新训练模型"))
        self.resize(860, 640)
        self._ledger = ledger
        self._base = base
        self._switcher = switcher
        self._schema = schema
        self._options = options or RetrainOptions()
        self.process = process or RetrainProcess(parent=self)
        self.job: RetrainJob | None = None
        self.new_version: str | None = None
        self._run_id: int | None = None
        self._metrics: dict[str, Any] = {}
        self._ready = False

        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.stage_label = QLabel(self.tr("尚未开始"))
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet("color: #b3261e; font-weight: bold;")
        self.error_label.hide()
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(2000)
        self.metrics_table = self._make_metrics_table()

        self.start_button = QPushButton(self.tr("开始训练"))
        self.cancel_button = QPushButton(self.tr("取消训练"))
        self.use_button = QPushButton(self.tr("使用新模型"))
        self.roll_back_button = QPushButton(self.tr("回滚"))
        self.close_button = QPushButton(self.tr("关闭"))
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button.clicked.connect(self.use_new_model)
        self.roll_back_button.clicked.connect(self.roll_back)
        self.close_button.clicked.connect(self.close)
        self.switch_label = QLabel()

        self._build_layout()
        self.process.progress.connect(self._on_progress)
        self.process.log.connect(self._on_child_log)
        self.process.metrics.connect(self._on_metrics)
        self.process.succeeded.connect(self._on_succeeded)
        self.process.failed.connect(self._on_failed)
        self.process.cancelled.connect(self._on_cancelled)
        switcher.switched.connect(self._on_switched)
        switcher.failed.connect(self._on_switch_failed)
        self._show_readiness()
        self._update_buttons()

    def _make_metrics_table(self) -> QTableWidget:
        headers = [self.tr("类别"), self.tr("支持数")]
        headers += [self.tr("旧模型 P"), self.tr("旧模型 R"), self.tr("旧模型 F1")]
        headers += [self.tr("新模型 P"), self.tr("新模型 R"), self.tr("新模型 F1"), self.tr("F1 变化")]
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(headers)):
            table.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        return table

    def _build_layout(self) -> None:
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.stage_label)
        progress_row.addWidget(self.progress_bar, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.metrics_table)
        splitter.addWidget(self.log_view)
        splitter.setSizes([380, 160])
        buttons = QHBoxLayout()
        for button in (self.start_button, self.cancel_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.switch_label)
        for button in (self.use_button, self.roll_back_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addLayout(progress_row)
        layout.addWidget(self.error_label)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

    # -- state ---------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.process.running

    def _show_readiness(self) -> None:
        try:
            readiness = self._ledger.readiness()
        except TcmError as exc:
            self._show_error(str(exc))
            self.start_button.setEnabled(False)
            return
        base = self._base.version if self._base is not None else self.tr("无")
        gold = self.tr("已冻结") if readiness.gold_frozen else self.tr("首次训练时冻结")
        text = self.tr(
            "训练数据：{0} 条已校正或已审核的病历。金标准集：{1} 条已审核病历（{2}，永不参与训练）。当前模型：{3}。"
        ).format(readiness.training_records, readiness.gold_records, gold, base)
        if not readiness.ready:
            text += "\n" + self.tr("至少需要 {0} 条训练病历和 {1} 条金标准病历才能训练。").format(
                MIN_TRAINING_RECORDS, MIN_GOLD_RECORDS
            )
        self.summary_label.setText(text)
        self._ready = readiness.ready
        if not self.process.available:  # an inference-only installation: no tcm-retrain beside the app
            self._ready = False
            program = Path(self.process.command(["-m", RETRAIN_MODULE]).program).name
            self._show_error(
                self.tr("此安装不含训练组件（缺少 {0}），无法重新训练模型。请安装含重新训练功能的完整版本。").format(
                    program
                )
            )

    def _update_buttons(self) -> None:
        running = self.running
        self.start_button.setEnabled(self._ready and not running and self.new_version is None)
        self.cancel_button.setEnabled(running)
        loaded_new = self.new_version is not None and self._active_version() == self.new_version
        self.use_button.setEnabled(self.new_version is not None and not loaded_new and not self._switcher.busy)
        self.roll_back_button.setEnabled(
            self._switcher.previous_version() is not None and not running and not self._switcher.busy
        )

    def _active_version(self) -> str | None:
        try:
            return self._ledger.active_version()
        except TcmError:
            return None

    # -- actions -------------------------------------------------------------------
    @Slot()
    def start(self) -> bool:
        """Plan the job (freezing the gold set if needed) and start the child; False if it cannot."""
        if self.running or not self.process.available:
            return False
        self.error_label.hide()
        self._metrics = {}
        self.metrics_table.setRowCount(0)
        try:
            # runs a killed program left "running" (none of ours: this dialog runs none now)
            for run_id in self._ledger.recover_interrupted():
                self._append_log(self.tr("第 {0} 次训练因程序中断而未完成，已清理").format(run_id))
            self.job, self._run_id = self._ledger.plan(self._base, self._options)
        except TcmError as exc:
            self._show_error(str(exc))
            self._show_readiness()
            self._update_buttons()
            return False
        self._show_readiness()
        self._append_log(self.tr("开始训练新模型 {0}").format(self.job.model_version))
        self.stage_label.setText(self.tr("正在启动…"))
        self.progress_bar.setRange(0, 0)  # busy until the first progress event
        self.process.start(self.job)
        self._update_buttons()
        return True

    @Slot()
    def cancel(self) -> None:
        if self.running:
            self._append_log(self.tr("正在取消…"))
            self.process.cancel()

    def stop(self) -> None:
        """Cancel a running retraining and wait for the child to exit (closing the window)."""
        if self.running:
            self.process.cancel()
            self.process.wait(STOP_WAIT_MS)

    @Slot()
    def use_new_model(self) -> None:
        if self.new_version is not None:
            self.switch_label.setText(self.tr("正在加载新模型…"))
            self._switcher.switch_to(self.new_version)
            self._update_buttons()

    @Slot()
    def roll_back(self) -> None:
        self.switch_label.setText(self.tr("正在回滚…"))
        self._switcher.roll_back()
        self._update_buttons()

    # -- child events ----------------------------------------------------------------
    @Slot(str, int, int)
    def _on_progress(self, stage: str, done: int, total: int) -> None:
        names = {
            "data": self.tr("读取数据"),
            "train": self.tr("训练"),
            "bundle": self.tr("导出模型"),
            "evaluate": self.tr("在金标准集上评估"),
        }
        self.stage_label.setText(names.get(stage, stage))
        self.progress_bar.setRange(0, max(1, total))
        self.progress_bar.setValue(done)

    @Slot(str)
    def _append_log(self, message: str) -> None:
        self.log_view.appendPlainText(message)

    @Slot(object)
    def _on_child_log(self, event: LogEvent) -> None:
        self._append_log(self.child_log_text(event))

    def child_log_text(self, event: LogEvent) -> str:
        """The child's log line in the user's language (its English message for a line without a known key)."""
        v = event.values
        try:
            if event.key == "data":
                return self.tr("训练病历 {0} 条，金标准集 {1} 条（不参与训练）").format(v["training"], v["gold"])
            if event.key == "mix":
                return self.tr("混入生成病历 {0} 条；每条校正病历计 {1} 次；留出 {2} 条用于早停").format(
                    v["replay"], v["repeats"], v["held_out"]
                )
            if event.key == "labels_left_out":
                return self.tr("模型没有这些类别，其实体不参与训练：{0}").format(v["labels"])
            if event.key == "start":
                if v["base"]:
                    return self.tr("在 {0} 的基础上微调，最多 {1} 轮").format(v["base"], v["epochs"])
                return self.tr("训练新模型，最多 {0} 轮").format(v["epochs"])
            if event.key == "epoch":
                return self.tr("第 {0} 轮：验证 F1 {1}（{2} 秒）").format(
                    v["epoch"], f"{float(v['f1']) * 100:.1f}", f"{float(v['seconds']):.0f}"
                )
            if event.key == "export":
                return self.tr("正在导出 INT8 模型包")
            if event.key == "photo_models_kept":
                return self.tr("已沿用当前模型的舌象图片模型")
            if event.key == "old_model_unscored":
                return self.tr("无法评估当前模型：{0}").format(v["reason"])
        except (KeyError, TypeError, ValueError):  # a line from another version: its English is still right
            pass
        return event.message

    @Slot(object, object)
    def _on_metrics(self, old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> None:
        self._metrics = {"gold_set_old": old, "gold_set_new": dict(new)}
        self.show_metrics(metrics_rows(old, new))

    def show_metrics(self, rows: list[MetricsRow]) -> None:
        self.metrics_table.setRowCount(len(rows))
        for row, metrics in enumerate(rows):
            if metrics.label == MICRO:
                name = self.tr("全部类别（微平均）")
            else:
                name = f"{label_name(self._schema, metrics.label)} {metrics.label}"
            support = metrics.new or metrics.old
            cells = [name, str(support.support) if support else "—"]
            cells += _score_texts(metrics.old) + _score_texts(metrics.new)
            change = metrics.f1_change
            cells.append("—" if change is None else f"{change:+.3f}")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column > 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if metrics.label == MICRO:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                if column == len(cells) - 1 and change:
                    item.setForeground(QBrush(GAIN if change > 0 else LOSS))
                self.metrics_table.setItem(row, column, item)

    @Slot(object)
    def _on_succeeded(self, done: DoneEvent) -> None:
        job, run_id = self.job, self._run_id
        assert job is not None and run_id is not None
        try:
            model = self._ledger.register(job, run_id, done, self._metrics, self._base)
        except TcmError as exc:
            self._ledger.abandon(job, run_id, "failed", str(exc))
            self._fail(self.tr("新模型未能注册：{0}").format(exc))
            return
        self.new_version = model.version
        self.stage_label.setText(self.tr("完成"))
        self._append_log(
            self.tr("新模型 {0} 已注册（训练 {1} 条，金标准 {2} 条）").format(
                model.version, done.train_records, done.gold_records
            )
        )
        self._update_buttons()
        self.model_registered.emit(model.version)
        self.finished_run.emit("succeeded")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self.job is not None and self._run_id is not None:
            self._ledger.abandon(self.job, self._run_id, "failed", message)
        self._fail(message)

    def _fail(self, message: str) -> None:
        self.stage_label.setText(self.tr("失败"))
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self._show_error(message)
        self._append_log(message)
        self._update_buttons()
        self.finished_run.emit("failed")

    @Slot()
    def _on_cancelled(self) -> None:
        if self.job is not None and self._run_id is not None:
            self._ledger.abandon(self.job, self._run_id, "cancelled")
        self.stage_label.setText(self.tr("已取消"))
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self._append_log(self.tr("训练已取消，没有注册任何模型。"))
        self._update_buttons()
        self.finished_run.emit("cancelled")

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    @Slot(str)
    def _on_switched(self, version: str) -> None:
        self.switch_label.setText(self.tr("正在使用 {0}").format(version))
        self._update_buttons()

    @Slot(str)
    def _on_switch_failed(self, message: str) -> None:
        self.switch_label.setText("")
        self._show_error(message)
        self._update_buttons()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop()
        super().closeEvent(event)


def _score_texts(cell: ScoreCell | None) -> list[str]:
    if cell is None:
        return ["—", "—", "—"]
    return [f"{cell.precision:.3f}", f"{cell.recall:.3f}", f"{cell.f1:.3f}"]
