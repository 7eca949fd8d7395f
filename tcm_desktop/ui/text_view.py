"""The record text with each span highlighted in its label's colour; where spans are corrected."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QEvent, QPoint, QRect, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QApplication, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from tcm_desktop.domain import Record, Schema, Span, SpanKey
from tcm_desktop.ui.legend import LegendWidget, category_keys, text_colour_on
from tcm_desktop.ui.names import display_name

EMPHASIS_COLOUR = "#c0392b"


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
    every later offset in place. Qt also reads a leading U+FEFF as a
    byte-order mark (dropped) and a leading U+FFFE as a swapped one (every
    character byte-swapped); an invisible word joiner (U+2060) takes its place.
    """
    shown = text.replace("\r\n", " \n")
    return "\u2060" + shown[1:] if shown[:1] in ("\ufeff", "\ufffe") else shown


class RecordTextView(QPlainTextEdit):
    """The record text with each span in its label's colour and a tooltip.

    The text itself is read-only; the view is where spans are corrected. It
    reports, in code points: a category key pressed (the legend's keys, no
    Ctrl/Alt), Delete/Backspace, a request for the span menu (a click on a
    span that selects nothing, a right click or the Menu key on one) and the
    span under the cursor. It draws what it is given (:meth:`show_text`,
    :meth:`set_spans`, :meth:`emphasise`) and changes no annotation itself.
    """

    category_key_pressed = Signal(str)  # label code
    delete_pressed = Signal()
    span_menu_requested = Signal(int, int, QPoint)  # span start, end, global position for the menu
    cursor_span_changed = Signal(object)  # SpanKey | None: the span at the cursor

    def __init__(self, schema: Schema, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._schema = schema
        self._labels = {label.code: label for label in schema.labels}
        self._keys = category_keys(schema)
        self._map = CodePointMap("")
        self._spans: tuple[Span, ...] = ()
        self._text = ""
        self._text_length = 0
        self._emphasised: tuple[SpanKey, ...] = ()
        self._cursor_span: SpanKey | None = None
        self._press_at: QPoint | None = None
        self.setReadOnly(True)
        flags = Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        self.setTextInteractionFlags(flags)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setTabChangesFocus(True)  # nothing to type here: Tab goes on to the next panel
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF(), 10.0) * 1.25)
        self.setFont(font)
        self.setPlaceholderText(self.tr("未选择病历"))
        self.cursorPositionChanged.connect(self._on_cursor_moved)
        self.selectionChanged.connect(self._on_cursor_moved)

    @property
    def spans(self) -> tuple[Span, ...]:
        """The spans highlighted now."""
        return self._spans

    # -- showing -------------------------------------------------------------
    def show_record(self, record: Record) -> None:
        self.show_text(record.text, record.spans)

    def show_text(self, text: str, spans: Sequence[Span] = ()) -> None:
        """Show ``text`` (cursor at the start) with ``spans`` highlighted."""
        self._map = CodePointMap(text)
        self._text = text
        self._emphasised = ()
        self.setPlainText(display_text(text))
        self.document().setUndoRedoEnabled(False)
        self._text_length = len(text)
        self.set_spans(spans)
        self.moveCursor(QTextCursor.MoveOperation.Start)

    def set_spans(self, spans: Sequence[Span]) -> None:
        """Highlight ``spans`` instead, keeping the text, the cursor and the scroll position."""
        self._spans = tuple(spans)
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.setCharFormat(QTextCharFormat())
        for span in self._spans:
            fmt = self.span_format(span)
            if fmt is None or not 0 <= span.start < span.end <= self._text_length:
                continue  # an unknown label or bad offsets: show the text, skip the mark
            self._select(cursor, span.start, span.end)
            cursor.mergeCharFormat(fmt)
        cursor.endEditBlock()
        self._emphasised = tuple(k for k in self._emphasised if any((s.start, s.end) == k for s in self._spans))
        self.viewport().update()
        self._on_cursor_moved()

    def clear_record(self) -> None:
        self._map = CodePointMap("")
        self._spans = ()
        self._emphasised = ()
        self._text = ""
        self._text_length = 0
        self.clear()

    def emphasise(self, keys: Iterable[SpanKey]) -> None:
        """Frame the spans at ``keys`` (e.g. the evidence of the form field in focus),
        keeping their label colours, and scroll the first one into view."""
        self._emphasised = tuple(keys)
        if self._emphasised:
            self._scroll_into_view(self._emphasised[0][0])
        self.viewport().update()

    def _scroll_into_view(self, offset: int) -> None:
        """Scroll (not moving the cursor) until code point ``offset`` is in sight."""
        cursor = self._select(QTextCursor(self.document()), offset, offset)
        bar = self.verticalScrollBar()
        if not self.viewport().rect().contains(self.cursorRect(cursor)):
            # The scroll bar counts lines; blocks out of sight are laid out lazily, so
            # jump to the block's first line, then correct with the now exact position.
            bar.setValue(cursor.block().firstLineNumber())
            rect = self.cursorRect(cursor)
            bar.setValue(bar.value() + (rect.top() - self.viewport().height() // 3) // max(rect.height(), 1))

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._emphasised:
            return
        painter = QPainter(self.viewport())
        pen = QPen(QColor(EMPHASIS_COLOUR))
        pen.setWidth(2)
        painter.setPen(pen)
        for start, end in self._emphasised:
            for rect in self._line_rects(start, end):
                painter.drawRoundedRect(rect.adjusted(-1, 0, 1, 0), 3, 3)
        painter.end()

    def _line_rects(self, start: int, end: int) -> list[QRect]:
        """The viewport rectangles of ``start..end``, one per visual line it covers."""
        rects: list[QRect] = []
        metrics = self.fontMetrics()
        cursor = QTextCursor(self.document())
        for offset in range(max(start, 0), min(end, self._text_length)):
            cursor.setPosition(self._map.to_qt(offset))
            at = self.cursorRect(cursor)
            char = QRect(at.left(), at.top(), metrics.horizontalAdvance(self._text[offset]), at.height())
            if rects and rects[-1].top() == char.top():
                rects[-1] = rects[-1].united(char)
            else:
                rects.append(char)
        return rects

    @property
    def emphasised(self) -> tuple[SpanKey, ...]:
        return self._emphasised

    def span_format(self, span: Span) -> QTextCharFormat | None:
        label = self._labels.get(span.label)
        if label is None:
            return None
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(label.color))
        fmt.setForeground(QColor(text_colour_on(label.color)))
        name = display_name(label)
        tip = name if span.confidence is None else f"{name}（{span.confidence:.0%}）"
        fmt.setToolTip(tip)
        return fmt

    # -- positions -----------------------------------------------------------
    def qt_position(self, offset: int) -> int:
        """The Qt cursor position of code-point ``offset`` in the shown text."""
        return self._map.to_qt(offset)

    def span_at(self, offset: int) -> Span | None:
        """The span covering code-point ``offset``, if any."""
        for span in self._spans:
            if span.start <= offset < span.end:
                return span
        return None

    def selection(self) -> tuple[int, int]:
        """The selected range in code points (start == end when nothing is selected)."""
        cursor = self.textCursor()
        return self._map.from_qt(cursor.selectionStart()), self._map.from_qt(cursor.selectionEnd())

    def select_range(self, start: int, end: int) -> None:
        """Select code points ``start..end`` (the cursor ends at ``end``)."""
        self.setTextCursor(self._select(QTextCursor(self.document()), start, end))

    def span_at_cursor(self) -> Span | None:
        """The span a category key or Delete applies to: with a selection, the span it is
        exactly; else the span the cursor is in or sits just after (where marking left
        it), else the one it sits just before."""
        start, end = self.selection()
        if start != end:
            return next((s for s in self._spans if (s.start, s.end) == (start, end)), None)
        before = self.span_at(start - 1) if start > 0 else None
        return before if before is not None else self.span_at(start)

    def offset_at(self, point: QPoint) -> int | None:
        """The code point drawn at viewport ``point``, or None past the end of a line."""
        cursor = self.cursorForPosition(point)
        position = cursor.position()
        if point.x() < self.cursorRect(cursor).x():
            position -= 1
        block = cursor.block()
        if position < block.position() or position >= block.position() + block.length() - 1:
            return None
        return self._map.from_qt(position)

    def _select(self, cursor: QTextCursor, start: int, end: int) -> QTextCursor:
        cursor.setPosition(self._map.to_qt(start))
        cursor.setPosition(self._map.to_qt(end), QTextCursor.MoveMode.KeepAnchor)
        return cursor

    # -- input -----------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        # The text cannot change, so undo/redo mean the corrections' (the window's
        # actions), not the document's: do not claim those keys from the shortcuts.
        undo_keys = (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo)
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and any(event.matches(key) for key in undo_keys)
        ):
            event.ignore()
            return False
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        modifiers = event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier)
        if modifiers == Qt.KeyboardModifier.NoModifier and self._text_length > 0:
            if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self.delete_pressed.emit()
                return
            code = self._keys.get(event.key())
            if code is not None:
                self.category_key_pressed.emit(code)
                return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press_at = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        point, pressed, self._press_at = event.position().toPoint(), self._press_at, None
        if event.button() != Qt.MouseButton.LeftButton or pressed is None or self.textCursor().hasSelection():
            return
        if (point - pressed).manhattanLength() > QApplication.startDragDistance():
            return
        offset = self.offset_at(point)
        span = self.span_at(offset) if offset is not None else None
        if span is not None:
            self.span_menu_requested.emit(span.start, span.end, self.viewport().mapToGlobal(point))

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if event.reason() == QContextMenuEvent.Reason.Mouse:
            offset = self.offset_at(event.pos())
            span = self.span_at(offset) if offset is not None else None
            point = event.globalPos()
        else:
            span = self.span_at_cursor()
            point = self.viewport().mapToGlobal(self.cursorRect().bottomLeft())
        if span is None:
            super().contextMenuEvent(event)
            return
        self.span_menu_requested.emit(span.start, span.end, point)

    def _on_cursor_moved(self) -> None:
        span = self.span_at_cursor()
        key = None if span is None else (span.start, span.end)
        if key != self._cursor_span:
            self._cursor_span = key
            self.cursor_span_changed.emit(key)


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

    def show_header(self, header: str) -> None:
        self.header.setText(header)

    def clear_record(self) -> None:
        self.header.setText(self.tr("未选择病历"))
        self.text_view.clear_record()
