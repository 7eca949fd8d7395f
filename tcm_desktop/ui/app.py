"""Entry point of the GUI: ``tcm-desktop [--db PATH] [--demo] [--screenshot OUT.png]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from tcm_desktop.domain import TcmError, default_schema
from tcm_desktop.paths import default_database_path, demo_folder

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
    return parser.parse_args(argv)


def _demo_database(app: QApplication) -> Path:
    from tcm_desktop.demo.demo_db import ensure_demo_database

    dialog = QProgressDialog("正在生成演示数据…", "", 0, 0)
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


def _model_dir(args: argparse.Namespace) -> Path | None:
    from tcm_desktop.resources import default_bundle_dir

    if args.no_model:
        return None
    if args.model is not None:
        return args.model
    shipped = default_bundle_dir()
    return shipped if shipped.is_dir() else None


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
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("TCM Desktop")
    app.setApplicationName("TCM Desktop")

    from tcm_desktop.store import Database
    from tcm_desktop.ui.fonts import install_app_font
    from tcm_desktop.ui.main_window import MainWindow

    install_app_font(app)
    try:
        db_path = _demo_database(app) if args.demo else (args.db or default_database_path())
        db = Database.open(db_path)
    except TcmError as exc:
        if args.screenshot:
            print(f"tcm-desktop: {exc}", file=sys.stderr)
            return 2
        QMessageBox.critical(None, "TCM Desktop", f"无法打开数据库：\n{exc}")
        return 2
    model_dir = _model_dir(args)
    window = MainWindow(db, default_schema(), model_dir=model_dir)
    window.show()
    if args.screenshot:
        _save_screenshot_when_shown(app, window, args.screenshot, wait_for_model=model_dir is not None)
    ids = db.records.ids()
    if ids:
        window.select_record(ids[0])
    elif args.screenshot:
        QTimer.singleShot(0, lambda: (window.record_shown.emit(""), window.prediction_shown.emit("")))
    status = app.exec()
    window.inference.shutdown()
    db.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
