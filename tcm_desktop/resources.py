"""Where the read-only resources (schema, vocabulary, lexicon, fonts) live.

Order: the ``TCM_RESOURCES`` environment variable, a PyInstaller bundle's
unpack folder, then the ``resources/`` folder beside the package (source
checkout or editable install).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    override = os.environ.get("TCM_RESOURCES")
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


DEFAULT_BUNDLE = "tcm-text"


def models_dir() -> Path:
    """The shipped model bundles: ``TCM_MODELS``, the frozen app's ``models/``, or ``models/`` of the checkout."""
    override = os.environ.get("TCM_MODELS")
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "models"
    return Path(__file__).resolve().parent.parent / "models"


def default_bundle_dir() -> Path:
    """The bundle used when no ``--model`` is given."""
    return models_dir() / DEFAULT_BUNDLE
