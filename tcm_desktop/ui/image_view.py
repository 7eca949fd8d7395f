"""The tongue photo: fit to the view on load, wheel/keyboard zoom, drag to pan."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QAction, QImageReader, QKeySequence, QPainter, QPixmap, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QStackedLayout,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

ZOOM_STEP = 1.25
MIN_SCALE = 0.02
MAX_SCALE = 40.0
MAX_DISPLAY_SIDE = 4096  # longer side of the picture kept for the view; more is never seen


class ImageView(QGraphicsView):
    """A zoomable, pannable picture that fits itself to the view until the user zooms."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._scene.addItem(self._item)
        self.setScene(self._scene)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._fitting = True

    def set_pixmap(self, pixmap: QPixmap) -> None:
        self._item.setPixmap(pixmap)
        self._scene.setSceneRect(QRectF(pixmap.rect()))
        self.fit_to_view()

    def pixmap(self) -> QPixmap:
        return self._item.pixmap()

    def has_image(self) -> bool:
        return not self._item.pixmap().isNull()

    def scale_factor(self) -> float:
        """Screen pixels per image pixel."""
        return self.transform().m11()

    def fit_to_view(self) -> None:
        """Show the whole picture; it keeps fitting as the view resizes until the user zooms."""
        self._fitting = True
        if self.has_image():
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)

    def zoom(self, factor: float) -> None:
        if not self.has_image():
            return
        scale = self.scale_factor()
        factor = min(max(scale * factor, MIN_SCALE), MAX_SCALE) / scale
        self._fitting = False
        self.scale(factor, factor)

    def zoom_in(self) -> None:
        self.zoom(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom(1 / ZOOM_STEP)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps and self.has_image():
            self.zoom(ZOOM_STEP**steps)
            event.accept()
        else:
            super().wheelEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fitting:
            self.fit_to_view()


class ImagePanel(QWidget):
    """The photo with its buttons, or a message (无舌象照片, or why it cannot be read).

    ``view_actions()`` (放大, 缩小, 适应窗口) carry the keyboard shortcuts; the main
    window puts them in its View menu.
    """

    def __init__(self, field_names: Mapping[str, str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._field_names = dict(field_names or {})
        self.view = ImageView()
        self.tongue_label = QLabel()
        self.tongue_label.setObjectName("tongue_attributes")
        self.tongue_label.setWordWrap(True)
        self.tongue_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label = QLabel()
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("QLabel { color: #6b7280; }")
        self._stack = QStackedLayout()
        self._stack.addWidget(self.message_label)
        self._stack.addWidget(self.view)

        self.zoom_in_action = QAction(self.tr("放大"), self)
        self.zoom_in_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.ZoomIn), QKeySequence("Ctrl+=")])
        self.zoom_in_action.triggered.connect(self.view.zoom_in)
        self.zoom_out_action = QAction(self.tr("缩小"), self)
        self.zoom_out_action.setShortcut(QKeySequence(QKeySequence.StandardKey.ZoomOut))
        self.zoom_out_action.triggered.connect(self.view.zoom_out)
        self.fit_action = QAction(self.tr("适应窗口"), self)
        self.fit_action.setShortcut(QKeySequence("Ctrl+0"))
        self.fit_action.triggered.connect(self.view.fit_to_view)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for action in (self.zoom_out_action, self.zoom_in_action, self.fit_action):
            button = QToolButton()
            button.setDefaultAction(action)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._stack, 1)
        layout.addWidget(self.tongue_label)
        layout.addLayout(buttons)
        self.show_image(None)

    def view_actions(self) -> list[QAction]:
        return [self.zoom_in_action, self.zoom_out_action, self.fit_action]

    def show_image(self, path: Path | None) -> None:
        """Load ``path``; None shows 无舌象照片, an unreadable file says so in the view."""
        self.tongue_label.setText("")
        if path is None:
            self._show_message(self.tr("无舌象照片"))
            return
        reader = QImageReader(str(path))
        reader.setAutoTransform(True)  # honour EXIF orientation from phone cameras
        size = reader.size()
        if size.isValid() and max(size.width(), size.height()) > MAX_DISPLAY_SIDE:
            # a 50-megapixel photo is decoded small (JPEG's reduced decoding), not as a 200 MB image
            reader.setScaledSize(size.scaled(MAX_DISPLAY_SIDE, MAX_DISPLAY_SIDE, Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        if image.isNull():
            reason = reader.errorString() if Path(path).exists() else self.tr("文件不存在")
            self._show_message(self.tr("无法读取舌象照片 {0}\n{1}").format(Path(path).name, reason))
            return
        self.view.set_pixmap(QPixmap.fromImage(image))
        self._stack.setCurrentWidget(self.view)
        self._set_zoom_enabled(True)
        self.view.fit_to_view()

    def show_tongue(self, attributes: Mapping[str, Mapping[str, float]]) -> None:
        """The image model's tongue attributes: each field's most likely value and its probability."""
        parts = []
        for field, probabilities in attributes.items():
            if probabilities:
                value, probability = max(probabilities.items(), key=lambda item: item[1])
                parts.append(f"{self._field_names.get(field, field)} {value} {probability:.2f}")
        self.tongue_label.setText(self.tr("舌象识别：") + "　".join(parts) if parts else "")

    def message(self) -> str:
        """The message shown instead of a picture; empty while a picture is shown."""
        return self.message_label.text() if self._stack.currentWidget() is self.message_label else ""

    def _show_message(self, text: str) -> None:
        self.view.set_pixmap(QPixmap())
        self.message_label.setText(text)
        self._stack.setCurrentWidget(self.message_label)
        self._set_zoom_enabled(False)

    def _set_zoom_enabled(self, enabled: bool) -> None:
        for action in self.view_actions():
            action.setEnabled(enabled)
