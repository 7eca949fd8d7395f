"""The correction flow in the main window, over a real SQLite database (and the shipped model
bundle where a prediction is part of the story): mark, relabel, delete, typed form widgets,
evidence links, undo/redo, Ctrl+S, the unsaved-edits guard and keyboard-only verification."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QColor, QContextMenuEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QComboBox, QMenu, QRadioButton, QSpinBox

from tcm_desktop.domain import Record, RecordStatus, Schema, Span
from tcm_desktop.store import Database
from tcm_desktop.ui.correction import LeaveChoice
from tcm_desktop.ui.main_window import MainWindow
from tcm_desktop.ui.names import status_name

from .sample_data import ANORECTAL_TEXT, GASTRO_TEXT, ORTHO_TEXT, spans_for

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "tcm-text"
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier


class ScriptedPrompter:
    """Answers the unsaved-edits question from a script and collects error dialogs (no blocking).

    Past the script it answers Discard, so closing the window at the end of a test never hangs.
    """

    def __init__(self, *answers: LeaveChoice) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []
        self.errors: list[tuple[str, str]] = []

    def ask_unsaved(self, parent: object, record_id: str) -> LeaveChoice:
        self.asked.append(record_id)
        return self.answers.pop(0) if self.answers else LeaveChoice.DISCARD

    def show_error(self, parent: object, title: str, message: str) -> None:
        self.errors.append((title, message))


def table_counts(db: Database) -> dict[str, int]:
    tables = ("annotations", "annotation_spans", "annotation_form", "corrections", "audit_log")
    return {t: db.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def open_window(qtbot, db: Database, schema: Schema, settings_path: Path, **kwargs: object) -> MainWindow:
    settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
    win = MainWindow(db, schema, settings=settings, who="dr.test", **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    return win


@pytest.fixture
def prompter() -> ScriptedPrompter:
    return ScriptedPrompter()


@pytest.fixture
def window(
    qtbot, db: Database, schema: Schema, settings_path: Path, prompter: ScriptedPrompter
) -> Iterator[MainWindow]:
    win = open_window(qtbot, db, schema, settings_path, prompter=prompter)
    yield win
    win.close()


def press(qtbot, key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier, times: int = 1) -> None:
    """Type into whatever has the keyboard focus, as a user would."""
    for _ in range(times):
        widget = QApplication.focusWidget()
        assert widget is not None, "nothing has the keyboard focus"
        qtbot.keyClick(widget, key, modifiers)


def background_at(window: MainWindow, offset: int) -> QColor:
    view = window.text_panel.text_view
    cursor = QTextCursor(view.document())
    cursor.setPosition(view.qt_position(offset) + 1)
    return cursor.charFormat().background().color()


def point_of(window: MainWindow, offset: int) -> QPoint:
    """The viewport point in the middle of the character at code point ``offset``."""
    view = window.text_panel.text_view
    cursor = QTextCursor(view.document())
    cursor.setPosition(view.qt_position(offset))
    left = view.cursorRect(cursor)
    cursor.setPosition(view.qt_position(offset + 1))
    right = view.cursorRect(cursor)
    return QPoint((left.x() + right.x()) // 2, left.center().y())


def of(text: str, piece: str) -> tuple[int, int]:
    start = text.index(piece)
    return start, start + len(piece)


# -- spans ----------------------------------------------------------------------------


def test_select_text_and_press_a_category_key_adds_a_span(qtbot, window: MainWindow, schema: Schema) -> None:
    window.select_record("R004")
    view = window.text_panel.text_view
    view.setFocus()
    view.select_range(*of(ANORECTAL_TEXT, "便血"))
    qtbot.keyClick(view, Qt.Key.Key_S)
    view.select_range(of(ANORECTAL_TEXT, "鲜红")[0], of(ANORECTAL_TEXT, "鲜红")[1] + 1)  # "鲜红，": trimmed
    qtbot.keyClick(view, Qt.Key.Key_O)
    draft = window.correction.draft
    assert draft.spans == spans_for(ANORECTAL_TEXT, ("便血", "SYM"), ("鲜红", "COLOR"))
    assert background_at(window, 0) == QColor(schema.label("SYM").color)
    assert background_at(window, of(ANORECTAL_TEXT, "鲜红")[0]) == QColor(schema.label("COLOR").color)
    assert view.selection() == (of(ANORECTAL_TEXT, "鲜红")[1],) * 2  # collapsed after the span
    assert window.isWindowModified()

    view.select_range(1, 4)  # "血色鲜" overlaps both
    qtbot.keyClick(view, Qt.Key.Key_S)
    assert window.correction.draft is draft
    assert "overlaps" in window.statusBar().currentMessage()


def test_category_key_relabels_the_span_at_the_cursor_and_delete_removes_it(qtbot, window: MainWindow) -> None:
    view = window.text_panel.text_view
    view.setFocus()
    start, end = of(GASTRO_TEXT, "腹泻")
    view.select_range(start + 1, start + 1)  # inside 腹泻
    qtbot.keyClick(view, Qt.Key.Key_G)
    assert window.correction.draft.span((start, end)).label == "SIGN"
    view.select_range(start, end)  # exactly the span: relabel, not a second span
    qtbot.keyClick(view, Qt.Key.Key_S)
    assert window.correction.draft.span((start, end)).label == "SYM"
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert (start, end) not in {(s.start, s.end) for s in window.correction.draft.spans}
    start, end = of(GASTRO_TEXT, "舌淡红")
    view.select_range(start + 1, start + 1)
    QApplication.sendEvent(view, QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, QPoint(), QPoint()))  # Menu key
    menu = window.correction.span_menu
    assert menu is not None and menu.isVisible()
    assert [a.text() for a in menu.actions() if a.isChecked()] == ["舌质(&T)"]
    menu.close()
    view.select_range(0, len(GASTRO_TEXT))
    qtbot.keyClick(view, Qt.Key.Key_Delete)  # every span in the selection
    assert window.correction.draft.spans == ()


def test_clicking_a_span_opens_a_menu_to_relabel_or_delete_it(qtbot, window: MainWindow) -> None:
    view = window.text_panel.text_view
    start, end = of(GASTRO_TEXT, "黏液脓血便")
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point_of(window, start + 2))
    menu = window.correction.span_menu
    assert isinstance(menu, QMenu) and menu.isVisible()
    actions = {a.data(): a for a in menu.actions() if a.data()}
    assert actions["SYM"].isChecked() and actions["SYM"].text() == "症状(&S)"
    actions["SIGN"].trigger()
    menu.close()
    assert window.correction.draft.span((start, end)).label == "SIGN"

    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point_of(window, start))
    menu = window.correction.span_menu
    {a.data(): a for a in menu.actions()}["delete"].trigger()
    menu.close()
    assert window.correction.draft.span_at(start) is None
    # a click outside any span opens nothing
    window.correction.span_menu = None
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point_of(window, GASTRO_TEXT.index("，")))
    assert window.correction.span_menu is None


def test_offsets_stay_code_points_beyond_the_basic_plane(qtbot, db: Database, window: MainWindow) -> None:
    text = "𫫇𫫇\r\n腹痛，舌红。"
    db.records.add(Record("U1", "general", text))
    window.browser.refresh()
    window.select_record("U1")
    view = window.text_panel.text_view
    view.setFocus()
    view.select_range(*of(text, "舌红"))
    qtbot.keyClick(view, Qt.Key.Key_T)
    assert window.correction.draft.spans == (Span(*of(text, "舌红"), "TONGUE_BODY", "舌红"),)
    assert window.correction.save()
    assert db.annotations.current("U1")[0] == (Span(*of(text, "舌红"), "TONGUE_BODY", "舌红"),)


# -- the form -----------------------------------------------------------------------------


def test_form_fields_are_typed_widgets_and_each_change_is_an_edit(qtbot, window: MainWindow) -> None:
    form = window.form_editor
    combo = form.editor("diarrhea_frequency").findChild(QComboBox)
    values = ["无腹泻", "每日<4次", "每日4~6次", "每日>6次", "未提及"]
    assert [combo.itemText(i) for i in range(combo.count())] == values
    assert combo.currentText() == "每日>6次"
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Up)
    assert window.correction.draft.form["diarrhea_frequency"] == "每日4~6次"

    radios = form.editor("mucus_pus_blood_stool").findChildren(QRadioButton)
    assert [r.text() for r in radios] == ["有", "无", "未提及"] and radios[0].isChecked()
    radios[1].click()
    assert window.correction.draft.form["mucus_pus_blood_stool"] == "无"
    radios[1].setFocus()
    qtbot.keyClick(radios[1], Qt.Key.Key_Right)  # arrow keys move the choice
    assert radios[2].isChecked() and window.correction.draft.form["mucus_pus_blood_stool"] == "未提及"

    line = form.editor("herbs").line
    line.setText("党参 15g、炒白术10g、甘草")
    line.editingFinished.emit()
    assert window.correction.draft.form["herbs"] == [
        {"herb": "党参", "dose": "15g"},
        {"herb": "炒白术", "dose": "10g"},
        {"herb": "甘草", "dose": None},
    ]
    assert form.value_text("herbs") == "党参 15g、炒白术 10g、甘草"

    window.select_record("R003")  # the prompter discards the edits above
    spin = window.form_editor.editor("vas_score").findChild(QSpinBox)
    assert spin.value() == 6 and spin.minimum() == -1 and spin.specialValueText() == "—"
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_Up)
    qtbot.keyClick(spin, Qt.Key.Key_Up)
    assert window.correction.draft.form["vas_score"] == 8
    assert window.correction.undo_stack.count() == 1  # two steps of one field: one undo step
    spin.setValue(-1)
    assert window.correction.draft.form["vas_score"] is None
    window.correction.undo_stack.clear()
    window.correction.model.mark_saved()  # as if saved: nothing left to save
    window.form_editor.commit_pending()  # leaving or saving reads every editor again ...
    assert window.correction.draft.form["vas_score"] is None  # ... and "—" stays no value, not 0
    assert not window.correction.model.is_dirty


def test_a_form_field_and_its_evidence_spans_highlight_each_other(qtbot, db: Database, window: MainWindow) -> None:
    spans = spans_for(GASTRO_TEXT, ("腹泻", "SYM"), ("每日5~8次", "FREQUENCY"), ("舌淡红", "TONGUE_BODY"))
    form = {"diarrhea_frequency": "每日>6次", "tongue_color": "淡红"}
    evidence = {"diarrhea_frequency": (0, 1), "tongue_color": (2,)}
    db.records.add(Record("E1", "gastro", GASTRO_TEXT, spans=spans, form=form, form_evidence=evidence))
    window.browser.refresh()
    window.select_record("E1")
    view, editor = window.text_panel.text_view, window.form_editor

    editor.editor("diarrhea_frequency").setFocus()
    qtbot.waitUntil(lambda: view.emphasised == (of(GASTRO_TEXT, "腹泻"), of(GASTRO_TEXT, "每日5~8次")))
    assert "腹泻、每日5~8次" in editor.findChild(object, "name_diarrhea_frequency").toolTip()

    view.setFocus()
    view.select_range(GASTRO_TEXT.index("淡"), GASTRO_TEXT.index("淡"))  # the cursor inside 舌淡红
    assert editor.highlighted_fields() == ("tongue_color",)
    view.select_range(0, 0)
    assert editor.highlighted_fields() == ("diarrhea_frequency",)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point_of(window, GASTRO_TEXT.index("舌")))
    assert editor.highlighted_fields() == ("tongue_color",)
    window.correction.span_menu.close()
    # deleting the span drops the link
    window.correction.delete([of(GASTRO_TEXT, "舌淡红")])
    assert window.correction.draft.form_evidence() == {"diarrhea_frequency": (0, 1)}


def test_evidence_far_down_a_long_record_is_scrolled_into_view(qtbot, db: Database, window: MainWindow) -> None:
    text = "患者自述病史如下。\n" * 200 + "舌淡红，苔薄白。"
    spans = spans_for(text, ("舌淡红", "TONGUE_BODY"))
    db.records.add(
        Record("L1", "general", text, spans=spans, form={"tongue_color": "淡红"}, form_evidence={"tongue_color": (0,)})
    )
    window.browser.refresh()
    window.select_record("L1")
    view = window.text_panel.text_view
    start = text.index("舌淡红")
    cursor = QTextCursor(view.document())
    cursor.setPosition(view.qt_position(start))
    assert not view.viewport().rect().contains(view.cursorRect(cursor))  # out of sight at first
    window.form_editor.editor("tongue_color").setFocus()
    qtbot.waitUntil(lambda: view.emphasised == (of(text, "舌淡红"),))
    assert view.viewport().rect().contains(view.cursorRect(cursor))


# -- undo, save, guard --------------------------------------------------------------------------


def test_undo_and_redo_every_kind_of_edit(qtbot, window: MainWindow) -> None:
    correction = window.correction
    original = correction.draft
    view = window.text_panel.text_view
    view.setFocus()
    view.select_range(*of(GASTRO_TEXT, "伴"))
    qtbot.keyClick(view, Qt.Key.Key_S)
    correction.relabel(of(GASTRO_TEXT, "腹泻"), "SIGN")
    correction.delete([of(GASTRO_TEXT, "脉细")])
    correction.set_form_value("tongue_color", "红")
    edited = correction.draft
    assert correction.undo_stack.count() == 4 and window.isWindowModified()
    press(qtbot, Qt.Key.Key_Z, CTRL, times=4)
    assert correction.draft == original and not correction.is_dirty and not window.isWindowModified()
    assert window.text_panel.text_view.spans == original.spans
    assert window.form_editor.value_text("tongue_color") == "淡红"
    press(qtbot, Qt.Key.Key_Z, CTRL | SHIFT, times=4)
    assert correction.draft == edited and correction.is_dirty
    assert window.form_editor.value_text("tongue_color") == "红"
    assert "“伴”" in correction.undo_stack.text(0) and "删除“脉细”" in correction.undo_stack.text(2)


def test_ctrl_s_saves_the_diff_against_the_prediction_and_verifies(
    qtbot, db: Database, schema: Schema, settings_path: Path
) -> None:
    win = open_window(qtbot, db, schema, settings_path, prompter=ScriptedPrompter(), model_dir=SHIPPED)
    try:
        with qtbot.waitSignal(win.prediction_shown, timeout=60_000):
            win.select_record("R004")
        prediction = db.predictions.latest("R004")
        correction = win.correction
        assert correction.draft.spans == prediction.spans  # the model's answer is what is corrected
        first, *_rest, last = prediction.spans
        correction.relabel((first.start, first.end), "SIGN")
        correction.delete([(last.start, last.end)])
        correction.set_form_value("stool_blood_color", "暗红")
        win.text_panel.text_view.setFocus()
        press(qtbot, Qt.Key.Key_S, CTRL)

        stored = db.records.get("R004")
        assert stored.status is RecordStatus.VERIFIED
        assert stored.record.spans == correction.draft.spans and stored.record.form["stool_blood_color"] == "暗红"
        (saved,) = db.annotations.corrections("R004")
        assert (saved.base, saved.model_version, saved.who) == ("prediction", prediction.model_version, "dr.test")
        assert saved.spans_relabelled == ((first, Span(first.start, first.end, "SIGN", first.text)),)
        assert saved.spans_removed == (last,) and saved.spans_added == ()
        assert saved.form_changed["stool_blood_color"][1] == "暗红"
        entry = db.audit.entries("R004", limit=1)[0]
        assert (entry.id, entry.action, entry.who) == (saved.audit_id, "verify", "dr.test")
        assert not correction.is_dirty and correction.undo_stack.isClean() and not win.isWindowModified()
        qtbot.waitUntil(lambda: status_name(RecordStatus.VERIFIED) in win.text_panel.header.text())
        row = win.browser.row_of("R004")
        assert win.record_list.model.index(row, 2).data() == status_name(RecordStatus.VERIFIED)
        assert "已保存并审核 R004" in win.statusBar().currentMessage()
    finally:
        win.close()


def test_a_failed_save_writes_nothing_keeps_the_edits_and_tells_the_user(
    qtbot, db: Database, window: MainWindow, prompter: ScriptedPrompter
) -> None:
    window.correction.delete([of(GASTRO_TEXT, "脉细")])
    before = (table_counts(db), db.records.get("R001"))
    # A real SQLite failure after the annotation rows and the audit entry were written.
    db.conn.execute(
        "CREATE TEMP TRIGGER refuse BEFORE INSERT ON corrections BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
    )
    window.text_panel.text_view.setFocus()
    press(qtbot, Qt.Key.Key_S, CTRL)
    assert (table_counts(db), db.records.get("R001")) == before
    ((title, message),) = prompter.errors
    assert title == "未能保存" and "R001 未保存" in message and "disk I/O error" in message
    assert window.correction.is_dirty and window.isWindowModified()
    db.conn.execute("DROP TRIGGER refuse")
    press(qtbot, Qt.Key.Key_S, CTRL)
    assert db.records.get("R001").status is RecordStatus.VERIFIED and not window.correction.is_dirty


@pytest.mark.parametrize("how", ["list", "shortcut"])
def test_leaving_a_record_with_unsaved_edits_asks_save_discard_or_cancel(
    qtbot, db: Database, window: MainWindow, prompter: ScriptedPrompter, how: str
) -> None:
    table = window.record_list.table

    def go_to_next() -> None:
        if how == "list":
            table.setFocus()
            qtbot.keyClick(table, Qt.Key.Key_Down)
        else:
            press(qtbot, Qt.Key.Key_N, ALT)

    go_to_next()  # nothing edited: nothing asked
    assert window.browser.selected_id == "R002" and prompter.asked == []
    window.select_record("R001")
    window.correction.delete([of(GASTRO_TEXT, "脉细")])

    prompter.answers = [LeaveChoice.CANCEL]
    go_to_next()
    assert prompter.asked == ["R001"] and window.browser.selected_id == "R001"
    qtbot.waitUntil(lambda: table.currentIndex().row() == 0)  # the row moves back
    assert window.correction.is_dirty and window.text_panel.text_view.toPlainText() == GASTRO_TEXT

    prompter.answers = [LeaveChoice.DISCARD]
    go_to_next()
    assert window.browser.selected_id == "R002" and db.records.get("R001").status is RecordStatus.NEW
    assert window.text_panel.text_view.toPlainText().startswith("咳嗽")

    window.select_record("R001")
    assert of(GASTRO_TEXT, "脉细") in {(s.start, s.end) for s in window.correction.draft.spans}  # discarded
    window.correction.delete([of(GASTRO_TEXT, "脉细")])
    prompter.answers = [LeaveChoice.SAVE]
    go_to_next()
    assert window.browser.selected_id == "R002" and prompter.asked == ["R001"] * 3
    assert db.records.get("R001").status is RecordStatus.VERIFIED
    assert of(GASTRO_TEXT, "脉细") not in {(s.start, s.end) for s in db.records.get("R001").record.spans}


def test_opening_another_database_with_unsaved_edits_asks_first(
    window: MainWindow, prompter: ScriptedPrompter, tmp_path: Path
) -> None:
    other = tmp_path / "other.sqlite"
    Database.open(other).close()
    window.correction.set_form_value("tongue_color", "红")
    prompter.answers = [LeaveChoice.CANCEL]
    assert not window.open_database(other)
    assert "clinic.sqlite" in window.windowTitle() and window.correction.is_dirty
    prompter.answers = [LeaveChoice.DISCARD]
    assert window.open_database(other)
    assert "other.sqlite" in window.windowTitle() and window.correction.draft is None
    assert prompter.asked == ["R001", "R001"]


def test_closing_with_unsaved_edits_asks_first(
    qtbot, db: Database, schema: Schema, settings_path: Path, prompter: ScriptedPrompter
) -> None:
    win = open_window(qtbot, db, schema, settings_path, prompter=prompter)
    win.correction.set_form_value("tongue_color", "红")
    prompter.answers = [LeaveChoice.CANCEL, LeaveChoice.SAVE]
    assert not win.close() and win.isVisible()
    assert win.close() and not win.isVisible()
    assert prompter.asked == ["R001", "R001"]
    assert db.records.get("R001").record.form["tongue_color"] == "红"


def test_the_models_late_answer_does_not_overwrite_edits(window: MainWindow) -> None:
    window.select_record("R004")
    correction = window.correction
    correction.text_view.select_range(*of(ANORECTAL_TEXT, "便血"))
    correction.mark("SYM")
    predicted = Record("R004", "anorectal", ANORECTAL_TEXT, spans=spans_for(ANORECTAL_TEXT, ("鲜红", "COLOR")))
    assert not correction.offer(predicted)
    assert correction.draft.spans == spans_for(ANORECTAL_TEXT, ("便血", "SYM"))
    correction.undo_stack.undo()
    assert correction.offer(predicted) and correction.draft.spans == predicted.spans


# -- keyboard only ------------------------------------------------------------------------------------


def test_an_annotator_verifies_a_record_with_the_keyboard_alone(qtbot, db: Database, window: MainWindow) -> None:
    window.select_record("R003")  # 跌倒致右腕关节肿痛2小时，VAS评分6分。
    press(qtbot, Qt.Key.Key_2, CTRL)  # to the text
    assert QApplication.focusWidget() is window.text_panel.text_view
    press(qtbot, Qt.Key.Key_Home, CTRL)
    press(qtbot, Qt.Key.Key_Right, SHIFT, times=2)  # 跌倒
    press(qtbot, Qt.Key.Key_S)  # 症状
    press(qtbot, Qt.Key.Key_Right, SHIFT)  # 致: marked by mistake ...
    press(qtbot, Qt.Key.Key_S)
    press(qtbot, Qt.Key.Key_Delete)  # ... and removed again (the cursor sits just after it)
    start, end = of(ORTHO_TEXT, "2小时")
    press(qtbot, Qt.Key.Key_Right, times=start - 3)
    press(qtbot, Qt.Key.Key_Right, SHIFT, times=end - start)
    press(qtbot, Qt.Key.Key_J)  # 时间病程
    press(qtbot, Qt.Key.Key_Left, times=3)  # back into 肿痛 ...
    press(qtbot, Qt.Key.Key_G)  # ... and relabel it 体征

    press(qtbot, Qt.Key.Key_3, CTRL)  # to the form: its first field
    assert QApplication.focusWidget() is window.form_editor.editor("chief_complaint").line
    spin = window.form_editor.editor("vas_score").spin
    for _ in range(40):
        if QApplication.focusWidget() is spin:
            break
        press(qtbot, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is spin
    press(qtbot, Qt.Key.Key_Down)  # VAS 6 -> 5
    press(qtbot, Qt.Key.Key_Return, CTRL)  # save, verify, and on to the next record

    assert window.browser.selected_id == "R004"
    stored = db.records.get("R003")
    assert stored.status is RecordStatus.VERIFIED and stored.record.form["vas_score"] == 5
    labels = {s.text: s.label for s in stored.record.spans}
    assert labels == {
        "跌倒": "SYM",
        "右腕关节": "BODY_PART",
        "肿痛": "SIGN",
        "2小时": "TIME",
        "VAS评分": "EXAM",
        "6分": "MEASURE",
    }
    press(qtbot, Qt.Key.Key_P, ALT)  # previous record
    assert window.browser.selected_id == "R003"
    assert status_name(RecordStatus.VERIFIED) in window.text_panel.header.text()
    press(qtbot, Qt.Key.Key_N, ALT)  # next record
    assert window.browser.selected_id == "R004"
