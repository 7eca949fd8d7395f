"""A real (offscreen) main window that makes unsaved edits and waits to be SIGKILLed.

    python tests/reliability/gui_crash_driver.py DB SETTINGS.ini INTERVAL_MS RECORD_ID

Opens DB in a MainWindow with the journal written every INTERVAL_MS, shows
RECORD_ID, marks a span and changes a form field through the correction
controller (as the keys and widgets do), prints ``edited`` and runs the event
loop until the parent kills it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tcm_desktop.domain import default_schema  # noqa: E402
from tcm_desktop.store import Database  # noqa: E402
from tcm_desktop.ui.main_window import MainWindow  # noqa: E402

# the edits the parent expects to get back: relabel "3天" as a symptom, tongue colour 红
RELABEL = ((2, 4), "SYM")
FORM = ("tongue_color", "红")


def main(argv: list[str]) -> int:
    db_path, settings_path, interval, record_id = Path(argv[0]), argv[1], int(argv[2]), argv[3]
    app = QApplication(sys.argv[:1])
    db = Database.open(db_path)
    settings = QSettings(settings_path, QSettings.Format.IniFormat)
    window = MainWindow(db, default_schema(), settings=settings, who="dr.crash", journal_interval_ms=interval)
    window.show()

    def edit() -> None:
        assert window.select_record(record_id)
        window.correction.relabel(*RELABEL)
        window.correction.set_form_value(*FORM)
        assert window.correction.is_dirty
        print("edited", flush=True)

    window.journaller.written.connect(lambda rid: print(f"journaled {rid}", flush=True))
    QTimer.singleShot(0, edit)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
