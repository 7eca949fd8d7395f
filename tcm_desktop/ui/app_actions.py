"""The File > Import / Export and Settings > Preferences actions and the dialogs they open.

Kept out of the main window so that it only places the actions in its menus
and connects two signals: ``database_changed()`` after an import (refresh the
list) and ``settings_saved(AppSettings)`` after the preferences were saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QWidget

from tcm_desktop.domain import Schema
from tcm_desktop.domain.settings import AppSettings, SettingsFile
from tcm_desktop.store import Database
from tcm_desktop.ui.export_dialog import ExportDialog
from tcm_desktop.ui.import_dialog import ImportDialog
from tcm_desktop.ui.record_browser import RecordFilter
from tcm_desktop.ui.settings_dialog import SettingsDialog

D = TypeVar("D", bound=QDialog)


class AppActions(QObject):
    """Import, export and preferences for ``window``.

    ``database()`` and ``shown_filter()`` are asked each time a dialog opens
    (the window may have opened another database or changed its filter).
    Without a ``settings_file`` the preferences action is disabled.
    """

    database_changed = Signal()
    settings_saved = Signal(object)  # AppSettings

    def __init__(
        self,
        window: QWidget,
        database: Callable[[], Database],
        shown_filter: Callable[[], RecordFilter],
        schema: Schema,
        settings: AppSettings,
        settings_file: SettingsFile | None,
        who: str,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._database = database
        self._shown_filter = shown_filter
        self._schema = schema
        self.settings = settings
        self._settings_file = settings_file
        self._who = who
        self.dialog: QDialog | None = None  # the dialog open now (tests reach it here)

        self.import_action = QAction(self.tr("导入(&I)…"), window)
        self.import_action.triggered.connect(self.show_import)
        self.export_action = QAction(self.tr("导出(&E)…"), window)
        self.export_action.triggered.connect(self.show_export)
        self.preferences_action = QAction(self.tr("首选项(&P)…"), window)
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.preferences_action.setEnabled(settings_file is not None)
        self.preferences_action.triggered.connect(self.show_preferences)

    def show_import(self) -> ImportDialog:
        dialog = ImportDialog(self._database(), self._who, self._window)
        dialog.database_changed.connect(self.database_changed)
        return self._open(dialog)

    def show_export(self) -> ExportDialog:
        return self._open(ExportDialog(self._database(), self._shown_filter(), self._window))

    def show_preferences(self) -> SettingsDialog | None:
        if self._settings_file is None:
            return None
        dialog = SettingsDialog(self.settings, self._settings_file, self._schema, self._window)
        dialog.saved.connect(self._saved)
        return self._open(dialog)

    def _open(self, dialog: D) -> D:
        # Window-modal and not blocking: the event loop keeps running, so tests can drive it.
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._closed(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _saved(self, settings: AppSettings) -> None:
        self.settings = settings
        self.settings_saved.emit(settings)
