"""The 模型(&M) menu: retrain, switch to a registered model version, roll back.

:class:`ModelMenu` builds the menu, fills the switch submenu from the model
registry and opens the :class:`RetrainDialog`; switching itself is the
:class:`~tcm_desktop.ui.model_switcher.ModelSwitcher`'s. New bundles go
under ``<user data folder>/models``, never into the installed ``models/``
folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from tcm_desktop.domain import Schema, TcmError
from tcm_desktop.domain.retraining import RetrainOptions
from tcm_desktop.paths import user_data_dir
from tcm_desktop.store import BaseModel, Database, RetrainLedger
from tcm_desktop.ui.inference_worker import InferenceController
from tcm_desktop.ui.model_switcher import ModelSwitcher
from tcm_desktop.ui.retrain_dialog import RetrainDialog

USER_MODELS_FOLDER = "models"


def user_models_dir(data_folder: Path | None = None) -> Path:
    """Where retrained bundles are written: ``models`` in the user's data folder (``data_folder`` from
    the settings, else ``TCM_DATA_DIR``, else the platform's)."""
    return (data_folder or user_data_dir()) / USER_MODELS_FOLDER


class ModelMenu(QObject):
    """The menu and its actions; ``message`` carries what the status bar should say."""

    message = Signal(str)

    def __init__(
        self,
        database: Callable[[], Database],
        inference: InferenceController,
        schema: Schema,
        who: str,
        parent: QWidget,
        data_folder: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self._database = database
        self._inference = inference
        self._schema = schema
        self._who = who
        self._window = parent
        self._data_folder = data_folder
        self.retrain_options = RetrainOptions()  # tests make it tiny
        self.dialog: RetrainDialog | None = None
        self.switcher = ModelSwitcher(database, inference, who, self)
        self.switcher.switched.connect(lambda version: self.message.emit(self.tr("已切换到模型 {0}").format(version)))
        self.switcher.failed.connect(self.message)

        self.menu = QMenu(self.tr("模型(&M)"), parent)
        self.retrain_action = QAction(self.tr("重新训练(&R)…"), self)
        self.retrain_action.triggered.connect(lambda _checked=False: self.open_retrain_dialog())
        self.switch_menu = QMenu(self.tr("切换模型(&S)"), parent)
        self.roll_back_action = QAction(self.tr("回滚到上一版本(&B)"), self)
        self.roll_back_action.triggered.connect(lambda _checked=False: self.switcher.roll_back())
        self.menu.addAction(self.retrain_action)
        self.menu.addSeparator()
        self.menu.addMenu(self.switch_menu)
        self.menu.addAction(self.roll_back_action)
        self.menu.aboutToShow.connect(self.update_actions)
        self._versions = QActionGroup(self)
        self._versions.setExclusive(True)

    def update_actions(self) -> None:
        """Fill the switch submenu with the registered versions (the active one checked)."""
        self.switch_menu.clear()
        for action in self._versions.actions():
            self._versions.removeAction(action)
        try:
            versions = self._database().models.list()
        except TcmError:
            versions = []
        for model in reversed(versions):  # newest first
            action = QAction(model.version, self.switch_menu)
            action.setCheckable(True)
            action.setChecked(model.active)
            action.setData(model.version)
            action.triggered.connect(lambda _checked=False, v=model.version: self.switcher.switch_to(v))
            self._versions.addAction(action)
            self.switch_menu.addAction(action)
        if not versions:
            empty = self.switch_menu.addAction(self.tr("（尚无已注册的模型）"))
            empty.setEnabled(False)
        previous = self.switcher.previous_version()
        self.roll_back_action.setEnabled(previous is not None)
        text = self.tr("回滚到上一版本(&B)")
        self.roll_back_action.setText(text if previous is None else f"{text}：{previous}")

    def open_retrain_dialog(self) -> RetrainDialog:
        """Show the retrain dialog (the same one while it is open)."""
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        ledger = RetrainLedger(self._database(), user_models_dir(self._data_folder), self._who)
        inference = self._inference
        base = None
        if inference.model_version is not None and inference.model_dir is not None:
            base = BaseModel(inference.model_dir, inference.model_version)
        dialog = RetrainDialog(ledger, base, self.switcher, self._schema, self.retrain_options, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # a closed dialog stops its run (closeEvent)
        dialog.destroyed.connect(lambda _object=None, closed=dialog: self._forget_dialog(closed))
        self.dialog = dialog
        dialog.show()
        return dialog

    def _forget_dialog(self, closed: RetrainDialog) -> None:
        if self.dialog is closed:
            self.dialog = None

    def shutdown(self) -> None:
        """Stop a retraining still running (the window is closing)."""
        if self.dialog is not None:
            self.dialog.stop()
