"""The application font: bundled CJK-capable fonts under resources/fonts/."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication

from tcm_desktop.resources import resource_path

FONT_SUFFIXES = (".ttf", ".otf", ".ttc")


def install_app_font(app: QGuiApplication) -> str | None:
    """Register every font file under ``resources/fonts/``; the first becomes the app font.

    Returns the family set as the app font, or None (and changes nothing)
    when the folder is missing, empty or holds no font Qt can load.
    """
    folder = resource_path("fonts")
    if not folder.is_dir():
        return None
    first_family: str | None = None
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file()):
        font_id = QFontDatabase.addApplicationFont(str(path))
        families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        if families and first_family is None:
            first_family = families[0]
    if first_family is not None:
        font = QFont(app.font())
        font.setFamily(first_family)
        app.setFont(font)
    return first_family
