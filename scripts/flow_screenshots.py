"""Screenshots of the main flows for docs/screenshots/, taken from a real run (offscreen works).

    QT_QPA_PLATFORM=offscreen TCM_DATA_DIR=/tmp/shots python scripts/flow_screenshots.py [--out docs/screenshots]
        [--only NAME ...]

Opens the demo database with the shipped model, waits for the first record's
prediction, then saves the main window, a span being marked (category key on
a selection), the relabel/delete menu of a span, the review queue (after a
few records were predicted), the knowledge-mining dialog, the Retrain dialog,
the import and export dialogs, an import report with skipped lines, the
preferences dialog, the restore offer for a damaged database and the main
window in English. Then, on a database of its own in a temporary folder, it
verifies generated records, retrains the shipped model on them with tiny
settings (about two minutes on two CPU cores), switches to the new model and
saves the finished Retrain dialog and the 模型 menu with its roll back entry.
``--only`` saves just the named files (e.g. ``--only model_menu.png``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, QPoint, QRect, QTimer
from PySide6.QtGui import QPainter, QPixmap, QTextCursor
from PySide6.QtWidgets import QApplication, QDialog, QMenu, QMessageBox, QWidget

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tcm_desktop.demo.demo_db import ensure_demo_database  # noqa: E402
from tcm_desktop.demo.generator import generate_records  # noqa: E402
from tcm_desktop.domain import Record, default_schema  # noqa: E402
from tcm_desktop.domain.retraining import RetrainOptions  # noqa: E402
from tcm_desktop.domain.settings import AppSettings, SettingsFile  # noqa: E402
from tcm_desktop.paths import demo_folder  # noqa: E402
from tcm_desktop.resources import default_bundle_dir  # noqa: E402
from tcm_desktop.store import Database, DatabaseCorrupt  # noqa: E402
from tcm_desktop.store.backup import BackupInfo, backup_database  # noqa: E402
from tcm_desktop.ui.correction import LeaveChoice  # noqa: E402
from tcm_desktop.ui.fonts import install_app_font  # noqa: E402
from tcm_desktop.ui.i18n import install_translators  # noqa: E402
from tcm_desktop.ui.main_window import MainWindow  # noqa: E402
from tcm_desktop.ui.startup import open_database_at_start, restore_question  # noqa: E402

QUEUE_RECORDS = 12  # records predicted before the review queue is shown
VERIFIED_RECORDS = 30  # generated records a clinician "verified" for the retraining shots
# Small enough to finish in a few minutes on two CPU cores: fine-tunes the shipped checkpoint for one
# epoch on a few windows; the metrics it shows are those of this tiny run, not of a real retraining.
TINY_RETRAIN = RetrainOptions(epochs=1, replay_records=10, max_train_windows=16, threads=2)
RETRAIN_TIMEOUT_MS = 600_000


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
    save_pixmap(widget.grab(), out, name)


def save_pixmap(pixmap: QPixmap, out: Path, name: str) -> None:
    path = out / name
    if not pixmap.save(str(path)):
        raise SystemExit(f"could not save {path}")
    print(path)


def with_popups(window: QWidget, popups: list[QMenu], around: QRect, margin: int = 16) -> QPixmap:
    """The window with its open popup menus drawn where they are, cropped to ``around`` and the menus."""
    settle()
    picture = window.grab()
    painter = QPainter(picture)
    area = QRect(around)
    for popup in popups:
        at = window.mapFromGlobal(popup.pos())
        painter.drawPixmap(at, popup.grab())
        area = area.united(QRect(at, popup.size()))
    painter.end()
    return picture.copy(area.adjusted(-margin, -margin, margin, margin).intersected(picture.rect()))


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


class DiscardPrompter:
    """The script edits nothing: should leaving a record ever ask to save, the answer is Discard."""

    def ask_unsaved(self, _parent: QWidget, _record_id: str) -> LeaveChoice:
        return LeaveChoice.DISCARD

    def show_error(self, _parent: QWidget, title: str, message: str) -> None:
        raise SystemExit(f"{title}: {message}")


def open_window(db: Database, language: str, **options: object) -> MainWindow:
    bundle = default_bundle_dir()
    window = MainWindow(db, default_schema(), model_dir=bundle, prompter=DiscardPrompter(), **options)  # type: ignore[arg-type]
    window.resize(1400, 860)
    window.show()
    window.select_record(db.records.ids()[0])
    wait_for(window.prediction_shown)
    return window


def demo_shots(app: QApplication, out: Path, wanted: Callable[[str], bool], scratch: Path) -> None:
    """Everything shown on the demo database (the first record and what opens from the window)."""
    db = Database.open(ensure_demo_database(demo_folder()))
    settings_file = SettingsFile(scratch / "settings.toml", default_schema())
    window = open_window(db, "zh_CN", app_settings=AppSettings(), settings_file=settings_file)
    if wanted("main_window.png"):
        save(window, out, "main_window.png")

    view = window.text_panel.text_view  # mark a span: select a few characters, press a category key
    if wanted("correction_selection.png"):
        record_text = view.toPlainText()
        start = record_text.find("舌")
        cursor = QTextCursor(view.document())
        cursor.setPosition(view.qt_position(max(start, 0)))
        cursor.setPosition(view.qt_position(max(start, 0) + 3), QTextCursor.MoveMode.KeepAnchor)
        view.setTextCursor(cursor)
        view.setFocus()
        save(window, out, "correction_selection.png")
    if wanted("span_menu.png"):  # the relabel / delete menu of a span (a click on it, or the Menu key)
        span = max(view.spans, key=lambda s: s.end - s.start)
        view.select_range(span.end, span.end)
        view.setFocus()
        where = view.viewport().mapToGlobal(view.cursorRect().bottomLeft())
        menu = window.correction.show_span_menu(span.start, span.end, where)
        if menu is None:
            raise SystemExit("no span menu")
        around = QRect(view.mapTo(window, QPoint(0, 0)), view.size())
        save_pixmap(with_popups(window, [menu], around), out, "span_menu.png")
        menu.close()

    if wanted("review_queue.png"):  # predict a few records, then the queue ranks them
        for record_id in db.records.ids()[:QUEUE_RECORDS]:
            window.select_record(record_id)
            wait_for(window.prediction_shown)
        window.select_record(db.records.ids()[0])
        wait_for(window.prediction_shown)
        dock = window.review_queue
        dock.setFloating(True)
        dock.resize(520, 460)
        dock.refresh(force=True)
        save(dock, out, "review_queue.png")
        dock.setFloating(False)

    if wanted("rules_dialog.png"):
        rules = newest_dialog(window, window.rules_action.trigger)
        if rules.rules.busy:  # type: ignore[attr-defined]  # reading and mining run on a worker thread
            wait_for(rules.rules.mined)  # type: ignore[attr-defined]
        save(rules, out, "rules_dialog.png")
        rules.close()
    if wanted("retrain_dialog.png"):
        retrain = newest_dialog(window, window.model_menu.open_retrain_dialog)
        save(retrain, out, "retrain_dialog.png")
        retrain.close()
    for name, action in (("import_dialog.png", window.app_actions.import_action),
                         ("export_dialog.png", window.app_actions.export_action),
                         ("preferences_dialog.png", window.app_actions.preferences_action)):  # fmt: skip
        if wanted(name):
            dialog = newest_dialog(window, action.trigger)
            save(dialog, out, name)
            dialog.close()
    window.inference.shutdown()
    window.close()

    if wanted("main_window_en.png"):
        install_translators(app, "en")  # replaces the Chinese catalogues for widgets made from now on
        english = open_window(db, "en", app_settings=AppSettings())
        save(english, out, "main_window_en.png")
        english.inference.shutdown()
        english.close()
        install_translators(app, "zh_CN")
    db.close()


def import_report_shot(out: Path, scratch: Path) -> None:
    """File > 导入… on a file with good and bad lines: the report names each skipped line and why."""
    from tcm_desktop.ui.import_dialog import ImportDialog

    lines = [
        {"id": "R0001", "specialty": "general", "text": "主诉：反复胃脘胀痛半年，加重3天。"},
        {"id": "R0002", "specialty": "respiratory", "text": "咳嗽三天，痰黄，舌红苔黄腻，脉滑数。"},
        '{"id": "R0003", "specialty": "general", "text": "头痛',
        {"id": "R0001", "specialty": "general", "text": "腹泻两天。"},
        {"id": "R0005", "specialty": "gastro", "text": "腹泻", "spans": [{"start": 0, "end": 5, "label": "SYM"}]},
        {"id": "R0006", "specialty": "gastro", "text": "便溏一周。", "image": "R0006.jpg"},
    ]
    source = scratch / "clinic_notes.jsonl"
    source.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines) + "\n",
        encoding="utf-8",
    )
    with Database.open(scratch / "import.db") as db:
        dialog = ImportDialog(db, "dr.li")
        dialog.show()
        dialog.set_source(source)
        dialog.start()
        wait_for(dialog.imported)
        save(dialog, out, "import_report.png")
        dialog.close()


def restore_offer_shot(out: Path, scratch: Path) -> None:
    """A damaged database at start: the question the program asks (answered No here)."""
    path = scratch / "clinic" / "records.db"
    with Database.open(path) as db:
        for i in range(60):
            db.records.add(Record(f"R{i:03d}", "general", "咳嗽三天，痰黄。" * 10), who="dr.li")
    backup_database(path)
    size = path.stat().st_size
    with path.open("r+b") as fh:  # damage one page in the middle, as a failing disk would
        fh.seek((size // 2) // 4096 * 4096)
        fh.write(b"\xa5" * 4096)

    def confirm(error: DatabaseCorrupt, backup: BackupInfo) -> bool:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            QCoreApplication.translate("Startup", "数据库已损坏"),
            restore_question(error, backup),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.show()
        save(box, out, "restore_offer.png")
        box.close()
        return False

    try:
        open_database_at_start(path, confirm)
    except DatabaseCorrupt:
        return
    raise SystemExit("the damaged database opened")


def learning_shots(out: Path, wanted: Callable[[str], bool], scratch: Path) -> None:
    """Retrain on verified records, switch to the new model, show the dialog and the 模型 menu."""
    db = Database.open(scratch / "learning" / "clinic.db")
    for generated in generate_records(VERIFIED_RECORDS, seed=11):
        record = generated.record
        db.records.add(record, who="dr.li")
        db.annotations.save(record.id, record.spans, record.form, who="dr.li", verify=True)
    settings = AppSettings(data_folder=scratch / "learning")  # new models go to its models/ folder
    window = open_window(db, "zh_CN", app_settings=settings, who="dr.li")
    window.model_menu.retrain_options = TINY_RETRAIN
    dialog = window.model_menu.open_retrain_dialog()
    ended: list[str] = []
    dialog.finished_run.connect(ended.append)
    dialog.start()
    wait_for(dialog.finished_run, RETRAIN_TIMEOUT_MS)
    if ended != ["succeeded"]:
        raise SystemExit(f"retraining ended {ended}: {dialog.log_view.toPlainText()}")
    dialog.use_new_model()
    wait_for(window.model_menu.switcher.switched)
    if wanted("retrain_finished.png"):
        save(dialog, out, "retrain_finished.png")
    dialog.close()
    if wanted("model_menu.png"):
        model_menu = window.model_menu
        model_menu.update_actions()
        bar = window.menuBar()
        model_menu.menu.popup(bar.mapToGlobal(bar.actionGeometry(model_menu.menu.menuAction()).bottomLeft()))
        settle()
        model_menu.menu.setActiveAction(model_menu.switch_menu.menuAction())
        corner = model_menu.menu.actionGeometry(model_menu.switch_menu.menuAction()).topRight()
        model_menu.switch_menu.popup(model_menu.menu.mapToGlobal(corner))
        picture = with_popups(window, [model_menu.menu, model_menu.switch_menu], QRect(0, 0, 1, 1))
        save_pixmap(picture, out, "model_menu.png")
        model_menu.switch_menu.close()
        model_menu.menu.close()
    window.inference.shutdown()
    window.close()
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "screenshots")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="save only these files (default: all)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    only: Collection[str] | None = set(args.only) if args.only else None

    def wanted(name: str) -> bool:
        return only is None or name in only

    app = QApplication.instance() or QApplication(sys.argv[:1])
    install_app_font(app)
    install_translators(app, "zh_CN")
    scratch = Path(tempfile.mkdtemp(prefix="tcm-shots-"))
    try:
        demo = ("main_window", "correction_selection", "span_menu", "review_queue", "rules_dialog")
        demo += ("retrain_dialog", "import_dialog", "export_dialog", "preferences_dialog", "main_window_en")
        if any(wanted(f"{name}.png") for name in demo):
            demo_shots(app, args.out, wanted, scratch)
        if wanted("import_report.png"):
            import_report_shot(args.out, scratch)
        if wanted("restore_offer.png"):
            restore_offer_shot(args.out, scratch)
        if wanted("retrain_finished.png") or wanted("model_menu.png"):
            learning_shots(args.out, wanted, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
