from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from store_testkit import gastro_record, write_image

from tcm_desktop.domain import Record, Span, default_schema
from tcm_desktop.store import Database, StoreError, export_records, import_records, read_records

FORMATS = ["jsonl", "json", "csv", "bio"]


def content(db: Database, with_forms: bool = True) -> dict[str, tuple]:
    out = {}
    for record_id in db.records.ids():
        stored = db.records.get(record_id)
        r = stored.record
        form = (dict(r.form), dict(r.form_evidence)) if with_forms else None
        out[record_id] = (r.specialty, r.text, r.spans, form, stored.image_sha256 if with_forms else None)
    return out


@pytest.fixture
def filled(db: Database, tmp_path: Path) -> Database:
    db.records.add(gastro_record("R1", image="R1.jpg"), write_image(tmp_path / "src" / "R1.jpg"))
    db.records.add(gastro_record("R/2 x", form={}, form_evidence={}))
    db.records.add(Record("R3", "respiratory", "咳嗽 三天\n\t咳黄痰\u3000▁,O", None, (Span(0, 2, "SYM", "咳嗽"),)))
    db.records.add(Record("R4", "orthopedics", "腕痛", form={"vas_score": 7, "healthy_wrist_circumference_cm": 18.5}))
    db.records.add(Record("R5", "general", "失眠", image=None), write_image(tmp_path / "src" / "R5.png", fmt="png"))
    return db


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_then_import_gives_the_same_records(filled: Database, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "out" / f"export.{fmt}"
    assert export_records(filled, fmt, out) == 5
    with Database.open(tmp_path / "copy.db") as copy:
        report = import_records(out, copy)
        assert report.issues == [] and report.imported == 5
        with_forms = fmt != "bio"  # BIO carries text, spans, ids and specialties only
        assert content(copy, with_forms) == content(filled, with_forms)
        assert copy.records.ids() == filled.records.ids()  # same order
    assert not list(out.parent.glob(".*tmp"))


def test_import_jsonl_then_export_jsonl_gives_back_the_input(db: Database, tmp_path: Path) -> None:
    write_image(tmp_path / "R2.jpg")
    given = [
        gastro_record("R2", image="R2.jpg").to_dict(),
        {"id": "R1", "specialty": "respiratory", "text": "咳嗽，无发热", "spans": [], "form": {"fever": "无"}},
        {"id": "R0", "specialty": "general", "text": "失眠多梦", "spans": [{"start": 0, "end": 2, "label": "SYM"}]},
    ]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in given), encoding="utf-8")
    assert import_records(tmp_path / "d.jsonl", db).imported == 3
    assert export_records(db, "jsonl", tmp_path / "out" / "e.jsonl") == 3
    back = [json.loads(line) for line in (tmp_path / "out" / "e.jsonl").read_text(encoding="utf-8").splitlines()]
    keys = ("id", "specialty", "text", "form", "form_evidence")
    assert [{k: r.get(k) for k in keys} for r in back] == [{k: r.get(k) for k in keys} for r in given]
    assert [r["spans"] for r in back] == [
        given[0]["spans"],
        [],
        [{"start": 0, "end": 2, "label": "SYM", "text": "失眠"}],  # text filled in from the record
    ]
    assert (tmp_path / "out" / back[0]["image"]).read_bytes() == (tmp_path / "R2.jpg").read_bytes()


def test_jsonl_export_is_interchange_with_relative_images(filled: Database, tmp_path: Path) -> None:
    out = tmp_path / "e.jsonl"
    export_records(filled, "jsonl", out, ids=["R1", "R/2 x"])
    first, second = (json.loads(line) for line in out.read_text(encoding="utf-8").splitlines())
    assert first["image"] == "e_images/R1.jpg"
    assert (tmp_path / first["image"]).read_bytes() == (tmp_path / "src" / "R1.jpg").read_bytes()
    assert first["form"] == gastro_record().form and first["form_evidence"]["tongue_color"] == [3]
    assert second["id"] == "R/2 x" and "image" not in second and "form" not in second


def test_csv_export_has_documented_columns_and_bom(filled: Database, tmp_path: Path) -> None:
    out = tmp_path / "e.csv"
    export_records(filled, "csv", out, ids=["R4"])
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw.decode("utf-8-sig").splitlines()[0]
    assert header == "id,specialty,text,image,spans,form,form_evidence"


def test_bio_export_uses_placeholders_and_meta_lines(filled: Database, tmp_path: Path) -> None:
    out = tmp_path / "e.bio"
    export_records(filled, "bio", out, ids=["R3"])
    lines = out.read_text(encoding="utf-8").split("\n")
    assert lines[0] == '# {"id": "R3", "specialty": "respiratory"}'
    assert lines[1:4] == ["咳 B-SYM", "嗽 I-SYM", "▁ O"]
    assert "U+000A O" in lines and "U+0009 O" in lines and "U+3000 O" in lines and "U+2581 O" in lines
    assert ", O" in lines


def test_form_is_stored_as_given_and_round_trips_unchanged(db: Database, tmp_path: Path) -> None:
    # the store never completes forms, so a partial form comes back partial
    partial = {"id": "P1", "specialty": "gastro", "text": "腹泻", "form": {"herbs": []}}
    complete = {"id": "P2", "specialty": "gastro", "text": "腹泻", "form": default_schema().empty_form("gastro")}
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in (partial, complete)), encoding="utf-8")
    assert import_records(src, db).imported == 2
    export_records(db, "jsonl", tmp_path / "out.jsonl")
    back = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [b["form"] for b in back] == [partial["form"], complete["form"]]
    assert list(back[1]["form"]) == list(complete["form"])  # field order kept too


def test_export_errors_leave_no_file(filled: Database, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unknown export format"):
        export_records(filled, "xlsx", tmp_path / "x.xlsx")
    with pytest.raises(StoreError, match="no record nope"):
        export_records(filled, "jsonl", tmp_path / "x.jsonl", ids=["R1", "nope"])
    filled.records.get("R1").image_path.unlink()
    with pytest.raises(StoreError, match="image of record R1 is missing"):
        export_records(filled, "jsonl", tmp_path / "x.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["clinic.db", "clinic.db-shm", "clinic.db-wal"]


# --- property: random records with random valid spans round-trip --------------

LABELS = default_schema().label_codes
CHARS = st.sampled_from(
    list("腹泻舌淡红苔薄白脉细咳嗽痰黄发热3天5~8次ab") + [" ", "\n", "\t", "\u3000", "▁", ",", "，", "#"]
)


@st.composite
def records(draw: st.DrawFn) -> Record:
    text = draw(st.text(CHARS, min_size=1, max_size=40).filter(lambda t: t.strip()))
    spans: list[Span] = []
    pos = 0
    while pos < len(text):
        pos += draw(st.integers(0, 4))
        length = draw(st.integers(1, 5))
        if pos + length > len(text):
            break
        piece = text[pos : pos + length]
        if piece == piece.strip(" \n\t\u3000,，#▁") and draw(st.booleans()):
            spans.append(Span(pos, pos + length, draw(st.sampled_from(LABELS)), piece))
        pos += length
    specialty = draw(st.sampled_from(default_schema().specialty_codes))
    return Record(
        draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,8}", fullmatch=True)), specialty, text, None, tuple(spans)
    )


@settings(max_examples=40, deadline=None)
@given(record=records(), fmt=st.sampled_from(["jsonl", "bio"]))
def test_random_records_round_trip(record: Record, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with Database.open(folder / "a.db") as db:
            db.records.add(record)
            out = folder / f"out.{fmt}"
            export_records(db, fmt, out)
        (back,) = read_records(out)
    assert back.record == record
