"""The issue's outside checks, through the ``tcm`` command itself."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tcm_desktop.cli import EXIT_OK, EXIT_WITH_ISSUES, main
from tcm_desktop.domain import Record, default_schema, record_problems
from tcm_desktop.store.deidentify import MASKS

N = 300


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "d.jsonl"
    assert main(["demo", "--n", str(N), "--out", str(out), "--seed", "7"]) == EXIT_OK
    return out


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_demo_writes_valid_records_with_images(corpus: Path) -> None:
    schema = default_schema()
    rows = _read(corpus)
    assert len(rows) == N
    labels: Counter[str] = Counter()
    for row in rows:
        record = Record.from_dict(row)
        assert record_problems(record, schema) == [], record.id
        assert all(record.text[s.start : s.end] == s.text for s in record.spans)
        assert set(record.form) == {f.name for f in schema.fields_for(record.specialty)}
        assert (corpus.parent / row["image"]).is_file()
        labels.update(s.label for s in record.spans)
    assert set(labels) == set(schema.label_codes)
    assert {row["specialty"] for row in rows} == set(schema.specialty_codes)
    assert max(len(row["text"]) for row in rows) > 5000


def test_import_then_export_gives_back_texts_spans_and_forms(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    out = tmp_path / "e.jsonl"
    assert main(["import", str(corpus), "--db", str(db)]) == EXIT_OK
    # exact round trip: de-identification (on by default) turned off
    assert main(["export", "--db", str(db), "--format", "jsonl", "--out", str(out), "--no-deidentify"]) == EXIT_OK
    before = {r["id"]: r for r in _read(corpus)}
    after = {r["id"]: r for r in _read(out)}
    assert before.keys() == after.keys()
    for record_id, original in before.items():
        exported = after[record_id]
        assert exported["text"] == original["text"]
        assert exported["spans"] == original["spans"]
        assert exported["form"] == original["form"]
        assert (out.parent / exported["image"]).read_bytes() == (corpus.parent / original["image"]).read_bytes()
    # the default export masks identifiers in place: same lengths, same span offsets
    masked_out = tmp_path / "masked.jsonl"
    assert main(["export", "--db", str(db), "--format", "jsonl", "--out", str(masked_out)]) == EXIT_OK
    masked = {r["id"]: r for r in _read(masked_out)}
    changed = 0
    for record_id, original in before.items():
        text, original_text = masked[record_id]["text"], original["text"]
        assert len(text) == len(original_text)
        assert {a for a, b in zip(text, original_text, strict=True) if a != b} <= set(MASKS.values())
        assert [(s["start"], s["end"]) for s in masked[record_id]["spans"]] == [
            (s["start"], s["end"]) for s in original["spans"]
        ]
        changed += text != original_text
    assert changed > 0  # the demo notes carry names such as 王某某


def test_bad_input_is_reported_and_the_rest_imported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = {"id": "G1", "specialty": "general", "text": "咳嗽3天。"}
    lines = [
        json.dumps(good, ensure_ascii=False),
        '{"id": "B1", "text": "未闭合',
        json.dumps({"id": "B2", "text": "发热", "image": "missing.jpg"}, ensure_ascii=False),
        json.dumps({"id": "G2", "specialty": "gastro", "text": "腹泻每日三次"}, ensure_ascii=False),
    ]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    gbk = tmp_path / "gbk.jsonl"
    gbk_line = json.dumps({"id": "K1", "text": "舌淡红，苔薄白，脉细。"}, ensure_ascii=False)
    gbk.write_bytes((gbk_line + "\n").encode("gbk"))
    db = tmp_path / "t.db"
    assert main(["import", str(mixed), "--db", str(db)]) == EXIT_WITH_ISSUES
    report = capsys.readouterr().out
    assert "mixed.jsonl:2" in report and "mixed.jsonl:3" in report and "missing.jpg" in report
    assert main(["import", str(gbk), "--db", str(db)]) == EXIT_OK
    out = tmp_path / "e.jsonl"
    assert main(["export", "--db", str(db), "--format", "jsonl", "--out", str(out)]) == EXIT_OK
    exported = {r["id"]: r["text"] for r in _read(out)}
    assert exported == {"G1": "咳嗽3天。", "G2": "腹泻每日三次", "K1": "舌淡红，苔薄白，脉细。"}


def test_console_script_reports_missing_database(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tcm_desktop.cli", "export", "--db", str(tmp_path / "none.db"), "--out", "x.jsonl"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "no database" in result.stderr
