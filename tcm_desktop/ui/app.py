"""Entry point of the GUI: ``tcm-desktop [--db PATH] [--demo] [--screenshot OUT.png] ...``.

The user's settings (language, data folder, model, threads, shortcuts) come
from ``settings.toml`` in the config folder (:mod:`tcm_desktop.domain.settings`);
options on the command line win over the file for this run. Problems in the
file are shown once the window is up, and their defaults used instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QWidget

from tcm_desktop.domain import TcmError, default_schema
from tcm_desktop.domain.settings import (
    LANGUAGES,
    MAX_THREADS,
    MIN_THREADS,
    AppSettings,
    LoadedSettings,
    SettingsFile,
    schema_with_keys,
)
from tcm_desktop.paths import default_database_path, demo_folder, settings_path

if TYPE_CHECKING:
    from tcm_desktop.store import Database
    from tcm_desktop.ui.backup_scheduler import BackupScheduler
    from tcm_desktop.ui.main_window import MainWindow

SCREENSHOT_TIMEOUT_MS = 60_000


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tcm-desktop", description="TCM Desktop: structure TCM records offline.")
    parser.add_argument("--db", type=Path, help="database file (default: records.db in the user's data folder)")
    parser.add_argument("--demo", action="store_true", help="open the demo database (built on first use)")
    parser.add_argument(
        "--screenshot", type=Path, help="open, show the first record and its prediction, save a PNG of the window, exit"
    )
    parser.add_argument("--model", type=Path, help="model bundle folder (default: the shipped bundle)")
    parser.add_argument("--no-model", action="store_true", help="browse without running a model")
    parser.add_argument("--settings", type=Path, help="settings file (default: settings.toml in the config folder)")
    parser.add_argument("--language", choices=LANGUAGES, help="interface language for this run")
    parser.add_argument("--threads", type=int, help=f"inference threads for this run ({MIN_THREADS}-{MAX_THREADS})")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation headless (model bundle, structuring, database, GUI, retraining), print"
        " PASS/FAIL per step and exit 0 only if all passed; touches no user data",
    )
    parser.add_argument("--self-test-log", type=Path, help="also write the self-test's lines to this file")
    args = parser.parse_args(argv)
    if args.threads is not None and not MIN_THREADS <= args.threads <= MAX_THREADS:
        parser.error(f"--threads must be from {MIN_THREADS} to {MAX_THREADS}")
    return args


def _demo_database(app: QApplication) -> Path:
    from tcm_desktop.demo.demo_db import ensure_demo_database

    dialog = QProgressDialog(QCoreApplication.translate("App", "正在生成演示数据…"), "", 0, 0)
    dialog.setCancelButton(None)
    dialog.setMinimumDuration(500)

    def report(done: int, total: int) -> None:
        dialog.setMaximum(total)
        dialog.setValue(done)
        app.processEvents()

    try:
        return ensure_demo_database(demo_folder(), on_progress=report)
    finally:
        dialog.close()


def _model_dir(args: argparse.Namespace, settings: AppSettings, db: Database | None = None) -> Path | None:
    from tcm_desktop.resources import default_bundle_dir

    if args.no_model:
        return None
    if args.model is not None:
        return args.model
    if settings.model_folder is not None:
        return settings.model_folder
    active = _active_registered_model(db)  # the version last switched to (模型 menu)
    if active is not None:
        return active
    shipped = default_bundle_dir()
    return shipped if shipped.is_dir() else None


def _active_registered_model(db: Database | None) -> Path | None:
    """The bundle folder of the database's active model version, when it is still there."""
    try:
        model = db.models.active() if db is not None else None
    except TcmError:
        return None
    folder = Path(model.path) if model is not None else None
    return folder if folder is not None and folder.is_dir() else None


def database_path(args: argparse.Namespace, settings: AppSettings) -> Path:
    """``--db``, else ``records.db`` in the settings' data folder, else in the platform's."""
    if args.db is not None:
        return Path(args.db)
    if settings.data_folder is not None:
        return settings.data_folder / "records.db"
    return default_database_path()


def effective_settings(args: argparse.Namespace, settings: AppSettings) -> AppSettings:
    """The file's settings with this run's command-line options on top."""
    if args.language is not None:
        settings = replace(settings, language=args.language)
    if args.threads is not None:
        settings = replace(settings, inference_threads=args.threads)
    return settings


def _report_settings_problems(parent: QWidget, loaded: LoadedSettings, path: Path, to_stderr: bool) -> None:
    lines = [str(problem) for problem in loaded.problems]
    if to_stderr:
        print("tcm-desktop: settings: " + "; ".join(lines), file=sys.stderr)
        return
    text = QCoreApplication.translate("App", "设置文件 {0} 中有以下问题，已改用默认值：").format(path)
    QMessageBox.warning(parent, QCoreApplication.translate("App", "设置"), text + "\n\n" + "\n".join(lines))


def _save_screenshot_when_shown(app: QApplication, window: object, out: Path, wait_for_model: bool) -> None:
    def save(_record_id: str) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(out))  # type: ignore[attr-defined]
        app.exit(0 if ok else 1)

    signal = window.prediction_shown if wait_for_model else window.record_shown  # type: ignore[attr-defined]
    signal.connect(save)
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, lambda: app.exit(3))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        return _self_test(args)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("TCM Desktop")
    app.setApplicationName("TCM Desktop")

    from tcm_desktop.store.log_privacy import install_log_privacy
    from tcm_desktop.ui.correction import default_user
    from tcm_desktop.ui.fonts import install_app_font
    from tcm_desktop.ui.i18n import install_translators
    from tcm_desktop.ui.main_window import MainWindow
    from tcm_desktop.ui.model_fallback import fall_back_if_refused, fallback_message
    from tcm_desktop.ui.startup import ask_to_restore, never_restore, open_database_at_start, take_instance_lock

    install_log_privacy()

    schema = default_schema()
    settings_file = SettingsFile(args.settings or settings_path(), schema)
    loaded = settings_file.load()
    settings = effective_settings(args, loaded.settings)
    install_translators(app, settings.language)
    install_app_font(app)
    try:
        db_path = _demo_database(app) if args.demo else database_path(args, settings)
        db, restored = open_database_at_start(db_path, never_restore if args.screenshot else ask_to_restore())
    except TcmError as exc:
        if args.screenshot:
            print(f"tcm-desktop: {exc}", file=sys.stderr)
            return 2
        QMessageBox.critical(None, "TCM Desktop", QCoreApplication.translate("App", "无法打开数据库：") + f"\n{exc}")
        return 2
    lock, in_use = take_instance_lock(db.path)
    choice = fall_back_if_refused(_model_dir(args, settings, db), db, default_user())
    model_dir = choice.folder
    window = MainWindow(
        db,
        schema_with_keys(schema, settings.category_keys),
        model_dir=model_dir,
        app_settings=settings,
        settings_file=settings_file,
    )
    window.show()
    if loaded.problems:
        QTimer.singleShot(
            0, lambda: _report_settings_problems(window, loaded, settings_file.path, to_stderr=bool(args.screenshot))
        )
    if args.screenshot:
        _save_screenshot_when_shown(app, window, args.screenshot, wait_for_model=model_dir is not None)
    ids = db.records.ids()
    if ids:
        window.select_record(ids[0])
    elif args.screenshot:
        QTimer.singleShot(0, lambda: (window.record_shown.emit(""), window.prediction_shown.emit("")))
    if not args.screenshot:
        QTimer.singleShot(0, window.offer_recovery)  # unsaved edits a crash left behind
    notices = [n for n in (restored, in_use, fallback_message(choice) if choice.fell_back else None) if n]
    if notices:
        QTimer.singleShot(0, lambda: _show_notices(window, notices, to_stderr=bool(args.screenshot)))
    scheduler = None if args.screenshot else _start_backups(window, db, settings)
    status = app.exec()
    if scheduler is not None:
        scheduler.stop()
    window.inference.shutdown()
    db.close()
    if lock is not None:
        lock.release()
    return status


def _self_test(args: argparse.Namespace) -> int:
    """``--self-test``: the checks of :mod:`tcm_desktop.self_test` plus the GUI step (no window stays open)."""
    from tcm_desktop.self_test import run_self_test
    from tcm_desktop.ui.self_test_gui import GUI_STEP

    return run_self_test(log=args.self_test_log, extra_steps=[GUI_STEP], bundle_dir=args.model)


def _show_notices(parent: QWidget, notices: Sequence[str], to_stderr: bool) -> None:
    """What the start-up did that the user must know: a restore, another instance, a refused model."""
    if to_stderr:
        print("tcm-desktop: " + " ".join(notices), file=sys.stderr)
        return
    QMessageBox.warning(parent, "TCM Desktop", "\n\n".join(notices))


def _start_backups(window: MainWindow, db: Database, settings: AppSettings) -> BackupScheduler:
    """Back up now if the last backup is older than the interval, then every interval (off the GUI thread)."""
    from tcm_desktop.store.backup import BACKUP_FOLDER
    from tcm_desktop.ui.backup_scheduler import BackupScheduler

    scheduler = BackupScheduler.for_settings(db.path, settings, db.data_dir / BACKUP_FOLDER, parent=window)
    message = QCoreApplication.translate("App", "自动备份失败：{0}")
    scheduler.failed.connect(lambda why: window.statusBar().showMessage(message.format(why), 10_000))
    done = QCoreApplication.translate("App", "已备份到 {0}")
    scheduler.backed_up.connect(lambda info: window.statusBar().showMessage(done.format(info.path), 10_000))
    window.file_menu.insertAction(window.quit_action, scheduler.backup_action)
    window.app_actions.settings_saved.connect(scheduler.apply_settings)
    window.database_opened.connect(lambda opened: scheduler.follow(opened.path, opened.data_dir / BACKUP_FOLDER))
    scheduler.start()
    return scheduler


if __name__ == "__main__":
    sys.exit(main())
