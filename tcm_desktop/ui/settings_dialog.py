"""Settings > Preferences: language, folders, inference threads, shortcuts and category keys.

The values are checked by :func:`tcm_desktop.domain.settings.parse_settings`
(the same checks as at start-up) before anything is saved; problems are listed
in the dialog, naming the setting and the value, and nothing is written until
they are fixed. Shortcuts apply at once; the rest at the next start.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QRegularExpression, Signal
from PySide6.QtGui import QAction, QKeySequence, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.domain import Schema
from tcm_desktop.domain.settings import (
    DEFAULT_SHORTCUTS,
    MAX_BACKUP_INTERVAL,
    MAX_BACKUP_KEEP,
    MAX_THREADS,
    MIN_BACKUP_KEEP,
    MIN_THREADS,
    AppSettings,
    SettingsError,
    SettingsFile,
    SettingsProblem,
    parse_settings,
)
from tcm_desktop.ui.i18n import LANGUAGE_NAMES

PORTABLE = QKeySequence.SequenceFormat.PortableText
ERROR_STYLE = "color: #b91c1c;"

SHORTCUT_NAMES = {
    "open_database": QT_TRANSLATE_NOOP("SettingsDialog", "打开数据库"),
    "import_records": QT_TRANSLATE_NOOP("SettingsDialog", "导入病历"),
    "export_records": QT_TRANSLATE_NOOP("SettingsDialog", "导出病历"),
    "preferences": QT_TRANSLATE_NOOP("SettingsDialog", "首选项"),
    "quit": QT_TRANSLATE_NOOP("SettingsDialog", "退出"),
    "refresh": QT_TRANSLATE_NOOP("SettingsDialog", "刷新列表"),
    "find": QT_TRANSLATE_NOOP("SettingsDialog", "搜索"),
    "save": QT_TRANSLATE_NOOP("SettingsDialog", "保存并审核"),
    "save_and_next": QT_TRANSLATE_NOOP("SettingsDialog", "保存并转到下一条"),
    "next_record": QT_TRANSLATE_NOOP("SettingsDialog", "下一条病历"),
    "previous_record": QT_TRANSLATE_NOOP("SettingsDialog", "上一条病历"),
    "focus_list": QT_TRANSLATE_NOOP("SettingsDialog", "转到病历列表"),
    "focus_text": QT_TRANSLATE_NOOP("SettingsDialog", "转到病历正文"),
    "focus_form": QT_TRANSLATE_NOOP("SettingsDialog", "转到结构化表单"),
    "focus_queue": QT_TRANSLATE_NOOP("SettingsDialog", "转到待审核队列"),
}
RESTART_KEYS = ("language", "data_folder", "model_folder", "inference_threads", "category_keys")


def apply_shortcuts(actions: Mapping[str, QAction], shortcuts: Mapping[str, str]) -> None:
    """Give each named action its shortcut ("" removes it); names not in ``shortcuts`` keep theirs."""
    for name, action in actions.items():
        if name in shortcuts:
            action.setShortcut(QKeySequence.fromString(shortcuts[name], PORTABLE))


def needs_restart(before: AppSettings, after: AppSettings) -> bool:
    """Whether a change only takes effect when the program starts again."""
    return any(getattr(before, key) != getattr(after, key) for key in RESTART_KEYS)


def _qt_problems(shortcuts: Mapping[str, str]) -> list[SettingsProblem]:
    """Shortcuts the Python check allows but Qt cannot read back the same way."""
    problems = []
    for name, text in shortcuts.items():
        if text and QKeySequence.fromString(text, PORTABLE).toString(PORTABLE).lower() != text.lower():
            problems.append(SettingsProblem(f"shortcuts.{name}", text, "Qt does not know this key combination"))
    return problems


class SettingsDialog(QDialog):
    """Edit ``settings``; OK checks them and writes ``settings_file``, then emits ``saved(AppSettings)``."""

    saved = Signal(object)

    def __init__(
        self, settings: AppSettings, settings_file: SettingsFile, schema: Schema, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("首选项"))
        self.setMinimumSize(560, 520)
        self._file = settings_file
        self._schema = schema
        self.settings = settings  # the saved settings once OK succeeded
        tabs = QTabWidget()
        tabs.addTab(self._general_tab(), self.tr("常规"))
        tabs.addTab(self._shortcuts_tab(), self.tr("快捷键"))
        tabs.addTab(self._category_tab(), self.tr("类别键"))
        self.problems_label = QLabel()
        self.problems_label.setStyleSheet(ERROR_STYLE)
        self.problems_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        restore = self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.clicked.connect(lambda: self.show_settings(AppSettings()))
        layout = QVBoxLayout(self)
        note = QLabel(self.tr("语言、文件夹、线程数和类别键在重新启动程序后生效；快捷键立即生效。"))
        note.setWordWrap(True)
        layout.addWidget(tabs, 1)
        layout.addWidget(note)
        layout.addWidget(self.problems_label)
        layout.addWidget(self.buttons)
        self.show_settings(settings)

    # -- building ---------------------------------------------------------------
    def _folder_row(self, edit: QLineEdit, title: str) -> QHBoxLayout:
        button = QPushButton(self.tr("浏览…"))
        button.clicked.connect(lambda: self._choose_folder(edit, title))
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        row.addWidget(button)
        return row

    def _general_tab(self) -> QWidget:
        self.language_combo = QComboBox()
        for code, name in LANGUAGE_NAMES.items():
            self.language_combo.addItem(name, code)
        self.data_folder_edit = QLineEdit()
        self.data_folder_edit.setPlaceholderText(self.tr("默认：系统的用户数据文件夹"))
        self.model_folder_edit = QLineEdit()
        self.model_folder_edit.setPlaceholderText(self.tr("默认：随程序提供的模型"))
        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(MIN_THREADS, MAX_THREADS)
        self.backup_interval_spin = QSpinBox()
        self.backup_interval_spin.setRange(0, MAX_BACKUP_INTERVAL)
        self.backup_interval_spin.setSuffix(self.tr(" 分钟"))
        self.backup_interval_spin.setSpecialValueText(self.tr("不自动备份"))
        self.backup_keep_spin = QSpinBox()
        self.backup_keep_spin.setRange(MIN_BACKUP_KEEP, MAX_BACKUP_KEEP)
        page = QWidget()
        form = QFormLayout(page)
        form.addRow(self.tr("界面语言："), self.language_combo)
        form.addRow(self.tr("数据文件夹："), self._folder_row(self.data_folder_edit, self.tr("选择数据文件夹")))
        form.addRow(self.tr("模型文件夹："), self._folder_row(self.model_folder_edit, self.tr("选择模型文件夹")))
        form.addRow(self.tr("推理线程数："), self.threads_spin)
        form.addRow(self.tr("自动备份间隔："), self.backup_interval_spin)
        form.addRow(self.tr("保留备份份数："), self.backup_keep_spin)
        return page

    def _shortcuts_tab(self) -> QWidget:
        self.shortcut_edits: dict[str, QKeySequenceEdit] = {}
        page = QWidget()
        form = QFormLayout(page)
        for name in DEFAULT_SHORTCUTS:
            edit = QKeySequenceEdit()
            edit.setMaximumSequenceLength(1)
            edit.setClearButtonEnabled(True)
            edit.setObjectName(f"shortcut_{name}")
            self.shortcut_edits[name] = edit
            form.addRow(QCoreApplication.translate("SettingsDialog", SHORTCUT_NAMES.get(name, name)), edit)
        return page

    def _category_tab(self) -> QWidget:
        self.category_edits: dict[str, QLineEdit] = {}
        validator = QRegularExpressionValidator(QRegularExpression("[A-Za-z0-9]?"), self)
        inner = QWidget()
        form = QFormLayout(inner)
        for label in self._schema.labels:
            edit = QLineEdit()
            edit.setMaxLength(1)
            edit.setValidator(validator)
            edit.setMaximumWidth(60)
            edit.setPlaceholderText(label.key)
            edit.setToolTip(self.tr("空白：使用默认键 {0}").format(label.key))
            self.category_edits[label.code] = edit
            form.addRow(f"{label.zh}（{label.en}）", edit)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        return scroll

    # -- values -------------------------------------------------------------------
    def show_settings(self, settings: AppSettings) -> None:
        """Put ``settings`` into the widgets (nothing is saved)."""
        self.language_combo.setCurrentIndex(max(0, self.language_combo.findData(settings.language)))
        self.data_folder_edit.setText(str(settings.data_folder or ""))
        self.model_folder_edit.setText(str(settings.model_folder or ""))
        self.threads_spin.setValue(settings.inference_threads)
        self.backup_interval_spin.setValue(settings.backup_interval_minutes)
        self.backup_keep_spin.setValue(settings.backup_keep)
        for name, edit in self.shortcut_edits.items():
            edit.setKeySequence(QKeySequence.fromString(settings.shortcuts.get(name, ""), PORTABLE))
        for code, edit in self.category_edits.items():
            edit.setText(settings.category_keys.get(code, ""))
        self.problems_label.clear()

    def values(self) -> dict[str, Any]:
        """The widgets' content in the settings file's shape."""
        keys = {code: edit.text().upper() for code, edit in self.category_edits.items() if edit.text()}
        return {
            "language": self.language_combo.currentData(),
            "data_folder": self.data_folder_edit.text().strip(),
            "model_folder": self.model_folder_edit.text().strip(),
            "inference_threads": self.threads_spin.value(),
            "backup_interval_minutes": self.backup_interval_spin.value(),
            "backup_keep": self.backup_keep_spin.value(),
            "shortcuts": {name: edit.keySequence().toString(PORTABLE) for name, edit in self.shortcut_edits.items()},
            "category_keys": keys,
        }

    def check(self) -> tuple[AppSettings, list[SettingsProblem]]:
        values = self.values()
        settings, problems = parse_settings(values, self._schema)
        return settings, problems + _qt_problems(values["shortcuts"])

    def accept(self) -> None:
        settings, problems = self.check()
        if problems:
            self.problems_label.setText(
                self.tr("请先改正这些设置：") + "\n" + "\n".join(f"• {problem}" for problem in problems)
            )
            return
        try:
            self._file.save(settings)
        except SettingsError as exc:
            self.problems_label.setText(self.tr("无法保存设置：{0}").format(exc))
            return
        self.settings = settings
        self.saved.emit(settings)
        super().accept()

    def _choose_folder(self, edit: QLineEdit, title: str) -> None:
        start = edit.text().strip() or str(Path.home())
        path = QFileDialog.getExistingDirectory(self, title, start)
        if path:
            edit.setText(path)
