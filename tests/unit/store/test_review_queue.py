"""The active-learning queue without Qt: which records wait, in which order, and why."""

from __future__ import annotations

import pytest

from tcm_desktop.domain import Prediction, Record, RecordStatus
from tcm_desktop.store import Database
from tcm_desktop.store.review_queue import (
    DISAGREEMENT_WEIGHT,
    IMAGE_PROBLEM_WEIGHT,
    Disagreement,
    order_queue,
    parse_flags,
    queue_entry,
)

TEXT = "腹痛3天，舌红，苔黄。"
TONGUE_FLAG = "tongue_color: text 红, image 淡红 (0.82)"
COAT_FLAG = "coat_color: text 黄, image 白 (0.60)"


def add(db: Database, record_id: str, uncertainty: float | None = None, flags: tuple[str, ...] = ()) -> None:
    db.records.add(Record(record_id, "general", TEXT))
    if uncertainty is not None:
        db.predictions.add(Prediction(record_id, "tiny@1", (), uncertainty=uncertainty, flags=flags))


def test_flags_give_the_disagreeing_fields_and_photo_problems() -> None:
    disagreements, image_problem = parse_flags([TONGUE_FLAG, "image: no tongue found in the photo", "other"])
    assert disagreements == (Disagreement("tongue_color", "红", "淡红", 0.82),)
    assert image_problem
    assert parse_flags([]) == ((), False)


def test_score_adds_disagreements_weighted_by_the_photos_confidence() -> None:
    plain = queue_entry("A", "general", "predicted", 0.30)
    flagged = queue_entry("B", "general", "predicted", 0.10, [TONGUE_FLAG, COAT_FLAG])
    no_photo = queue_entry("C", "general", "predicted", 0.10, ["image: cannot read the photo"])
    assert plain.score == pytest.approx(0.30)
    assert flagged.score == pytest.approx(0.10 + DISAGREEMENT_WEIGHT * (0.82 + 0.60))
    assert no_photo.score == pytest.approx(0.10 + IMAGE_PROBLEM_WEIGHT)
    never = queue_entry("D", "general", "new", None)
    assert [e.record_id for e in order_queue([never, plain, no_photo, flagged])] == ["B", "A", "C", "D"]


def test_queue_holds_unreviewed_records_most_uncertain_first_never_predicted_last(db: Database) -> None:
    add(db, "R1", 0.05)
    add(db, "R2", 0.31)
    add(db, "R3", 0.10, (TONGUE_FLAG,))  # 0.10 + 0.41: the photo contradicts the text
    add(db, "R4")  # never predicted
    add(db, "R5", 0.90)
    db.annotations.save("R5", (), {}, who="dr", verify=True)  # reviewed: leaves the queue
    add(db, "R6", 0.20)
    db.predictions.add(Prediction("R6", "tiny@2", (), uncertainty=0.01))  # only the latest prediction counts

    entries = db.review_queue.entries()
    assert [e.record_id for e in entries] == ["R3", "R2", "R1", "R6", "R4"]
    by_id = {e.record_id: e for e in entries}
    assert by_id["R3"].disagreements[0].field == "tongue_color" and by_id["R3"].uncertainty == pytest.approx(0.10)
    assert by_id["R2"].disagreements == () and not by_id["R2"].image_problem
    assert by_id["R6"].model_version == "tiny@2" and by_id["R6"].uncertainty == pytest.approx(0.01)
    assert not by_id["R4"].predicted and by_id["R4"].status is RecordStatus.NEW
    assert [e.record_id for e in db.review_queue.entries(limit=2)] == ["R3", "R2"]


def test_gold_set_records_never_wait_in_the_queue(db: Database) -> None:
    for i in range(3):
        add(db, f"G{i}", 0.5)
        db.annotations.save(f"G{i}", (), {}, who="dr", verify=True)
    add(db, "Q1", 0.2)
    db.gold_set.freeze("lead")
    assert [e.record_id for e in db.review_queue.entries()] == ["Q1"]
