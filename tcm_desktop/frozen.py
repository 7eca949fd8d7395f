"""Which program runs the retraining child: the interpreter in a source install, ``tcm-retrain`` in a frozen one.

A source or pip install starts ``python -m training.retrain ...`` (the job's
:meth:`~tcm_desktop.domain.retraining.RetrainJob.arguments`). In a frozen
(PyInstaller) installation ``sys.executable`` is the app itself, so the
child is the second executable ``tcm-retrain`` that the full build places
beside the app (``packaging/tcm_desktop.spec``); it takes the same
arguments without the leading ``-m training.retrain``. The inference-only
build has no ``tcm-retrain``: :attr:`RetrainCommand.available` is then
False and :data:`NOT_AVAILABLE` says why. No Qt here, no torch.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

RETRAIN_EXECUTABLE = "tcm-retrain"
MODULE_FLAG = "-m"
NOT_AVAILABLE = (
    "Retraining is not available in this installation: it was installed without the training"
    " component ({program} is missing). Install the full build to retrain models."
)


def is_frozen() -> bool:
    """True inside a PyInstaller build."""
    return bool(getattr(sys, "frozen", False))


def retrain_executable(app_executable: Path | str, platform: str = sys.platform) -> Path:
    """Where ``tcm-retrain`` sits in a frozen installation: beside the app's executable."""
    suffix = ".exe" if platform == "win32" else ""
    return Path(app_executable).parent / f"{RETRAIN_EXECUTABLE}{suffix}"


@dataclass(frozen=True)
class RetrainCommand:
    """The program and arguments that run one retraining; ``available`` is False when the program is missing."""

    program: str
    arguments: tuple[str, ...]
    available: bool = True

    @property
    def unavailable_reason(self) -> str:
        return "" if self.available else NOT_AVAILABLE.format(program=Path(self.program).name)


def retrain_command(
    interpreter_arguments: Sequence[str],
    *,
    frozen: bool | None = None,
    executable: str | None = None,
    platform: str = sys.platform,
) -> RetrainCommand:
    """The command for ``python <interpreter_arguments>`` (which start with ``-m <module>``).

    Not frozen: ``executable`` (default ``sys.executable``) with the arguments
    as they are. Frozen: ``tcm-retrain`` beside ``executable`` with the
    ``-m <module>`` pair dropped, available only if that file exists.
    """
    frozen = is_frozen() if frozen is None else frozen
    executable = executable or sys.executable
    arguments = tuple(interpreter_arguments)
    if not frozen:
        return RetrainCommand(executable, arguments)
    if len(arguments) >= 2 and arguments[0] == MODULE_FLAG:
        arguments = arguments[2:]
    program = retrain_executable(executable, platform)
    return RetrainCommand(str(program), arguments, available=program.is_file())
