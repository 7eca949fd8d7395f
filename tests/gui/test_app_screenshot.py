"""``tcm-desktop --demo --screenshot`` end to end, in its own offscreen process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage


def test_demo_screenshot_builds_the_demo_database_and_exits_zero(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TCM_DATA_DIR=str(tmp_path / "data"))
    out = tmp_path / "shot.png"
    result = subprocess.run(
        [sys.executable, "-m", "tcm_desktop.ui.app", "--demo", "--screenshot", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    image = QImage(str(out))
    assert not image.isNull() and image.width() > 600 and image.height() > 400
    # a real window, not a blank grab: many distinct colours (highlights, photo)
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 50
    assert (tmp_path / "data" / "demo" / "demo.db").is_file()
