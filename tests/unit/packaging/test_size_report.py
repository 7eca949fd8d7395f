"""The size report's arithmetic: file sizes summed, links not followed, zip measured, targets judged."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("size_report", ROOT / "packaging" / "size_report.py")
assert _spec is not None and _spec.loader is not None
size_report = importlib.util.module_from_spec(_spec)
sys.modules["size_report"] = size_report
_spec.loader.exec_module(size_report)


def test_folder_size_sums_the_files_and_not_what_links_point_to(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "app").write_bytes(b"x" * 1000)
    (tmp_path / "lib" / "big.so").write_bytes(b"y" * 250_000)
    with contextlib.suppress(OSError):  # no symlinks without privileges on Windows
        (tmp_path / "lib" / "big.so.1").symlink_to("big.so")
    assert size_report.folder_size(tmp_path) == (2, 251_000)


def test_the_zip_of_a_compressible_folder_is_smaller(tmp_path: Path) -> None:
    (tmp_path / "text.txt").write_text("tongue red, coat thin and white\n" * 20_000, encoding="utf-8")
    size = size_report.zipped_size(tmp_path)
    assert 0 < size < size_report.folder_size(tmp_path)[1] / 10


@pytest.mark.parametrize(
    ("unpacked", "compressed", "expected"),
    [
        (140_000_000, 60_000_000, "met (unpacked and compressed)"),
        (150_000_000, 60_000_000, "met (unpacked and compressed)"),  # the target itself is within it
        (400_000_000, 150_000_001, "not met"),
        (400_000_000, 149_000_000, "met compressed, not unpacked"),
    ],
)
def test_targets_are_judged_on_both_sizes(unpacked: int, compressed: int, expected: str) -> None:
    build = size_report.Build("inference only", Path("dist/tcm-desktop-inference"), 150)
    assert size_report.verdict(size_report.Measured(build, 10, unpacked, compressed)) == expected


def test_the_section_has_a_row_per_build_and_says_which_was_not_built() -> None:
    inference, full = size_report.BUILDS
    body = size_report.section_body(
        [size_report.Measured(inference, 812, 431_200_000, 170_400_000)], [full], [("cv2", 82_000_000)]
    )
    assert "| inference only | `dist/tcm-desktop-inference` | 812 | 431.2 MB | 170.4 MB | 150 MB | not met |" in body
    assert "| with retraining | `dist/tcm-desktop` | — | not built | — | 450 MB | — |" in body
    assert "- `cv2`: 82.0 MB" in body
