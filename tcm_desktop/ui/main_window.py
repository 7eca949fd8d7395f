"""The main window: builds the panels around a RecordBrowser and wires them; nothing else.

Left: the record list. Centre: the record text with the legend under it.
Right: the tongue photo above the structured form. Corrections (spans, form,
undo, save, the unsaved-edits guard) live in :mod:`tcm_desktop.ui.correction`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QSplitter, QWidget

from tcm_desktop.domain import Prediction, Record, RecordStatus, Schema, TcmError
from tcm_desktop.domain.journal import JOURNAL_FOLDER, DraftJournal
from tcm_desktop.domain.settings import AppSettings, SettingsFile
from tcm_desktop.store import Database
from tcm_desktop.store.backup import ConfirmRestore
from tcm_desktop.ui.active_learning import ReviewQueueDock
from tcm_desktop.ui.app_actions import AppActions
from tcm_desktop.ui.batch_prediction import BatchPrediction
from tcm_desktop.ui.correction import CorrectionController, Prompter
from tcm_desktop.ui.form_editor import FormEditor
from tcm_desktop.ui.image_view import ImagePanel
from tcm_desktop.ui.inference_worker import InferenceController
from tcm_desktop.ui.model_menu import ModelMenu
from tcm_desktop.ui.names import display_name, specialty_name, status_name
from tcm_desktop.ui.record_browser import RecordBrowser
from tcm_desktop.ui.record_list import RecordListPanel
from tcm_desktop.ui.recovery import (
    JOURNAL_INTERVAL_MS,
    DraftJournaller,
    MessageBoxRecoveryPrompter,
    RecoveryOutcome,
    RecoveryPrompter,
    offer_recovery,
)
from tcm_desktop.ui.rules_view import open_rules_dialog
from tcm_desktop.ui.settings_dialog import apply_shortcuts, needs_restart
from tcm_desktop.ui.startup import ask_to_restore, open_database_at_start
from tcm_desktop.ui.text_view import TextPanel

ORGANIZATION = "TCM Desktop"
APPLICATION = "TCM Desktop"
DEFAULT_SIZE = (1400, 860)
STATUS_MESSAGE_MS = 10_000


class MainWindow(QMainWindow):
    """Browse the records of ``db``; ``schema`` gives labels, colours and form fields.

    ``record_shown(record_id)`` is emitted once a record's text, photo and form
    are on screen: from the event loop, after the views have been laid out, and
    only for the record still selected then. The caller keeps owning ``db``; a database opened through
    File > Open is owned (and closed) by the window.

    With a ``model_dir`` the bundle is loaded on the inference thread; every
    record shown is then structured there (or its stored prediction for the
    same model reused) and ``prediction_shown(record_id)`` follows once the
    model's spans, form and tongue attributes are on screen, or the failure
    is in the status bar. Records a person has corrected or verified keep
    showing that annotation; the model's answer is stored but not shown.

    What is shown can be corrected (:attr:`correction`); ``who`` is the name
    saves are audited under (default: the login) and ``prompter`` asks the
    Save / Discard / Cancel question (default: a QMessageBox).

    Unsaved edits are journaled every ``journal_interval_ms`` (:attr:`journaller`);
    :meth:`offer_recovery` (called by the entry point after start-up and by
    :meth:`open_database`) offers back what a crash left, asking through
    ``recovery_prompter`` (default: a QMessageBox).

    ``app_settings`` gives the shortcuts and inference threads; with a
    ``settings_file`` Settings > Preferences edits and saves them.
    """

    record_shown = Signal(str)
    prediction_shown = Signal(str)
    database_opened = Signal(object)  # the Database now browsed, after File > Open

    def __init__(
        self,
        db: Database,
        schema: Schema,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
        model_dir: Path | None = None,
        who: str | None = None,
        prompter: Prompter | None = None,
        app_settings: AppSettings | None = None,
        settings_file: SettingsFile | None = None,
        journal_interval_ms: int = JOURNAL_INTERVAL_MS,
        recovery_prompter: RecoveryPrompter | None = None,
    ) -> None:
        super().__init__(parent)
        self._db = db
        self._owned_db: Database | None = None
        self.restore_prompt: ConfirmRestore = ask_to_restore(self)  # File > Open of a damaged file
        self._schema = schema
        self._settings = settings if settings is not None else QSettings(ORGANIZATION, APPLICATION)
        self._app_settings = app_settings = app_settings or AppSettings()

        self._shown_id: str | None = None
        self._shown_timer = QTimer(self)
        self._shown_timer.setSingleShot(True)
        self._shown_timer.setInterval(0)
        self._shown_timer.timeout.connect(self._emit_record_shown)

        self.inference = InferenceController(model_dir, threads=app_settings.inference_threads, parent=self)
        self.inference.model_loaded.connect(self._show_model)
        self.inference.model_failed.connect(self._show_model_failure)
        self.inference.prediction_ready.connect(self._show_prediction)
        self.inference.prediction_failed.connect(self._show_prediction_failure)

        self.browser = RecordBrowser(db.records)
        self.record_list = RecordListPanel(self.browser, schema)
        self.text_panel = TextPanel(schema)
        self.image_panel = ImagePanel({f.name: display_name(f) for f in schema.fields_for("general")})
        self.form_editor = FormEditor(schema)
        self.correction = CorrectionController(
            db, schema, self.text_panel.text_view, self.form_editor, who=who, prompter=prompter, parent=self
        )
        who = self.correction.who
        # unsaved edits on disk every few seconds; offered back after a crash (offer_recovery)
        self.journaller = DraftJournaller(self.correction.model, self.draft_journal, journal_interval_ms, self)
        self.journaller.failed.connect(self._show_failure)
        self.recovery_prompter: RecoveryPrompter = recovery_prompter or MessageBoxRecoveryPrompter()
        self.app_actions = AppActions(
            self, lambda: self._db, lambda: self.browser.filter, schema, app_settings, settings_file, who
        )
        self._build_layout()
        self._build_menus()
        self._build_status_bar()
        # active learning: the review queue beside the list, the 模型 menu (retrain, switch, roll back)
        self.review_queue = ReviewQueueDock(lambda limit: self._db.review_queue.entries(limit), schema, self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.review_queue)
        self.review_queue.record_chosen.connect(self.select_record)
        self.browser.events.changed.connect(self.review_queue.refresh)
        self.prediction_shown.connect(self.review_queue.refresh)
        self.model_menu = ModelMenu(lambda: self._db, self.inference, schema, who, self, app_settings.data_folder)
        self.model_menu.menu.addAction(self.review_queue.toggleViewAction())
        self.model_menu.message.connect(self._show_failure)
        self.menuBar().addMenu(self.model_menu.menu)
        self.batch_prediction = BatchPrediction(lambda: self._db, self.inference, self)
        self.model_menu.menu.insertAction(self.model_menu.retrain_action, self.batch_prediction.action)
        self.statusBar().addPermanentWidget(self.batch_prediction.progress_bar)
        self.statusBar().addPermanentWidget(self.batch_prediction.stop_button)
        self.batch_prediction.message.connect(self._show_failure)
        self.batch_prediction.ended.connect(lambda *_ended: self.browser.refresh())

        self.browser.events.changed.connect(self._update_counts)
        self.browser.events.selection_changed.connect(self._show_selected)
        self.browser.events.failed.connect(self._show_failure)
        self.browser.set_leave_guard(self.correction.confirm_leave)
        self.correction.saved.connect(self._show_saved)
        self.correction.message.connect(self._show_failure)
        self.correction.dirty_changed.connect(self.setWindowModified)
        self.app_actions.database_changed.connect(self.browser.refresh)
        self.app_actions.settings_saved.connect(self._apply_app_settings)
        apply_shortcuts(self.named_actions(), app_settings.shortcuts)
        self._show_database()
        self._restore_settings()
        self.browser.refresh()
        self.record_list.table.setFocus()

    @property
    def database(self) -> Database:
        return self._db

    # -- building ----------------------------------------------------------
    def _build_layout(self) -> None:
        self.right_splitter = QSplitter(Qt.Orientation.Vertical)
        self.right_splitter.setObjectName("right_splitter")
        self.right_splitter.addWidget(self.image_panel)
        self.right_splitter.addWidget(self.form_editor)
        self.right_splitter.setSizes([340, 460])

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.setObjectName("main_splitter")
        self.main_splitter.addWidget(self.record_list)
        self.main_splitter.addWidget(self.text_panel)
        self.main_splitter.addWidget(self.right_splitter)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setSizes([300, 680, 420])
        for splitter in (self.main_splitter, self.right_splitter):
            splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.main_splitter)

    def _build_menus(self) -> None:
        self.file_menu = file_menu = self.menuBar().addMenu(self.tr("文件(&F)"))
        self.open_action = QAction(self.tr("打开数据库(&O)…"), self)
        self.open_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Open))
        self.open_action.triggered.connect(self._ask_open_database)
        file_menu.addAction(self.open_action)
        file_menu.addActions([self.app_actions.import_action, self.app_actions.export_action])
        file_menu.addSeparator()
        self.quit_action = QAction(self.tr("退出(&Q)"), self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

        view_menu = self.menuBar().addMenu(self.tr("视图(&V)"))
        self.refresh_action = QAction(self.tr("刷新列表(&R)"), self)
        self.refresh_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.refresh_action.triggered.connect(self.browser.refresh)
        view_menu.addAction(self.refresh_action)
        view_menu.addSeparator()
        view_menu.addActions(self.image_panel.view_actions())
        view_menu.addSeparator()
        self.rules_action = QAction(self.tr("关联规则与统计(&A)…"), self)
        self.rules_action.triggered.connect(self._open_rules)
        view_menu.addAction(self.rules_action)

        self.find_action = QAction(self.tr("搜索"), self)
        self.find_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        self.find_action.triggered.connect(self._focus_search)
        self.addAction(self.find_action)

        edit_menu = self.menuBar().addMenu(self.tr("标注(&E)"))
        edit_menu.addActions(self.correction.actions())
        self.save_next_action = self._action(self.tr("保存并转到下一条"), "Ctrl+Return", self._save_and_next)
        self.next_action = self._action(self.tr("下一条病历(&N)"), "Alt+N", self.browser.select_next)
        self.previous_action = self._action(self.tr("上一条病历(&P)"), "Alt+P", self.browser.select_previous)
        edit_menu.addActions([self.save_next_action, self.next_action, self.previous_action])
        edit_menu.addSeparator()
        self.focus_actions = [
            self._action(self.tr("转到病历列表"), "Ctrl+1", self.record_list.table.setFocus),
            self._action(self.tr("转到病历正文"), "Ctrl+2", self.text_panel.text_view.setFocus),
            self._action(self.tr("转到结构化表单"), "Ctrl+3", self.form_editor.focus_first_field),
            self._action(self.tr("转到待审核队列"), "Ctrl+4", lambda: self.review_queue.focus_table()),
        ]
        edit_menu.addActions(self.focus_actions)

        settings_menu = self.menuBar().addMenu(self.tr("设置(&S)"))
        settings_menu.addAction(self.app_actions.preferences_action)

    def _action(self, text: str, shortcut: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_status_bar(self) -> None:
        self.count_label = QLabel()
        self.model_label = QLabel()
        self.statusBar().addPermanentWidget(self.count_label)
        self.statusBar().addPermanentWidget(self.model_label)

    # -- public --------------------------------------------------------------
    def select_record(self, record_id: str) -> bool:
        """Show ``record_id`` and emit ``record_shown`` once it is on screen, even when it
        already was (the window opens on the first record); False, with the reason in
        the status bar, when it cannot be read."""
        if record_id == self.browser.selected_id:
            self.browser.reload_current()
            return self.browser.selected_id == record_id
        return self.browser.select(record_id)

    def open_database(self, path: Path) -> bool:
        """Browse the database at ``path`` instead; False (after telling the user) on failure
        or when the user keeps unsaved edits."""
        if not self.correction.confirm_leave():
            return False
        self.batch_prediction.stop()  # its records are in the database being left
        try:  # checked on open; a damaged file is offered its newest good backup, as at start
            db, restored_note = open_database_at_start(Path(path), self.restore_prompt)
        except TcmError as exc:
            QMessageBox.critical(self, self.tr("无法打开数据库"), str(exc))
            return False
        if restored_note:
            self.statusBar().showMessage(restored_note, STATUS_MESSAGE_MS)
        previous = self._owned_db
        self._db, self._owned_db = db, db
        self.correction.set_database(db)
        self._show_database()
        self.browser.set_source(db.records)
        if previous is not None:
            previous.close()
        self.database_opened.emit(db)
        self.offer_recovery()
        return True

    def draft_journal(self) -> DraftJournal:
        """Where the unsaved edits of this window's database are journaled."""
        return DraftJournal(self._db.data_dir / JOURNAL_FOLDER, self._db.path)

    def offer_recovery(self) -> RecoveryOutcome:
        """Offer unsaved edits a crash left in this database's journal (see ui/recovery.py)."""
        outcome = offer_recovery(
            self.draft_journal(), self.correction, self.select_record, self.recovery_prompter, self
        )
        if outcome.restored is not None:
            message = self.tr("已恢复病历 {0} 上次未保存的修改（尚未保存，可撤销）").format(outcome.restored)
            if outcome.base_changed:
                message += self.tr("；该病历此后已在别处保存过")
            self.statusBar().showMessage(message, STATUS_MESSAGE_MS)
        return outcome

    def named_actions(self) -> dict[str, QAction]:
        """The actions whose shortcuts the settings name (see DEFAULT_SHORTCUTS)."""
        actions = (self.open_action, self.app_actions.import_action, self.app_actions.export_action)
        actions += (self.app_actions.preferences_action, self.quit_action, self.refresh_action, self.find_action)
        actions += (self.correction.save_action, self.save_next_action, self.next_action, self.previous_action)
        names = ("open_database", "import_records", "export_records", "preferences", "quit", "refresh", "find")
        names += ("save", "save_and_next", "next_record", "previous_record")
        names += ("focus_list", "focus_text", "focus_form", "focus_queue")
        return dict(zip(names, (*actions, *self.focus_actions), strict=True))

    def save_settings(self) -> None:
        settings = self._settings
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/state", self.saveState())
        settings.setValue("main_window/main_splitter", self.main_splitter.saveState())
        settings.setValue("main_window/right_splitter", self.right_splitter.saveState())
        settings.sync()

    # -- slots -----------------------------------------------------------------
    def _show_database(self) -> None:
        self.setWindowTitle(self.tr("{0}[*] — 中医病历结构化").format(self._db.path.name))
        try:
            model = self._db.models.active()
        except TcmError:
            model = None
        if model is None:
            self.model_label.setText(self.tr("无模型"))
        else:
            self.model_label.setText(self.tr("模型 {0}").format(model.version))

    def _update_counts(self) -> None:
        self.count_label.setText(self.tr("共 {0} 条记录").format(self.browser.total_all))

    def _show_selected(self, record_id: str | None) -> None:
        stored = self.browser.current
        if record_id is None or stored is None:
            self._shown_id = None
            self.text_panel.clear_record()
            self.image_panel.show_image(None)
            self.correction.load(None)
            return
        record = stored.record
        self._show_header(record, stored.status)
        self.image_panel.show_image(stored.image_path)
        self.correction.load(record)
        self._shown_id = record.id
        self._shown_timer.start()
        self._request_prediction(record.id)

    def _show_header(self, record: Record, status: RecordStatus) -> None:
        name = specialty_name(self._schema, record.specialty)
        self.text_panel.show_header("　".join((record.id, name, status_name(status))))

    def _request_prediction(self, record_id: str) -> None:
        stored = self.browser.current
        if stored is None or not self.inference.has_model:
            return
        version = self.inference.model_version
        cached = None
        if version is not None:
            try:
                cached = self._db.predictions.latest(record_id, version)
            except TcmError:
                cached = None
        if cached is not None:
            self._show_prediction(cached, store=False)
        else:
            self.inference.request_prediction(stored.record, stored.image_path)

    def _show_prediction(self, prediction: Prediction, store: bool = True) -> None:
        stored = self.browser.current
        if stored is None or stored.record.id != prediction.record_id:
            return  # the user has moved on
        if store:
            try:
                self._db.predictions.add(prediction)
            except TcmError as exc:
                self.statusBar().showMessage(self.tr("预测未能保存：{0}").format(exc), STATUS_MESSAGE_MS)
            else:
                if stored.status is RecordStatus.NEW:  # the store made it 已预测: say so in the header and list
                    self._show_header(stored.record, RecordStatus.PREDICTED)
                    QTimer.singleShot(0, self, self.browser.refresh)
        kept_edits = False
        if stored.status in (RecordStatus.NEW, RecordStatus.PREDICTED):
            record = replace(
                stored.record,
                spans=prediction.spans,
                form={v.field: v.value for v in prediction.form},
                form_evidence={v.field: v.evidence for v in prediction.form if v.evidence},
            )
            kept_edits = not self.correction.offer(record)  # never overwrite what the clinician changed
        self.image_panel.show_tongue(prediction.tongue)
        flags = "；".join(prediction.flags)
        message = self.tr("模型预测：{0} 个实体，不确定度 {1:.3f}")
        message = message.format(len(prediction.spans), prediction.uncertainty)
        if kept_edits:
            message += self.tr("（未显示：保留了您的修改）")
        self.statusBar().showMessage(message + (f"　⚠ {flags}" if flags else ""), STATUS_MESSAGE_MS)
        QTimer.singleShot(0, lambda: self._emit_prediction_shown(prediction.record_id))

    def _emit_prediction_shown(self, record_id: str) -> None:
        if record_id == self.browser.selected_id:
            self.prediction_shown.emit(record_id)

    def _show_prediction_failure(self, record_id: str, message: str) -> None:
        self.statusBar().showMessage(self.tr("模型预测失败：{0}").format(message), STATUS_MESSAGE_MS)
        if record_id and record_id == self.browser.selected_id:
            self.prediction_shown.emit(record_id)

    def _show_model(self, version: str) -> None:
        self.model_label.setText(self.tr("模型 {0}").format(version))
        if self.browser.selected_id is not None:
            self._request_prediction(self.browser.selected_id)

    def _show_model_failure(self, message: str) -> None:
        self.model_label.setText(self.tr("模型不可用"))
        self.statusBar().showMessage(self.tr("模型无法加载：{0}").format(message), STATUS_MESSAGE_MS)
        if self._shown_id is not None:
            self.prediction_shown.emit(self._shown_id)

    def _emit_record_shown(self) -> None:
        if self._shown_id is not None and self._shown_id == self.browser.selected_id:
            self.record_shown.emit(self._shown_id)

    def _show_failure(self, message: str) -> None:
        self.statusBar().showMessage(message, STATUS_MESSAGE_MS)

    def _ask_open_database(self) -> None:
        start = str(self._db.path.parent)
        path, _filter = QFileDialog.getOpenFileName(
            self, self.tr("打开数据库"), start, self.tr("数据库 (*.sqlite *.sqlite3 *.db);;所有文件 (*)")
        )
        if path:
            self.open_database(Path(path))

    def _show_saved(self, record_id: str) -> None:
        self.statusBar().showMessage(self.tr("已保存并审核 {0}").format(record_id), STATUS_MESSAGE_MS)
        # Later, not now: a save the leave guard asked for runs inside the record list's
        # selection change, where the list must not be reset under it.
        QTimer.singleShot(0, self, lambda: self._show_saved_status(record_id))

    def _show_saved_status(self, record_id: str) -> None:
        if not self.isVisible():
            return  # saved on closing
        self.browser.refresh()  # the list shows the new status
        if self.browser.selected_id == record_id and not self.correction.is_dirty:
            self.browser.reload_current()  # the header too, and the annotation as stored
            self.statusBar().showMessage(self.tr("已保存并审核 {0}").format(record_id), STATUS_MESSAGE_MS)

    def _save_and_next(self) -> None:
        if self.correction.save():
            self.browser.select_next()

    def _open_rules(self) -> None:
        dialog = open_rules_dialog(self, self._db)
        dialog.records_requested.connect(self._show_rule_records)

    def _show_rule_records(self, record_ids: list[str]) -> None:
        if record_ids and self.select_record(record_ids[0]):
            self.statusBar().showMessage(self.tr("规则涉及 {0} 份病历").format(len(record_ids)), STATUS_MESSAGE_MS)

    def _apply_app_settings(self, new: AppSettings) -> None:
        apply_shortcuts(self.named_actions(), new.shortcuts)
        restart = needs_restart(self._app_settings, new)  # against what this window started with
        message = self.tr("设置已保存；部分更改在重新启动后生效。") if restart else self.tr("设置已保存。")
        self.statusBar().showMessage(message, STATUS_MESSAGE_MS)

    def _focus_search(self) -> None:
        self.record_list.search_edit.setFocus()
        self.record_list.search_edit.selectAll()

    # -- settings ----------------------------------------------------------------
    def _restore_settings(self) -> None:
        settings = self._settings
        geometry = settings.value("main_window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(*DEFAULT_SIZE)
        for key, restore in (
            ("main_window/state", self.restoreState),
            ("main_window/main_splitter", self.main_splitter.restoreState),
            ("main_window/right_splitter", self.right_splitter.restoreState),
        ):
            value = settings.value(key)
            if isinstance(value, QByteArray) and not value.isEmpty():
                restore(value)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.correction.confirm_leave():
            event.ignore()
            return
        self.save_settings()
        self.model_menu.shutdown()
        self.inference.shutdown()
        if self._owned_db is not None:
            self._owned_db.close()
            self._owned_db = None
        super().closeEvent(event)
