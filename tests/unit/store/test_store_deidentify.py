"""De-identification: names, ID-card numbers, phones and addresses masked; clinical text and offsets kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcm_desktop.cli import EXIT_OK, main
from tcm_desktop.domain import Record, Span, default_schema, record_problems
from tcm_desktop.store import Database, export_records, import_records
from tcm_desktop.store.deidentify import (
    ADDRESS,
    ID_NUMBER,
    MASKS,
    NAME,
    PHONE,
    deidentify_record,
    find_pii,
    id_checksum_ok,
    mask_text,
)

NOTE = "患者张三，男，45岁，身份证号110101199003074514，电话13812345678，住址：北京市朝阳区幸福路12号3单元401室。腹泻3天，舌淡红，苔薄白，脉细。"  # noqa: E501


def found(text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("姓名：李小明 性别：男", [(NAME, "李小明")]),
        ("患者张三，男，45岁。", [(NAME, "张三")]),
        ("欧阳娜娜，女，32岁，咳嗽", [(NAME, "欧阳娜娜")]),
        ("王某某，女，62岁。主诉：胃脘胀痛。", [(NAME, "王某某")]),
        ("随访：李某诉症状减轻", [(NAME, "李某")]),
        ("请王先生明日复诊", [(NAME, "王先生")]),
        ("家属：陈红（女儿）", [(NAME, "陈红")]),
    ],
)
def test_names(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("身份证110101199003074514。", [(ID_NUMBER, "110101199003074514")]),
        ("ID 11010119900307451X ok", [(ID_NUMBER, "11010119900307451X")]),  # a mistyped check digit still identifies
        ("旧证号 110101900307451", [(ID_NUMBER, "110101900307451")]),
        ("手机13812345678", [(PHONE, "13812345678")]),
        ("电话 +86 138-1234-5678", [(PHONE, "+86 138-1234-5678")]),
        ("座机010-87654321转", [(PHONE, "010-87654321")]),
        ("(0571)88886666", [(PHONE, "(0571)88886666")]),
        ("联系电话：6123 4567", [(PHONE, "6123 4567")]),
    ],
)
def test_id_numbers_and_phones(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


def test_the_id_check_character() -> None:
    assert id_checksum_ok("110101199003074514")
    assert not id_checksum_ok("110101199003074515")
    assert not id_checksum_ok("11010119900307451")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("住址：北京市朝阳区幸福路12号3单元401室，", [(ADDRESS, "北京市朝阳区幸福路12号3单元401室")]),
        ("家住杭州市西湖区文三路88号，腹泻", [(ADDRESS, "杭州市西湖区文三路88号")]),
        ("来自上海市浦东新区，", [(ADDRESS, "上海市浦东新区")]),
        ("住在苏州市姑苏区，", [(ADDRESS, "苏州市姑苏区")]),
        ("现居幸福路12号2栋", [(ADDRESS, "幸福路12号2栋")]),
        ("广东省广州市天河区体育西路", [(ADDRESS, "广东省广州市天河区体育西路")]),
    ],
)
def test_addresses(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "患者高热，伴咳嗽，咳黄痰，舌红苔黄腻，脉滑数。",
        "患者周身乏力，男性多见。",
        "腹泻3天，每日5~8次，血压130/80mmHg，体温38.5℃，心率88次/分。",
        "予党参15g，黄芪30g，白术10g，柴胡6g，宁夏枸杞15g，连翘10g。",
        "曾于某医院就诊，诊断为溃疡性结肠炎，白苔，心前区不适。",
        "跌倒致右腕关节肿痛2小时，VAS评分6分，WBC 12.3×10^9/L。",
        "2023年10月12日复查，住院号20231012，随访3个月。",
    ],
)
def test_clinical_text_is_left_alone(text: str) -> None:
    assert find_pii(text) == [] and mask_text(text) == text


def test_masking_keeps_length_so_span_offsets_stay_valid() -> None:
    start = NOTE.index("腹泻")
    spans = (Span(start, start + 2, "SYM", "腹泻"), Span(2, 4, "SYM", "张三"))  # the second sits on the name
    record = Record("R1", "gastro", NOTE, spans=spans, form={"chief_complaint": "张三，男，45岁，腹泻3天"})
    masked = deidentify_record(record)
    assert len(masked.text) == len(NOTE)
    for kind, piece in (("NAME", "张三"), ("ID", "110101199003074514"), ("PHONE", "13812345678"), ("", "幸福路")):
        assert piece not in masked.text, kind
    assert masked.text.count(MASKS[ID_NUMBER]) == 18 + 11  # the ID number and the phone
    assert [(s.start, s.end, s.text) for s in masked.spans] == [(start, start + 2, "腹泻"), (2, 4, "某某")]
    assert masked.form["chief_complaint"] == "某某，男，45岁，腹泻3天"
    assert record_problems(masked, default_schema()) == []
    assert masked.text.endswith("腹泻3天，舌淡红，苔薄白，脉细。")


def test_exports_are_deidentified_unless_turned_off(tmp_path: Path) -> None:
    with Database.open(tmp_path / "c.db") as db:
        start = NOTE.index("腹泻")
        db.records.add(Record("R1", "gastro", NOTE, spans=(Span(start, start + 2, "SYM", "腹泻"),)), who="t")
        assert export_records(db, "jsonl", tmp_path / "masked.jsonl") == 1
        assert export_records(db, "csv", tmp_path / "masked.csv") == 1
        assert export_records(db, "bio", tmp_path / "masked.bio") == 1
        export_records(db, "jsonl", tmp_path / "plain.jsonl", deidentify=False)
        assert db.records.get("R1").record.text == NOTE  # the database keeps what it had
    for name in ("masked.jsonl", "masked.csv", "masked.bio"):
        content = (tmp_path / name).read_text(encoding="utf-8-sig").replace("\n", "")
        assert "13812345678" not in content and "110101199003074514" not in content, name
        assert "张三" not in content and "幸福路" not in content, name
    (row,) = [json.loads(line) for line in (tmp_path / "masked.jsonl").read_text(encoding="utf-8").splitlines()]
    assert row["spans"] == [{"start": start, "end": start + 2, "label": "SYM", "text": "腹泻"}]
    assert json.loads((tmp_path / "plain.jsonl").read_text(encoding="utf-8"))["text"] == NOTE


def test_import_can_deidentify_before_anything_is_stored(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "R1", "specialty": "gastro", "text": NOTE}, ensure_ascii=False) + "\n")
    with Database.open(tmp_path / "c.db") as db:
        report = import_records(source, db, deidentify=True)
        assert report.imported == 1
        stored = db.records.get("R1").record.text
        assert stored == mask_text(NOTE) and "13812345678" not in stored
        audit = json.dumps([e.after for e in db.audit.entries()], ensure_ascii=False)
        assert "13812345678" not in audit and "张三" not in audit


def test_cli_export_and_import_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "R1", "specialty": "gastro", "text": NOTE}, ensure_ascii=False) + "\n")
    db = tmp_path / "c.db"
    assert main(["import", str(source), "--db", str(db)]) == EXIT_OK
    assert main(["export", "--db", str(db), "--out", str(tmp_path / "a.jsonl")]) == EXIT_OK
    assert "masked" in capsys.readouterr().out
    assert "13812345678" not in (tmp_path / "a.jsonl").read_text(encoding="utf-8")
    assert main(["export", "--db", str(db), "--out", str(tmp_path / "b.jsonl"), "--no-deidentify"]) == EXIT_OK
    assert "13812345678" in (tmp_path / "b.jsonl").read_text(encoding="utf-8")
    db2 = tmp_path / "d.db"
    assert main(["import", str(source), "--db", str(db2), "--deidentify"]) == EXIT_OK
    with Database.open(db2) as opened:
        assert "13812345678" not in opened.records.get("R1").record.text
