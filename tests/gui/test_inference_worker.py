"""The model on its worker thread, with the shipped bundle and a real database: no stalls, stale answers dropped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QTimer

from tcm_desktop.domain import Record, RecordStatus, Schema
from tcm_desktop.store import Database
from tcm_desktop.ui.inference_worker import InferenceController
from tcm_desktop.ui.main_window import MainWindow

from .sample_data import ANORECTAL_TEXT

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "tcm-text"
LONG_TEXT = "主诉：腹痛腹泻3天。现病史：患者腹泻每日5~8次，伴黏液脓血便，舌淡红，苔薄白，脉细。" * 80


@pytest.fixture
def controller(qtbot: object) -> Iterator[InferenceController]:
    ctrl = InferenceController(SHIPPED)
    with qtbot.waitSignal(ctrl.model_loaded, timeout=60_000):  # type: ignore[attr-defined]
        pass
    yield ctrl
    ctrl.shutdown()


@pytest.fixture
def window(db: Database, schema: Schema, settings_path: Path, qtbot: object) -> Iterator[MainWindow]:
    win = MainWindow(db, schema, settings=QSettings(str(settings_path), QSettings.Format.IniFormat), model_dir=SHIPPED)
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.show()
    yield win
    win.close()


def test_opening_a_record_shows_and_stores_the_models_prediction(window: MainWindow, db: Database, qtbot) -> None:
    with qtbot.waitSignal(window.prediction_shown, timeout=60_000) as shown:
        window.select_record("R004")
    assert shown.args == ["R004"]
    stored = db.predictions.latest("R004")
    assert stored is not None and stored.model_version.startswith("tcm-text@")
    assert db.records.get("R004").status == RecordStatus.PREDICTED
    # R004 had no annotation: the text now carries the model's spans, the form its values
    view = window.text_panel.text_view
    assert view.spans and {s.text for s in view.spans} == {s.text for s in stored.spans}
    assert window.form_editor.value_text("prolapse_after_defecation") == "是"
    assert "模型预测" in window.statusBar().currentMessage()
    assert window.model_label.text().startswith("模型 tcm-text@")
    assert window.text_panel.header.text().endswith("已预测")  # the header and the list say so at once
    row = window.browser.row_of("R004")
    qtbot.waitUntil(lambda: window.browser.summaries[row].status == RecordStatus.PREDICTED, timeout=5000)


def test_the_event_loop_keeps_running_while_a_long_record_is_structured(controller: InferenceController, qtbot) -> None:
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    record = Record("L1", "gastro", LONG_TEXT)
    with qtbot.waitSignal(controller.prediction_ready, timeout=120_000) as done:
        controller.request_prediction(record, None)
    timer.stop()
    assert done.args[0].record_id == "L1" and len(done.args[0].spans) > 100
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > 10
    assert max(gaps) < 0.1, f"the GUI thread stalled for {max(gaps) * 1000:.0f} ms"


def test_only_the_latest_request_is_answered(controller: InferenceController, qtbot) -> None:
    answered: list[str] = []
    controller.prediction_ready.connect(lambda p: answered.append(p.record_id))
    controller.request_prediction(Record("OLD", "gastro", LONG_TEXT), None)
    with qtbot.waitSignal(controller.prediction_ready, timeout=120_000):
        controller.request_prediction(Record("NEW", "anorectal", ANORECTAL_TEXT), None)
    qtbot.wait(200)
    assert answered == ["NEW"]


def test_structure_all_reports_progress_and_can_be_cancelled(controller: InferenceController, qtbot) -> None:
    records = [Record(f"B{i}", "anorectal", ANORECTAL_TEXT) for i in range(20)]
    progress: list[tuple[int, int]] = []
    controller.batch_progress.connect(lambda done, total: progress.append((done, total)))
    with qtbot.waitSignal(controller.batch_done, timeout=120_000) as done:
        controller.structure_all(records, [None] * len(records))
    assert [p.record_id for p in done.args[0]] == [r.id for r in records]
    assert progress[-1] == (20, 20) and len(progress) > 1
    assert not controller.busy_batch

    many = [Record(f"C{i}", "gastro", LONG_TEXT) for i in range(8)]
    with qtbot.waitSignal(controller.batch_cancelled, timeout=120_000):
        controller.structure_all(many, [None] * len(many))
        controller.cancel_batch()
    assert not controller.busy_batch


def test_a_broken_bundle_is_reported_and_browsing_goes_on(
    db: Database, schema: Schema, settings_path: Path, tmp_path: Path, qtbot
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{", encoding="utf-8")
    win = MainWindow(db, schema, settings=QSettings(str(settings_path), QSettings.Format.IniFormat), model_dir=broken)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.inference.model_failed, timeout=30_000):
        win.show()
    assert win.model_label.text() == "模型不可用"
    assert "manifest.json" in win.statusBar().currentMessage()
    assert win.select_record("R002")
    win.close()
