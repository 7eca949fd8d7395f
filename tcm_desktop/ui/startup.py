"""Opening the database when the GUI starts: damage detected and offered a restore, a second instance warned.

* :func:`open_database_at_start` opens with ``PRAGMA quick_check``; a damaged
  file (:class:`~tcm_desktop.store.DatabaseCorrupt`) is reported with what
  the check found and, when a backup passes its own check, the user is asked
  whether to restore the newest one (the damaged file is kept beside the
  backups). The question is injectable (``confirm``) so tests answer it.
* :func:`take_instance_lock` holds ``<database>.lock`` for the session; when
  another program already holds it the user is warned (not refused: SQLite
  keeps the file consistent, but two people editing one record at once would
  overwrite each other).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from tcm_desktop.store import Database, DatabaseCorrupt, DatabaseInUse
from tcm_desktop.store.backup import BackupInfo, ConfirmRestore, open_or_recover
from tcm_desktop.store.instance_lock import InstanceLock

Notify = Callable[[str], None]


def restore_question(error: DatabaseCorrupt, backup: BackupInfo) -> str:
    when = backup.created.astimezone().strftime("%Y-%m-%d %H:%M")
    text = QCoreApplication.translate(
        "Startup",
        "数据库 {0} 已损坏（{1}：{2}）。\n\n要用最近一份完好的备份（{3}，{4}）恢复吗？损坏的文件会另存一份，不会删除。",
    )
    return text.format(Path(str(error.path)).name, error.check, error.detail, when, backup.path.name)


def ask_to_restore(parent: QWidget | None = None) -> ConfirmRestore:
    """A ``confirm`` that asks with a message box (default: No, so nothing changes by accident)."""

    def confirm(error: DatabaseCorrupt, backup: BackupInfo) -> bool:
        answer = QMessageBox.question(
            parent,
            QCoreApplication.translate("Startup", "数据库已损坏"),
            restore_question(error, backup),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    return confirm


def never_restore(_error: DatabaseCorrupt, _backup: BackupInfo) -> bool:
    return False


def open_database_at_start(
    path: Path, confirm: ConfirmRestore, data_dir: Path | None = None
) -> tuple[Database, str | None]:
    """The database at ``path`` (restored from a backup if it was damaged and ``confirm`` said yes)
    and a note for the user when it was restored. Raises StoreError (DatabaseCorrupt when it is
    damaged and was not restored)."""
    db, restored = open_or_recover(Path(path), confirm, data_dir)
    if restored is None:
        return db, None
    note = QCoreApplication.translate("Startup", "数据库已从备份 {0} 恢复；损坏的文件另存为 {1}。").format(
        restored.restored_from.name, restored.safety_copy or "-"
    )
    return db, note


def take_instance_lock(path: Path) -> tuple[InstanceLock | None, str | None]:
    """Hold the lock of ``path`` for this session; (None, a warning) when another program holds it."""
    try:
        return InstanceLock.acquire(Path(path)), None
    except DatabaseInUse:
        holder = InstanceLock.holder(Path(path)) or "-"
        warning = QCoreApplication.translate(
            "Startup", "数据库 {0} 已在另一个程序中打开（{1}）。可以继续使用，但请不要同时修改同一份病历。"
        )
        return None, warning.format(Path(path).name, holder)
