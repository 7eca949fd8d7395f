"""Tongue attributes from the photo merged into the text's form, and the photo labels as form values.

The text wins where both speak (the clinician looked at the patient); the
photo fills what the text left unsaid; a confident photo that disagrees with
the text raises a flag for review. ``resources/schema/tongue_labels.yaml``
maps the labels of the tongue photo data to form values, so the image model's
training and the form share one mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from tcm_desktop.domain.errors import SchemaError
from tcm_desktop.domain.records import FormValue, SetBy
from tcm_desktop.domain.schema import NOT_MENTIONED, Schema, default_schema
from tcm_desktop.resources import resource_path

TONGUE_LABELS_FILE = "tongue_labels.yaml"


def load_tongue_labels(path: Path | None = None, schema: Schema | None = None) -> dict[str, dict[str, str]]:
    """Form field -> {image label: form value}; every field and value must exist in the schema."""
    path = path or resource_path("schema", TONGUE_LABELS_FILE)
    schema = schema or default_schema()
    try:
        with path.open(encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except OSError as exc:
        raise SchemaError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SchemaError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise SchemaError(f"{path}: expected form field -> {{image label: form value}}")
    out: dict[str, dict[str, str]] = {}
    for name, labels in raw.items():
        try:
            form_field = schema.field(str(name))
        except KeyError as exc:
            raise SchemaError(f"{path}: {name!r} is not a form field") from exc
        if not isinstance(labels, Mapping) or not labels:
            raise SchemaError(f"{path}: {name} needs a mapping of image labels to form values")
        for label, value in labels.items():
            if str(value) not in form_field.values:
                raise SchemaError(f"{path}: {name}.{label} -> {value!r} is not one of {', '.join(form_field.values)}")
        out[str(name)] = {str(label): str(value) for label, value in labels.items()}
    return out


def _top(probabilities: Mapping[str, float]) -> tuple[str, float] | None:
    if not probabilities:
        return None
    value = max(probabilities, key=lambda k: probabilities[k])
    return value, float(probabilities[value])


def merge_tongue_attributes(
    form: Sequence[FormValue], tongue: Mapping[str, Mapping[str, float]], min_probability: float = 0.5
) -> tuple[tuple[FormValue, ...], tuple[str, ...]]:
    """The form with the photo's confident tongue values added, and a flag per disagreement.

    ``tongue`` maps a form field (tongue_color, coat_color, fissure,
    tooth_marks) to {form value: probability}. A field the text left at
    未提及 takes the photo's top value when its probability is at least
    ``min_probability`` (set by the model, no evidence spans). Where the text
    says something else than a confident photo, the text stays and a flag
    like "tongue_color: text 红, image 淡红 (0.82)" is returned.
    """
    schema = default_schema()
    merged: list[FormValue] = []
    flags: list[str] = []
    for value in form:
        top = _top(tongue.get(value.field, {}))
        if top is None or top[1] < min_probability or not _allowed(schema, value.field, top[0]):
            merged.append(value)
            continue
        image_value, probability = top
        if value.value == NOT_MENTIONED:
            merged.append(FormValue(value.field, image_value, (), SetBy.MODEL))
            continue
        if value.value != image_value:
            flags.append(f"{value.field}: text {value.value}, image {image_value} ({probability:.2f})")
        merged.append(value)
    return tuple(merged), tuple(flags)


def _allowed(schema: Schema, name: str, value: str) -> bool:
    """Whether the schema allows ``value`` for ``name`` (a field it does not know takes anything)."""
    try:
        form_field = schema.field(name)
    except KeyError:
        return True
    return not form_field.values or value in form_field.values
