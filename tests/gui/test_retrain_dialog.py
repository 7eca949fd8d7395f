"""The Retrain dialog end to end: a real child process trains a tiny model on a real database, the
shipped bundle is the old model; registering, switching, rolling back, cancelling and failing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from tcm_desktop.domain import Schema
from tcm_desktop.domain.retraining import RetrainOptions
from tcm_desktop.store import Database, RetrainLedger
from tcm_desktop.ui.inference_worker import InferenceController
from tcm_desktop.ui.main_window import MainWindow
from tcm_desktop.ui.model_switcher import ModelSwitcher
from tcm_desktop.ui.retrain_dialog import RetrainDialog
from tcm_desktop.ui.retrain_process import RetrainProcess

from .learning_data import ROOT, SHIPPED, SHIPPED_VERSION, TINY, verified_database, write_fake_python

pytest.importorskip("torch")  # the child trains with torch; the GUI itself never imports it

TRAINING_TIMEOUT_MS = 300_000


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "user-data"
    monkeypatch.setenv("TCM_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def learning_db(tmp_path: Path, qapp: object) -> Iterator[Database]:
    db = verified_database(tmp_path / "clinic.sqlite")
    yield db
    db.close()


@pytest.fixture
def window(qtbot, learning_db: Database, schema: Schema, settings_path: Path, data_dir: Path) -> Iterator[MainWindow]:
    settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
    win = MainWindow(learning_db, schema, settings=settings, model_dir=SHIPPED, who="dr.li")
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.inference.model_loaded, timeout=60_000):
        win.show()
    win.model_menu.retrain_options = TINY
    yield win
    win.close()


def run_to_end(qtbot, dialog: RetrainDialog) -> str:
    with qtbot.waitSignal(dialog.finished_run, timeout=TRAINING_TIMEOUT_MS) as finished:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    return str(finished.args[0])


def test_retrain_compares_registers_switches_and_rolls_back(
    window: MainWindow, learning_db: Database, data_dir: Path, qtbot
) -> None:
    installed = sorted(p.name for p in (ROOT / "models").iterdir())
    dialog = window.model_menu.open_retrain_dialog()
    assert "训练数据：10 条" in dialog.summary_label.text() and "金标准集：2 条" in dialog.summary_label.text()
    assert dialog.start_button.isEnabled() and not dialog.use_button.isEnabled()
    progress: list[tuple[str, int, int]] = []
    dialog.process.progress.connect(lambda stage, done, total: progress.append((stage, done, total)))

    assert run_to_end(qtbot, dialog) == "succeeded", dialog.error_label.text()

    # progress streamed stage by stage up to the end
    assert [stage for stage, _, _ in progress][0] == "data" and progress[-1] == ("evaluate", 5, 5)
    assert {"train", "bundle"} <= {stage for stage, _, _ in progress}
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum() == 5
    log = dialog.log_view.toPlainText()
    assert "训练病历 10 条，金标准集 2 条（不参与训练）" in log and "第 1 轮：验证 F1" in log
    assert "gold-set records" not in log  # the child's English stays in its technical log
    # old (shipped) and new scores side by side: micro first, then every category
    table = dialog.metrics_table
    assert table.rowCount() == 1 + 23
    assert table.item(0, 0).text() == "全部类别（微平均）"
    old_f1, new_f1 = float(table.item(0, 4).text()), float(table.item(0, 7).text())
    assert 0.5 < old_f1 <= 1.0 and 0.0 <= new_f1 <= 1.0
    assert table.item(0, 8).text() == f"{new_f1 - old_f1:+.3f}"
    assert any(table.item(row, 0).text().endswith(" SYM") for row in range(1, table.rowCount()))

    # registered (not yet in use) beside the model it started from, with its training run
    new_version = dialog.new_version
    assert new_version is not None and new_version.startswith("tcm-text@r")
    registry = learning_db.models
    assert [(m.version, m.active) for m in registry.list()] == [(SHIPPED_VERSION, True), (new_version, False)]
    new_path = Path(registry.get(new_version).path)
    assert new_path.is_relative_to(data_dir / "models") and (new_path.parent / "checkpoint.pt").is_file()
    assert sorted(p.name for p in (ROOT / "models").iterdir()) == installed  # the installed folder untouched
    (run,) = learning_db.training_runs.list()
    assert (run.status, run.base_model, run.new_model) == ("succeeded", SHIPPED_VERSION, new_version)
    assert run.metrics["gold_set_new"]["micro"]["f1"] == pytest.approx(new_f1, abs=1e-3)
    assert dialog.use_button.isEnabled() and not dialog.start_button.isEnabled()

    # use it: the inference thread loads it, then the registry makes it active
    with qtbot.waitSignal(window.model_menu.switcher.switched, timeout=60_000):
        qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert window.inference.model_version == new_version and registry.active().version == new_version
    assert window.model_label.text() == f"模型 {new_version}"
    assert dialog.roll_back_button.isEnabled() and not dialog.use_button.isEnabled()

    # roll back to the shipped model
    with qtbot.waitSignal(window.model_menu.switcher.switched, timeout=60_000):
        qtbot.mouseClick(dialog.roll_back_button, Qt.MouseButton.LeftButton)
    assert window.inference.model_version == SHIPPED_VERSION and registry.active().version == SHIPPED_VERSION
    assert window.inference.model_dir == SHIPPED
    window.model_menu.update_actions()
    checked = [(a.text(), a.isChecked()) for a in window.model_menu.switch_menu.actions()]
    assert checked == [(new_version, False), (SHIPPED_VERSION, True)]


def test_cancel_kills_the_child_and_registers_nothing(window: MainWindow, learning_db: Database, qtbot) -> None:
    dialog = window.model_menu.open_retrain_dialog()
    with qtbot.waitSignal(dialog.process.progress, timeout=120_000):  # the child has started working
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.cancel_button.isEnabled()
    out_dir = dialog.job.out_dir
    with qtbot.waitSignal(dialog.finished_run, timeout=30_000) as finished:
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["cancelled"]
    assert learning_db.models.list() == [] and not out_dir.exists()
    assert learning_db.training_runs.list()[0].status == "cancelled"
    assert "没有注册任何模型" in dialog.log_view.toPlainText()
    assert dialog.start_button.isEnabled()  # another try is allowed; the gold set stays as frozen
    assert len(learning_db.gold_set.ids()) == 2


def test_closing_the_dialog_stops_the_run(window: MainWindow, learning_db: Database, qtbot) -> None:
    dialog = window.model_menu.open_retrain_dialog()
    with qtbot.waitSignal(dialog.process.progress, timeout=120_000):
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    out_dir = dialog.job.out_dir
    dialog.close()  # waits for the killed child
    assert learning_db.training_runs.list()[0].status == "cancelled" and not out_dir.exists()
    assert learning_db.models.list() == []
    qtbot.waitUntil(lambda: window.model_menu.dialog is None)  # deleted on close; the next one is new
    assert window.model_menu.open_retrain_dialog() is window.model_menu.dialog


def test_a_child_that_fails_shows_why_and_registers_nothing(window: MainWindow, learning_db: Database, qtbot) -> None:
    window.model_menu.retrain_options = RetrainOptions(
        epochs=1, new_model=True, replay_records=10, model_overrides={"hidden_size": 30}, threads=1
    )
    dialog = window.model_menu.open_retrain_dialog()
    assert run_to_end(qtbot, dialog) == "failed"
    assert dialog.error_label.isVisible()
    assert "训练失败" in dialog.error_label.text() and "not a multiple of num_heads" in dialog.error_label.text()
    assert learning_db.models.list() == [] and not dialog.job.out_dir.exists()
    (run,) = learning_db.training_runs.list()
    assert run.status == "failed" and "num_heads" in run.metrics["error"]


def bare_dialog(db: Database, schema: Schema, tmp_path: Path, python: str) -> tuple[RetrainDialog, InferenceController]:
    """A dialog whose child is ``python`` (no model loaded, nothing to switch to)."""
    inference = InferenceController(None)
    switcher = ModelSwitcher(lambda: db, inference, "dr")
    ledger = RetrainLedger(db, tmp_path / "models", "dr")
    dialog = RetrainDialog(ledger, None, switcher, schema, TINY, process=RetrainProcess(python=python))
    return dialog, inference


def test_an_interpreter_that_cannot_start_is_an_error(learning_db: Database, schema: Schema, tmp_path: Path, qtbot):
    dialog, inference = bare_dialog(learning_db, schema, tmp_path, str(tmp_path / "no-such-python"))
    qtbot.addWidget(dialog)
    try:
        assert run_to_end(qtbot, dialog) == "failed"
        assert "无法启动训练进程" in dialog.error_label.text()
        assert learning_db.models.list() == [] and learning_db.training_runs.list()[0].status == "failed"
    finally:
        inference.shutdown()


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in interpreter is a shell script")
@pytest.mark.parametrize(
    ("stdout", "exit_code", "stderr", "expected"),
    [
        ("hello, not an event\\n", 0, "", "not an event"),
        ('{"event": "progress", "stage": "data", "done": 1, "total": 5}\\n', 0, "", "没有报告新模型"),
        ("", 1, "Killed: out of memory", "退出码 1"),
    ],
)
def test_bad_output_or_exit_is_an_error(
    learning_db: Database,
    schema: Schema,
    tmp_path: Path,
    qtbot,
    stdout: str,
    exit_code: int,
    stderr: str,
    expected: str,
) -> None:
    fake = write_fake_python(tmp_path, stdout, exit_code, stderr)
    dialog, inference = bare_dialog(learning_db, schema, tmp_path, str(fake))
    qtbot.addWidget(dialog)
    dialog.show()
    try:
        assert run_to_end(qtbot, dialog) == "failed"
        assert expected in dialog.error_label.text() and dialog.error_label.isVisible()
        if stderr:
            assert stderr in dialog.error_label.text()
        assert learning_db.models.list() == [] and learning_db.training_runs.list()[0].status == "failed"
    finally:
        inference.shutdown()
