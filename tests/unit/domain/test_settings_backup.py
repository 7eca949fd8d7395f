"""The backup settings: interval (0 = no automatic backups) and how many to keep, checked like the others."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tcm_desktop.domain.settings import AppSettings, SettingsFile, parse_settings, to_toml


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ({"backup_interval_minutes": -5}, "backup_interval_minutes = -5: use a whole number from 0 to 10080; 60"),
        ({"backup_interval_minutes": "1h"}, 'backup_interval_minutes = "1h": use a whole number'),
        ({"backup_keep": 0}, "backup_keep = 0: use a whole number from 1 to 1000; 10 is used"),
        ({"backup_keep": True}, "backup_keep = true: use a whole number"),
    ],
)
def test_bad_backup_values_fall_back_to_the_defaults(raw: dict, why: str) -> None:
    settings, problems = parse_settings(raw)
    assert (settings.backup_interval_minutes, settings.backup_keep) == (60, 10)
    assert [str(p) for p in problems][0].startswith(why)


def test_backup_values_round_trip_through_the_file(tmp_path: Path) -> None:
    settings = AppSettings(backup_interval_minutes=0, backup_keep=30)
    assert tomllib.loads(to_toml(settings))["backup_interval_minutes"] == 0
    file = SettingsFile(tmp_path / "settings.toml")
    file.save(settings)
    loaded = file.load()
    assert loaded.problems == () and loaded.settings == settings
