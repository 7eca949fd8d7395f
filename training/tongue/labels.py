"""Tongue attributes: the source labels the model learns and their form values (from a data file).

The model is trained on the source data's own classes (TonguExpert's
``labels_zhi``, ``labels_tai``, ``labels_fissure``, ``labels_tooth_mk``),
one head per attribute; ``resources/schema/tongue_labels.yaml`` maps each
source class to the value of the form field of the same name::

    tongue_color: {light: 淡白, regular: 淡红, dark: 暗红/紫暗}
    coat_color:   {white: 白, light_yellow: 黄白相间, yellow: 黄}
    fissure:      {light: 有, severe: 有}
    tooth_marks:  {light: 有, severe: 有}

Fissures and tooth marks are learnt as a grade (light/severe); the form
value is 有 either way and the grade is kept as detail. The data has no
"none" class, so these two heads cannot say 无.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tcm_desktop.domain import TcmError
from tcm_desktop.domain.errors import SchemaError
from tcm_desktop.inference.tongue_fusion import load_tongue_labels


@dataclass(frozen=True)
class TongueAttribute:
    """One head: the form field it fills, the source column it learns from, its classes in head order."""

    name: str  # the form field (tongue_color, coat_color, fissure, tooth_marks)
    column: str  # the column of labels_manual.tsv
    classes: tuple[str, ...]  # source labels, the head's output order
    graded: bool  # True: the classes are grades of a present finding (light/severe)


# The source data's vocabulary (TonguExpert labels_manual.tsv); the form values live in the YAML file.
ATTRIBUTES: tuple[TongueAttribute, ...] = (
    TongueAttribute("tongue_color", "labels_zhi", ("light", "regular", "dark"), graded=False),
    TongueAttribute("coat_color", "labels_tai", ("white", "light_yellow", "yellow"), graded=False),
    TongueAttribute("fissure", "labels_fissure", ("light", "severe"), graded=True),
    TongueAttribute("tooth_marks", "labels_tooth_mk", ("light", "severe"), graded=True),
)


class LabelMapError(TcmError):
    """The tongue label mapping file is missing or does not cover the model's classes."""


def load_label_map(path: Path | None = None) -> dict[str, dict[str, str]]:
    """``attribute -> {source label: form value}`` from the YAML file (default: the shipped one), read
    and checked against the form schema by the runtime's own loader, so training and the app agree."""
    try:
        return load_tongue_labels(path)
    except SchemaError as exc:
        raise LabelMapError(str(exc)) from exc


def check_label_map(mapping: Mapping[str, Mapping[str, str]], attributes: tuple[TongueAttribute, ...]) -> None:
    """Every attribute's every class must have a form value; raise :class:`LabelMapError` naming the gap."""
    for attribute in attributes:
        values = mapping.get(attribute.name)
        if values is None:
            raise LabelMapError(f"the tongue label mapping has no entry for {attribute.name}")
        missing = [c for c in attribute.classes if c not in values]
        if missing:
            raise LabelMapError(f"the tongue label mapping of {attribute.name} lacks {missing}")


def form_values(mapping: Mapping[str, Mapping[str, str]], attribute: TongueAttribute) -> list[str]:
    """The form value of each class of ``attribute``, in head order."""
    return [mapping[attribute.name][c] for c in attribute.classes]
