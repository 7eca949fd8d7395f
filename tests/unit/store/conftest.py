"""Fixtures for the store tests: a fresh database file in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tcm_desktop.store import Database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "clinic.db")
    yield database
    database.close()
