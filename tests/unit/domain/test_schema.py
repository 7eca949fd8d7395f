from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tcm_desktop.domain import NOT_MENTIONED, FieldType, SchemaError, default_schema, load_schema
from tcm_desktop.resources import resource_path


def test_shipped_schema_has_the_23_categories_and_five_specialties() -> None:
    schema = default_schema()
    assert len(schema.labels) == 23
    assert schema.label_codes[:3] == ("SYM", "SIGN", "TONGUE_BODY")
    assert set(schema.specialty_codes) == {"general", "anorectal", "orthopedics", "respiratory", "gastro"}
    assert len({lb.key for lb in schema.labels}) == 23


def test_form_is_general_block_then_specialty_block() -> None:
    schema = default_schema()
    names = [f.name for f in schema.fields_for("orthopedics")]
    assert names[0] == "chief_complaint"
    assert names[-2:] == ["vas_score", "healthy_wrist_circumference_cm"]
    assert [f.name for f in schema.fields_for("general")] == [f.name for f in schema.blocks["general"]]


def test_empty_form_uses_not_mentioned_and_nulls() -> None:
    form = default_schema().empty_form("gastro")
    assert form["tongue_color"] == NOT_MENTIONED
    assert form["diarrhea_frequency"] == NOT_MENTIONED
    assert form["herbs"] == [] and form["chief_complaint"] == ""
    assert default_schema().empty_form("orthopedics")["vas_score"] is None


@pytest.mark.parametrize(
    ("specialty", "field", "value", "reason_part"),
    [
        ("gastro", "diarrhea_frequency", "每日8次", "not one of"),
        ("orthopedics", "vas_score", 11, "above the maximum"),
        ("orthopedics", "vas_score", 4.5, "whole number"),
        ("orthopedics", "healthy_wrist_circumference_cm", 16.25, "decimal"),
        ("general", "herbs", [{"herb": ""}], "non-empty 'herb'"),
        ("general", "syndromes", "湿热", "list"),
        ("general", "vas_score", 3, "not a field of the general form"),
    ],
)
def test_form_problems_name_the_field_and_reason(specialty: str, field: str, value: object, reason_part: str) -> None:
    problems = default_schema().form_problems(specialty, {field: value})
    assert len(problems) == 1
    assert problems[0][0] == field and reason_part in problems[0][1]


def test_valid_values_pass() -> None:
    schema = default_schema()
    form = {
        "vas_score": 4,
        "healthy_wrist_circumference_cm": 16.5,
        "herbs": [{"herb": "党参", "dose": "15g"}, {"herb": "甘草", "dose": None}],
        "fissure": "有",
    }
    assert schema.form_problems("orthopedics", form) == []
    assert schema.field("fissure").type is FieldType.TERNARY


def _copy_schema(tmp_path: Path) -> Path:
    folder = tmp_path / "schema"
    shutil.copytree(resource_path("schema"), folder)
    return folder


def test_duplicate_shortcut_is_refused(tmp_path: Path) -> None:
    folder = _copy_schema(tmp_path)
    labels = folder / "labels.yaml"
    labels.write_text(labels.read_text(encoding="utf-8").replace("key: G,", "key: S,"), encoding="utf-8")
    with pytest.raises(SchemaError, match="duplicate shortcut keys"):
        load_schema(folder)


def test_field_naming_an_unknown_label_is_refused(tmp_path: Path) -> None:
    folder = _copy_schema(tmp_path)
    form = folder / "form.yaml"
    form.write_text(form.read_text(encoding="utf-8").replace("from_labels: [PULSE]", "from_labels: [PULS]"), "utf-8")
    with pytest.raises(SchemaError, match="unknown labels"):
        load_schema(folder)


def test_missing_file_and_bad_yaml_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="cannot read schema file"):
        load_schema(tmp_path)
    folder = _copy_schema(tmp_path)
    (folder / "form.yaml").write_text("blocks: [unclosed", encoding="utf-8")
    with pytest.raises(SchemaError, match="not valid YAML"):
        load_schema(folder)
