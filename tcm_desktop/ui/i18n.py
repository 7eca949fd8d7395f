"""The interface language: Chinese in the source, English from ``resources/translations``.

The UI strings are written in Chinese (``self.tr("文件(&F)")``); English comes
from ``tcm_desktop_en.qm``, compiled from ``tcm_desktop_en.ts`` by
``scripts/update_translations.py``. Qt's own strings (standard buttons, file
dialogs) come from the ``qtbase_*.qm`` files shipped with PySide6.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from tcm_desktop.resources import resource_path

APP_CATALOG = "tcm_desktop"
# Shown in the language list in each language's own words, so nobody needs to read the other.
LANGUAGE_NAMES = {"zh_CN": "中文（简体）", "en": "English"}
SOURCE_LANGUAGE = "zh_CN"

_installed: list[QTranslator] = []
_language = SOURCE_LANGUAGE


def current_language() -> str:
    """The language :func:`install_translators` switched to last (Chinese before any call)."""
    return _language


def translations_dir() -> Path:
    return resource_path("translations")


def catalog_path(language: str) -> Path:
    return translations_dir() / f"{APP_CATALOG}_{language}.qm"


def install_translators(app: QCoreApplication, language: str) -> list[str]:
    """Use ``language`` (``zh_CN`` or ``en``) from now on; returns the catalogues that were loaded.

    Earlier translators installed here are removed first, so calling it again
    switches language (for widgets made afterwards). A missing catalogue leaves
    that part in the source language (Chinese) and is left out of the result.
    """
    global _language
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    _language = language
    QLocale.setDefault(QLocale(language))
    loaded: list[str] = []
    qt_folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    candidates = [(f"qtbase_{language}", qt_folder)]
    if language != SOURCE_LANGUAGE:
        candidates.append((f"{APP_CATALOG}_{language}", str(translations_dir())))
    for name, folder in candidates:
        translator = QTranslator(app)
        if translator.load(name, folder) and app.installTranslator(translator):
            _installed.append(translator)
            loaded.append(name)
    return loaded
