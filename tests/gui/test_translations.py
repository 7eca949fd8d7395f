"""Chinese by default, English from the Qt translation files; no UI string left without English."""

from __future__ import annotations

import ast
import re
import string
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QTranslator

from tcm_desktop.domain import Schema
from tcm_desktop.resources import resource_path
from tcm_desktop.store import Database
from tcm_desktop.ui.i18n import catalog_path, install_translators
from tcm_desktop.ui.main_window import MainWindow

UI = Path(__file__).resolve().parents[2] / "tcm_desktop" / "ui"
TS = resource_path("translations", "tcm_desktop_en.ts")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def source_strings() -> tuple[set[tuple[str, str]], list[str]]:
    """(context, source) of every translatable string under tcm_desktop/ui, as lupdate reads them,
    and the calls lupdate cannot read (a problem each)."""
    found: set[tuple[str, str]] = set()
    problems: list[str] = []

    def visit(node: ast.AST, cls: str | None, path: Path) -> None:
        for child in ast.iter_child_nodes(node):
            visit(child, child.name if isinstance(child, ast.ClassDef) else cls, path)
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute | ast.Name):
            return
        where = f"{path.name}:{node.lineno}"
        name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
        if name == "tr" and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            text = _literal(node.args[0]) if node.args else None
            if not (isinstance(owner, ast.Name) and owner.id == "self" and cls):
                problems.append(f"{where}: use self.tr() inside a class (lupdate takes the class as context)")
            elif text is None:
                problems.append(f"{where}: tr() needs a string literal")
            else:
                found.add((cls, text))
        elif name in ("translate", "QT_TRANSLATE_NOOP") and len(node.args) >= 2:
            context, text = _literal(node.args[0]), _literal(node.args[1])
            if context is None:
                problems.append(f"{where}: {name}() needs a literal context")
            elif text is not None:
                found.add((context, text))
            elif name == "QT_TRANSLATE_NOOP":
                problems.append(f"{where}: QT_TRANSLATE_NOOP() needs a literal text")
            # translate(context, variable): a lookup of strings marked with QT_TRANSLATE_NOOP elsewhere

    for path in sorted(UI.glob("*.py")):
        visit(ast.parse(path.read_text(encoding="utf-8")), None, path)
    return found, problems


def ts_messages() -> dict[tuple[str, str], str | None]:
    """(context, source) -> finished English translation, or None when unfinished."""
    out: dict[tuple[str, str], str | None] = {}
    for context in ET.parse(TS).getroot().iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            translation = message.find("translation")
            finished = translation is not None and translation.get("type") is None and (translation.text or "").strip()
            out[(name, message.findtext("source", ""))] = translation.text if finished else None
    return out


def fields(text: str) -> list[str]:
    return sorted(f"{name}:{spec}" for _, name, spec, _ in string.Formatter().parse(text) if name is not None)


def test_every_ui_string_is_readable_by_lupdate():
    _found, problems = source_strings()
    assert problems == []


def test_every_ui_string_has_an_english_translation():
    found, _problems = source_strings()
    assert len(found) > 100
    messages = ts_messages()
    missing = sorted(f"{ctx}: {src}" for ctx, src in found if messages.get((ctx, src)) is None)
    assert missing == [], "run scripts/update_translations.py and translate these in tcm_desktop_en.ts"


def test_translations_keep_the_placeholders_and_leave_no_chinese():
    for (context, source), english in ts_messages().items():
        if english is None:
            continue
        assert fields(english) == fields(source), (context, source, english)
        assert not CJK.search(english.replace("、", "")), (context, source, english)
        assert english.count("&") == source.count("&"), (context, source, english)


def test_the_compiled_catalogue_matches_the_source_file():
    translator = QTranslator()
    assert translator.load(str(catalog_path("en")))
    for (context, source), english in ts_messages().items():
        if english is not None:
            assert translator.translate(context, source) == english, (context, source)


@pytest.fixture
def language(qapp) -> Iterator[Callable[[str], list[str]]]:
    yield lambda code: install_translators(qapp, code)
    install_translators(qapp, "zh_CN")  # the default for the tests that follow


def make_window(qtbot, db: Database, schema: Schema, settings_path: Path) -> MainWindow:
    window = MainWindow(db, schema, settings=QSettings(str(settings_path), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    return window


def menu_titles(window: MainWindow) -> list[str]:
    return [action.text() for action in window.menuBar().actions()]


def test_the_interface_is_chinese_by_default(qtbot, db: Database, schema: Schema, settings_path: Path, language):
    assert language("zh_CN") == ["qtbase_zh_CN"]  # Qt's own buttons in Chinese too
    titles = menu_titles(make_window(qtbot, db, schema, settings_path))
    assert titles[:3] == ["文件(&F)", "视图(&V)", "标注(&E)"] and "设置(&S)" in titles


def test_the_main_window_speaks_english_when_asked(qtbot, db, schema, settings_path: Path, language):
    assert "tcm_desktop_en" in language("en")
    window = make_window(qtbot, db, schema, settings_path)
    titles = menu_titles(window)
    assert titles[:3] == ["&File", "&View", "Annotat&e"] and "&Settings" in titles
    assert not any(CJK.search(title) for title in titles)
    file_menu = window.menuBar().actions()[0].menu()
    assert [a.text() for a in file_menu.actions() if a.text()][:3] == ["&Open database…", "&Import…", "&Export…"]
    assert window.count_label.text() == "4 records in all"
    assert window.app_actions.preferences_action.text() == "&Preferences…"


def test_english_shows_the_schemas_english_names(qtbot, db, schema, settings_path: Path, language, tmp_path: Path):
    from PySide6.QtWidgets import QComboBox, QLabel

    language("en")
    window = make_window(qtbot, db, schema, settings_path)
    window.record_list.table.selectRow(0)  # the form editor shows the record's fields
    assert window.text_panel.legend.chip("TONGUE_BODY").text().startswith("Tongue body")
    combo: QComboBox = window.record_list.specialty_combo
    assert [combo.itemText(i) for i in range(combo.count())][1:] == [s.en for s in schema.specialties]
    qtbot.waitUntil(lambda: window.form_editor.findChild(QLabel, "name_chief_complaint") is not None)
    assert window.form_editor.findChild(QLabel, "name_chief_complaint").text() == "Chief complaint:"
    language("zh_CN")
    chinese = make_window(qtbot, db, schema, settings_path)
    assert chinese.text_panel.legend.chip("TONGUE_BODY").text().startswith("舌质")
