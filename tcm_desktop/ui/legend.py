"""The colour legend of the entity categories: swatch, Chinese name, shortcut key."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QLayout, QLayoutItem, QWidget

from tcm_desktop.domain import Label, Schema
from tcm_desktop.ui.names import display_name

SPACING = 4


def category_keys(schema: Schema) -> dict[int, str]:
    """Qt key code -> label code: the annotation shortcut of each category, as the legend shows it."""
    return {ord(label.key.upper()): label.code for label in schema.labels if len(label.key) == 1}


def text_colour_on(background: str) -> str:
    """Black or white, whichever reads better on ``background``."""
    colour = QColor(background)
    luminance = 0.299 * colour.red() + 0.587 * colour.green() + 0.114 * colour.blue()
    return "#000000" if luminance > 140 else "#ffffff"


class FlowLayout(QLayout):
    """Items left to right, wrapping to the next line when the width runs out."""

    def __init__(self, parent: QWidget | None = None, spacing: int = SPACING) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _arrange(self, rect: QRect, move: bool) -> int:
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        x, y, line_height = area.x(), area.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > area.right() + 1 and line_height > 0:
                x, y, line_height = area.x(), y + line_height + self._spacing, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line_height = max(line_height, hint.height())
        return y + line_height - rect.y() + margins.bottom()


class LegendWidget(QWidget):
    """One chip per schema label, in schema order, wrapping to the available width."""

    def __init__(self, schema: Schema, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._chips: dict[str, QLabel] = {}
        layout = FlowLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for label in schema.labels:
            chip = self._chip(label)
            self._chips[label.code] = chip
            layout.addWidget(chip)

    def _chip(self, label: Label) -> QLabel:
        chip = QLabel(f"{display_name(label)} <b>{label.key}</b>")
        chip.setObjectName(f"legend_{label.code}")
        chip.setStyleSheet(
            f"QLabel {{ background: {label.color}; color: {text_colour_on(label.color)};"
            " border-radius: 3px; padding: 2px 6px; }"
        )
        tip = self.tr("{0}（{1}），快捷键 {2}").format(label.zh, label.en, label.key)
        if label.description:
            tip += f"\n{label.description}"
        chip.setToolTip(tip)
        return chip

    def chip(self, code: str) -> QLabel:
        """The chip of label ``code`` (for tests and later highlighting)."""
        return self._chips[code]
