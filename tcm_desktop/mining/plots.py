"""The statistics plots as matplotlib figures, and saving them as PNG.

Figures are built with matplotlib's object API (``Figure``, no ``pyplot``), so
nothing here picks a GUI backend: the Qt view wraps a figure in its own
canvas, the command line saves it with the Agg canvas. Chinese text uses the
CJK font shipped under ``resources/fonts``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tcm_desktop.domain import TcmError
from tcm_desktop.mining.statistics import Statistics, histogram
from tcm_desktop.resources import resource_path

FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
FALLBACK_FONTS = ["DejaVu Sans"]
SIZE = (7.0, 4.2)  # inches
DPI = 100
PNG_DPI = 150
CONFIDENCE_BINS = 20


@lru_cache(maxsize=1)
def cjk_families() -> tuple[str, ...]:
    """Register the shipped fonts with matplotlib once; their family names (empty if none load)."""
    folder = resource_path("fonts")
    families: list[str] = []
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in FONT_SUFFIXES):
            try:
                font_manager.fontManager.addfont(str(path))
                name = font_manager.FontProperties(fname=str(path)).get_name()
            except (OSError, RuntimeError, ValueError):
                continue  # a font matplotlib cannot read: the plot falls back to its own font
            if name not in families:
                families.append(name)
    return tuple(families)


@contextmanager
def _style() -> Iterator[None]:
    with rc_context({"font.family": [*cjk_families(), *FALLBACK_FONTS], "axes.unicode_minus": False}):
        yield


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.set_xticks([])
    ax.set_yticks([])


def entity_counts_figure(stats: Statistics) -> Figure:
    """Horizontal bars: spans per entity category (schema order, top to bottom)."""
    with _style():
        figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
        ax = figure.add_subplot()
        names = [f"{label.code} {label.zh}" for label, _ in stats.entity_counts]
        counts = [count for _, count in stats.entity_counts]
        colours = [label.color for label, _ in stats.entity_counts]
        if not any(counts):
            _empty(ax, "没有实体 (no entities)")
        else:
            bars = ax.barh(range(len(names)), counts, color=colours, edgecolor="#444444", linewidth=0.4)
            ax.set_yticks(range(len(names)), names, fontsize=7)
            ax.invert_yaxis()
            ax.bar_label(bars, fontsize=6, padding=2)
            ax.set_xlabel("实体数 (spans)")
        ax.set_title(f"实体类别计数 Entity counts ({stats.records} records, {stats.total_spans} spans)", fontsize=9)
    return figure


def confidence_figure(stats: Statistics) -> Figure:
    """Histogram of span confidences, one outline per model version."""
    with _style():
        figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
        ax = figure.add_subplot()
        versions = [v for v, values in stats.confidences.items() if values]
        if not versions:
            _empty(ax, "没有模型预测 (no predictions with confidences)")
        else:
            for version in versions:
                bins = histogram(stats.confidences[version], CONFIDENCE_BINS)
                edges = [lo for lo, _, _ in bins] + [1.0]
                counts = [c for _, _, c in bins]
                ax.stairs(counts, edges, label=f"{version} (n={len(stats.confidences[version])})", linewidth=1.5)
            ax.set_xlim(0.0, 1.0)
            ax.set_xlabel("置信度 (span confidence)")
            ax.set_ylabel("实体数 (spans)")
            ax.legend(fontsize=7)
        ax.set_title("模型置信度分布 Model confidence", fontsize=9)
    return figure


def correction_rate_figure(stats: Statistics) -> Figure:
    """Share of reviewed predictions the clinician changed, per model version over time."""
    with _style():
        figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
        ax = figure.add_subplot()
        rates = stats.correction_rates
        if not rates:
            _empty(ax, "还没有审核过的预测 (no reviewed predictions yet)")
        else:
            periods = sorted({r.period for r in rates})
            position = {p: k for k, p in enumerate(periods)}
            for version in dict.fromkeys(r.model_version for r in rates):
                mine = [r for r in rates if r.model_version == version]
                xs = [position[r.period] for r in mine]
                ys = [100.0 * r.rate for r in mine]
                line = ax.plot(xs, ys, marker="o", label=version)[0]
                for x, y, r in zip(xs, ys, mine, strict=True):
                    ax.annotate(
                        f"n={r.reviewed}",
                        (x, y),
                        fontsize=6,
                        color=line.get_color(),
                        xytext=(0, 4),
                        textcoords="offset points",
                        ha="center",
                    )
            ax.set_xticks(range(len(periods)), periods, fontsize=7, rotation=30)
            ax.set_ylim(0.0, 105.0)
            ax.set_ylabel("纠正率 % (reviews that changed the prediction)")
            ax.legend(fontsize=7, title="模型版本", title_fontsize=7)
        ax.set_title("各模型版本纠正率 Correction rate per model version", fontsize=9)
    return figure


PLOTS: dict[str, tuple[str, Callable[[Statistics], Figure]]] = {
    "entities": ("实体计数", entity_counts_figure),
    "confidence": ("置信度", confidence_figure),
    "corrections": ("纠正率", correction_rate_figure),
}


def save_png(figure: Figure, path: Path) -> Path:
    """Write ``figure`` to ``path`` as PNG (TcmError, with the reason, if it cannot)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_suffix(".png")
    try:
        with _style():
            figure.savefig(path, format="png", dpi=PNG_DPI)
    except OSError as exc:
        raise TcmError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
