"""模型 > 预测全部待审核病历: every record still waiting for review, predicted in chunks on the inference thread.

The records are the new and predicted ones that have no prediction of the
model in use yet. They go to :meth:`InferenceController.structure_all` a
chunk at a time, so a record the user opens meanwhile waits at most one
chunk; each chunk's predictions are stored as it comes back, so stopping
(or a crash) keeps what was done. Progress shows in the status bar beside a
stop button.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QProgressBar, QToolButton, QWidget

from tcm_desktop.domain import Prediction, RecordStatus, TcmError
from tcm_desktop.store import Database
from tcm_desktop.ui.inference_worker import InferenceController

CHUNK = 32  # records per request: about a second of work on two cores
WAITING = (RecordStatus.NEW, RecordStatus.PREDICTED)


class BatchPrediction(QObject):
    """The action, the status-bar widgets and the run; one run at a time."""

    progress = Signal(int, int)  # records done, total
    ended = Signal(int, int, bool)  # predictions stored, records skipped, cancelled
    message = Signal(str)  # for the status bar

    def __init__(self, database: Callable[[], Database], inference: InferenceController, parent: QWidget) -> None:
        super().__init__(parent)
        self._database = database
        self._inference = inference
        self._pending: list[str] = []
        self._total = self._done = self._stored = self._skipped = 0
        self._running = self._stopping = False

        self.action = QAction(self.tr("预测全部待审核病历(&P)"), self)
        self.action.setToolTip(self.tr("用当前模型预测所有尚无其预测的未处理或已预测病历"))
        self.action.triggered.connect(lambda _checked=False: self.start())
        self.stop_action = QAction(self.tr("停止预测"), self)
        self.stop_action.triggered.connect(lambda _checked=False: self.stop())
        self.progress_bar = QProgressBar(parent)
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.setFormat(self.tr("预测 %v/%m"))
        self.progress_bar.hide()
        self.stop_button = QToolButton(parent)
        self.stop_button.setDefaultAction(self.stop_action)
        self.stop_button.hide()

        inference.batch_done.connect(self._chunk_done)
        inference.batch_cancelled.connect(self._cancelled)
        inference.batch_failed.connect(self._failed)

    @property
    def running(self) -> bool:
        return self._running

    def waiting_ids(self) -> list[str]:
        """New and predicted records without a prediction of the model in use, in id order."""
        version = self._inference.model_version
        return [] if version is None else self._database().predictions.awaiting(version, WAITING)

    def start(self) -> bool:
        """Start a run; False (with a message) when there is no model, nothing to do or one runs."""
        if self._running or self._inference.busy_batch:
            return False
        if not self._inference.has_model or self._inference.model_version is None:
            self.message.emit(self.tr("没有可用的模型，无法批量预测"))
            return False
        try:
            ids = self.waiting_ids()
        except TcmError as exc:
            self.message.emit(self.tr("无法读取病历：{0}").format(exc))
            return False
        if not ids:
            self.message.emit(self.tr("所有待审核病历都已有当前模型的预测"))
            return False
        self._pending, self._total = ids, len(ids)
        self._done = self._stored = self._skipped = 0
        self._running, self._stopping = True, False
        self.action.setEnabled(False)
        self.progress_bar.setRange(0, self._total)
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.stop_button.show()
        self._next_chunk()
        return True

    def stop(self) -> None:
        """Stop after (or inside) the chunk being predicted; what was stored stays."""
        if self._running and not self._stopping:
            self._stopping = True
            self._inference.cancel_batch()

    def _next_chunk(self) -> None:
        while self._pending and not self._stopping:
            chunk, self._pending = self._pending[:CHUNK], self._pending[CHUNK:]
            stored = []
            for record_id in chunk:
                try:
                    stored.append(self._database().records.get(record_id))
                except TcmError:  # deleted or unreadable since the run started
                    self._skipped += 1
            self._done += len(chunk) - len(stored)
            if stored:
                self._inference.structure_all([s.record for s in stored], [s.image_path for s in stored])
                return
        self._end(cancelled=self._stopping)

    @Slot(object)
    def _chunk_done(self, predictions: tuple[Prediction, ...]) -> None:
        if not self._running:
            return
        db = self._database()
        for prediction in predictions:
            try:
                db.predictions.add(prediction)
                self._stored += 1
            except TcmError:  # e.g. the record was changed or removed meanwhile
                self._skipped += 1
        self._done += len(predictions)
        self.progress_bar.setValue(self._done)
        self.progress.emit(self._done, self._total)
        self._next_chunk()

    @Slot()
    def _cancelled(self) -> None:
        if self._running:
            self._end(cancelled=True)

    @Slot(str)
    def _failed(self, message: str) -> None:
        if self._running:
            self.message.emit(self.tr("批量预测失败：{0}").format(message))
            self._end(cancelled=True)

    def _end(self, cancelled: bool) -> None:
        self._running = self._stopping = False
        self._pending = []
        self.action.setEnabled(True)
        self.progress_bar.hide()
        self.stop_button.hide()
        text = self.tr("已停止：预测并保存了 {0} 条病历") if cancelled else self.tr("已预测并保存 {0} 条病历")
        if self._skipped:
            text += self.tr("，跳过 {0} 条").format(self._skipped)
        self.message.emit(text.format(self._stored))
        self.ended.emit(self._stored, self._skipped, cancelled)
