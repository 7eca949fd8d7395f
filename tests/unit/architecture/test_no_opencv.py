"""The application runs without OpenCV (about 175 MB of the installer): only training and tests use cv2.

Statically: no module under tcm_desktop/ imports cv2. Dynamically: every
module of the package imports in a fresh interpreter where cv2 cannot be
imported, so no dependency pulls it in either.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "tcm_desktop"


def _cv2_imports(package: Path) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                # importlib.import_module("cv2") / __import__("cv2")
                callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if callee in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                    names = [node.args[0].value]
            found += [
                f"{path.relative_to(package.parent)}:{node.lineno} imports {n}"
                for n in names
                if n.split(".")[0] == "cv2"
            ]
    return found


def test_no_module_of_the_app_imports_opencv() -> None:
    assert _cv2_imports(PACKAGE) == []


def test_the_check_catches_an_opencv_import(tmp_path: Path) -> None:
    fake = tmp_path / "tcm_desktop" / "inference"
    fake.mkdir(parents=True)
    (fake / "probe.py").write_text(
        "import cv2\nfrom cv2 import resize\nimport importlib\nimportlib.import_module('cv2.data')\n", encoding="utf-8"
    )
    assert len(_cv2_imports(tmp_path / "tcm_desktop")) == 3


BLOCKER = """
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 'cv2':
            raise ImportError('OpenCV is not part of the application: ' + name)
        return None
sys.meta_path.insert(0, Block())
import tcm_desktop as pkg
for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):
    importlib.import_module(info.name)
"""


def test_the_whole_package_imports_without_opencv() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER], cwd=ROOT, capture_output=True, text=True, timeout=300, env=None
    )
    assert result.returncode == 0, result.stderr[-2000:]
