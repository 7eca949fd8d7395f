"""The bundled CJK font covers every character the interface and the schema can show."""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtGui import QFont, QFontMetrics, QRawFont
from PySide6.QtWidgets import QApplication

from tcm_desktop.domain import Schema
from tcm_desktop.resources import resource_path
from tcm_desktop.ui.fonts import install_app_font

UI = Path(__file__).resolve().parents[2] / "tcm_desktop" / "ui"
FONT = resource_path("fonts", "NotoSansSC-Subset.otf")


def ui_characters() -> set[str]:
    """Characters of every string literal in tcm_desktop/ui that is not a docstring."""
    chars: set[str] = set()
    for path in UI.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                chars.update(node.value)
    return chars


def schema_characters(schema: Schema) -> set[str]:
    texts = [t for label in schema.labels for t in (label.zh, label.en, label.key)]
    texts += [t for s in schema.specialties for t in (s.zh, s.en)]
    for f in schema.all_fields():
        texts += [f.zh, f.en, f.unit or "", *f.values]
    return set("".join(texts))


def translation_characters() -> set[str]:
    root = ET.parse(resource_path("translations", "tcm_desktop_en.ts")).getroot()
    return set("".join(t.text or "" for t in root.iter("translation")))


def printable(chars: set[str]) -> set[str]:
    return {c for c in chars if c.isprintable() and not c.isspace()}


@pytest.fixture(scope="module")
def raw_font(qapp) -> QRawFont:
    font = QRawFont(str(FONT), 12)
    assert font.isValid(), FONT
    return font


@pytest.mark.parametrize("source", ["ui", "schema", "translations"])
def test_the_bundled_font_has_a_glyph_for_every_character(raw_font: QRawFont, schema: Schema, source: str):
    chars = {"ui": ui_characters, "translations": translation_characters}.get(source, lambda: None)()
    chars = schema_characters(schema) if source == "schema" else chars
    # The glyph the font's cmap gives (QRawFont.supportsCharacter answers from the OS/2 range bits instead).
    missing = sorted(c for c in printable(chars) if raw_font.glyphIndexesForString(c) in ([], [0]))
    assert missing == [], f"rebuild the subset with scripts/build_font.py: {''.join(missing)}"


def test_the_licence_travels_with_the_font():
    assert "SIL OPEN FONT LICENSE" in resource_path("fonts", "OFL.txt").read_text(encoding="utf-8").upper()


def test_the_app_font_is_the_bundled_one(qapp):
    before = QFont(QApplication.font())
    try:
        family = install_app_font(qapp)
        assert family == "Noto Sans CJK SC"
        assert QApplication.font().family() == family
        metrics = QFontMetrics(QApplication.font())
        assert all(metrics.inFontUcs4(ord(c)) for c in "文件导入舌淡红苔薄白脉细")
    finally:
        QApplication.setFont(before)
