"""The model off the GUI thread: one long-lived QThread owns the Structurer (ONNX sessions loaded once).

:class:`InferenceWorker` lives in the thread and knows the work only
through :class:`~tcm_desktop.inference.structuring.Structurer`; every
outcome, failures included, leaves it as a signal carrying immutable data
(a frozen Prediction, a message string). Nothing is swallowed.

:class:`InferenceController` lives in the GUI thread. It numbers requests;
only the answer to the latest single-record request is passed on, so a
late answer for a record the user has already left is dropped. The worker
also skips queued requests that a newer one has superseded before it starts
them, so flicking through twenty records runs the model once, not twenty
times. Batch runs ("structure all") report progress and stop on
:meth:`InferenceController.cancel_batch`. :meth:`InferenceController.load_model`
swaps the bundle (switching models, rolling back); a bundle that fails to
load leaves the one already loaded answering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from tcm_desktop.domain import Prediction, Record, TcmError
from tcm_desktop.inference.errors import PredictionCancelled
from tcm_desktop.inference.structuring import Structurer


@dataclass(frozen=True)
class PredictRequest:
    request_id: int
    record: Record
    image: Path | None


@dataclass(frozen=True)
class BatchRequest:
    request_id: int
    records: tuple[Record, ...]
    images: tuple[Path | None, ...]


class InferenceWorker(QObject):
    """Runs in the inference thread; slots are called through queued signals only."""

    loaded = Signal(str, str)  # model version, bundle folder
    load_failed = Signal(str)
    reload_failed = Signal(str)  # another bundle failed to load; the previous one still answers
    finished = Signal(int, object)  # request id, Prediction
    failed = Signal(int, str)  # request id, message
    progress = Signal(int, int, int)  # request id, done, total
    batch_finished = Signal(int, object)  # request id, tuple[Prediction, ...]
    batch_cancelled = Signal(int)

    def __init__(self, threads: int = 2) -> None:
        super().__init__()
        self._threads = threads
        self._structurer: Structurer | None = None
        # Written by the GUI thread, read here: plain int assignment is atomic under the GIL.
        self.latest_single = 0
        self.cancel_batches_up_to = 0  # batch requests with an id up to this one stop

    @Slot(str)
    def load(self, folder: str) -> None:
        try:
            structurer = Structurer.load(Path(folder), threads=self._threads)
        except Exception as exc:  # noqa: BLE001 - reported, never lost
            if self._structurer is None:
                self.load_failed.emit(_message(exc))
            else:
                self.reload_failed.emit(_message(exc))
            return
        self._structurer = structurer
        self.loaded.emit(structurer.model_version, folder)

    @Slot(object)
    def predict(self, request: PredictRequest) -> None:
        if request.request_id < self.latest_single:
            return  # superseded while queued
        structurer = self._structurer
        if structurer is None:
            self.failed.emit(request.request_id, self.tr("没有可用的模型"))
            return
        try:
            (prediction,) = structurer.structure([request.record], images=[request.image])
        except Exception as exc:  # noqa: BLE001 - any failure must reach the user, not kill the thread
            self.failed.emit(request.request_id, _message(exc))
            return
        self.finished.emit(request.request_id, prediction)

    @Slot(object)
    def structure_all(self, request: BatchRequest) -> None:
        structurer = self._structurer
        if structurer is None:
            self.failed.emit(request.request_id, self.tr("没有可用的模型"))
            return
        total = len(request.records)
        done: list[Prediction] = []
        try:
            for start in range(0, total, BATCH_CHUNK):
                end = min(start + BATCH_CHUNK, total)
                done += structurer.structure(
                    request.records[start:end],
                    images=request.images[start:end],
                    should_stop=lambda: self.cancel_batches_up_to >= request.request_id,
                )
                self.progress.emit(request.request_id, len(done), total)
        except PredictionCancelled:
            self.batch_cancelled.emit(request.request_id)
            return
        except Exception as exc:  # noqa: BLE001 - reported, never lost
            self.failed.emit(request.request_id, _message(exc))
            return
        self.batch_finished.emit(request.request_id, tuple(done))


BATCH_CHUNK = 16


def _message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, TcmError) else f"{type(exc).__name__}: {exc}"


class InferenceController(QObject):
    """The GUI side: starts the thread, numbers requests, forwards only current answers.

    ``model_dir=None`` runs without a model: requests fail at once with a message.
    """

    model_loaded = Signal(str)
    model_failed = Signal(str)
    model_reload_failed = Signal(str)  # load_model failed; the model loaded before keeps answering
    prediction_ready = Signal(object)  # Prediction of the latest single-record request
    prediction_failed = Signal(str, str)  # record id, message
    batch_progress = Signal(int, int)
    batch_done = Signal(object)  # tuple[Prediction, ...]
    batch_cancelled = Signal()
    batch_failed = Signal(str)

    _load = Signal(str)
    _predict = Signal(object)
    _batch = Signal(object)

    def __init__(self, model_dir: Path | None, threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model_version: str | None = None
        self.model_dir: Path | None = None  # the bundle folder of model_version
        self.busy_batch = False
        self._next_id = 0
        self._latest_single = 0
        self._single_records: dict[int, str] = {}
        self._batch_id = 0
        self._thread = QThread()
        self._thread.setObjectName("inference")
        self._worker = InferenceWorker(threads)
        self._worker.moveToThread(self._thread)
        self._load.connect(self._worker.load)
        self._predict.connect(self._worker.predict)
        self._batch.connect(self._worker.structure_all)
        self._worker.loaded.connect(self._on_loaded)
        self._worker.load_failed.connect(self._on_load_failed)
        self._worker.reload_failed.connect(self.model_reload_failed)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._worker.progress.connect(self._on_progress)
        self._worker.batch_finished.connect(self._on_batch_finished)
        self._worker.batch_cancelled.connect(self._on_batch_cancelled)
        self._thread.start()
        app = QCoreApplication.instance()
        if app is not None:  # a running QThread destroyed at exit aborts the process
            app.aboutToQuit.connect(self.shutdown)
        self.has_model = model_dir is not None
        if model_dir is not None:
            self._load.emit(str(model_dir))

    def load_model(self, model_dir: Path) -> None:
        """Load the bundle in ``model_dir`` instead (switch or roll back); ``model_loaded`` follows,
        or ``model_reload_failed`` while the model loaded before keeps answering (``model_failed``
        when there was none). Requests made from now on are answered by the new model."""
        self.has_model = True
        self._load.emit(str(model_dir))

    def request_prediction(self, record: Record, image: Path | None) -> int:
        """Ask for ``record``'s prediction; earlier single-record requests become stale."""
        request_id = self._new_id()
        self._latest_single = request_id
        self._worker.latest_single = request_id
        self._single_records = {request_id: record.id}
        self._predict.emit(PredictRequest(request_id, record, image))
        return request_id

    def structure_all(self, records: Sequence[Record], images: Sequence[Path | None]) -> int:
        request_id = self._new_id()
        self._batch_id = request_id
        self.busy_batch = True
        self._batch.emit(BatchRequest(request_id, tuple(records), tuple(images)))
        return request_id

    def cancel_batch(self) -> None:
        self._worker.cancel_batches_up_to = self._batch_id

    def shutdown(self) -> None:
        """Stop the thread (after the request it is running); safe to call twice."""
        self._worker.cancel_batches_up_to = self._worker.latest_single = 1 << 62  # drop everything still queued
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    @Slot(str, str)
    def _on_loaded(self, version: str, folder: str) -> None:
        self.model_version = version
        self.model_dir = Path(folder)
        self.model_loaded.emit(version)

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        self.has_model = False
        self._latest_single = -1  # what was asked before this has no model to answer it
        self.model_failed.emit(message)

    @Slot(int, object)
    def _on_finished(self, request_id: int, prediction: Prediction) -> None:
        if request_id == self._latest_single:
            self.prediction_ready.emit(prediction)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        if request_id == self._batch_id and self.busy_batch:
            self.busy_batch = False
            self.batch_failed.emit(message)
        elif request_id == self._latest_single:
            self.prediction_failed.emit(self._single_records.get(request_id, ""), message)

    @Slot(int, int, int)
    def _on_progress(self, request_id: int, done: int, total: int) -> None:
        if request_id == self._batch_id:
            self.batch_progress.emit(done, total)

    @Slot(int, object)
    def _on_batch_finished(self, request_id: int, predictions: tuple[Prediction, ...]) -> None:
        if request_id == self._batch_id:
            self.busy_batch = False
            self.batch_done.emit(predictions)

    @Slot(int)
    def _on_batch_cancelled(self, request_id: int) -> None:
        if request_id == self._batch_id:
            self.busy_batch = False
            self.batch_cancelled.emit()
