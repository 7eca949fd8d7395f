"""The retraining child process: started, read line by line, cancelled, and every ending reported.

:class:`RetrainProcess` runs ``python -m training.retrain`` (the job's
:meth:`~tcm_desktop.domain.retraining.RetrainJob.arguments`) in a QProcess,
so torch never loads into the GUI and a crash or out-of-memory there cannot
take the window down. In a frozen installation the child is the
``tcm-retrain`` executable beside the app (:mod:`tcm_desktop.frozen`); an
installation without it reports retraining as not available. Each stdout line is one event
(:func:`~tcm_desktop.domain.retraining.parse_event`); anything else on
stdout is a broken child and ends the run. It finishes with exactly one of
``succeeded``, ``failed`` or ``cancelled``.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal, Slot

from tcm_desktop.domain.retraining import (
    RETRAIN_MODULE,
    DoneEvent,
    ErrorEvent,
    LogEvent,
    MetricsEvent,
    ProgressEvent,
    RetrainError,
    RetrainJob,
    parse_event,
)
from tcm_desktop.frozen import RetrainCommand, retrain_command

STDERR_LINES_KEPT = 30  # shown when the child fails without saying why


class RetrainProcess(QObject):
    """One retraining at a time; ``python`` is the interpreter (default: this one, or ``tcm-retrain`` when frozen)."""

    progress = Signal(str, int, int)  # stage, done, total
    log = Signal(object)  # LogEvent
    metrics = Signal(object, object)  # old metrics or None, new metrics
    succeeded = Signal(object)  # DoneEvent
    failed = Signal(str)  # why, for the user
    cancelled = Signal()

    def __init__(self, python: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._python = python
        self._process: QProcess | None = None
        self._stdout = bytearray()
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES_KEPT)
        self._done: DoneEvent | None = None
        self._have_metrics = False
        self._error: str | None = None  # the child's error event, or what was wrong with its output
        self._cancelling = False
        self._output_broken = False
        self._finished = True
        self._program = ""

    @property
    def running(self) -> bool:
        return not self._finished

    def command(self, arguments: list[str]) -> RetrainCommand:
        """What runs ``python <arguments>``: the given interpreter as is, else :func:`retrain_command`."""
        if self._python is not None:
            return RetrainCommand(self._python, tuple(arguments))
        return retrain_command(arguments, executable=sys.executable)

    @property
    def available(self) -> bool:
        """False in a frozen installation built without ``tcm-retrain`` (inference only)."""
        return self.command(["-m", RETRAIN_MODULE]).available

    def start(self, job: RetrainJob, environment: Mapping[str, str] | None = None) -> None:
        """Start ``job``; ``environment`` adds variables for the child."""
        if self.running:
            raise RuntimeError("a retraining is already running")
        self._stdout.clear()
        self._stderr.clear()
        self._done, self._have_metrics, self._error = None, False, None
        self._cancelling = self._output_broken = False
        self._finished = False
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        env.insert("PYTHONIOENCODING", "utf-8")
        env.insert("OMP_NUM_THREADS", str(job.options.threads))
        for key, value in (environment or {}).items():
            env.insert(key, value)
        process.setProcessEnvironment(env)
        command = self.command(job.arguments())
        self._program = command.program
        process.setProgram(command.program)
        process.setArguments(list(command.arguments))
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process = process
        process.start()

    def cancel(self) -> None:
        """Stop the child now (``cancelled`` follows once it has exited)."""
        if self._process is not None and self.running:
            self._cancelling = True
            self._process.kill()

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the child has exited (closing the window); True when it has."""
        if self._process is None or self._process.state() == QProcess.ProcessState.NotRunning:
            return True
        return self._process.waitForFinished(msecs)

    # -- reading ------------------------------------------------------------------
    @Slot()
    def _read_stdout(self) -> None:
        if self._process is None:
            return
        self._stdout += bytes(self._process.readAllStandardOutput().data())
        while b"\n" in self._stdout:
            raw, _, rest = bytes(self._stdout).partition(b"\n")
            self._stdout = bytearray(rest)
            line = raw.decode("utf-8", errors="replace").strip()
            if line:
                self._handle_line(line)

    def _handle_line(self, line: str) -> None:
        if self._output_broken:
            return
        try:
            event = parse_event(line)
        except RetrainError as exc:
            self._broken(str(exc))
            return
        if isinstance(event, ProgressEvent):
            self.progress.emit(event.stage, event.done, event.total)
        elif isinstance(event, LogEvent):
            self.log.emit(event)
        elif isinstance(event, MetricsEvent):
            self._have_metrics = True
            self.metrics.emit(event.old, event.new)
        elif isinstance(event, DoneEvent):
            self._done = event
        elif isinstance(event, ErrorEvent):
            self._error = event.message

    def _broken(self, message: str) -> None:
        """The child's output cannot be trusted: stop it and fail with ``message``."""
        self._output_broken = True
        self._error = message
        if self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning:
            self._process.kill()

    @Slot()
    def _read_stderr(self) -> None:
        if self._process is None:
            return
        text = bytes(self._process.readAllStandardError().data()).decode("utf-8", errors="replace")
        self._stderr.extend(line for line in text.splitlines() if line.strip())

    # -- endings ------------------------------------------------------------------
    @Slot(int, QProcess.ExitStatus)
    def _on_finished(self, exit_code: int, status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self._read_stderr()
        if self._stdout.strip():  # a last line without its newline
            line = self._stdout.decode("utf-8", errors="replace").strip()
            self._stdout.clear()
            self._handle_line(line)
        self._finish(self._outcome(exit_code, status))

    def _outcome(self, exit_code: int, status: QProcess.ExitStatus) -> Any:
        if self._cancelling:
            return None
        if self._error is not None:
            return self.tr("训练失败：{0}").format(self._error) + self._stderr_tail()
        if status == QProcess.ExitStatus.CrashExit:
            return self.tr("训练进程意外终止（可能是内存不足）。") + self._stderr_tail()
        if exit_code != 0:
            return self.tr("训练进程以退出码 {0} 结束。").format(exit_code) + self._stderr_tail()
        if self._done is None or not self._have_metrics:
            return self.tr("训练进程结束了，但没有报告新模型和评估结果。")
        return self._done

    def _stderr_tail(self) -> str:
        if not self._stderr:
            return ""
        return "\n\n" + "\n".join(self._stderr)

    @Slot(QProcess.ProcessError)
    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and not self._finished:
            message = self._process.errorString() if self._process is not None else ""
            self._finish(self.tr("无法启动训练进程（{0}）：{1}").format(self._program, message))

    def _finish(self, outcome: Any) -> None:
        if self._finished:
            return
        self._finished = True
        if outcome is None:
            self.cancelled.emit()
        elif isinstance(outcome, DoneEvent):
            self.succeeded.emit(outcome)
        else:
            self.failed.emit(str(outcome))
