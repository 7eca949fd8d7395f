from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
from store_testkit import gastro_record, image_files, table_counts, write_image

from tcm_desktop.domain import Record, RecordStatus, Span
from tcm_desktop.store import (
    Database,
    DuplicateRecordError,
    ImageError,
    InvalidRecordError,
    RecordNotFoundError,
    StoreError,
)


def test_add_and_get_round_trips_text_annotation_and_image(db: Database, tmp_path: Path) -> None:
    picture = write_image(tmp_path / "in" / "R0001.jpg")
    record = gastro_record(image="R0001.jpg")
    db.records.add(record, picture, who="nurse")

    stored = db.records.get("R0001")
    assert stored.record == record
    assert stored.status is RecordStatus.NEW
    digest = hashlib.sha256(picture.read_bytes()).hexdigest()
    assert stored.image_sha256 == digest
    assert stored.image_path == db.images_dir / f"{digest}.jpg"
    assert stored.image_path.read_bytes() == picture.read_bytes()
    assert stored.created_at.endswith("+00:00")
    row = db.conn.execute("SELECT image_size, image_width, image_height FROM records").fetchone()
    assert row == (picture.stat().st_size, 32, 24)
    # the imported annotation is the current one and is also kept as gold
    assert db.annotations.current("R0001") == (record.spans, dict(record.form), dict(record.form_evidence))
    assert db.records.gold("R0001") == replace(record, image=None)
    entry = db.audit.entries("R0001")[0]
    assert (entry.action, entry.who, entry.after["image_sha256"]) == ("import", "nurse", digest)


def test_same_picture_for_two_records_is_stored_once(db: Database, tmp_path: Path) -> None:
    picture = write_image(tmp_path / "a.png", fmt="png")
    db.records.add(gastro_record("A"), picture)
    db.records.add(gastro_record("B"), picture)
    assert len(image_files(db)) == 1
    assert db.records.get("A").image_path == db.records.get("B").image_path


def test_record_without_annotation_has_empty_spans_and_no_current(db: Database) -> None:
    db.records.add(Record("N1", "general", "咳嗽三天"))
    stored = db.records.get("N1")
    assert stored.record.spans == () and stored.record.form == {}
    assert stored.image_path is None and stored.image_sha256 is None
    assert db.annotations.current("N1") is None
    assert db.records.gold("N1") is None


def test_duplicate_id_leaves_no_new_file_and_no_rows(db: Database, tmp_path: Path) -> None:
    db.records.add(gastro_record("R1"), write_image(tmp_path / "first.jpg", seed=1))
    before_files, before_rows = image_files(db), table_counts(db)

    with pytest.raises(DuplicateRecordError, match="R1"):
        db.records.add(gastro_record("R1"), write_image(tmp_path / "second.jpg", seed=2))

    assert image_files(db) == before_files
    assert table_counts(db) == before_rows


def test_failure_inside_the_transaction_removes_the_copied_image(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_audit(*args: object, **kwargs: object) -> int:
        raise StoreError("disk on fire")

    monkeypatch.setattr(db.audit, "append", broken_audit)
    with pytest.raises(StoreError, match="disk on fire"):
        db.records.add(gastro_record("R9"), write_image(tmp_path / "x.jpg", seed=9))
    assert image_files(db) == []
    assert not db.records.exists("R9")
    assert sum(table_counts(db).values()) == 0


def test_failure_keeps_an_image_another_record_already_uses(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    picture = write_image(tmp_path / "shared.jpg")
    db.records.add(gastro_record("R1"), picture)
    monkeypatch.setattr(db.audit, "append", lambda *a, **k: (_ for _ in ()).throw(StoreError("no")))
    with pytest.raises(StoreError):
        db.records.add(gastro_record("R2"), picture)
    assert db.records.get("R1").image_path.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"GIF89a....", "not a JPEG or PNG"),
        (b"\x89PNG\r\n\x1a\n", "damaged PNG"),
        (b"\xff\xd8\xff\xe0", "damaged JPEG"),
    ],
)
def test_bad_or_missing_image_is_refused(db: Database, tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(content)
    with pytest.raises(ImageError, match=message):
        db.records.add(gastro_record(), bad)
    with pytest.raises(ImageError, match="not found"):
        db.records.add(gastro_record(), tmp_path / "missing.jpg")
    assert not db.records.exists("R0001") and image_files(db) == []


def test_invalid_record_is_refused_with_every_problem(db: Database) -> None:
    bad = Record("X", "gastro", "腹痛", spans=(Span(0, 2, "NOPE", "腹痛"), Span(0, 1, "SYM", "不")))
    with pytest.raises(InvalidRecordError) as info:
        db.records.add(bad)
    assert "unknown label 'NOPE'" in str(info.value)
    assert "does not match" in str(info.value)
    with pytest.raises(InvalidRecordError, match="unknown specialty"):
        db.records.add(Record("Y", "dermatology", "皮疹"))
    with pytest.raises(InvalidRecordError, match="no text"):
        db.records.add(Record("Z", "general", "  "))
    assert db.records.count() == 0


def test_get_missing_record(db: Database) -> None:
    with pytest.raises(RecordNotFoundError, match="no record R404"):
        db.records.get("R404")


def test_list_search_count_filters_and_pages(db: Database, tmp_path: Path) -> None:
    db.records.add(gastro_record("G1"), write_image(tmp_path / "g1.jpg"))
    db.records.add(Record("G2", "gastro", "大便每日三次"))
    db.records.add(Record("A1", "anorectal", "便血色鲜红"))
    db.records.add(Record("R_50%", "respiratory", "咳嗽，咳黄痰"))
    db.records.set_status("A1", RecordStatus.VERIFIED, who="dr")

    assert [s.id for s in db.records.list()] == ["A1", "G1", "G2", "R_50%"]
    g1 = db.records.list(search="g1")[0]
    assert (g1.specialty, g1.length, g1.has_image, g1.uncertainty) == ("gastro", 23, True, None)
    assert [s.id for s in db.records.list(search="便")] == ["A1", "G2"]
    assert [s.id for s in db.records.list(search="50%")] == ["R_50%"]
    assert db.records.list(search="%") == db.records.list(search="R_50%")  # wildcards are literal
    assert [s.id for s in db.records.list(specialty="gastro")] == ["G1", "G2"]
    assert [s.id for s in db.records.list(status=RecordStatus.VERIFIED)] == ["A1"]
    assert [s.id for s in db.records.list(limit=2, offset=1)] == ["G1", "G2"]
    assert db.records.count() == 4
    assert db.records.count(search="便", status=RecordStatus.NEW) == 1
    assert db.records.ids() == ["G1", "G2", "A1", "R_50%"]  # order added
    assert [s.id for s in db.records.list(order_by="created")] == db.records.ids()
    assert db.records.exists("G2") and not db.records.exists("g2")
    entry = db.audit.entries("A1")[0]
    assert (entry.action, entry.before, entry.after) == ("set_status", {"status": "new"}, {"status": "verified"})
    with pytest.raises(StoreError):
        db.records.list(order_by="colour")


def test_list_and_count_keep_records_at_least_as_uncertain_as_asked(db: Database) -> None:
    from tcm_desktop.domain import Prediction

    for record_id, uncertainty in (("U1", 0.3), ("U2", 0.05), ("U3", None)):
        db.records.add(Record(record_id, "general", "咳嗽三天。"), who="t")
        if uncertainty is not None:
            db.predictions.add(Prediction(record_id, "m1", (), (), uncertainty))
    assert [s.id for s in db.records.list(min_uncertainty=0.1)] == ["U1"]
    assert [s.id for s in db.records.list(min_uncertainty=0.05, order_by="uncertainty")] == ["U1", "U2"]
    assert db.records.count(min_uncertainty=0.1) == 1 and db.records.count() == 3
