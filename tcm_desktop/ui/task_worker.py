"""Long jobs (import, export) on a thread pool, with progress, cancel and every error reported.

The job is a plain function that knows nothing of Qt: it takes a
:class:`TaskState` (``state.progress(done, total)``, ``state.should_stop()``)
and returns an immutable result. :class:`TaskRunner` runs one job at a time
on its own QThreadPool and turns what happens into signals on the GUI
thread: ``progress``, ``finished(result)``, ``cancelled()`` or
``failed(message)``. An exception never disappears: a TcmError reaches the
user as its message, anything else as its type and message (and the
traceback in the log, where :mod:`tcm_desktop.store.log_privacy` withholds record
text). Each job is numbered and only the current one's answers
are passed on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from tcm_desktop.domain import TcmError
from tcm_desktop.store import OperationCancelled

log = logging.getLogger(__name__)


class TaskState:
    """What a job may ask of the runner; safe to use from the pool thread."""

    def __init__(self, report: Callable[[int, int], None]) -> None:
        self._stop = threading.Event()
        self._report = report

    def progress(self, done: int, total: int) -> None:
        self._report(done, total)

    def should_stop(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()


Job = Callable[[TaskState], Any]


class _Relay(QObject):
    """Carries one job's outcome across threads (made in the GUI thread, emitted from the pool)."""

    progress = Signal(int, int, int)  # task id, done, total
    finished = Signal(int, object)  # task id, result
    cancelled = Signal(int)
    failed = Signal(int, str)


class _Task(QRunnable):
    def __init__(self, task_id: int, job: Job, state: TaskState, relay: _Relay) -> None:
        super().__init__()
        self._task_id, self._job, self._state, self._relay = task_id, job, state, relay

    def run(self) -> None:
        task_id, relay = self._task_id, self._relay
        try:
            result = self._job(self._state)
        except OperationCancelled:
            relay.cancelled.emit(task_id)
        except TcmError as exc:
            relay.failed.emit(task_id, str(exc))
        except Exception as exc:  # noqa: BLE001 - every failure reaches the user, and the log for the developer
            log.error("background task %d failed", task_id, exc_info=True)
            relay.failed.emit(task_id, f"{type(exc).__name__}: {exc}")
        else:
            relay.finished.emit(task_id, result)


class TaskRunner(QObject):
    """Runs one job at a time off the GUI thread; see the module docstring.

    A job that honours ``should_stop`` by raising OperationCancelled ends in
    ``cancelled``; one that returns a partial result (an import report that
    says it was cancelled) ends in ``finished``.
    """

    progress = Signal(int, int)  # done, total
    finished = Signal(object)
    cancelled = Signal()
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.progress.connect(self._on_progress)
        self._relay.finished.connect(self._on_finished)
        self._relay.cancelled.connect(self._on_cancelled)
        self._relay.failed.connect(self._on_failed)
        self._task_id = 0
        self._state: TaskState | None = None

    @property
    def running(self) -> bool:
        return self._state is not None

    def start(self, job: Job) -> None:
        """Run ``job``; RuntimeError if one is still running (the dialogs disable their button)."""
        if self._state is not None:
            raise RuntimeError("a task is already running")
        self._task_id += 1
        task_id, relay = self._task_id, self._relay
        self._state = TaskState(lambda done, total: relay.progress.emit(task_id, done, total))
        self._pool.start(_Task(task_id, job, self._state, relay))

    def cancel(self) -> None:
        """Ask the running job to stop; its ``cancelled`` (or partial ``finished``) follows."""
        if self._state is not None:
            self._state.stop()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the pool is idle (closing a dialog, tests); True if it is."""
        return self._pool.waitForDone(timeout_ms)

    def _current(self, task_id: int) -> bool:
        return task_id == self._task_id and self._state is not None

    @Slot(int, int, int)
    def _on_progress(self, task_id: int, done: int, total: int) -> None:
        if self._current(task_id):
            self.progress.emit(done, total)

    @Slot(int, object)
    def _on_finished(self, task_id: int, result: object) -> None:
        if self._current(task_id):
            self._state = None
            self.finished.emit(result)

    @Slot(int)
    def _on_cancelled(self, task_id: int) -> None:
        if self._current(task_id):
            self._state = None
            self.cancelled.emit()

    @Slot(int, str)
    def _on_failed(self, task_id: int, message: str) -> None:
        if self._current(task_id):
            self._state = None
            self.failed.emit(message)
