from __future__ import annotations

import pytest

from tcm_desktop.domain import Record, RecordError, Span, default_schema, record_problems, span_problems

TEXT = "腹泻每日5~8次，无发热。舌淡红，苔薄白，脉细。"


def _record(**changes: object) -> dict:
    raw = {
        "id": "R1",
        "specialty": "gastro",
        "text": TEXT,
        "spans": [
            {"start": 0, "end": 2, "label": "SYM", "text": "腹泻"},
            {"start": 2, "end": 8, "label": "FREQUENCY", "text": "每日5~8次"},
            {"start": 9, "end": 10, "label": "NEGATION", "text": "无"},
            {"start": 10, "end": 12, "label": "SYM", "text": "发热"},
            {"start": 13, "end": 16, "label": "TONGUE_BODY", "text": "舌淡红"},
        ],
        "form": {"diarrhea_frequency": "每日>6次", "tongue_color": "淡红"},
        "form_evidence": {"diarrhea_frequency": [0, 1]},
    }
    raw.update(changes)
    return raw


def test_round_trip_through_the_interchange_form() -> None:
    record = Record.from_dict(_record())
    assert Record.from_dict(record.to_dict()) == record
    assert record_problems(record, default_schema()) == []


def test_span_text_may_be_omitted_and_is_filled_from_the_record() -> None:
    record = Record.from_dict(_record(spans=[{"start": 0, "end": 2, "label": "SYM"}]))
    assert record.spans[0].text == "腹泻"


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (["not", "an", "object"], ""),
        ({"text": "x"}, "id"),
        ({"id": "R", "text": 3}, "text"),
        ({"id": "R", "text": "x", "spans": {"start": 0}}, "spans"),
        ({"id": "R", "text": "x", "spans": [{"start": "0", "end": 1, "label": "SYM"}]}, "spans[0]"),
        ({"id": "R", "text": "x", "spans": [{"end": 1, "label": "SYM"}]}, "spans[0]"),
        ({"id": "R", "text": "x", "form": ["a"]}, "form"),
        ({"id": "R\x00", "text": "x"}, "id"),
    ],
)
def test_malformed_records_name_the_bad_part(raw: object, where: str) -> None:
    with pytest.raises(RecordError) as info:
        Record.from_dict(raw)
    assert info.value.where == where


def test_span_problems_find_every_broken_rule() -> None:
    text = "无发热，便血色鲜红"
    spans = [
        Span(0, 1, "NEGATION", "无"),
        Span(1, 4, "SYM", "发热，"),  # ends with punctuation
        Span(2, 3, "SYM", "热"),  # overlaps the previous one
        Span(4, 6, "SYMPTOM", "便血"),  # unknown label
        Span(7, 9, "COLOR", "红红"),  # text does not match
        Span(8, 12, "COLOR", "红"),  # outside the text
    ]
    reasons = [str(p) for p in span_problems(text, spans, default_schema().label_codes)]
    assert any("spans[1]" in r and "punctuation" in r for r in reasons)
    assert any("spans[2]" in r and "overlaps spans[1]" in r for r in reasons)
    assert any("spans[3]" in r and "unknown label" in r for r in reasons)
    assert any("spans[4]" in r and "does not match" in r for r in reasons)
    assert any("spans[5]" in r and "outside the text" in r for r in reasons)
    assert len(reasons) == 5


def test_unit_marks_may_end_a_span_and_foreign_labels_pass_without_a_label_set() -> None:
    text = "体温38.2℃，占比12%"
    spans = [Span(2, 7, "MEASURE", "38.2℃"), Span(10, 13, "MEASURE", "12%")]
    assert span_problems(text, spans, default_schema().label_codes) == []
    assert span_problems("党参", [Span(0, 2, "HER", "党参")], None) == []


def test_record_problems_cover_specialty_form_and_evidence() -> None:
    schema = default_schema()
    bad_specialty = Record.from_dict(_record(specialty="dermatology"))
    assert [p.where for p in record_problems(bad_specialty, schema)] == ["specialty"]
    bad_form = Record.from_dict(_record(form={"diarrhea_frequency": "很多"}, form_evidence={"x": [9]}))
    assert {p.where for p in record_problems(bad_form, schema)} == {"form.diarrhea_frequency", "form_evidence.x"}
