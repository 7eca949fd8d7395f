"""The draft annotation and its model, without Qt: edits return new snapshots or say what is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcm_desktop.domain import DraftAnnotation, DraftModel, EditError, Record, Span, default_schema, span_problems
from tcm_desktop.domain.draft import span_key

TEXT = "腹泻每日5~8次，伴黏液脓血便。舌淡红，苔薄白，脉细。"


def at(piece: str, label: str, text: str = TEXT) -> Span:
    start = text.index(piece)
    return Span(start, start + len(piece), label, piece)


def gastro(**changes: object) -> DraftAnnotation:
    record = Record(
        "R1",
        "gastro",
        TEXT,
        # deliberately out of order: the draft sorts them
        spans=(at("舌淡红", "TONGUE_BODY"), at("腹泻", "SYM"), at("每日5~8次", "FREQUENCY")),
        form={"diarrhea_frequency": "每日>6次", "tongue_color": "淡红"},
        form_evidence={"diarrhea_frequency": (1, 2), "tongue_color": (0,)},
    )
    return DraftAnnotation.from_record(record)


def test_from_record_sorts_spans_and_keeps_evidence_by_span() -> None:
    draft = gastro()
    assert [s.text for s in draft.spans] == ["腹泻", "每日5~8次", "舌淡红"]
    assert draft.evidence_spans("diarrhea_frequency") == (at("腹泻", "SYM"), at("每日5~8次", "FREQUENCY"))
    assert draft.form_evidence() == {"diarrhea_frequency": (0, 1), "tongue_color": (2,)}
    assert draft.fields_citing(span_key(at("舌淡红", "TONGUE_BODY"))) == ("tongue_color",)
    assert draft.value("coat_color") == "未提及"  # absent reads as the empty value
    record = draft.to_record()
    assert record.spans == draft.spans and record.form == {"diarrhea_frequency": "每日>6次", "tongue_color": "淡红"}


def test_add_span_returns_a_new_draft_and_leaves_the_old_one_alone() -> None:
    draft = gastro()
    added = draft.add_span(*span_key(at("黏液脓血便", "SYM")), "SYM")
    assert at("黏液脓血便", "SYM") in added.spans and len(added.spans) == 4
    assert len(draft.spans) == 3  # the snapshot it was called on is unchanged
    assert added.form_evidence() == {"diarrhea_frequency": (0, 1), "tongue_color": (3,)}  # indices follow


def test_add_span_trims_whitespace_and_punctuation_at_the_edges() -> None:
    draft = gastro()
    start = TEXT.index("，伴")
    added = draft.add_span(start, start + 2, "SYM")  # "，伴" -> "伴"
    assert Span(start + 1, start + 2, "SYM", "伴") in added.spans
    with pytest.raises(EditError, match="only whitespace or punctuation"):
        draft.add_span(start, start + 1, "SYM")


@pytest.mark.parametrize(
    ("start", "end", "label", "message"),
    [
        (0, 0, "SYM", "select the words"),
        (-1, 2, "SYM", "outside the text"),
        (0, len(TEXT) + 1, "SYM", "outside the text"),
        (0, 3, "SYM", "overlaps the 症状 span '腹泻'"),
        (1, 2, "SYM", "overlaps"),
        (TEXT.index("伴"), TEXT.index("伴") + 1, "NOPE", "unknown category 'NOPE'"),
    ],
)
def test_add_span_refuses_what_breaks_the_rules(start: int, end: int, label: str, message: str) -> None:
    with pytest.raises(EditError, match=message):
        gastro().add_span(start, end, label)


def test_relabel_keeps_offsets_and_evidence() -> None:
    draft = gastro()
    key = span_key(at("腹泻", "SYM"))
    relabelled = draft.relabel_span(key, "SIGN")
    assert relabelled.span(key).label == "SIGN"
    assert relabelled.fields_citing(key) == ("diarrhea_frequency",)
    assert draft.relabel_span(key, "SYM") is draft  # same label: nothing to do
    with pytest.raises(EditError, match="no span at 5..7"):
        draft.relabel_span((5, 7), "SYM")
    with pytest.raises(EditError, match="unknown category"):
        draft.relabel_span(key, "NOPE")


def test_delete_drops_the_span_from_every_fields_evidence() -> None:
    draft = gastro()
    deleted = draft.delete_span(span_key(at("舌淡红", "TONGUE_BODY")))
    assert [s.text for s in deleted.spans] == ["腹泻", "每日5~8次"]
    assert deleted.form_evidence() == {"diarrhea_frequency": (0, 1)}
    assert deleted.evidence_spans("tongue_color") == ()
    again = deleted.delete_span(span_key(at("腹泻", "SYM")))
    assert again.form_evidence() == {"diarrhea_frequency": (0,)}  # index of 每日5~8次 moved down


def test_set_form_value_checks_the_fields_type() -> None:
    draft = gastro()
    changed = draft.set_form_value("mucus_pus_blood_stool", "有")
    assert changed.form["mucus_pus_blood_stool"] == "有" and "mucus_pus_blood_stool" not in draft.form
    assert draft.set_form_value("tongue_color", "淡红") is draft  # the value it has
    assert draft.set_form_value("coat_color", "未提及") is draft  # absent already reads 未提及
    with pytest.raises(EditError, match="舌色: '蓝' is not one of"):
        draft.set_form_value("tongue_color", "蓝")
    with pytest.raises(EditError, match="has no field 'vas_score'"):
        draft.set_form_value("vas_score", 3)
    ortho = DraftAnnotation.from_record(Record("O", "orthopedics", "VAS评分6分"))
    assert ortho.set_form_value("vas_score", 7).value("vas_score") == 7
    with pytest.raises(EditError, match="above the maximum"):
        ortho.set_form_value("vas_score", 11)
    with pytest.raises(EditError, match="more than 1 decimal"):
        ortho.set_form_value("healthy_wrist_circumference_cm", 18.25)


def test_problems_lists_what_an_imported_or_predicted_annotation_breaks() -> None:
    bad = DraftAnnotation.from_record(Record("B", "gastro", "腹泻，", spans=(Span(0, 3, "SYM", "腹泻，"),)))
    assert any("punctuation" in p for p in bad.problems())
    assert gastro().problems() == []


def test_offsets_are_code_points() -> None:
    text = "𫫇𫫇腹痛"
    draft = DraftAnnotation.from_record(Record("U", "general", text))
    added = draft.add_span(2, 4, "SYM")
    assert added.spans == (Span(2, 4, "SYM", "腹痛"),)


class Seen:
    def __init__(self, model: DraftModel) -> None:
        self.loaded: list[object] = []
        self.changed: list[object] = []
        self.dirty: list[bool] = []
        model.events.loaded.connect(self.loaded.append)
        model.events.changed.connect(self.changed.append)
        model.events.dirty_changed.connect(self.dirty.append)


def test_model_tells_observers_and_knows_when_the_draft_is_dirty() -> None:
    model, draft = DraftModel(), gastro()
    seen = Seen(model)
    model.load(draft)
    assert seen.loaded == [draft] and not model.is_dirty
    edited = draft.delete_span(span_key(at("腹泻", "SYM")))
    model.set_draft(edited)
    assert seen.changed == [edited] and model.is_dirty and seen.dirty == [True]
    model.set_draft(draft)  # what undo does: back to the loaded snapshot
    assert not model.is_dirty and seen.dirty == [True, False]
    model.set_draft(edited)
    model.mark_saved()
    assert not model.is_dirty and model.saved is edited and seen.dirty == [True, False, True, False]
    model.set_draft(draft)
    model.revert()
    assert model.draft is edited and not model.is_dirty
    with pytest.raises(ValueError, match="not the one being edited"):
        model.set_draft(DraftAnnotation.from_record(Record("other", "gastro", TEXT)))
    model.load(None)
    assert model.draft is None and seen.loaded[-1] is None


@st.composite
def edits(draw: st.DrawFn) -> list[tuple[str, int, int, str]]:
    labels = st.sampled_from(default_schema().label_codes)
    ops = st.tuples(
        st.sampled_from(["add", "relabel", "delete"]),
        st.integers(-2, len(TEXT) + 2),
        st.integers(-2, len(TEXT) + 2),
        labels,
    )
    return draw(st.lists(ops, max_size=30))


@settings(max_examples=150, deadline=None)
@given(edits())
def test_any_sequence_of_edits_keeps_the_annotation_valid(ops: list[tuple[str, int, int, str]]) -> None:
    draft = gastro()
    for op, a, b, label in ops:
        try:
            if op == "add":
                draft = draft.add_span(a, b, label)
            elif draft.spans:
                key = span_key(draft.spans[a % len(draft.spans)])
                draft = draft.relabel_span(key, label) if op == "relabel" else draft.delete_span(key)
        except EditError:
            pass  # refused edits leave the draft as it was
        assert span_problems(draft.text, draft.spans, draft.schema.label_codes) == []
        evidence = draft.form_evidence()
        assert all(0 <= i < len(draft.spans) for indices in evidence.values() for i in indices)
        assert draft.problems() == []
