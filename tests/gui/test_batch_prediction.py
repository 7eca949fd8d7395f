"""模型 > 预测全部待审核病历 with the shipped model on a real database: chunks stored as they come, stop keeps them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from tcm_desktop.demo.generator import generate_records
from tcm_desktop.domain import RecordStatus, Schema
from tcm_desktop.store import Database
from tcm_desktop.ui import batch_prediction
from tcm_desktop.ui.main_window import MainWindow

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "tcm-text"


@pytest.fixture
def window(db: Database, schema: Schema, settings_path: Path, qtbot) -> Iterator[MainWindow]:
    for generated in generate_records(6, seed=3):  # ten records, R003 verified below, one opened at start
        db.records.add(generated.record)
    db.annotations.save("R003", (), {}, who="dr", verify=True)
    win = MainWindow(db, schema, settings=QSettings(str(settings_path), QSettings.Format.IniFormat), model_dir=SHIPPED)
    qtbot.addWidget(win)
    win.show()
    first = win.browser.selected_id  # the window opens on it and predicts it
    qtbot.waitUntil(lambda: first is not None and db.predictions.latest(first) is not None, timeout=60_000)
    yield win
    win.close()


def test_predict_all_stores_a_prediction_for_every_record_waiting(
    window: MainWindow, db: Database, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_prediction, "CHUNK", 4)
    batch = window.batch_prediction
    waiting = batch.waiting_ids()
    n = len(waiting)
    assert n >= 8 and "R003" not in waiting and window.browser.selected_id not in waiting
    assert batch.action in window.model_menu.menu.actions()
    steps: list[tuple[int, int]] = []
    batch.progress.connect(lambda done, total: steps.append((done, total)))
    with qtbot.waitSignal(batch.ended, timeout=120_000) as ended:
        batch.action.trigger()
        assert batch.progress_bar.isVisible() and batch.stop_button.isVisible()
    assert ended.args == [n, 0, False]
    assert steps == [(min(k, n), n) for k in range(4, n + 4, 4)]  # one step per chunk stored
    version = window.inference.model_version
    assert all(db.predictions.latest(i, version) is not None for i in waiting)
    assert db.predictions.latest("R003", version) is None  # verified: left alone
    assert db.records.get("R002").status is RecordStatus.PREDICTED
    assert not batch.progress_bar.isVisible() and str(n) in window.statusBar().currentMessage()
    assert batch.waiting_ids() == [] and not batch.start()  # nothing left to do
    assert "都已有" in window.statusBar().currentMessage()


def test_stopping_keeps_what_was_stored(window: MainWindow, db: Database, qtbot, monkeypatch) -> None:
    monkeypatch.setattr(batch_prediction, "CHUNK", 2)
    batch = window.batch_prediction
    n = len(batch.waiting_ids())
    with qtbot.waitSignal(batch.progress, timeout=120_000):
        assert batch.start()
    with qtbot.waitSignal(batch.ended, timeout=120_000) as ended:
        batch.stop_action.trigger()
    stored, skipped, cancelled = ended.args
    assert cancelled and skipped == 0 and 2 <= stored < n
    assert len(batch.waiting_ids()) == n - stored  # the next run does the rest
    assert batch.action.isEnabled() and not batch.stop_button.isVisible()


def test_ctrl_4_puts_the_keyboard_in_the_review_queue(window: MainWindow, qtbot) -> None:
    window.review_queue.close()
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.review_queue.isVisible() and QApplication.focusWidget() is window.review_queue.table
    assert window.review_queue.table.currentIndex().isValid()
