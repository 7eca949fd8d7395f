"""The layer rule of ARCHITECTURE.md, checked two ways.

Statically: every ``tcm_desktop`` import inside a layer points at a layer it
may use. Dynamically: each core layer imports in a fresh interpreter where
PySide6 and torch cannot be imported at all.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "tcm_desktop"

# layer -> the tcm_desktop layers it may import (itself always allowed)
ALLOWED = {
    "domain": set(),
    "store": {"domain"},
    "inference": {"domain"},
    "mining": {"domain"},
    "demo": {"domain", "store"},
    "ui": {"domain", "store", "inference", "mining", "demo", "mining_data", "self_test"},
    "cli": {"domain", "store", "inference", "mining", "demo", "batch_structure", "mining_data"},
    "batch_structure": {"domain", "store", "inference"},
    "mining_data": {"domain", "store", "inference", "mining"},  # store -> mining glue for `tcm rules` and the view
    "self_test": {"domain", "store", "inference", "demo"},  # `tcm-desktop --self-test` of an installation
}
SHARED_MODULES = {"resources", "paths", "files", "frozen", "__init__"}  # top-level helpers any layer may use
CORE_LAYERS = ["domain", "store", "inference", "mining", "demo"]
FORBIDDEN_IN_CORE = ("PySide6", "shiboken6", "torch", "torchvision")


def _layer_of(path: Path, package: Path) -> str:
    rel = path.relative_to(package)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _violations(package: Path = PACKAGE) -> list[str]:
    problems = []
    for path in sorted(package.rglob("*.py")):
        layer = _layer_of(path, package)
        if layer in SHARED_MODULES:
            continue
        allowed = ALLOWED.get(layer)
        assert allowed is not None, f"{path}: layer {layer!r} is not in the architecture test; add it"
        for line, module in _imported_modules(path):
            parts = module.split(".")
            where = f"{path.relative_to(package.parent)}:{line}"
            if parts[0] in FORBIDDEN_IN_CORE and layer != "ui":
                problems.append(f"{where} imports {module} (only ui may import Qt; only training imports torch)")
            if parts[0] == "tcm_desktop" and len(parts) > 1:
                target = parts[1]
                if target not in SHARED_MODULES and target != layer and target not in allowed:
                    problems.append(f"{where}: layer {layer!r} may not import tcm_desktop.{target}")
    for path in sorted((package.parent / "training").rglob("*.py")):
        for line, module in _imported_modules(path):
            if module.startswith(("tcm_desktop.ui", "PySide6")):
                where = f"{path.relative_to(package.parent)}:{line}"
                problems.append(f"{where} imports {module} (training never imports ui)")
    return problems


def test_imports_follow_the_layer_rule() -> None:
    assert _violations() == []


BLOCKER = """
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {forbidden!r}:
            raise ImportError('blocked by the layer test: ' + name)
        return None
sys.meta_path.insert(0, Block())
import tcm_desktop.{layer} as pkg
for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):
    importlib.import_module(info.name)
leaked = sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r} or m.startswith('tcm_desktop.ui'))
assert not leaked, leaked
"""


@pytest.mark.parametrize("layer", CORE_LAYERS)
def test_core_layer_imports_without_qt_or_torch(layer: str) -> None:
    code = BLOCKER.format(layer=layer, forbidden=set(FORBIDDEN_IN_CORE))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_rule_catches_violations(tmp_path: Path) -> None:
    fake = tmp_path / "tcm_desktop"
    (fake / "store").mkdir(parents=True)
    (fake / "inference").mkdir()
    (fake / "store" / "probe.py").write_text("from tcm_desktop.ui import main_window\n", encoding="utf-8")
    (fake / "inference" / "probe.py").write_text("import torch\nimport PySide6.QtCore\n", encoding="utf-8")
    found = _violations(fake)
    assert len(found) == 3, found
