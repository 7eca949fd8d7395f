"""Per-user folders. ``TCM_DATA_DIR`` and ``TCM_CONFIG_DIR`` override the platform's data and
config folders (tests, portable installs)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from tcm_desktop.files import make_private_dir

APP_NAME = "tcm-desktop"


def user_data_dir() -> Path:
    override = os.environ.get("TCM_DATA_DIR")
    folder = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    make_private_dir(folder)  # owner-only when this call creates it (POSIX)
    return folder


def default_database_path() -> Path:
    return user_data_dir() / "records.db"


def demo_folder() -> Path:
    return user_data_dir() / "demo"


def user_config_dir() -> Path:
    """Where the settings file lives (not created here; saving creates it)."""
    override = os.environ.get("TCM_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def settings_path() -> Path:
    return user_config_dir() / "settings.toml"
