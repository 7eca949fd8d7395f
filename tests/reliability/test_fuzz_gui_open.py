"""Fuzzing the GUI's open-record path: the main window showing records with hostile text and broken photos.

A record whose photo is corrupt, truncated, empty, missing or 50 megapixels,
or whose text holds control characters, bidi overrides, NULs or 100,000
characters, is shown: the text in the text view, the photo or a message
saying why it cannot be shown; no exception reaches Qt (pytest-qt fails the
test on one). Text that is not valid UTF-8 in the database file (written by
another program: Python cannot store a lone surrogate) gives a message in the
status bar instead of a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from PySide6.QtCore import QSettings

from tcm_desktop.domain import Record, default_schema
from tcm_desktop.store import Database
from tcm_desktop.ui.main_window import MainWindow

from .fuzz_data import CLINICAL, CONTROL, jpeg_bytes, png_bytes
from .stats import count_fuzz, fuzz_examples

PHOTOS = {
    "good": png_bytes(64, 48),
    "corrupt": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "truncated": jpeg_bytes(64, 48)[:300],
}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "clinic.db")
    for name, data in PHOTOS.items():
        (tmp_path / f"{name}.img").write_bytes(data)
    database.records.add(Record("GOOD", "gastro", CLINICAL), tmp_path / "good.img")
    database.records.add(Record("CORRUPT", "gastro", CLINICAL), tmp_path / "good.img")
    database.records.add(Record("TRUNCATED", "gastro", CLINICAL), tmp_path / "truncated.img")
    database.records.add(Record("TEXT", "gastro", CLINICAL))
    # the stored copies damaged after the import (a disk error, another program)
    corrupt = database.records.get("CORRUPT").image_path
    assert corrupt is not None
    database.conn.execute("UPDATE records SET image_file = 'deadbeef.png' WHERE id = 'CORRUPT'")
    (database.images_dir / "deadbeef.png").write_bytes(PHOTOS["corrupt"])
    database.records.add(Record("EMPTY", "gastro", CLINICAL), tmp_path / "good.img")
    database.conn.execute("UPDATE records SET image_file = 'empty.png' WHERE id = 'EMPTY'")
    (database.images_dir / "empty.png").write_bytes(b"")
    database.records.add(Record("MISSING", "gastro", CLINICAL), tmp_path / "good.img")
    database.conn.execute("UPDATE records SET image_file = 'gone.png' WHERE id = 'MISSING'")
    yield database
    database.close()


@pytest.fixture
def window(qtbot, db: Database, tmp_path: Path) -> Iterator[MainWindow]:
    win = MainWindow(db, default_schema(), settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def show(qtbot, window: MainWindow, record_id: str) -> None:
    with qtbot.waitSignal(window.record_shown, timeout=10_000):
        assert window.select_record(record_id)


@pytest.mark.parametrize(
    ("record_id", "message"),
    [("GOOD", ""), ("CORRUPT", "无法读取"), ("TRUNCATED", ""), ("EMPTY", "无法读取"), ("MISSING", "文件不存在")],
)
def test_a_broken_photo_shows_a_message_not_a_crash(qtbot, window: MainWindow, record_id: str, message: str) -> None:
    show(qtbot, window, record_id)
    shown = window.image_panel.message()
    if message:
        assert message in shown and not window.image_panel.view.has_image()
    else:  # Qt shows what it could decode of a truncated JPEG (grey below): still a picture
        assert window.image_panel.view.has_image() or "无法读取" in shown
    assert window.text_panel.text_view.toPlainText() == CLINICAL
    count_fuzz("gui: records with broken photos", "error" if message else "ok")


def test_a_50_megapixel_photo_is_shown_scaled_down(qtbot, window: MainWindow, db: Database, tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    Image.new("RGB", (8660, 5780), (217, 140, 140)).save(path, quality=80)
    db.records.add(Record("BIG", "gastro", CLINICAL), path)
    show(qtbot, window, "BIG")
    size = window.image_panel.view.pixmap().size()
    assert max(size.width(), size.height()) == 4096
    count_fuzz("gui: 50-megapixel photo", "ok")


shown_text = st.lists(
    st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(CONTROL), st.sampled_from(CLINICAL)),
    min_size=1,
    max_size=300,
).map("".join)


@settings(max_examples=fuzz_examples(40), deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(text=shown_text)
def test_any_stored_text_is_shown(qtbot, window: MainWindow, db: Database, text: str) -> None:
    db.conn.execute("UPDATE records SET text = ? WHERE id = 'TEXT'", (text,))
    show(qtbot, window, "TEXT")
    window.select_record("GOOD")  # away and back: the record is read again
    show(qtbot, window, "TEXT")
    shown = window.text_panel.text_view.toPlainText()
    assert len(shown) == len(text)  # one character in the view per code point of the record
    count_fuzz("gui: records with fuzzed text", "ok")


@pytest.mark.parametrize("mark", ["\ufeff", "\ufffe"])
def test_a_leading_byte_order_mark_keeps_every_offset(qtbot, window: MainWindow, db: Database, mark: str) -> None:
    # found by the fuzzing above: Qt dropped U+FEFF (every span drawn one character early)
    # and read U+FFFE as a swapped byte order (every character garbled)
    text = mark + CLINICAL
    db.conn.execute("UPDATE records SET text = ? WHERE id = 'TEXT'", (text,))
    show(qtbot, window, "TEXT")
    shown = window.text_panel.text_view.toPlainText()
    assert len(shown) == len(text) and shown[1:] == CLINICAL
    count_fuzz("gui: records with fuzzed text", "ok")


def test_a_100000_character_record_is_shown(qtbot, window: MainWindow, db: Database) -> None:
    text = (CLINICAL + "\n") * (100_000 // (len(CLINICAL) + 1))
    db.records.add(Record("LONG", "gastro", text))
    show(qtbot, window, "LONG")
    assert window.text_panel.text_view.toPlainText() == text
    count_fuzz("gui: 100,000-character record", "ok")


def test_text_that_is_not_utf8_in_the_file_gives_a_message(qtbot, window: MainWindow, db: Database) -> None:
    db.conn.execute("UPDATE records SET text = CAST(X'E885B9FF41' AS TEXT) WHERE id = 'TEXT'")
    assert not window.select_record("TEXT")
    assert "not UTF-8" in window.statusBar().currentMessage()
    db.conn.execute("UPDATE records SET id = CAST(X'41FF' AS TEXT) WHERE id = 'TEXT'")
    window.browser.refresh()  # the list itself cannot be read: said, not crashed
    assert "not UTF-8" in window.statusBar().currentMessage()
    count_fuzz("gui: text not valid UTF-8 in the file", "error")
