"""Screenshots of the main flows for docs/screenshots/, taken from a real run (offscreen works).

    QT_QPA_PLATFORM=offscreen TCM_DATA_DIR=/tmp/shots python scripts/flow_screenshots.py [--out docs/screenshots]

Opens the demo database with the shipped model, waits for the first record's
prediction, then saves the main window, a span being marked (category key on
a selection), the knowledge-mining dialog, the Retrain dialog, the import and
export dialogs, and the main window in English.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication, QDialog, QWidget

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tcm_desktop.demo.demo_db import ensure_demo_database  # noqa: E402
from tcm_desktop.domain import default_schema  # noqa: E402
from tcm_desktop.domain.settings import AppSettings  # noqa: E402
from tcm_desktop.paths import demo_folder  # noqa: E402
from tcm_desktop.resources import default_bundle_dir  # noqa: E402
from tcm_desktop.store import Database  # noqa: E402
from tcm_desktop.ui.fonts import install_app_font  # noqa: E402
from tcm_desktop.ui.i18n import install_translators  # noqa: E402
from tcm_desktop.ui.main_window import MainWindow  # noqa: E402


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(signal: object, timeout_ms: int = 60_000) -> None:
    loop = QEventLoop()
    signal.connect(lambda *_: loop.quit())  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def save(widget: QWidget, out: Path, name: str) -> None:
    settle()
    path = out / name
    if not widget.grab().save(str(path)):
        raise SystemExit(f"could not save {path}")
    print(path)


def newest_dialog(window: MainWindow, action: Callable[[], object]) -> QDialog:
    before = set(window.findChildren(QDialog))
    result = action()
    if isinstance(result, QDialog):
        return result
    settle()
    new = [d for d in window.findChildren(QDialog) if d not in before and d.isVisible()]
    if not new:
        raise SystemExit("the action opened no dialog")
    return new[-1]


def open_window(db: Database, language: str) -> MainWindow:
    window = MainWindow(db, default_schema(), model_dir=default_bundle_dir(), app_settings=AppSettings())
    window.resize(1400, 860)
    window.show()
    window.select_record(db.records.ids()[0])
    wait_for(window.prediction_shown)
    return window


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    install_app_font(app)
    install_translators(app, "zh_CN")
    db = Database.open(ensure_demo_database(demo_folder()))
    window = open_window(db, "zh_CN")
    save(window, args.out, "main_window.png")

    view = window.text_panel.text_view  # mark a span: select a few characters, press a category key
    record_text = view.toPlainText()
    start = record_text.find("舌")
    cursor = QTextCursor(view.document())
    cursor.setPosition(view.qt_position(max(start, 0)))
    cursor.setPosition(view.qt_position(max(start, 0) + 3), QTextCursor.MoveMode.KeepAnchor)
    view.setTextCursor(cursor)
    view.setFocus()
    save(window, args.out, "correction_selection.png")

    rules = newest_dialog(window, window.rules_action.trigger)
    save(rules, args.out, "rules_dialog.png")
    rules.close()
    retrain = newest_dialog(window, window.model_menu.open_retrain_dialog)
    save(retrain, args.out, "retrain_dialog.png")
    retrain.close()
    for name, action in (("import_dialog.png", window.app_actions.import_action),
                         ("export_dialog.png", window.app_actions.export_action)):  # fmt: skip
        dialog = newest_dialog(window, action.trigger)
        save(dialog, args.out, name)
        dialog.close()
    window.inference.shutdown()
    window.close()

    install_translators(app, "en")  # replaces the Chinese catalogues for widgets made from now on
    english = open_window(db, "en")
    save(english, args.out, "main_window_en.png")
    english.inference.shutdown()
    english.close()
    db.close()


if __name__ == "__main__":
    main()
