"""Fixtures for the GUI tests: a small SQLite database made in tmp_path, isolated settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tcm_desktop.domain import Schema, default_schema  # noqa: E402
from tcm_desktop.store import Database  # noqa: E402

from .sample_data import fill, write_png  # noqa: E402


@pytest.fixture
def schema() -> Schema:
    return default_schema()


@pytest.fixture
def plain_db(tmp_path: Path) -> Iterator[Database]:
    """The four sample records without any photo, made without Qt."""
    database = fill(Database.open(tmp_path / "plain.sqlite"))
    yield database
    database.close()


@pytest.fixture
def db(tmp_path: Path, qapp: object) -> Iterator[Database]:
    """The four sample records; R001 has a tongue photo."""
    database = fill(Database.open(tmp_path / "clinic.sqlite"), write_png(tmp_path / "R001.png"))
    yield database
    database.close()


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


@pytest.fixture(autouse=True)
def _private_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's settings.toml goes to tmp_path, never to the user's config folder (also in subprocesses)."""
    monkeypatch.setenv("TCM_CONFIG_DIR", str(tmp_path / "config"))
