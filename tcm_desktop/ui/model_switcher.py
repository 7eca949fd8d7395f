"""Switching the running model to a registered version, and rolling back to the one before.

The change happens in two steps that cannot get out of step: the inference
thread loads the bundle first, and only once it answers is the version made
active in the registry. A bundle that fails to load changes nothing: the
model already loaded keeps answering and the registry is untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from tcm_desktop.domain import TcmError
from tcm_desktop.store import Database
from tcm_desktop.ui.inference_worker import InferenceController


@dataclass(frozen=True)
class _Pending:
    version: str
    roll_back: bool


class ModelSwitcher(QObject):
    """Switches the running model to a registered version, and rolls back to the one before."""

    switched = Signal(str)  # the version now loaded and active
    failed = Signal(str)  # why nothing changed, for the user

    def __init__(
        self,
        database: Callable[[], Database],
        inference: InferenceController,
        who: str,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._database = database
        self._inference = inference
        self._who = who
        self._pending: _Pending | None = None
        inference.model_loaded.connect(self._on_loaded)
        inference.model_reload_failed.connect(self._on_load_failed)
        inference.model_failed.connect(self._on_load_failed)

    @property
    def busy(self) -> bool:
        return self._pending is not None

    def previous_version(self) -> str | None:
        """What :meth:`roll_back` would return to."""
        try:
            previous = self._database().models.previous()
        except TcmError:
            return None
        return None if previous is None else previous.version

    def switch_to(self, version: str, roll_back: bool = False) -> bool:
        """Load ``version``'s bundle; ``switched`` or ``failed`` follows. False (with ``failed``)
        when it cannot even start."""
        if self.busy:
            self.failed.emit(self.tr("正在切换模型，请稍候"))
            return False
        try:
            model = self._database().models.get(version)
        except TcmError as exc:
            self.failed.emit(str(exc))
            return False
        folder = Path(model.path)
        if not folder.is_dir():
            self.failed.emit(self.tr("模型 {0} 的文件夹不存在：{1}").format(version, folder))
            return False
        self._pending = _Pending(version, roll_back)
        self._inference.load_model(folder)
        return True

    def roll_back(self) -> bool:
        previous = self.previous_version()
        if previous is None:
            self.failed.emit(self.tr("没有可以回滚到的上一个模型版本"))
            return False
        return self.switch_to(previous, roll_back=True)

    @Slot(str)
    def _on_loaded(self, loaded_version: str) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        if loaded_version != pending.version:
            self.failed.emit(self.tr("文件夹中的模型是 {0}，而不是 {1}").format(loaded_version, pending.version))
            return
        try:
            self._database().models.activate(pending.version, self._who, roll_back=pending.roll_back)
        except TcmError as exc:
            self.failed.emit(str(exc))
            return
        self.switched.emit(pending.version)

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        if self._pending is not None:
            self._pending = None
            self.failed.emit(self.tr("模型无法加载，仍使用原模型：{0}").format(message))
