from __future__ import annotations

import json
from pathlib import Path

import pytest
from store_testkit import GASTRO_TEXT, gastro_record, write_image

from tcm_desktop.domain import Record, Span
from tcm_desktop.store import (
    Database,
    DecodeError,
    ImportedRecord,
    ImportIssue,
    StoreError,
    decode_text,
    import_records,
    read_records,
)


def jsonl(path: Path, lines: list[object], encoding: str = "utf-8") -> Path:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines)
    path.write_bytes(text.encode(encoding))
    return path


def where_map(report) -> dict[str, str]:
    return {issue.where: f"{issue.what}: {issue.why}" for issue in report.issues}


# --- encodings ---------------------------------------------------------------


def test_decode_text_tries_bom_utf8_then_gb18030() -> None:
    text = "舌淡红，苔薄白"
    assert decode_text(text.encode("utf-8-sig"), "a") == (text, "utf-8-sig")
    assert decode_text(text.encode("utf-8"), "a") == (text, "utf-8")
    assert decode_text(text.encode("gbk"), "a") == (text, "gb18030")
    assert decode_text(text.encode("gb2312"), "a") == (text, "gb18030")
    assert decode_text("𠀀 rare".encode("gb18030"), "a") == ("𠀀 rare", "gb18030")
    assert decode_text(text.encode("utf-16"), "a") == (text, "utf-16")
    with pytest.raises(DecodeError, match="notes/R3.txt"):
        decode_text(b"\x80\xff\xfe\x00\x81", "notes/R3.txt")


# --- jsonl -------------------------------------------------------------------


def test_jsonl_imports_good_lines_and_reports_each_bad_one(db: Database, tmp_path: Path) -> None:
    good = gastro_record("R1", image="imgs/R1.jpg").to_dict()
    good["extra_key"] = "ignored"
    write_image(tmp_path / "imgs" / "R1.jpg")
    unknown_label = {
        "id": "R2",
        "specialty": "general",
        "text": "腹痛",
        "spans": [{"start": 0, "end": 2, "label": "X"}],
    }
    mismatch = {"id": "R3", "text": "腹痛", "spans": [{"start": 0, "end": 2, "label": "SYM", "text": "便血"}]}
    no_image = {"id": "R4", "text": "便血", "image": "imgs/R4.jpg"}
    bad_form = {"id": "R5", "specialty": "gastro", "text": "腹泻", "form": {"vas_score": 3}}
    path = jsonl(
        tmp_path / "d.jsonl",
        [
            good,
            "{not json",
            unknown_label,
            "",
            mismatch,
            no_image,
            {"text": "no id"},
            good,  # duplicate id
            bad_form,
            {"id": "R6", "text": "咳嗽"},
        ],
    )
    progress: list[tuple[int, int]] = []
    report = import_records(path, db, who="tester", on_progress=lambda d, n: progress.append((d, n)))

    assert (report.imported, report.skipped) == (2, 7)
    issues = where_map(report)
    assert set(issues) == {f"d.jsonl:{n}" for n in (2, 3, 5, 6, 7, 8, 9)}
    assert "not valid JSON" in issues["d.jsonl:2"]
    assert issues["d.jsonl:3"].startswith("R2: spans[0]: unknown label 'X'")
    assert "does not match" in issues["d.jsonl:5"]
    assert issues["d.jsonl:6"].startswith("R4: image R4.jpg not found")
    assert "id" in issues["d.jsonl:7"]
    assert "already exists" in issues["d.jsonl:8"]
    assert "not a field of the gastro form" in issues["d.jsonl:9"]
    assert "d.jsonl:6: R4: image R4.jpg not found" in str(report)
    assert progress[-1] == (9, 9) and len(progress) == 9

    assert db.records.ids() == ["R1", "R6"]
    stored = db.records.get("R1")
    assert stored.record.spans == gastro_record().spans and stored.record.form == gastro_record().form
    assert stored.image_path is not None and stored.image_path.read_bytes() == (tmp_path / "imgs/R1.jpg").read_bytes()
    assert stored.source == "d.jsonl:1"
    assert db.audit.entries("R1")[0].who == "tester"
    assert not db.records.exists("R4")  # nothing half-written for the missing image


def test_jsonl_with_bom_and_gbk_encodings(db: Database, tmp_path: Path) -> None:
    bom = jsonl(tmp_path / "bom.jsonl", [gastro_record("B1").to_dict()], encoding="utf-8-sig")
    gbk = jsonl(tmp_path / "gbk.jsonl", [{"id": "G1", "specialty": "gastro", "text": GASTRO_TEXT}], encoding="gbk")
    assert import_records(bom, db).imported == 1
    report = import_records(gbk, db)
    assert report.imported == 1 and report.notes == ["gbk.jsonl: read as gb18030"]
    assert db.records.get("G1").record.text == GASTRO_TEXT
    assert db.records.get("B1").record.spans == gastro_record().spans


def test_undecodable_file_is_an_issue_not_an_exception(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_bytes(b'{"id": "a", "text": "\x80\xff"}')
    report = import_records(path, db)
    assert (report.imported, report.skipped) == (0, 1)
    assert report.issues[0].where == "junk.jsonl" and "UTF-8" in report.issues[0].why


def test_path_problems_raise_store_error(db: Database, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        import_records(tmp_path / "missing.jsonl", db)
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    with pytest.raises(StoreError, match="cannot import x.xlsx"):
        import_records(tmp_path / "x.xlsx", db)


# --- json --------------------------------------------------------------------


def test_span_json_list_single_object_and_broken(db: Database, tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text(
        json.dumps([gastro_record("J1").to_dict(), {"id": "J2"}, gastro_record("J3").to_dict()], ensure_ascii=False),
        encoding="utf-8",
    )
    report = import_records(tmp_path / "list.json", db)
    assert report.imported == 2 and [i.where for i in report.issues] == ["list.json[1]"]
    (tmp_path / "one.json").write_text(json.dumps({"id": "J4", "text": "发热"}), encoding="utf-8")
    assert import_records(tmp_path / "one.json", db).imported == 1
    (tmp_path / "bad.json").write_text('[\n{"id": "J5",\n', encoding="utf-8")
    report = import_records(tmp_path / "bad.json", db)
    assert report.imported == 0 and report.issues[0].where.startswith("bad.json:")
    assert db.records.ids() == ["J1", "J3", "J4"]


# --- csv ---------------------------------------------------------------------


def test_csv_with_multiline_quotes_optional_columns_and_bad_cells(db: Database, tmp_path: Path) -> None:
    write_image(tmp_path / "c1.png", fmt="png")
    spans = json.dumps([{"start": 0, "end": 2, "label": "SYM", "text": "咳嗽"}], ensure_ascii=False)
    content = (
        "id,text,specialty,image,spans,form\n"
        f'C1,"咳嗽3天，\n咳黄痰，\n""发热""",respiratory,c1.png,"{spans.replace(chr(34), chr(34) * 2)}",'
        '"{""fever"": ""有""}"\n'
        "C2,乏力,,,,\n"
        'C3,腹痛,general,,"[broken",\n'
        "C4,头痛,general,missing.jpg,,\n"
        "\n"
        "C5,眩晕,neurology,,,\n"
    )
    (tmp_path / "notes.csv").write_bytes(content.encode("gb18030"))
    report = import_records(tmp_path / "notes.csv", db)

    assert (report.imported, report.skipped) == (2, 3)
    issues = where_map(report)
    assert set(issues) == {"notes.csv:6", "notes.csv:7", "notes.csv:9"}
    assert issues["notes.csv:6"].startswith("C3 spans: not valid JSON")
    assert "missing.jpg not found" in issues["notes.csv:7"]
    assert "unknown specialty 'neurology'" in issues["notes.csv:9"]
    assert report.notes == ["notes.csv: read as gb18030"]
    c1 = db.records.get("C1")
    assert c1.record.text == '咳嗽3天，\n咳黄痰，\n"发热"'
    assert c1.record.specialty == "respiratory" and c1.record.form == {"fever": "有"}
    assert c1.record.spans == (Span(0, 2, "SYM", "咳嗽"),) and c1.image_path is not None
    assert db.records.get("C2").record == Record("C2", "general", "乏力")


def test_csv_without_required_columns(db: Database, tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("\ufeffname,body\nx,y\n", encoding="utf-8")
    report = import_records(tmp_path / "t.csv", db)
    assert report.imported == 0
    assert str(report.issues[0]) == "t.csv:1: header: missing column(s) id, text"


# --- bio ---------------------------------------------------------------------


def test_bio_files_with_malformed_lines_and_orphan_i_tags(db: Database, tmp_path: Path) -> None:
    lines = [
        "腹 B-SYM",
        "痛 I-SYM",
        "▁ O",
        "3,B-TIME",
        "天,I-TIME",
        "",
        "",
        "舌 I-TONGUE_BODY",  # I- without B- starts a span
        "红 I-TONGUE_BODY",
        "U+3000 O",
        "苔 B-TONGUE_COAT",
        "",
        "便 B-SYM",
        "血",  # malformed: no tag
        "红 X-COLOR",  # malformed tag
        "",
        "咳 B-NOPE",  # unknown label
        "",
    ]
    (tmp_path / "train.bio").write_text("\r\n".join(lines), encoding="utf-8")
    items = list(read_records(tmp_path / "train.bio"))
    assert [type(i) for i in items] == [ImportedRecord, ImportedRecord, ImportIssue, ImportedRecord]
    first, second, bad, _ = items
    assert isinstance(first, ImportedRecord) and isinstance(second, ImportedRecord) and isinstance(bad, ImportIssue)
    assert first.record == Record(
        "train-1", "general", "腹痛 3天", None, (Span(0, 2, "SYM", "腹痛"), Span(3, 5, "TIME", "3天"))
    )
    assert second.record.text == "舌红\u3000苔"
    assert second.record.spans == (Span(0, 2, "TONGUE_BODY", "舌红"), Span(3, 4, "TONGUE_COAT", "苔"))
    assert (bad.where, bad.what) == ("train.bio:14", "train-3")
    assert "malformed line '血'" in bad.why and "1 more" in bad.why

    report = import_records(tmp_path / "train.bio", db)
    assert (report.imported, report.skipped) == (2, 2)
    assert [i.where for i in report.issues] == ["train.bio:14", "train.bio:17"]
    assert "unknown label 'NOPE'" in report.issues[1].why


def test_txt_file_is_read_as_bio_when_it_looks_like_bio(tmp_path: Path) -> None:
    (tmp_path / "tags.txt").write_text("咳 B-SYM\n嗽 I-SYM\n", encoding="utf-8")
    (tmp_path / "note.txt").write_text("咳嗽三天\n", encoding="utf-8")
    (bio,) = read_records(tmp_path / "tags.txt")
    (plain,) = read_records(tmp_path / "note.txt")
    assert isinstance(bio, ImportedRecord) and bio.record.spans == (Span(0, 2, "SYM", "咳嗽"),)
    assert isinstance(plain, ImportedRecord) and plain.record == Record("note", "general", "咳嗽三天")


# --- text folder -------------------------------------------------------------


def test_folder_of_text_files(db: Database, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    (notes / "gastro").mkdir(parents=True)
    (notes / "misc").mkdir()
    (notes / "R1.txt").write_text("咳嗽三天\r\n无发热\r\n", encoding="utf-8")
    write_image(notes / "R1.JPG")
    (notes / "gastro" / "R2.txt").write_bytes("腹泻每日5次".encode("gbk"))
    write_image(notes / "gastro" / "R2.png", fmt="png")
    (notes / "misc" / "R3.txt").write_bytes(b"\x80\xff\x81")
    (notes / "misc" / "R4.txt").write_text("   \n", encoding="utf-8")
    (notes / "misc" / "R5.txt").write_text("头痛", encoding="utf-8-sig")
    (notes / "misc" / "R5.jpg").write_bytes(b"not a picture")

    report = import_records(notes, db)
    assert (report.imported, report.skipped) == (2, 3)
    issues = where_map(report)
    assert set(issues) == {"notes/misc/R3.txt", "notes/misc/R4.txt", "notes/misc/R5.txt"}
    assert "GB18030" in issues["notes/misc/R3.txt"]
    assert "no text" in issues["notes/misc/R4.txt"]
    assert "not a JPEG or PNG" in issues["notes/misc/R5.txt"]
    assert report.notes == ["notes/gastro/R2.txt: read as gb18030"]
    r1, r2 = db.records.get("R1"), db.records.get("R2")
    assert (r1.record.text, r1.record.specialty, r1.record.image) == ("咳嗽三天\n无发热", "general", "R1.JPG")
    assert r1.image_path is not None and r1.image_path.suffix == ".jpg"
    assert (r2.record.text, r2.record.specialty) == ("腹泻每日5次", "gastro")
    assert r2.image_path is not None and r2.image_path.suffix == ".png"
