"""Settings > Preferences and the start-up settings: checked before saving, shortcuts applied at once."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QKeySequence

from tcm_desktop.domain import Schema
from tcm_desktop.domain.settings import DEFAULT_SHORTCUTS, AppSettings, SettingsFile
from tcm_desktop.store import Database
from tcm_desktop.ui import app as app_module
from tcm_desktop.ui.main_window import MainWindow
from tcm_desktop.ui.settings_dialog import SettingsDialog

PORTABLE = QKeySequence.SequenceFormat.PortableText


@pytest.fixture
def settings_file(tmp_path: Path, schema: Schema) -> SettingsFile:
    return SettingsFile(tmp_path / "config" / "settings.toml", schema)


@pytest.fixture
def dialog(qtbot, settings_file: SettingsFile, schema: Schema) -> SettingsDialog:
    dlg = SettingsDialog(AppSettings(), settings_file, schema)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def make_bundle(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{}", encoding="utf-8")
    return folder


def test_every_default_shortcut_is_one_qt_understands():
    for name, text in DEFAULT_SHORTCUTS.items():
        assert QKeySequence.fromString(text, PORTABLE).toString(PORTABLE) == text, name


def test_the_dialog_shows_the_settings_in_typed_widgets(qtbot, settings_file: SettingsFile, schema: Schema, tmp_path):
    bundle = make_bundle(tmp_path / "bundle")
    settings = AppSettings(
        language="en",
        model_folder=bundle,
        inference_threads=5,
        shortcuts={"quit": "Alt+F4"},
        category_keys={"SYM": "X"},
    )
    dlg = SettingsDialog(settings, settings_file, schema)
    qtbot.addWidget(dlg)
    assert dlg.language_combo.currentText() == "English"
    assert dlg.model_folder_edit.text() == str(bundle) and dlg.data_folder_edit.text() == ""
    assert dlg.threads_spin.value() == 5 and dlg.threads_spin.maximum() == 64
    assert dlg.shortcut_edits["quit"].keySequence().toString(PORTABLE) == "Alt+F4"
    assert dlg.category_edits["SYM"].text() == "X" and dlg.category_edits["HERB"].placeholderText() == "H"
    assert dlg.check() == (settings, [])


def test_bad_values_are_listed_by_key_and_nothing_is_saved(qtbot, dialog: SettingsDialog, settings_file, tmp_path):
    dialog.model_folder_edit.setText(str(tmp_path))  # no manifest.json
    dialog.shortcut_edits["quit"].setKeySequence(QKeySequence("Ctrl+O"))  # already open_database
    dialog.category_edits["SYM"].setText("g")  # already SIGN
    with qtbot.assertNotEmitted(dialog.saved):
        dialog.accept()
    text = dialog.problems_label.text()
    assert text.startswith("请先改正这些设置：")
    assert f'model_folder = "{tmp_path}": no manifest.json in it' in text
    assert 'shortcuts = "Ctrl+O": given to open_database and quit' in text
    assert 'category_keys = "G": given to SYM and SIGN' in text
    assert dialog.isVisible() and not settings_file.path.exists()


def test_good_values_are_saved_to_the_file(qtbot, dialog: SettingsDialog, settings_file, tmp_path):
    bundle = make_bundle(tmp_path / "bundle")
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("en"))
    dialog.data_folder_edit.setText(str(tmp_path / "records"))
    dialog.model_folder_edit.setText(str(bundle))
    dialog.threads_spin.setValue(4)
    dialog.shortcut_edits["import_records"].setKeySequence(QKeySequence("Ctrl+Shift+I"))
    dialog.shortcut_edits["find"].clear()
    dialog.category_edits["SYM"].setText("x")
    with qtbot.waitSignal(dialog.saved) as saved:
        dialog.accept()
    settings = saved.args[0]
    assert not dialog.isVisible() and dialog.settings == settings
    data = tomllib.loads(settings_file.path.read_text(encoding="utf-8"))
    assert data["language"] == "en" and data["inference_threads"] == 4
    assert data["data_folder"] == str(tmp_path / "records") and data["model_folder"] == str(bundle)
    assert data["shortcuts"]["import_records"] == "Ctrl+Shift+I" and data["shortcuts"]["find"] == ""
    assert data["category_keys"] == {"SYM": "X"}
    assert settings_file.load().settings == settings


def test_restore_defaults_puts_the_defaults_in_the_widgets(dialog: SettingsDialog):
    dialog.threads_spin.setValue(9)
    dialog.shortcut_edits["quit"].clear()
    dialog.buttons.button(dialog.buttons.StandardButton.RestoreDefaults).click()
    assert dialog.check() == (AppSettings(), [])


def test_a_file_that_cannot_be_written_is_reported_in_the_dialog(qtbot, schema: Schema, tmp_path: Path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x", encoding="utf-8")
    dlg = SettingsDialog(AppSettings(), SettingsFile(blocker / "settings.toml"), schema)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.accept()
    assert "无法保存设置" in dlg.problems_label.text() and dlg.isVisible()


# --- the main window -----------------------------------------------------------------


def make_window(qtbot, db: Database, schema: Schema, settings_path: Path, **kwargs) -> MainWindow:
    win = MainWindow(db, schema, settings=QSettings(str(settings_path), QSettings.Format.IniFormat), **kwargs)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_the_window_uses_the_shortcuts_of_the_settings(qtbot, db, schema, settings_path):
    settings = AppSettings(shortcuts={"quit": "Ctrl+Shift+Q", "next_record": ""})
    window = make_window(qtbot, db, schema, settings_path, app_settings=settings)
    assert window.quit_action.shortcut().toString(PORTABLE) == "Ctrl+Shift+Q"
    assert window.next_action.shortcut().isEmpty()
    assert window.app_actions.import_action.shortcut().toString(PORTABLE) == "Ctrl+I"
    assert set(window.named_actions()) == set(DEFAULT_SHORTCUTS)
    assert not window.app_actions.preferences_action.isEnabled()  # no settings file to save to


def test_preferences_from_the_menu_apply_shortcuts_at_once(qtbot, db, schema, settings_path, settings_file):
    window = make_window(qtbot, db, schema, settings_path, settings_file=settings_file)
    menus = {action.text(): action.menu() for action in window.menuBar().actions()}
    assert window.app_actions.preferences_action in menus["设置(&S)"].actions()
    window.app_actions.preferences_action.trigger()
    dlg = window.app_actions.dialog
    assert isinstance(dlg, SettingsDialog) and dlg.isVisible()
    dlg.shortcut_edits["export_records"].setKeySequence(QKeySequence("Ctrl+Shift+E"))
    dlg.accept()
    assert window.app_actions.export_action.shortcut().toString(PORTABLE) == "Ctrl+Shift+E"
    assert window.statusBar().currentMessage() == "设置已保存。"
    assert settings_file.load().settings.shortcuts["export_records"] == "Ctrl+Shift+E"
    window.app_actions.preferences_action.trigger()  # the dialog opens on what was saved
    again = window.app_actions.dialog
    assert again.shortcut_edits["export_records"].keySequence().toString(PORTABLE) == "Ctrl+Shift+E"
    again.threads_spin.setValue(3)
    again.accept()
    assert window.statusBar().currentMessage() == "设置已保存；部分更改在重新启动后生效。"


# --- start-up ------------------------------------------------------------------------------


def test_command_line_options_win_over_the_file(tmp_path: Path):
    file_settings = AppSettings(language="en", data_folder=tmp_path / "data", inference_threads=8)
    args = app_module._parse(["--language", "zh_CN", "--threads", "3"])
    effective = app_module.effective_settings(args, file_settings)
    assert (effective.language, effective.inference_threads) == ("zh_CN", 3)
    assert app_module.database_path(args, effective) == tmp_path / "data" / "records.db"
    args = app_module._parse(["--db", str(tmp_path / "other.db")])
    assert app_module.database_path(args, effective) == tmp_path / "other.db"
    assert app_module.effective_settings(args, file_settings) == file_settings


def test_the_model_folder_of_the_settings_is_used_unless_the_command_line_says_otherwise(tmp_path: Path):
    bundle = make_bundle(tmp_path / "bundle")
    settings = AppSettings(model_folder=bundle)
    assert app_module._model_dir(app_module._parse([]), settings) == bundle
    assert app_module._model_dir(app_module._parse(["--no-model"]), settings) is None
    assert app_module._model_dir(app_module._parse(["--model", str(tmp_path)]), settings) == tmp_path


def test_out_of_range_threads_on_the_command_line_are_refused(capsys):
    with pytest.raises(SystemExit):
        app_module._parse(["--threads", "0"])
    assert "--threads must be from 1 to 64" in capsys.readouterr().err


def test_problems_in_the_settings_file_are_shown_at_start(qtbot, tmp_path: Path, monkeypatch, capsys):
    path = tmp_path / "settings.toml"
    path.write_text('language = "klingon"\ninference_threads = 0\n', encoding="utf-8")
    loaded = SettingsFile(path).load()
    shown: list[str] = []
    monkeypatch.setattr(app_module.QMessageBox, "warning", lambda _parent, _title, text: shown.append(text))
    app_module._report_settings_problems(None, loaded, path, to_stderr=False)
    (text,) = shown
    assert text.startswith(f"设置文件 {path} 中有以下问题，已改用默认值：")
    assert 'language = "klingon"' in text and "inference_threads = 0" in text
    app_module._report_settings_problems(None, loaded, path, to_stderr=True)
    assert 'language = "klingon"' in capsys.readouterr().err
