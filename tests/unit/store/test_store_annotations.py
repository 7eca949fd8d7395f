from __future__ import annotations

import pytest
from store_testkit import GASTRO_TEXT, gastro_record, span, table_counts

from tcm_desktop.domain import FormValue, Prediction, Record, RecordStatus, SetBy, Span
from tcm_desktop.store import Database, InvalidRecordError, RecordNotFoundError, StoreError

TEXT = GASTRO_TEXT


def predicted(db: Database, version: str = "m1") -> Prediction:
    prediction = Prediction(
        record_id="R1",
        model_version=version,
        spans=(
            Span(0, 2, "SYM", "腹泻", 0.98),
            Span(2, 4, "MEASURE", "3天", 0.51),  # wrong label
            span(TEXT, "舌淡红", "TONGUE_BODY"),
            span(TEXT, "脉细", "PULSE"),  # the clinician will remove it
        ),
        form=(
            FormValue("diarrhea_frequency", "每日4~6次", (0,)),
            FormValue("tongue_color", "淡红", (2,)),
        ),
        uncertainty=0.42,
        tongue={"tongue_color": {"淡红": 0.9, "红": 0.1}},
        flags=("text_image_disagree",),
    )
    db.predictions.add(prediction)
    return prediction


@pytest.fixture
def plain(db: Database) -> Database:
    db.records.add(Record("R1", "gastro", TEXT))
    return db


def test_prediction_is_stored_and_moves_new_record_to_predicted(plain: Database) -> None:
    db = plain
    prediction = predicted(db)
    assert db.predictions.latest("R1") == prediction
    assert db.records.get("R1").status is RecordStatus.PREDICTED
    assert db.records.list()[0].uncertainty == pytest.approx(0.42)
    entry = db.audit.entries("R1", limit=1)[0]
    assert (entry.action, entry.model_version, entry.after["uncertainty"]) == ("predict", "m1", 0.42)

    newer = predicted(db, "m2")
    assert db.predictions.latest("R1") == newer
    assert db.predictions.latest("R1", model_version="m1") == prediction
    assert db.predictions.latest("R1", model_version="m9") is None
    assert db.predictions.count("R1") == 2


def test_records_awaiting_a_model_version_are_listed_in_id_order(db: Database) -> None:
    for record_id in ("C", "A", "B", "D"):
        db.records.add(Record(record_id, "general", "咳嗽"))
    db.predictions.add(Prediction("A", "m1", ()))
    db.predictions.add(Prediction("B", "m2", ()))
    db.records.set_status("D", RecordStatus.VERIFIED, "doctor")
    waiting = (RecordStatus.NEW, RecordStatus.PREDICTED)
    assert db.predictions.awaiting("m1", waiting) == ["B", "C"]
    assert db.predictions.awaiting("m2", waiting) == ["A", "C"]
    assert db.predictions.awaiting("m1", (RecordStatus.VERIFIED,)) == ["D"]


def test_review_queue_orders_by_uncertainty(db: Database) -> None:
    for record_id, uncertainty in (("A", 0.1), ("B", None), ("C", 0.9), ("D", 0.5)):
        db.records.add(Record(record_id, "general", "咳嗽"))
        if uncertainty is not None:
            db.predictions.add(Prediction(record_id, "m1", (Span(0, 2, "SYM", "咳嗽", 0.7),), uncertainty=uncertainty))
    assert [s.id for s in db.records.list(order_by="uncertainty")] == ["C", "D", "A", "B"]
    assert [s.id for s in db.records.list(status=RecordStatus.PREDICTED)] == ["A", "C", "D"]


def test_prediction_for_missing_record_or_with_bad_offsets_is_refused(plain: Database) -> None:
    with pytest.raises(RecordNotFoundError):
        plain.predictions.add(Prediction("nope", "m1", ()))
    with pytest.raises(InvalidRecordError, match="does not match"):
        plain.predictions.add(Prediction("R1", "m1", (Span(0, 2, "SYM", "便血"),)))
    assert plain.predictions.count() == 0


def test_save_stores_final_annotation_correction_diff_and_audit(plain: Database) -> None:
    db = plain
    predicted(db)
    final = (
        Span(0, 2, "SYM", "腹泻"),
        Span(2, 4, "TIME", "3天"),
        span(TEXT, "每日5~8次", "FREQUENCY"),
        span(TEXT, "舌淡红", "TONGUE_BODY"),
    )
    form = {"diarrhea_frequency": "每日>6次", "tongue_color": "淡红"}
    audit_id = db.annotations.save("R1", final, form, who="dr.li", form_evidence={"diarrhea_frequency": [0, 2]})

    assert db.annotations.current("R1") == (final, form, {"diarrhea_frequency": (0, 2)})
    stored = db.records.get("R1")
    assert stored.status is RecordStatus.CORRECTED
    assert stored.record.spans == final and stored.record.form == form

    (correction,) = db.annotations.corrections("R1")
    assert correction.audit_id == audit_id
    assert (correction.base, correction.model_version, correction.who) == ("prediction", "m1", "dr.li")
    assert correction.spans_added == (span(TEXT, "每日5~8次", "FREQUENCY"),)
    assert correction.spans_removed == (span(TEXT, "脉细", "PULSE"),)
    assert correction.spans_relabelled == ((Span(2, 4, "MEASURE", "3天"), Span(2, 4, "TIME", "3天")),)
    assert correction.form_changed == {"diarrhea_frequency": ("每日4~6次", "每日>6次")}

    entry = db.audit.entries("R1", limit=1)[0]
    assert (entry.id, entry.action, entry.who, entry.model_version) == (audit_id, "save", "dr.li", "m1")
    assert entry.before is None
    assert entry.after["form"] == form and len(entry.after["spans"]) == 4

    span_owners, form_owners = db.annotations.set_by("R1")
    assert span_owners == (SetBy.MODEL, SetBy.USER, SetBy.USER, SetBy.MODEL)
    assert form_owners == {"diarrhea_frequency": SetBy.USER, "tongue_color": SetBy.MODEL}


def test_second_save_verifies_and_keeps_earlier_owners_and_explicit_set_by(plain: Database) -> None:
    db = plain
    predicted(db)
    first = (Span(0, 2, "SYM", "腹泻"),)
    db.annotations.save("R1", first, {"tongue_color": "淡红"}, who="dr.li")
    db.annotations.save("R1", first, {"tongue_color": "淡红"}, "dr.wang", verify=True)
    assert db.records.get("R1").status is RecordStatus.VERIFIED
    assert db.annotations.set_by("R1") == ((SetBy.MODEL,), {"tongue_color": SetBy.MODEL})
    entry = db.audit.entries("R1", limit=1)[0]
    assert entry.action == "verify" and entry.before["spans"] == [first[0].to_dict()]

    db.annotations.save(
        "R1", first, {"tongue_color": "红"}, "dr.li", set_by={"tongue_color": SetBy.IMPORT, "spans[0]": SetBy.USER}
    )
    assert db.annotations.set_by("R1") == ((SetBy.USER,), {"tongue_color": SetBy.IMPORT})
    assert len(db.annotations.corrections("R1")) == 3
    assert len(db.annotations.corrections()) == 3


def test_save_without_prediction_diffs_against_imported_gold(db: Database) -> None:
    db.records.add(gastro_record("G"))
    spans, form, evidence = db.annotations.current("G")
    db.annotations.save("G", spans[:-1], {**form, "tongue_color": "红"}, "dr", form_evidence=evidence)
    (correction,) = db.annotations.corrections("G")
    assert (correction.base, correction.prediction_id, correction.model_version) == ("annotation", None, None)
    assert correction.spans_removed == (spans[-1],)
    assert correction.form_changed == {"tongue_color": ("淡红", "红")}
    assert db.records.gold("G").spans == spans  # the imported gold never changes


@pytest.mark.parametrize(
    ("spans", "form", "evidence", "message"),
    [
        ((Span(0, 2, "SYM", "腹痛"),), {}, None, "does not match"),
        ((Span(0, 2, "NOPE", "腹泻"),), {}, None, "unknown label"),
        ((Span(0, 3, "SYM", "腹泻3"), Span(2, 4, "TIME", "3天")), {}, None, "overlaps"),
        ((), {"vas_score": 3}, None, "not a field of the gastro form"),
        ((), {"tongue_color": "蓝"}, None, "is not one of"),
        ((), {"tongue_color": "红"}, {"tongue_color": [5]}, "span that does not exist"),
        ((), {}, {"tongue_color": []}, "no value in the form"),
    ],
)
def test_invalid_save_changes_nothing(
    plain: Database, spans: tuple[Span, ...], form: dict, evidence: dict | None, message: str
) -> None:
    db = plain
    predicted(db)
    db.annotations.save("R1", (Span(0, 2, "SYM", "腹泻"),), {"tongue_color": "淡红"}, "dr")
    before = (table_counts(db), db.annotations.current("R1"), db.records.get("R1"))
    with pytest.raises(InvalidRecordError, match=message):
        db.annotations.save("R1", spans, form, "dr", form_evidence=evidence)
    assert (table_counts(db), db.annotations.current("R1"), db.records.get("R1")) == before


def test_failure_in_the_middle_of_save_rolls_everything_back(plain: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    db = plain
    predicted(db)
    before = (table_counts(db), db.annotations.current("R1"), db.records.get("R1").status)

    def broken(*args: object, **kwargs: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(db.audit, "append", broken)  # fails after the annotation rows were written
    with pytest.raises(OSError):
        db.annotations.save("R1", (Span(0, 2, "SYM", "腹泻"),), {}, "dr")
    assert (table_counts(db), db.annotations.current("R1"), db.records.get("R1").status) == before
    assert not db.conn.in_transaction


def test_save_on_missing_record(db: Database) -> None:
    with pytest.raises(RecordNotFoundError):
        db.annotations.save("nope", (), {}, "dr")


def test_a_database_failure_during_save_is_a_store_error_and_leaves_nothing_behind(plain: Database) -> None:
    db = plain
    predicted(db)
    before = (table_counts(db), db.annotations.current("R1"), db.records.get("R1").status)
    # A real SQLite failure half way: the annotation rows and the audit entry are written by then.
    db.conn.execute(
        "CREATE TEMP TRIGGER refuse_corrections BEFORE INSERT ON corrections"
        " BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
    )
    with pytest.raises(StoreError, match="could not save the annotation of R1: disk I/O error"):
        db.annotations.save("R1", (Span(0, 2, "SYM", "腹泻"),), {}, "dr", verify=True)
    assert (table_counts(db), db.annotations.current("R1"), db.records.get("R1").status) == before
    assert not db.conn.in_transaction
