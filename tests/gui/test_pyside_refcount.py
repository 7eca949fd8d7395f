"""Guard against a Qt binding that leaks references to None (PySide6 6.12.0 does, and the
interpreter aborts with "none_dealloc" after a few thousand calls in a long session)."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QPlainTextEdit


def test_void_qt_calls_keep_the_reference_count_of_none(qtbot) -> None:
    view = QPlainTextEdit()
    qtbot.addWidget(view)
    before = sys.getrefcount(None)
    for _ in range(500):
        view.setPlainText("舌淡红")
    assert sys.getrefcount(None) - before > -50, "this PySide6 build leaks references to None; pin another version"
