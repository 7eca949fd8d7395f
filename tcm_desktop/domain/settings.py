"""The user's settings: a frozen :class:`AppSettings`, checked key by key, kept in a TOML file.

No Qt here, so the checks run headless and the dialog and the start-up share
them. Reading never raises: a file that cannot be read or parsed gives the
defaults, a bad value gives that key's default, and each is reported as a
:class:`SettingsProblem` that names the key and the bad value::

    loaded = SettingsFile(settings_path()).load()
    for problem in loaded.problems:        # show these to the user
        print(problem)                     # inference_threads = 0: use a whole number from 1 to 64
    settings = loaded.settings

The file (``settings.toml`` in the user's config folder)::

    version = 1
    language = "zh_CN"            # zh_CN or en
    data_folder = ""              # "" = the platform's data folder
    model_folder = ""             # "" = the model bundle shipped with the program
    inference_threads = 2         # 1-64
    backup_interval_minutes = 60  # a backup at start and every so often; 0 = never
    backup_keep = 10              # backups kept in <data folder>/backups, oldest removed

    [shortcuts]                   # application shortcuts, Qt's portable text; "" = none
    import_records = "Ctrl+I"

    [category_keys]               # annotation category keys that differ from the schema's
    SYM = "S"

Window geometry is not here: the GUI keeps it in QSettings.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tcm_desktop.domain.errors import TcmError
from tcm_desktop.domain.schema import Schema

SETTINGS_VERSION = 1
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
MIN_THREADS, MAX_THREADS, DEFAULT_THREADS = 1, 64, 2
MAX_BACKUP_INTERVAL, DEFAULT_BACKUP_INTERVAL = 7 * 24 * 60, 60  # minutes; 0 = no automatic backups
MIN_BACKUP_KEEP, MAX_BACKUP_KEEP, DEFAULT_BACKUP_KEEP = 1, 1000, 10
MANIFEST = "manifest.json"

# Application shortcuts: name -> default, in Qt's portable text. Undo, redo and the
# image zoom keep the platform's standard keys; category keys are in the schema.
DEFAULT_SHORTCUTS: Mapping[str, str] = MappingProxyType(
    {
        "open_database": "Ctrl+O",
        "import_records": "Ctrl+I",
        "export_records": "Ctrl+E",
        "preferences": "Ctrl+,",
        "quit": "Ctrl+Q",
        "refresh": "F5",
        "find": "Ctrl+F",
        "save": "Ctrl+S",
        "save_and_next": "Ctrl+Return",
        "next_record": "Alt+N",
        "previous_record": "Alt+P",
        "focus_list": "Ctrl+1",
        "focus_text": "Ctrl+2",
        "focus_form": "Ctrl+3",
        "focus_queue": "Ctrl+4",
    }
)

MODIFIERS = ("Ctrl", "Alt", "Shift", "Meta")
NAMED_KEYS = (
    "Esc", "Tab", "Backtab", "Backspace", "Return", "Enter", "Ins", "Del", "Pause", "Print", "SysReq",
    "Home", "End", "Left", "Up", "Right", "Down", "PgUp", "PgDown", "Space", "Menu", "Help",
)  # fmt: skip
_KEY_ALIASES = {"escape": "Esc", "insert": "Ins", "delete": "Del", "pageup": "PgUp", "pagedown": "PgDown"}
_FUNCTION_KEY = re.compile(r"^F([1-9]|[12][0-9]|3[0-5])$", re.IGNORECASE)
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class SettingsError(TcmError):
    """The settings file could not be written."""


@dataclass(frozen=True)
class SettingsProblem:
    """``key`` (``inference_threads``, ``shortcuts.quit``, ``file``) holds ``value``, which is wrong because ``why``."""

    key: str
    value: Any
    why: str

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.key}: {self.why}"
        return f"{self.key} = {json.dumps(self.value, ensure_ascii=False, default=str)}: {self.why}"


def _frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class AppSettings:
    """What the user can set; the defaults are what a fresh install uses.

    ``data_folder`` / ``model_folder`` None: the platform's data folder / the
    shipped bundle. ``shortcuts`` holds every name of :data:`DEFAULT_SHORTCUTS`
    ("" = no shortcut); ``category_keys`` only the categories whose key differs
    from the schema's.
    """

    language: str = DEFAULT_LANGUAGE
    data_folder: Path | None = None
    model_folder: Path | None = None
    inference_threads: int = DEFAULT_THREADS
    backup_interval_minutes: int = DEFAULT_BACKUP_INTERVAL
    backup_keep: int = DEFAULT_BACKUP_KEEP
    shortcuts: Mapping[str, str] = field(default_factory=lambda: DEFAULT_SHORTCUTS)
    category_keys: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "shortcuts", _frozen({**DEFAULT_SHORTCUTS, **self.shortcuts}))
        object.__setattr__(self, "category_keys", _frozen(self.category_keys))

    def to_dict(self) -> dict[str, Any]:
        """The file's content (paths as text, "" for the defaults)."""
        return {
            "version": SETTINGS_VERSION,
            "language": self.language,
            "data_folder": str(self.data_folder) if self.data_folder else "",
            "model_folder": str(self.model_folder) if self.model_folder else "",
            "inference_threads": self.inference_threads,
            "backup_interval_minutes": self.backup_interval_minutes,
            "backup_keep": self.backup_keep,
            "shortcuts": dict(self.shortcuts),
            "category_keys": dict(self.category_keys),
        }


# --- checking one value ------------------------------------------------------------


def normalize_language(value: str) -> str | None:
    """``zh_CN``, ``zh-cn``, ``zh`` -> ``zh_CN``; ``en``, ``en_US`` -> ``en``; None if unsupported."""
    code = value.strip().replace("-", "_").lower()
    if code in ("zh", "zh_cn", "zh_hans", "zh_hans_cn"):
        return "zh_CN"
    if code == "en" or code.startswith("en_"):
        return "en"
    return None


def _split_shortcut(text: str) -> list[str]:
    parts = text.split("+")
    if text.endswith("+"):  # "Ctrl++": the key is the plus sign
        parts = [*parts[:-2], "+"] if len(parts) >= 2 else parts
    return [p.strip() for p in parts]


def shortcut_problem(text: str) -> str | None:
    """Why ``text`` is not one key combination such as ``Ctrl+Shift+E`` or ``F5``; None if it is.

    The empty text means "no shortcut". A printable key needs Ctrl, Alt or Meta,
    since plain letters are the annotation category keys.
    """
    if text == "":
        return None
    if "," in text.replace("+,", "") or text != text.strip():
        return "give one key combination such as Ctrl+Shift+E"
    *modifiers, key = _split_shortcut(text)
    for modifier in modifiers:
        if modifier.capitalize() not in MODIFIERS and modifier.lower() != "control":
            return f"{modifier!r} is not a modifier (use {', '.join(MODIFIERS)})"
    lowered = [m.lower().replace("control", "ctrl") for m in modifiers]
    if len(set(lowered)) != len(lowered):
        return "a modifier is given twice"
    if _canonical_key(key) is None:
        return f"{key!r} is not a key (use a letter, digit, sign, F1-F35 or a name such as Return, Del, PgUp)"
    if len(key) == 1 and not set(lowered) & {"ctrl", "alt", "meta"}:
        return "a letter, digit or sign needs Ctrl, Alt or Meta (plain keys mark annotation categories)"
    return None


def _canonical_key(key: str) -> str | None:
    if len(key) == 1:
        return key.upper() if key.isprintable() and not key.isspace() else None
    if _FUNCTION_KEY.match(key):
        return key.upper()
    lowered = key.lower()
    if lowered in _KEY_ALIASES:
        return _KEY_ALIASES[lowered]
    return next((name for name in NAMED_KEYS if name.lower() == lowered), None)


def canonical_shortcut(text: str) -> str:
    """A form in which two spellings of one combination are equal (``shift+ctrl+e`` == ``Ctrl+Shift+E``)."""
    *modifiers, key = _split_shortcut(text)
    names = {m.lower().replace("control", "ctrl") for m in modifiers}
    ordered = [m for m in MODIFIERS if m.lower() in names]
    return "+".join([*ordered, _canonical_key(key) or key])


def category_key_problem(key: str) -> str | None:
    """Why ``key`` cannot mark a category (one letter A-Z or digit 0-9); None if it can."""
    if len(key) != 1 or not (key.isascii() and key.isalnum()):
        return "use one letter A-Z or digit 0-9"
    return None


def _duplicates(assigned: Iterable[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    by_value: dict[str, list[str]] = {}
    for name, value in assigned:
        by_value.setdefault(value, []).append(name)
    return [(value, names) for value, names in by_value.items() if len(names) > 1]


# --- checking a whole mapping ---------------------------------------------------------


class _Checker:
    """Collects problems while turning the raw file content into AppSettings."""

    def __init__(self, raw: Mapping[str, Any], schema: Schema | None, check_folders: bool) -> None:
        self.raw = raw
        self.schema = schema
        self.check_folders = check_folders
        self.problems: list[SettingsProblem] = []

    def problem(self, key: str, value: Any, why: str) -> None:
        self.problems.append(SettingsProblem(key, value, why))

    def run(self) -> AppSettings:
        known = {"version", "language", "data_folder", "model_folder", "inference_threads"}
        known |= {"shortcuts", "category_keys", "backup_interval_minutes", "backup_keep"}
        for key in self.raw:
            if key not in known:
                self.problem(str(key), self.raw[key], "unknown setting; ignored")
        version = self.raw.get("version", SETTINGS_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.problem("version", version, "expected a whole number such as 1; read as version 1")
        elif version > SETTINGS_VERSION:
            self.problem("version", version, "written by a newer version of the program; keys it added are ignored")
        return AppSettings(
            language=self.language(),
            data_folder=self.folder("data_folder", bundle=False),
            model_folder=self.folder("model_folder", bundle=True),
            inference_threads=self.threads(),
            backup_interval_minutes=self.whole(
                "backup_interval_minutes", 0, MAX_BACKUP_INTERVAL, DEFAULT_BACKUP_INTERVAL
            ),
            backup_keep=self.whole("backup_keep", MIN_BACKUP_KEEP, MAX_BACKUP_KEEP, DEFAULT_BACKUP_KEEP),
            shortcuts=self.shortcuts(),
            category_keys=self.category_keys(),
        )

    def language(self) -> str:
        value = self.raw.get("language", DEFAULT_LANGUAGE)
        code = normalize_language(value) if isinstance(value, str) else None
        if code is None:
            self.problem("language", value, f"not one of {', '.join(LANGUAGES)}; {DEFAULT_LANGUAGE} is used")
            return DEFAULT_LANGUAGE
        return code

    def folder(self, key: str, bundle: bool) -> Path | None:
        value = self.raw.get(key, "")
        fallback = "the shipped model is used" if bundle else "the platform's data folder is used"
        if not isinstance(value, str):
            self.problem(key, value, f"expected a folder path as text; {fallback}")
            return None
        if not value.strip():
            return None
        path = Path(os.path.expandvars(value.strip())).expanduser()
        why = None
        if not path.is_absolute():
            why = "not an absolute path (start it at the drive or at /)"
        elif self.check_folders and path.exists() and not path.is_dir():
            why = "a file, not a folder"
        elif self.check_folders and bundle and not (path / MANIFEST).is_file():
            why = f"no {MANIFEST} in it, so it is not a model bundle"
        if why:
            self.problem(key, value, f"{why}; {fallback}")
            return None
        return path

    def threads(self) -> int:
        value = self.raw.get("inference_threads", DEFAULT_THREADS)
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_THREADS <= value <= MAX_THREADS:
            why = f"use a whole number from {MIN_THREADS} to {MAX_THREADS}; {DEFAULT_THREADS} is used"
            self.problem("inference_threads", value, why)
            return DEFAULT_THREADS
        return value

    def whole(self, key: str, low: int, high: int, default: int) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(key, value, f"use a whole number from {low} to {high}; {default} is used")
            return default
        return value

    def table(self, key: str) -> Mapping[str, Any]:
        value = self.raw.get(key, {})
        if not isinstance(value, Mapping):
            self.problem(key, value, f"expected a [{key}] table; the defaults are used")
            return {}
        return value

    def shortcuts(self) -> dict[str, str]:
        result = dict(DEFAULT_SHORTCUTS)
        for name, value in self.table("shortcuts").items():
            key = f"shortcuts.{name}"
            if name not in DEFAULT_SHORTCUTS:
                self.problem(key, value, f"no such command (use {', '.join(DEFAULT_SHORTCUTS)}); ignored")
                continue
            why = shortcut_problem(value) if isinstance(value, str) else "expected text such as Ctrl+Shift+E"
            if why:
                self.problem(key, value, f"{why}; the default {DEFAULT_SHORTCUTS[name]} is used")
                continue
            result[name] = value
        clashes = _duplicates((n, canonical_shortcut(v)) for n, v in result.items() if v)
        for value, names in clashes:
            self.problem("shortcuts", value, f"given to {' and '.join(names)}; all shortcuts are set to the defaults")
        return dict(DEFAULT_SHORTCUTS) if clashes else result

    def category_keys(self) -> dict[str, str]:
        labels = {label.code: label.key for label in self.schema.labels} if self.schema else None
        result: dict[str, str] = {}
        for code, value in self.table("category_keys").items():
            key = f"category_keys.{code}"
            if labels is not None and code not in labels:
                self.problem(key, value, "no such category; ignored")
                continue
            why = category_key_problem(value) if isinstance(value, str) else "expected one letter or digit"
            if why:
                self.problem(key, value, f"{why}; the schema's key is used")
                continue
            if labels is None or labels[code] != value.upper():
                result[code] = value.upper()
        merged = {**(labels or {}), **result}
        clashes = _duplicates((code, key.upper()) for code, key in merged.items())
        for value, codes in clashes:
            self.problem("category_keys", value, f"given to {' and '.join(codes)}; the schema's keys are used")
        return {} if clashes else result


def parse_settings(
    raw: Mapping[str, Any], schema: Schema | None = None, check_folders: bool = True
) -> tuple[AppSettings, list[SettingsProblem]]:
    """Settings from the file's content: each bad value replaced by its default and reported.

    ``schema`` lets the category keys be checked against the real categories
    (unknown codes, two categories on one key); ``check_folders`` looks at the
    disk (a model folder must hold a bundle manifest, a data folder must not be a file).
    """
    checker = _Checker(raw, schema, check_folders)
    settings = checker.run()
    return settings, checker.problems


def schema_with_keys(schema: Schema, category_keys: Mapping[str, str]) -> Schema:
    """``schema`` with the category keys of ``category_keys`` (code -> key) instead of its own."""
    if not category_keys:
        return schema
    labels = tuple(replace(lb, key=category_keys.get(lb.code, lb.key)) for lb in schema.labels)
    return replace(schema, labels=labels)


# --- the file ------------------------------------------------------------------------


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def to_toml(settings: AppSettings) -> str:
    data = settings.to_dict()
    lines = ["# TCM Desktop settings (edited by 设置 > 首选项…). Empty folders mean the defaults.", ""]
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items() if k not in tables]
    for name, table in tables.items():
        lines += ["", f"[{name}]"] + [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class LoadedSettings:
    settings: AppSettings
    problems: tuple[SettingsProblem, ...] = ()
    found: bool = False  # False: no file yet, the defaults


class SettingsFile:
    """The TOML file at ``path``; ``schema`` is used to check the category keys."""

    def __init__(self, path: Path, schema: Schema | None = None) -> None:
        self.path = Path(path)
        self.schema = schema

    def load(self) -> LoadedSettings:
        """The settings in the file; never raises (see the module docstring)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return LoadedSettings(AppSettings())
        except OSError as exc:
            why = f"cannot be read ({exc.strerror or exc}); the defaults are used"
            return LoadedSettings(AppSettings(), (SettingsProblem(str(self.path), None, why),), True)
        try:
            raw = tomllib.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            why = f"is not a valid settings file ({exc}); the defaults are used until it is saved again"
            return LoadedSettings(AppSettings(), (SettingsProblem(str(self.path), None, why),), True)
        settings, problems = parse_settings(raw, self.schema)
        return LoadedSettings(settings, tuple(problems), True)

    def save(self, settings: AppSettings) -> None:
        """Write ``settings`` (to a temporary file moved into place); SettingsError on failure."""
        text = to_toml(settings)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        except OSError as exc:
            raise SettingsError(f"cannot write to {self.path.parent}: {exc.strerror or exc}") from exc
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            os.replace(tmp, self.path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise SettingsError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
