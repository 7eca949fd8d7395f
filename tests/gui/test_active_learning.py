"""The review queue dock in the main window over a real database: order, reasons, opening a record, the 模型 menu."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from tcm_desktop.domain import Prediction, Schema
from tcm_desktop.store import Database
from tcm_desktop.ui.main_window import MainWindow

TONGUE_FLAG = "tongue_color: text 淡红, image 红 (0.82)"


@pytest.fixture
def queued_db(db: Database) -> Database:
    """The four sample records: R001 verified, R002 uncertain, R003 text and photo disagree, R004 never predicted."""
    db.predictions.add(Prediction("R002", "tiny@1", (), uncertainty=0.31))
    db.predictions.add(Prediction("R003", "tiny@1", (), uncertainty=0.10, flags=(TONGUE_FLAG,)))
    db.predictions.add(Prediction("R001", "tiny@1", (), uncertainty=0.90))
    db.annotations.save("R001", (), {}, who="dr", verify=True)
    return db


@pytest.fixture
def window(qtbot, queued_db: Database, schema: Schema, settings_path: Path) -> MainWindow:
    win = MainWindow(queued_db, schema, settings=QSettings(str(settings_path), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def queue_rows(window: MainWindow) -> list[tuple[str, str]]:
    model = window.review_queue.model
    return [(model.index(row, 0).data(), model.index(row, 1).data()) for row in range(model.rowCount())]


def test_the_queue_orders_unreviewed_records_and_says_why(window: MainWindow) -> None:
    assert window.review_queue.isVisible()
    assert queue_rows(window) == [
        ("R003", "不确定度 0.10；舌象图文不一致: 舌色"),
        ("R002", "不确定度 0.31"),
        ("R004", "尚未预测"),
    ]
    assert window.review_queue.count_label.text() == "待审核 3 条"


def test_clicking_a_queued_record_opens_it(window: MainWindow, qtbot) -> None:
    table = window.review_queue.table
    rect = table.visualRect(window.review_queue.model.index(1, 0))
    with qtbot.waitSignal(window.record_shown, timeout=10_000) as shown:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert shown.args == ["R002"]
    assert window.browser.selected_id == "R002" and "R002" in window.text_panel.header.text()


def test_a_verified_record_leaves_the_queue_and_a_hidden_queue_catches_up_when_shown(
    window: MainWindow, queued_db: Database, qtbot
) -> None:
    queued_db.annotations.save("R003", (), {}, who="dr", verify=True)
    window.browser.refresh()
    assert [row[0] for row in queue_rows(window)] == ["R002", "R004"]

    window.review_queue.hide()
    queued_db.annotations.save("R002", (), {}, who="dr", verify=True)
    window.browser.refresh()
    assert [row[0] for row in queue_rows(window)] == ["R002", "R004"]  # hidden: not reloaded
    window.review_queue.toggleViewAction().trigger()
    qtbot.waitUntil(window.review_queue.isVisible)
    assert [row[0] for row in queue_rows(window)] == ["R004"]


def test_the_model_menu_offers_retrain_switch_and_roll_back(window: MainWindow, queued_db: Database) -> None:
    titles = [action.text() for action in window.menuBar().actions()]
    assert "模型(&M)" in titles
    menu = window.model_menu
    texts = [a.text() for a in menu.menu.actions() if a.text()]
    assert texts[:2] == ["预测全部待审核病历(&P)", "重新训练(&R)…"] and "切换模型(&S)" in texts
    assert "待审核队列" in texts
    menu.update_actions()
    assert [a.text() for a in menu.switch_menu.actions()] == ["（尚无已注册的模型）"]
    assert not menu.roll_back_action.isEnabled()

    queued_db.models.register("m@1", "m", "/nowhere/m1", {}, who="t")
    queued_db.models.register("m@2", "m", "/nowhere/m2", {}, who="t")
    queued_db.models.activate("m@1", who="t")
    queued_db.models.activate("m@2", who="t")
    menu.update_actions()
    assert [(a.text(), a.isChecked()) for a in menu.switch_menu.actions()] == [("m@2", True), ("m@1", False)]
    assert menu.roll_back_action.isEnabled() and menu.roll_back_action.text().endswith("m@1")
    messages: list[str] = []
    menu.message.connect(messages.append)
    menu.switch_menu.actions()[1].trigger()  # its folder is gone: nothing changes, the user is told
    assert queued_db.models.active().version == "m@2"
    assert messages and "m@1" in messages[-1] and "不存在" in messages[-1]


def test_the_app_starts_with_the_model_version_last_switched_to(queued_db: Database, tmp_path: Path) -> None:
    from tcm_desktop.domain.settings import AppSettings
    from tcm_desktop.ui import app

    folder = tmp_path / "models" / "m-r1" / "bundle"
    queued_db.models.register("m@r1", "m", str(folder), {}, who="t")
    queued_db.models.activate("m@r1", who="t")
    args, settings = app._parse([]), AppSettings()
    assert app._model_dir(args, settings, queued_db) != folder  # its folder is gone: not used
    folder.mkdir(parents=True)
    assert app._model_dir(args, settings, queued_db) == folder
    assert app._model_dir(app._parse(["--model", str(tmp_path)]), settings, queued_db) == tmp_path
