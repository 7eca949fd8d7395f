"""The panels on their own: text offsets, photo loading and zoom, form values, fonts."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QFont, QTextCursor, QWheelEvent
from PySide6.QtWidgets import QApplication, QGraphicsView, QLabel

from tcm_desktop.domain import FieldType, FormField, Record, Schema, Span
from tcm_desktop.ui.fonts import install_app_font
from tcm_desktop.ui.form_view import FormView, format_value
from tcm_desktop.ui.image_view import ImagePanel
from tcm_desktop.ui.text_view import CodePointMap, RecordTextView

from .sample_data import write_png


def background_at(view: RecordTextView, offset: int) -> QColor:
    cursor = QTextCursor(view.document())
    cursor.setPosition(view.qt_position(offset) + 1)
    return cursor.charFormat().background().color()


def test_offsets_are_code_points_even_beyond_the_basic_plane(qtbot, schema: Schema):
    text = "𫫇𫫇\r\n腹痛，舌红。"
    view = RecordTextView(schema)
    qtbot.addWidget(view)
    start = text.index("腹痛")
    view.show_text(text, [Span(start, start + 2, "SYM", "腹痛"), Span(7, 9, "TONGUE_BODY", "舌红")])
    assert text[7:9] == "舌红"
    assert background_at(view, start) == QColor(schema.label("SYM").color)
    assert background_at(view, 8) == QColor(schema.label("TONGUE_BODY").color)
    assert background_at(view, 6) != QColor(schema.label("TONGUE_BODY").color)
    assert view.span_at(start + 1).label == "SYM" and view.span_at(6) is None


def test_code_point_map_round_trips() -> None:
    text = "a𫫇b𫫇"
    mapping = CodePointMap(text)
    assert [mapping.to_qt(i) for i in range(len(text) + 1)] == [0, 1, 3, 4, 6]
    assert [mapping.from_qt(mapping.to_qt(i)) for i in range(len(text) + 1)] == list(range(len(text) + 1))


def test_unknown_labels_and_bad_offsets_do_not_break_the_view(qtbot, schema: Schema):
    view = RecordTextView(schema)
    qtbot.addWidget(view)
    view.show_text("腹痛", [Span(0, 2, "NOT_A_LABEL", "腹痛"), Span(1, 9, "SYM", "x")])
    assert view.toPlainText() == "腹痛"


@pytest.fixture
def image_panel(qtbot) -> ImagePanel:
    panel = ImagePanel()
    qtbot.addWidget(panel)
    panel.resize(400, 400)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_photo_fits_the_view_zooms_and_fits_again(image_panel: ImagePanel, tmp_path: Path):
    image_panel.show_image(write_png(tmp_path / "tongue.png", 1200, 800))
    view = image_panel.view
    fitted = view.scale_factor()
    assert fitted < 1  # a large photo is shrunk to the view
    assert view.mapFromScene(view.sceneRect()).boundingRect().width() <= view.viewport().width() + 1
    image_panel.zoom_in_action.trigger()
    assert view.scale_factor() == pytest.approx(fitted * 1.25)
    image_panel.zoom_out_action.trigger()
    image_panel.zoom_out_action.trigger()
    assert view.scale_factor() == pytest.approx(fitted / 1.25)
    image_panel.fit_action.trigger()
    assert view.scale_factor() == pytest.approx(fitted)


def test_unreadable_and_missing_photos_give_a_message(image_panel: ImagePanel, tmp_path: Path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    image_panel.show_image(broken)
    assert "无法读取舌象照片" in image_panel.message() and "broken.png" in image_panel.message()
    assert not image_panel.view.has_image()
    image_panel.show_image(tmp_path / "gone.jpg")
    assert "gone.jpg" in image_panel.message() and "文件不存在" in image_panel.message()
    image_panel.show_image(None)
    assert image_panel.message() == "无舌象照片"


def test_format_value() -> None:
    herbs = FormField("herbs", "处方用药", "Prescription", FieldType.HERB_LIST, "general")
    decimal = FormField("w", "周径", "w", FieldType.DECIMAL, "orthopedics", decimals=1)
    text = FormField("t", "主诉", "t", FieldType.TEXT, "general")
    assert format_value(herbs, [{"herb": "党参", "dose": "15g"}, {"herb": "甘草", "dose": None}]) == "党参 15g、甘草"
    assert format_value(decimal, 18.5) == "18.5" and format_value(decimal, 18) == "18.0"
    assert format_value(decimal, None) == "—" and format_value(text, "") == "—"


def test_install_app_font_does_nothing_without_fonts(qapp, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("TCM_RESOURCES", str(tmp_path))
    before = QFont(QApplication.font())
    assert install_app_font(qapp) is None
    (tmp_path / "fonts").mkdir()
    assert install_app_font(qapp) is None
    assert QApplication.font() == before


def test_install_app_font_sets_the_first_bundled_font(qapp, monkeypatch, tmp_path: Path):
    system_font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not system_font.exists():
        pytest.skip("no DejaVu font to bundle")
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / "a.ttf").write_bytes(system_font.read_bytes())
    monkeypatch.setenv("TCM_RESOURCES", str(tmp_path))
    before = QFont(QApplication.font())
    try:
        assert install_app_font(qapp) == "DejaVu Sans"
        assert QApplication.font().family() == "DejaVu Sans"
    finally:
        QApplication.setFont(before)


def test_wheel_zooms_and_drag_pans(image_panel: ImagePanel, tmp_path: Path):
    image_panel.show_image(write_png(tmp_path / "tongue.png", 1200, 800))
    view = image_panel.view
    fitted = view.scale_factor()
    centre = QPointF(view.viewport().rect().center())
    wheel = QWheelEvent(
        centre,
        view.viewport().mapToGlobal(centre),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.scale_factor() == pytest.approx(fitted * 1.25)
    assert view.dragMode() == QGraphicsView.DragMode.ScrollHandDrag


def test_long_values_wrap_and_the_form_scrolls_as_soon_as_it_is_shown(qtbot, schema: Schema):
    view = FormView(schema)
    qtbot.addWidget(view)
    view.resize(300, 200)
    view.show()
    qtbot.waitExposed(view)
    herbs = [{"herb": "紫苏叶", "dose": "9g"}] * 12
    view.show_record(Record("A", "gastro", "腹泻", form={"herbs": herbs}))
    label = view.findChild(QLabel, "field_herbs")
    assert label.height() >= 3 * label.fontMetrics().height()  # wrapped, not clipped to one line
    assert view.widget().height() > view.viewport().height()  # the form scrolls instead of squeezing
