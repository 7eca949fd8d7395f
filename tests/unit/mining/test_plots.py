"""The statistics plots: built without Qt and saved as real PNG files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tcm_desktop.domain import TcmError
from tcm_desktop.mining import CorrectionRate, Statistics, entity_counts
from tcm_desktop.mining.plots import PLOTS, save_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _stats() -> Statistics:
    return Statistics(
        entity_counts=entity_counts(["SYM"] * 5 + ["SYNDROME"] * 2 + ["PULSE"]),
        confidences={"m1": [0.2, 0.9, 0.95], "m2": [0.5]},
        correction_rates=(CorrectionRate("m1", "2025-W10", 4, 1), CorrectionRate("m2", "2025-W11", 2, 2)),
        records=3,
    )


@pytest.mark.parametrize("name", list(PLOTS))
@pytest.mark.parametrize("stats", [_stats(), Statistics(entity_counts=entity_counts([]))], ids=["data", "empty"])
def test_each_plot_saves_as_png(tmp_path: Path, name: str, stats: Statistics) -> None:
    figure = PLOTS[name][1](stats)
    path = save_png(figure, tmp_path / name)
    assert path == tmp_path / f"{name}.png"
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 2000


def test_the_entity_plot_shows_every_category_with_its_chinese_name() -> None:
    figure = PLOTS["entities"][1](_stats())
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels[0] == "SYM 症状" and len(labels) == 23


def test_an_unwritable_path_is_a_tcm_error(tmp_path: Path) -> None:
    figure = PLOTS["entities"][1](_stats())
    with pytest.raises(TcmError, match="cannot write"):
        save_png(figure, tmp_path / "missing-folder" / "plot.png")


def test_the_mining_layer_imports_no_qt() -> None:
    code = (
        "import sys, tcm_desktop.mining, tcm_desktop.mining.plots, tcm_desktop.mining_data\n"
        "from tcm_desktop.mining.plots import PLOTS\n"
        "from tcm_desktop.mining import Statistics, entity_counts\n"
        "PLOTS['entities'][1](Statistics(entity_counts=entity_counts(['SYM'])))\n"
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'torch'))], 'Qt or torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
