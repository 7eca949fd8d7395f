"""Which program the GUI starts to retrain: the interpreter from source, ``tcm-retrain`` in a frozen installation."""

from __future__ import annotations

from pathlib import Path

from tcm_desktop.domain.retraining import RetrainJob
from tcm_desktop.frozen import retrain_command, retrain_executable

JOB = RetrainJob(Path("clinic.db"), Path("out"), "tcm-text", "r1")


def test_from_source_the_interpreter_runs_the_module_with_the_jobs_arguments() -> None:
    command = retrain_command(JOB.arguments(), frozen=False, executable="/venv/bin/python")
    assert command.program == "/venv/bin/python"
    assert command.arguments == tuple(JOB.arguments())
    assert command.arguments[:2] == ("-m", "training.retrain") and command.available


def test_frozen_the_retrain_executable_beside_the_app_runs_without_the_module_flag(tmp_path: Path) -> None:
    app = tmp_path / "tcm-desktop"
    (tmp_path / "tcm-retrain").write_bytes(b"")
    command = retrain_command(JOB.arguments(), frozen=True, executable=str(app), platform="linux")
    assert command.program == str(tmp_path / "tcm-retrain")
    assert command.arguments == tuple(JOB.arguments()[2:])
    assert command.arguments[:2] == ("--db", "clinic.db") and command.available and not command.unavailable_reason


def test_frozen_on_windows_the_program_is_an_exe(tmp_path: Path) -> None:
    assert retrain_executable(tmp_path / "tcm-desktop.exe", "win32") == tmp_path / "tcm-retrain.exe"
    assert retrain_executable(tmp_path / "tcm-desktop", "linux") == tmp_path / "tcm-retrain"


def test_an_inference_only_installation_says_retraining_is_not_available(tmp_path: Path) -> None:
    command = retrain_command(
        JOB.arguments(), frozen=True, executable=str(tmp_path / "tcm-desktop.exe"), platform="win32"
    )
    assert not command.available
    assert "not available in this installation" in command.unavailable_reason
    assert "tcm-retrain.exe" in command.unavailable_reason
