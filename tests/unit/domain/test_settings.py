"""The settings model and its TOML file: defaults, checks that name the key and value, never a crash."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tcm_desktop.domain import default_schema
from tcm_desktop.domain.settings import (
    DEFAULT_SHORTCUTS,
    AppSettings,
    SettingsError,
    SettingsFile,
    canonical_shortcut,
    parse_settings,
    schema_with_keys,
    shortcut_problem,
    to_toml,
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def problem_texts(raw: dict) -> list[str]:
    return [str(p) for p in parse_settings(raw, default_schema())[1]]


def test_no_file_gives_the_defaults_without_complaint(tmp_path: Path) -> None:
    loaded = SettingsFile(tmp_path / "missing" / "settings.toml").load()
    assert loaded.settings == AppSettings()
    assert loaded.problems == () and not loaded.found
    assert loaded.settings.language == "zh_CN"
    assert loaded.settings.inference_threads == 2
    assert dict(loaded.settings.shortcuts) == dict(DEFAULT_SHORTCUTS)


def test_saved_settings_load_back_equal(tmp_path: Path) -> None:
    bundle = tmp_path / "my model"
    bundle.mkdir()
    (bundle / "manifest.json").write_text("{}", encoding="utf-8")
    settings = AppSettings(
        language="en",
        data_folder=tmp_path / 'clinic "A"\\data',
        model_folder=bundle,
        inference_threads=6,
        shortcuts={"import_records": "Ctrl+Shift+I", "quit": ""},
        category_keys={"SYM": "X"},
    )
    file = SettingsFile(tmp_path / "cfg" / "settings.toml", default_schema())
    file.save(settings)
    loaded = file.load()
    assert loaded.problems == ()
    assert loaded.settings == settings
    assert loaded.settings.shortcuts["quit"] == "" and loaded.settings.shortcuts["find"] == "Ctrl+F"
    assert [p.name for p in file.path.parent.iterdir()] == ["settings.toml"]  # no temporary file left


def test_the_file_is_plain_toml_a_person_can_edit(tmp_path: Path) -> None:
    text = to_toml(AppSettings(data_folder=Path("C:\\Users\\李医生\\病历")))
    data = tomllib.loads(text)
    assert data["data_folder"] == "C:\\Users\\李医生\\病历"
    assert data["language"] == "zh_CN" and data["version"] == 1
    assert data["shortcuts"]["open_database"] == "Ctrl+O"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"language": "fr"}, 'language = "fr": not one of zh_CN, en'),
        ({"inference_threads": 0}, "inference_threads = 0: use a whole number from 1 to 64"),
        ({"inference_threads": "4"}, 'inference_threads = "4": use a whole number'),
        ({"inference_threads": True}, "inference_threads = true: use a whole number"),
        ({"data_folder": "relative/path"}, 'data_folder = "relative/path": not an absolute path'),
        ({"shortcuts": {"quit": "Hyper+Q"}}, "shortcuts.quit = \"Hyper+Q\": 'Hyper' is not a modifier"),
        ({"shortcuts": {"find": "F"}}, 'shortcuts.find = "F": a letter, digit or sign needs Ctrl, Alt or Meta'),
        ({"shortcuts": {"fly": "Ctrl+Y"}}, 'shortcuts.fly = "Ctrl+Y": no such command'),
        ({"shortcuts": {"refresh": "Ctrl+K, Ctrl+C"}}, "give one key combination"),
        ({"shortcuts": "Ctrl+Q"}, 'shortcuts = "Ctrl+Q": expected a [shortcuts] table'),
        ({"category_keys": {"SYM": "ab"}}, 'category_keys.SYM = "ab": use one letter A-Z or digit 0-9'),
        ({"category_keys": {"NOPE": "Q"}}, 'category_keys.NOPE = "Q": no such category'),
        ({"colour": "red"}, 'colour = "red": unknown setting; ignored'),
        ({"version": 99}, "version = 99: written by a newer version"),
    ],
)
def test_each_bad_value_is_named_with_its_key_and_replaced_by_the_default(raw: dict, expected: str) -> None:
    settings, problems = parse_settings(raw, default_schema())
    assert len(problems) == 1, problems
    assert expected in str(problems[0])
    assert settings.language in ("zh_CN", "en") and 1 <= settings.inference_threads <= 64
    for key in raw:
        if key in ("language", "inference_threads", "data_folder"):
            assert getattr(settings, key) == getattr(AppSettings(), key)


def test_good_values_next_to_bad_ones_are_kept() -> None:
    settings, problems = parse_settings({"language": "en-US", "inference_threads": 99, "shortcuts": {"quit": "Alt+F4"}})
    assert [p.key for p in problems] == ["inference_threads"]
    assert settings.language == "en" and settings.inference_threads == 2
    assert settings.shortcuts["quit"] == "Alt+F4"


def test_one_shortcut_on_two_commands_resets_the_shortcuts() -> None:
    texts = problem_texts({"shortcuts": {"quit": "ctrl+o"}})
    assert texts == ['shortcuts = "Ctrl+O": given to open_database and quit; all shortcuts are set to the defaults']
    settings, _ = parse_settings({"shortcuts": {"quit": "ctrl+o"}})
    assert dict(settings.shortcuts) == dict(DEFAULT_SHORTCUTS)


def test_category_keys_must_stay_unique_across_the_schema() -> None:
    schema = default_schema()
    taken = schema.label("SIGN").key
    texts = problem_texts({"category_keys": {"SYM": taken.lower()}})
    assert texts == [f'category_keys = "{taken}": given to SYM and SIGN; the schema\'s keys are used']
    swapped, problems = parse_settings({"category_keys": {"SYM": "G", "SIGN": "S"}}, schema)
    assert problems == []
    keyed = schema_with_keys(schema, swapped.category_keys)
    assert keyed.label("SYM").key == "G" and keyed.label("SIGN").key == "S"
    assert keyed.label("HERB").key == schema.label("HERB").key
    assert schema_with_keys(schema, {}) is schema


def test_the_model_folder_must_hold_a_bundle(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    texts = problem_texts({"model_folder": str(empty)})
    assert texts == [f"model_folder = {json.dumps(str(empty))}: no manifest.json in it, so it is not a model bundle; "
                     "the shipped model is used"]  # fmt: skip
    a_file = write(tmp_path / "a.txt", "x")
    assert "a file, not a folder" in problem_texts({"data_folder": str(a_file)})[0]
    assert problem_texts({"data_folder": str(tmp_path / "not yet made")}) == []  # created on first use


def test_a_corrupt_file_gives_the_defaults_and_says_why(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.toml", 'language = "en"\ninference_threads = = 3\n')
    loaded = SettingsFile(path).load()
    assert loaded.settings == AppSettings() and loaded.found
    (problem,) = loaded.problems
    assert str(path) in str(problem) and "not a valid settings file" in str(problem)
    path.write_bytes(b'language = "\xff\xfe"\n')
    assert "not a valid settings file" in str(SettingsFile(path).load().problems[0])


def test_an_unreadable_file_gives_the_defaults(tmp_path: Path) -> None:
    folder = tmp_path / "settings.toml"
    folder.mkdir()  # reading a folder fails on every platform
    loaded = SettingsFile(folder).load()
    assert loaded.settings == AppSettings()
    assert "cannot be read" in str(loaded.problems[0])


def test_saving_where_it_cannot_write_raises_a_settings_error(tmp_path: Path) -> None:
    blocker = write(tmp_path / "blocker", "a file where the folder should be")
    with pytest.raises(SettingsError, match="cannot write"):
        SettingsFile(blocker / "settings.toml").save(AppSettings())


@pytest.mark.parametrize(
    "text", ["", "Ctrl+O", "Ctrl+Shift+E", "F5", "Shift+F5", "Ctrl++", "Ctrl+,", "Alt+Return", "Del"]
)
def test_shortcuts_qt_writes_are_accepted(text: str) -> None:
    assert shortcut_problem(text) is None


def test_two_spellings_of_one_combination_are_the_same() -> None:
    assert canonical_shortcut("shift+ctrl+e") == canonical_shortcut("Ctrl+Shift+E") == "Ctrl+Shift+E"
    assert canonical_shortcut("Ctrl+Delete") == canonical_shortcut("Ctrl+Del")
