"""The reliability tests write what they measured when the report script asks (see stats.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from .stats import flush_fuzz_counts  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _fuzz_figures() -> Iterator[None]:
    yield
    flush_fuzz_counts()


@pytest.fixture(autouse=True)
def _private_config_folder(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings go to tmp_path, never to the user's config folder (also in subprocesses)."""
    monkeypatch.setenv("TCM_CONFIG_DIR", str(tmp_path) + "/config")
