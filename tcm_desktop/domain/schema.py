"""The annotation schema as data: entity labels, specialties and form fields.

Everything that needs a label list or a form field reads it from here; the
YAML files under ``resources/schema`` are the single source.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from tcm_desktop.domain.errors import SchemaError
from tcm_desktop.resources import resource_path

NOT_MENTIONED = "未提及"
GENERAL = "general"


class FieldType(StrEnum):
    TEXT = "text"
    ENUM = "enum"
    TERNARY = "ternary"
    INTEGER = "integer"
    DECIMAL = "decimal"
    LIST = "list"
    HERB_LIST = "herb_list"


@dataclass(frozen=True)
class Label:
    code: str
    zh: str
    en: str
    key: str
    color: str
    description: str = ""


@dataclass(frozen=True)
class Specialty:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class FormField:
    name: str
    zh: str
    en: str
    type: FieldType
    block: str
    values: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    decimals: int | None = None
    unit: str | None = None
    from_labels: tuple[str, ...] = ()

    def empty_value(self) -> Any:
        """The value of this field when the record says nothing."""
        if self.type in (FieldType.ENUM, FieldType.TERNARY):
            return NOT_MENTIONED if NOT_MENTIONED in self.values else self.values[-1]
        if self.type is FieldType.TEXT:
            return ""
        if self.type in (FieldType.LIST, FieldType.HERB_LIST):
            return []
        return None

    def check(self, value: Any) -> str | None:
        """Return why ``value`` is not allowed for this field, or None if it is."""
        kind = self.type
        if kind in (FieldType.ENUM, FieldType.TERNARY):
            if value not in self.values:
                return f"{value!r} is not one of {', '.join(self.values)}"
        elif kind is FieldType.TEXT:
            if not isinstance(value, str):
                return f"expected text, got {type(value).__name__}"
        elif kind in (FieldType.INTEGER, FieldType.DECIMAL):
            return self._check_number(value)
        elif kind is FieldType.LIST:
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                return "expected a list of non-empty strings"
        elif kind is FieldType.HERB_LIST:
            if not isinstance(value, list):
                return "expected a list of {herb, dose}"
            for i, item in enumerate(value):
                if not isinstance(item, Mapping) or not isinstance(item.get("herb"), str) or not item["herb"]:
                    return f"item {i} needs a non-empty 'herb'"
                if item.get("dose") is not None and not isinstance(item["dose"], str):
                    return f"item {i}: 'dose' must be text or null"
        return None

    def _check_number(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number or null, got {value!r}"
        if self.type is FieldType.INTEGER and not float(value).is_integer():
            return f"expected a whole number, got {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"expected a finite number, got {value!r}"
        if self.minimum is not None and value < self.minimum:
            return f"{value} is below the minimum {self.minimum:g}"
        if self.maximum is not None and value > self.maximum:
            return f"{value} is above the maximum {self.maximum:g}"
        if self.decimals is not None and round(float(value), self.decimals) != float(value):
            return f"{value} has more than {self.decimals} decimal place(s)"
        return None


@dataclass(frozen=True)
class Schema:
    version: str
    tag_scheme: str
    labels: tuple[Label, ...]
    specialties: tuple[Specialty, ...]
    blocks: Mapping[str, tuple[FormField, ...]] = field(default_factory=dict)

    @property
    def label_codes(self) -> tuple[str, ...]:
        return tuple(label.code for label in self.labels)

    @property
    def specialty_codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.specialties)

    def label(self, code: str) -> Label:
        for label in self.labels:
            if label.code == code:
                return label
        raise KeyError(code)

    def fields_for(self, specialty: str) -> tuple[FormField, ...]:
        """The general block followed by the specialty's own block."""
        if specialty not in self.specialty_codes:
            raise KeyError(specialty)
        own = self.blocks.get(specialty, ()) if specialty != GENERAL else ()
        return tuple(self.blocks[GENERAL]) + tuple(own)

    def all_fields(self) -> tuple[FormField, ...]:
        return tuple(f for block in self.blocks.values() for f in block)

    def field(self, name: str) -> FormField:
        for form_field in self.all_fields():
            if form_field.name == name:
                return form_field
        raise KeyError(name)

    def empty_form(self, specialty: str) -> dict[str, Any]:
        return {f.name: f.empty_value() for f in self.fields_for(specialty)}

    def complete_form(self, specialty: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """``form`` with every missing field of the specialty set to its empty value."""
        full = self.empty_form(specialty)
        full.update(form)
        return full

    def form_problems(self, specialty: str, form: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(field name, reason) for each value the specialty's form does not allow."""
        fields = {f.name: f for f in self.fields_for(specialty)}
        problems: list[tuple[str, str]] = []
        for name, value in form.items():
            form_field = fields.get(name)
            if form_field is None:
                problems.append((name, f"not a field of the {specialty} form"))
                continue
            reason = form_field.check(value)
            if reason:
                problems.append((name, reason))
        return problems


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except OSError as exc:
        raise SchemaError(f"cannot read schema file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SchemaError(f"schema file {path} is not valid YAML: {exc}") from exc


def _parse_field(raw: Mapping[str, Any], block: str, labels: set[str], where: str) -> FormField:
    try:
        kind = FieldType(raw["type"])
        form_field = FormField(
            name=str(raw["name"]),
            zh=str(raw["zh"]),
            en=str(raw.get("en", raw["name"])),
            type=kind,
            block=block,
            values=tuple(str(v) for v in raw.get("values", ())),
            minimum=raw.get("min"),
            maximum=raw.get("max"),
            decimals=raw.get("decimals"),
            unit=raw.get("unit"),
            from_labels=tuple(raw.get("from_labels", ())),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise SchemaError(f"{where}: bad field definition ({exc})") from exc
    if kind in (FieldType.ENUM, FieldType.TERNARY) and not form_field.values:
        raise SchemaError(f"{where}: {kind.value} field {form_field.name!r} needs values")
    if kind is FieldType.TERNARY and len(form_field.values) != 3:
        raise SchemaError(f"{where}: ternary field {form_field.name!r} needs exactly three values")
    unknown = set(form_field.from_labels) - labels
    if unknown:
        raise SchemaError(f"{where}: field {form_field.name!r} names unknown labels {sorted(unknown)}")
    return form_field


def load_schema(folder: Path | None = None) -> Schema:
    """Load and validate ``labels.yaml`` and ``form.yaml`` from ``folder``."""
    folder = folder or resource_path("schema")
    raw_labels = _read_yaml(folder / "labels.yaml")
    raw_form = _read_yaml(folder / "form.yaml")
    try:
        labels = tuple(
            Label(
                code=str(item["code"]),
                zh=str(item["zh"]),
                en=str(item["en"]),
                key=str(item["key"]),
                color=str(item["color"]),
                description=str(item.get("description", "")),
            )
            for item in raw_labels["labels"]
        )
        specialties = tuple(
            Specialty(code=str(s["code"]), zh=str(s["zh"]), en=str(s["en"])) for s in raw_form["specialties"]
        )
    except (KeyError, TypeError) as exc:
        raise SchemaError(f"{folder}: missing key {exc} in labels or specialties") from exc
    codes = [label.code for label in labels]
    for what, items in (("label code", codes), ("shortcut key", [lb.key for lb in labels])):
        duplicates = sorted({c for c in items if items.count(c) > 1})
        if duplicates:
            raise SchemaError(f"{folder / 'labels.yaml'}: duplicate {what}s {duplicates}")
    specialty_codes = {s.code for s in specialties}
    if GENERAL not in specialty_codes:
        raise SchemaError(f"{folder / 'form.yaml'}: the '{GENERAL}' specialty is required")
    blocks: dict[str, tuple[FormField, ...]] = {}
    for block, raw_fields in (raw_form.get("blocks") or {}).items():
        if block not in specialty_codes:
            raise SchemaError(f"{folder / 'form.yaml'}: block {block!r} is not a specialty")
        blocks[block] = tuple(
            _parse_field(raw, block, set(codes), f"{folder / 'form.yaml'} blocks.{block}[{i}]")
            for i, raw in enumerate(raw_fields)
        )
    if GENERAL not in blocks:
        raise SchemaError(f"{folder / 'form.yaml'}: the '{GENERAL}' block is required")
    names = [f.name for b in blocks.values() for f in b]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SchemaError(f"{folder / 'form.yaml'}: duplicate field names {duplicates}")
    return Schema(
        version=f"labels-{raw_labels.get('version', 0)}+form-{raw_form.get('version', 0)}",
        tag_scheme=str(raw_labels.get("tag_scheme", "BIO")),
        labels=labels,
        specialties=specialties,
        blocks=blocks,
    )


@lru_cache(maxsize=1)
def default_schema() -> Schema:
    """The shipped schema, loaded once per process."""
    return load_schema()
