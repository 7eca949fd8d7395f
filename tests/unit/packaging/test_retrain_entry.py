"""The frozen retraining program (packaging/entries/tcm_retrain.py) runs the modules the training code starts as
``sys.executable -m MODULE`` (frozen, ``sys.executable`` is that program), and refuses any other."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
NOT_SHIPPED = {"runtime_bench.py"}  # `tcm bench` is a development tool, not part of the installed app


def _entry() -> ModuleType:
    entry = ROOT / "packaging" / "entries" / "tcm_retrain.py"
    spec = importlib.util.spec_from_file_location("tcm_retrain_entry", entry)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_module_the_training_code_starts_with_the_interpreter_can_run_frozen() -> None:
    started = set()
    for path in (ROOT / "training").rglob("*.py"):
        if path.name in NOT_SHIPPED or "tongue" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        started |= set(re.findall(r'sys\.executable,\s*"-m",\s*"([\w.]+)"', text))
        started |= set(re.findall(r'export_in_child\(\s*"([\w.]+)"', text))  # training.export's helper
    assert {"training.export", "training.fusion.export"} <= started  # the patterns still find the ONNX exports
    assert started <= set(_entry().MODULES)


def test_another_module_is_refused(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["tcm-retrain"])
    assert _entry().main(["-m", "os"]) == 2
    assert "cannot run -m os" in capsys.readouterr().err
