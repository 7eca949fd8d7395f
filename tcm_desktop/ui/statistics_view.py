"""The statistics plots (entity counts, model confidence, correction rate) with "Save PNG"."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QLabel, QTabWidget, QToolBar, QVBoxLayout, QWidget

from tcm_desktop.domain import TcmError
from tcm_desktop.mining.plots import PLOTS, save_png
from tcm_desktop.mining.statistics import Statistics

MIN_CANVAS_WIDTH, MIN_CANVAS_HEIGHT = 420, 260
# The plot titles of tcm_desktop.mining.plots.PLOTS, for the translation catalogue.
PLOT_TITLES = (
    QT_TRANSLATE_NOOP("StatisticsView", "实体计数"),
    QT_TRANSLATE_NOOP("StatisticsView", "置信度"),
    QT_TRANSLATE_NOOP("StatisticsView", "纠正率"),
)


class StatisticsView(QWidget):
    """One tab per plot; the toolbar's "Save PNG" writes the shown plot to a file the user picks."""

    saved = Signal(str)  # the PNG file written

    def __init__(self, statistics: Statistics, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._figures: dict[str, Figure] = {}
        self.tabs = QTabWidget()
        self.status = QLabel()
        self.status.setWordWrap(True)
        toolbar = QToolBar()
        self.save_action = QAction(self.tr("保存 PNG…"), self)
        self.save_action.setToolTip(self.tr("把当前图表保存为 PNG 图片"))
        self.save_action.triggered.connect(self._ask_and_save)
        toolbar.addAction(self.save_action)
        layout = QVBoxLayout(self)
        layout.addWidget(toolbar)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        self.set_statistics(statistics)

    @property
    def plot_names(self) -> list[str]:
        return list(PLOTS)

    def current_plot(self) -> str:
        return self.plot_names[max(0, self.tabs.currentIndex())]

    def figure(self, name: str) -> Figure:
        return self._figures[name]

    def set_statistics(self, statistics: Statistics) -> None:
        """Redraw every plot from ``statistics``, keeping the shown tab."""
        shown = self.tabs.currentIndex()
        while self.tabs.count():
            page = self.tabs.widget(0)
            self.tabs.removeTab(0)
            page.deleteLater()
        self._figures.clear()
        for name, (title, build) in PLOTS.items():
            figure = build(statistics)
            self._figures[name] = figure
            canvas = FigureCanvasQTAgg(figure)
            canvas.setMinimumSize(MIN_CANVAS_WIDTH, MIN_CANVAS_HEIGHT)  # a collapsed canvas cannot lay out its axes
            self.tabs.addTab(canvas, QCoreApplication.translate("StatisticsView", title))
        if 0 <= shown < self.tabs.count():
            self.tabs.setCurrentIndex(shown)

    def save_png(self, name: str, path: Path) -> Path:
        """Write plot ``name`` to ``path`` (".png" added if missing); TcmError if it cannot be written."""
        written = save_png(self._figures[name], Path(path))
        self.status.setText(self.tr("已保存 {0}").format(written))
        self.saved.emit(str(written))
        return written

    def _ask_and_save(self) -> None:
        name = self.current_plot()
        path, _ = QFileDialog.getSaveFileName(self, self.tr("保存 PNG"), f"{name}.png", "PNG (*.png)")
        if not path:
            return
        try:
            self.save_png(name, Path(path))
        except TcmError as exc:
            self.status.setText(self.tr("未能保存：{0}").format(exc))
