"""The smoke test's verdict on a self-test log, and the onnxruntime DLL runtime hook (Windows only)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
BUILD = Path("/opt/app/tcm-desktop")


def _load(name: str, relative: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


smoke = _load("smoke_test", "packaging/smoke_test.py")
hook = _load("rthook_onnxruntime", "packaging/hooks/rthook_onnxruntime.py")


def log(retrain: str) -> str:
    return "\n".join(
        [
            "tcm-desktop self-test (frozen, Python 3.11.7, linux)",
            f"PASS bundle (0.9 s): tcm-text@0.2.0 from {BUILD}/_internal/models/tcm-text (every file's sha256 checked)",
            "PASS structure (1.1 s): DEMO-00001: 91 spans",
            "PASS database (0.1 s): self-test.sqlite: read back",
            "PASS gui (1.7 s): Qt platform offscreen",
            retrain,
            "self-test PASSED in 4 s",
        ]
    )


def test_a_full_build_must_pass_every_step_retrain_included() -> None:
    assert smoke.problems(log("PASS retrain (60 s): fine-tuned"), retraining=True, folder=BUILD) == []
    skipped = log("SKIP retrain (0.0 s): Retraining is not available in this installation")
    assert smoke.problems(skipped, retraining=True, folder=BUILD) == [skipped.splitlines()[5]]


def test_an_inference_only_build_must_skip_retrain_as_not_available() -> None:
    skipped = log("SKIP retrain (0.0 s): Retraining is not available in this installation")
    assert smoke.problems(skipped, retraining=False, folder=BUILD) == []
    other_skip = log("SKIP retrain (0.0 s): torch is not installed")
    assert "must skip retrain as not available" in smoke.problems(other_skip, retraining=False, folder=BUILD)[0]


def test_a_failed_or_missing_step_and_a_model_from_outside_the_build_are_problems() -> None:
    text = log("PASS retrain (60 s)").replace("PASS structure", "FAIL structure").replace("PASS gui (1.7 s)\n", "")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("PASS gui"))
    found = smoke.problems(text, retraining=True, folder=Path("/elsewhere/tcm-desktop"))
    assert any(p.startswith("FAIL structure") for p in found)
    assert "step 'gui' did not report" in found
    assert any("did not come from inside the build" in p for p in found)


def test_the_hook_does_nothing_off_windows(tmp_path: Path) -> None:
    (tmp_path / "onnxruntime" / "capi").mkdir(parents=True)
    assert hook.add_onnxruntime_dll_folder(tmp_path, platform="linux") is None


def test_on_windows_the_bundled_capi_folder_goes_first_on_the_dll_search_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capi = tmp_path / "onnxruntime" / "capi"
    capi.mkdir(parents=True)
    (capi / "onnxruntime.dll").write_bytes(b"")
    added: list[str] = []
    loaded: list[str] = []
    monkeypatch.setattr(os, "add_dll_directory", added.append, raising=False)
    monkeypatch.setattr("ctypes.WinDLL", loaded.append, raising=False)
    monkeypatch.setenv("PATH", "C:\\Windows\\System32")
    assert hook.add_onnxruntime_dll_folder(tmp_path, platform="win32") == capi
    assert added == [str(capi)] and loaded == [str(capi / "onnxruntime.dll")]
    assert os.environ["PATH"].split(os.pathsep)[0] == str(capi)


def test_on_windows_without_the_folder_nothing_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "add_dll_directory", lambda _: pytest.fail("must not be called"), raising=False)
    assert hook.add_onnxruntime_dll_folder(tmp_path, platform="win32") is None
