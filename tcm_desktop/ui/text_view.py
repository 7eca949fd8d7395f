"""The record text, read-only, with each span highlighted in its label's colour."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from tcm_desktop.domain import Record, Schema, Span
from tcm_desktop.ui.legend import LegendWidget, text_colour_on


class CodePointMap:
    """Converts code-point offsets (the schema's) to Qt's UTF-16 positions and back."""

    def __init__(self, text: str) -> None:
        self._utf16: list[int] | None = None
        if any(ord(ch) > 0xFFFF for ch in text):
            positions, at = [], 0
            for ch in text:
                positions.append(at)
                at += 2 if ord(ch) > 0xFFFF else 1
            positions.append(at)
            self._utf16 = positions

    def to_qt(self, offset: int) -> int:
        return offset if self._utf16 is None else self._utf16[offset]

    def from_qt(self, position: int) -> int:
        if self._utf16 is None:
            return position
        # Largest code point whose UTF-16 start is <= position.
        low, high = 0, len(self._utf16) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self._utf16[middle] <= position:
                low = middle
            else:
                high = middle - 1
        return low


def display_text(text: str) -> str:
    """``text`` as the view shows it, one Qt position per code point.

    Qt turns "\\r\\n" into one paragraph break; a space before the break keeps
    every later offset in place.
    """
    return text.replace("\r\n", " \n")


class RecordTextView(QPlainTextEdit):
    """Read-only record text; spans get their label's background and a tooltip."""

    def __init__(self, schema: Schema, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._schema = schema
        self._labels = {label.code: label for label in schema.labels}
        self._map = CodePointMap("")
        self._spans: tuple[Span, ...] = ()
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF(), 10.0) * 1.25)
        self.setFont(font)
        self.setPlaceholderText(self.tr("未选择病历"))

    @property
    def spans(self) -> tuple[Span, ...]:
        """The spans highlighted now."""
        return self._spans

    def show_record(self, record: Record) -> None:
        self.show_text(record.text, record.spans)

    def show_text(self, text: str, spans: Sequence[Span] = ()) -> None:
        self._map = CodePointMap(text)
        self._spans = tuple(spans)
        self.setPlainText(display_text(text))
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        for span in self._spans:
            fmt = self.span_format(span)
            if fmt is None or not 0 <= span.start < span.end <= len(text):
                continue  # an unknown label or bad offsets: show the text, skip the mark
            cursor.setPosition(self._map.to_qt(span.start))
            cursor.setPosition(self._map.to_qt(span.end), QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(fmt)
        cursor.endEditBlock()
        self.moveCursor(QTextCursor.MoveOperation.Start)

    def clear_record(self) -> None:
        self._map = CodePointMap("")
        self._spans = ()
        self.clear()

    def span_format(self, span: Span) -> QTextCharFormat | None:
        label = self._labels.get(span.label)
        if label is None:
            return None
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(label.color))
        fmt.setForeground(QColor(text_colour_on(label.color)))
        tip = label.zh if span.confidence is None else f"{label.zh}（{span.confidence:.0%}）"
        fmt.setToolTip(tip)
        return fmt

    def qt_position(self, offset: int) -> int:
        """The Qt cursor position of code-point ``offset`` in the shown text."""
        return self._map.to_qt(offset)

    def span_at(self, offset: int) -> Span | None:
        """The span covering code-point ``offset``, if any."""
        for span in self._spans:
            if span.start <= offset < span.end:
                return span
        return None


class TextPanel(QWidget):
    """Record header (id, specialty, status), the text view and the legend under it."""

    def __init__(self, schema: Schema, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel()
        self.header.setStyleSheet("QLabel { font-weight: bold; padding: 2px 0; }")
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text_view = RecordTextView(schema)
        self.legend = LegendWidget(schema)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.text_view, 1)
        layout.addWidget(self.legend)

    def show_record(self, record: Record, header: str) -> None:
        self.header.setText(header)
        self.text_view.show_record(record)

    def clear_record(self) -> None:
        self.header.setText(self.tr("未选择病历"))
        self.text_view.clear_record()
