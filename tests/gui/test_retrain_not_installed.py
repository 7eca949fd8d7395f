"""An installation built without the training component (no ``tcm-retrain`` beside the frozen app): the Retrain
dialog says so and starts nothing, instead of failing to start a child or crashing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tcm_desktop.domain import Schema
from tcm_desktop.store import RetrainLedger
from tcm_desktop.ui.inference_worker import InferenceController
from tcm_desktop.ui.model_switcher import ModelSwitcher
from tcm_desktop.ui.retrain_dialog import RetrainDialog
from tcm_desktop.ui.retrain_process import RetrainProcess

from .learning_data import TINY, verified_database


def test_a_frozen_app_without_tcm_retrain_says_retraining_is_not_available(
    tmp_path: Path, schema: Schema, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = tmp_path / "installed"
    installed.mkdir()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(installed / "tcm-desktop"))
    db = verified_database(tmp_path / "clinic.sqlite")
    inference = InferenceController(None)
    try:
        ledger = RetrainLedger(db, tmp_path / "models", "dr")
        process = RetrainProcess()
        dialog = RetrainDialog(ledger, None, ModelSwitcher(lambda: db, inference, "dr"), schema, TINY, process=process)
        qtbot.addWidget(dialog)
        dialog.show()
        assert not process.available
        assert "此安装不含训练组件" in dialog.error_label.text() and "tcm-retrain" in dialog.error_label.text()
        assert dialog.error_label.isVisible() and not dialog.start_button.isEnabled()
        assert dialog.start() is False  # nothing planned: no training run, the gold set not frozen
        assert db.training_runs.list() == [] and db.gold_set.ids() == ()

        (installed / "tcm-retrain").write_bytes(b"")  # the full build: the same dialog may start
        assert process.available
        assert process.command(["-m", "training.retrain", "--db", "x"]).arguments == ("--db", "x")
    finally:
        inference.shutdown()
        db.close()
