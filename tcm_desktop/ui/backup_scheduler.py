"""Scheduled backups while the program runs, off the GUI thread.

:class:`BackupScheduler` makes a backup when the program starts if the newest
one is older than the interval, then one every interval, each with
:func:`tcm_desktop.store.backup.backup_database` (SQLite's backup API on its
own connection, so the clinician keeps working) in a
:class:`~tcm_desktop.ui.task_worker.TaskRunner`. A tick that comes while a
backup is still running is skipped. Settings > Preferences changes the
interval and how many backups are kept at once (:meth:`apply_settings`).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction

from tcm_desktop.domain.settings import AppSettings
from tcm_desktop.store.backup import DEFAULT_KEEP, BackupInfo, backup_database, backup_due, backups_dir
from tcm_desktop.ui.task_worker import TaskRunner, TaskState

MINUTE_MS = 60_000


class BackupScheduler(QObject):
    """Backups of the database file at ``db_path`` into ``folder`` (default: its data folder's backups)."""

    backed_up = Signal(object)  # BackupInfo
    failed = Signal(str)

    def __init__(
        self,
        db_path: Path,
        interval_ms: int,
        keep: int = DEFAULT_KEEP,
        folder: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path)
        self.folder = Path(folder) if folder is not None else backups_dir(self.db_path)
        self.keep = keep
        self.interval_ms = interval_ms
        self.last: BackupInfo | None = None
        self.runner = TaskRunner(self)
        self.runner.finished.connect(self._done)
        self.runner.failed.connect(self.failed)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.backup_now)
        self.backup_action = QAction(self.tr("立即备份(&B)"), self)  # 文件 menu: a backup on demand
        self.backup_action.triggered.connect(lambda _checked=False: self.backup_now())

    @classmethod
    def for_settings(
        cls, db_path: Path, settings: AppSettings, folder: Path | None = None, parent: QObject | None = None
    ) -> BackupScheduler:
        return cls(db_path, settings.backup_interval_minutes * MINUTE_MS, settings.backup_keep, folder, parent)

    @property
    def enabled(self) -> bool:
        return self.interval_ms > 0

    def start(self) -> bool:
        """Start the timer; back up now when the newest backup is older than the interval.
        True when a backup was started."""
        self.timer.stop()
        if not self.enabled:
            return False
        self.timer.start(self.interval_ms)
        if backup_due(self.db_path, timedelta(milliseconds=self.interval_ms), self.folder):
            return self.backup_now()
        return False

    def apply_settings(self, settings: AppSettings) -> None:
        """Use the interval and count of ``settings`` from now on."""
        self.keep = settings.backup_keep
        interval = settings.backup_interval_minutes * MINUTE_MS
        if interval != self.interval_ms or not self.timer.isActive():
            self.interval_ms = interval
            self.start()

    def follow(self, db_path: Path, folder: Path | None = None) -> bool:
        """Back up ``db_path`` (into ``folder``, default its backups folder) from now on, e.g. after
        File > Open; restarts the schedule, so a due backup starts at once. True when one started."""
        self.db_path = Path(db_path)
        self.folder = Path(folder) if folder is not None else backups_dir(self.db_path)
        return self.start()

    def backup_now(self) -> bool:
        """Start a backup off the GUI thread; False when one is still running."""
        if self.runner.running:
            return False
        db_path, folder, keep = self.db_path, self.folder, self.keep
        self.runner.start(lambda state: _backup(db_path, folder, keep, state))
        return True

    def stop(self, wait_ms: int = 60_000) -> None:
        """Stop the timer and let a running backup finish (closing the program)."""
        self.timer.stop()
        self.runner.wait(wait_ms)

    def _done(self, info: BackupInfo) -> None:
        self.last = info
        self.backed_up.emit(info)


def _backup(db_path: Path, folder: Path, keep: int, _state: TaskState) -> BackupInfo:
    return backup_database(db_path, folder, keep=keep)
