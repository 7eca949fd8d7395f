"""The main window over a real database: list, highlighted text, photo, form, settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QTextCursor
from PySide6.QtWidgets import QDialog

from tcm_desktop.domain import Prediction, Schema
from tcm_desktop.store import Database
from tcm_desktop.ui.main_window import MainWindow

from .sample_data import GASTRO_TEXT


@pytest.fixture
def window(qtbot, db: Database, schema: Schema, settings_path: Path) -> MainWindow:
    win = MainWindow(db, schema, settings=QSettings(str(settings_path), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def char_format_at(window: MainWindow, offset: int):
    """The character format of the character at code-point ``offset``."""
    view = window.text_panel.text_view
    cursor = QTextCursor(view.document())
    cursor.setPosition(view.qt_position(offset) + 1)  # a cursor reports the character before it
    return cursor.charFormat()


def shown_ids(window: MainWindow) -> list[str]:
    model = window.record_list.model
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def test_opens_on_the_first_record_with_its_spans_highlighted(window: MainWindow, db: Database, schema: Schema):
    assert "clinic.sqlite" in window.windowTitle()
    assert window.text_panel.text_view.toPlainText() == GASTRO_TEXT
    record = db.records.get("R001").record
    for span in record.spans:
        label = schema.label(span.label)
        for offset in (span.start, span.end - 1):
            fmt = char_format_at(window, offset)
            assert fmt.background().color() == QColor(label.color), (span, offset)
            assert fmt.toolTip() == label.zh
    comma = GASTRO_TEXT.index("，")
    assert char_format_at(window, comma).background().style() == Qt.BrushStyle.NoBrush
    assert "R001" in window.text_panel.header.text() and "消化内科" in window.text_panel.header.text()


def test_status_bar_counts_records_and_says_when_there_is_no_model(window: MainWindow):
    assert window.count_label.text() == "共 4 条记录"
    assert window.model_label.text() == "无模型"
    assert window.record_list.count_label.text() == "共 4 条"


def test_the_legend_lists_every_category_with_colour_and_key(window: MainWindow, schema: Schema):
    for label in schema.labels:
        chip = window.text_panel.legend.chip(label.code)
        assert label.zh in chip.text() and label.key in chip.text()
        assert label.color in chip.styleSheet()


def test_search_filters_the_list_and_shows_the_match(qtbot, window: MainWindow):
    panel = window.record_list
    with qtbot.waitSignal(window.record_shown, timeout=3000) as shown:
        panel.search_edit.setText("黄痰")  # QTest cannot type CJK; the debounce still applies
    assert shown.args == ["R002"]
    assert shown_ids(window) == ["R002"]
    assert panel.count_label.text() == "共 1 条"
    assert window.count_label.text() == "共 4 条记录"
    panel.search_edit.clear()
    qtbot.waitUntil(lambda: len(shown_ids(window)) == 4, timeout=3000)
    assert window.browser.selected_id == "R002"  # still in the list, still shown
    qtbot.keyClicks(panel.search_edit, "vas")
    qtbot.keyClick(panel.search_edit, Qt.Key.Key_Return)  # applies at once
    assert shown_ids(window) == ["R003"]


def test_specialty_filter(qtbot, window: MainWindow):
    combo = window.record_list.specialty_combo
    assert [combo.itemText(i) for i in range(combo.count())][1:] == ["综合", "肛肠科", "骨科", "呼吸内科", "消化内科"]
    with qtbot.waitSignal(window.record_shown) as shown:
        combo.setCurrentIndex(combo.findData("orthopedics"))
    assert shown.args == ["R003"] and shown_ids(window) == ["R003"]
    combo.setCurrentIndex(0)
    assert len(shown_ids(window)) == 4


def test_status_filter(window: MainWindow, db: Database):
    combo = window.record_list.status_combo
    combo.setCurrentIndex(combo.findData("verified"))
    assert shown_ids(window) == [] and window.text_panel.text_view.toPlainText() == ""
    assert window.image_panel.message() == "无舌象照片"
    combo.setCurrentIndex(combo.findData("new"))
    assert len(shown_ids(window)) == 4


def test_confidence_filter_keeps_the_records_the_model_was_unsure_of(window: MainWindow, db: Database):
    db.predictions.add(Prediction("R002", "m1", (), (), 0.30))
    db.predictions.add(Prediction("R004", "m1", (), (), 0.07))
    db.predictions.add(Prediction("R003", "m1", (), (), 0.01))
    combo = window.record_list.confidence_combo
    combo.setCurrentIndex(combo.findData(0.1))
    assert shown_ids(window) == ["R002"]
    combo.setCurrentIndex(combo.findData(0.05))
    assert shown_ids(window) == ["R002", "R004"]
    assert window.record_list.count_label.text().startswith("共 2 条")
    combo.setCurrentIndex(0)
    assert len(shown_ids(window)) == 4


def test_keyboard_down_and_up_change_the_shown_record(qtbot, window: MainWindow):
    table = window.record_list.table
    table.setFocus()
    with qtbot.waitSignal(window.record_shown) as shown:
        qtbot.keyClick(table, Qt.Key.Key_Down)
    assert shown.args == ["R002"]
    assert table.currentIndex().row() == 1
    assert window.text_panel.text_view.toPlainText().startswith("咳嗽")
    with qtbot.waitSignal(window.record_shown) as shown:
        qtbot.keyClick(table, Qt.Key.Key_Up)
    assert shown.args == ["R001"]


def test_select_record_emits_record_shown_even_for_the_record_already_shown(qtbot, window: MainWindow):
    assert window.browser.selected_id == "R001"
    with qtbot.waitSignal(window.record_shown) as shown:
        assert window.select_record("R001")
    assert shown.args == ["R001"]


def test_select_record_moves_the_list_and_reports_unknown_ids(qtbot, window: MainWindow):
    with qtbot.waitSignal(window.record_shown) as shown:
        assert window.select_record("R004")
    assert shown.args == ["R004"]
    assert window.record_list.table.currentIndex().row() == 3
    assert not window.select_record("R999")
    assert "R999" in window.statusBar().currentMessage()
    assert window.browser.selected_id == "R004"


def test_photo_is_shown_and_the_placeholder_when_there_is_none(qtbot, window: MainWindow):
    panel = window.image_panel
    assert panel.message() == "" and panel.view.has_image()
    assert (panel.view.pixmap().width(), panel.view.pixmap().height()) == (240, 160)
    assert panel.fit_action.isEnabled()
    window.select_record("R002")
    assert panel.message() == "无舌象照片" and not panel.view.has_image()
    assert not panel.zoom_in_action.isEnabled()


def test_form_shows_the_general_and_specialty_blocks(window: MainWindow):
    form = window.form_editor
    assert form.group_titles() == ["通用", "消化内科"]
    assert form.value_text("diarrhea_frequency") == "每日>6次"
    assert form.value_text("herbs") == "党参 15g、炒白术 10g"
    assert form.value_text("coat_color") == "未提及"
    window.select_record("R002")
    assert form.group_titles() == ["通用", "呼吸内科"]
    assert form.value_text("fever") == "无" and form.value_text("syndromes") == "痰热壅肺"
    with pytest.raises(KeyError):
        form.value_text("diarrhea_frequency")


def test_geometry_and_splitters_are_restored(qtbot, db: Database, schema: Schema, settings_path: Path):
    settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
    first = MainWindow(db, schema, settings=settings)
    qtbot.addWidget(first)
    first.resize(760, 590)  # within the offscreen screen (800x800)
    first.show()
    qtbot.waitExposed(first)
    first.main_splitter.setSizes([200, 300, 240])
    sizes = first.main_splitter.sizes()
    first.close()
    second = MainWindow(db, schema, settings=QSettings(str(settings_path), QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (760, 590)
    second.show()
    qtbot.waitExposed(second)
    assert second.main_splitter.sizes() == sizes


def test_open_database_switches_to_the_other_file(qtbot, window: MainWindow, tmp_path: Path):
    other_path = tmp_path / "other.sqlite"
    Database.open(other_path).close()
    assert window.open_database(other_path)
    assert "other.sqlite" in window.windowTitle()
    assert shown_ids(window) == [] and window.count_label.text() == "共 0 条记录"
    assert window.text_panel.text_view.toPlainText() == ""


def test_the_rules_dialog_opens_from_the_menu_and_a_rule_opens_its_records(qtbot, window: MainWindow):
    window.rules_action.trigger()
    dialogs = [w for w in window.findChildren(QDialog) if w.isVisible()]
    assert len(dialogs) == 1
    dialogs[0].records_requested.emit(["R003", "R004"])
    qtbot.waitUntil(lambda: window.browser.selected_id == "R003")
    assert "2" in window.statusBar().currentMessage()
    dialogs[0].close()
