"""``tcm structure`` with the shipped bundle: interchange output with forms, resumable, bad input reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcm_desktop.cli import EXIT_FAILED, EXIT_OK, EXIT_WITH_ISSUES, main
from tcm_desktop.domain import Record, default_schema, span_problems

N = 6


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("structure") / "in.jsonl"
    assert main(["demo", "--n", str(N), "--out", str(out), "--seed", "11"]) == EXIT_OK
    return out


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_structure_writes_spans_forms_and_model_version(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "out.jsonl"
    assert main(["structure", "--in", str(corpus), "--out", str(out), "--no-image"]) == EXIT_OK
    rows = _read(out)
    gold = {r["id"]: r for r in _read(corpus)}
    schema = default_schema()
    assert [r["id"] for r in rows] == list(gold)
    for row in rows:
        record = Record.from_dict(row)
        assert record.text == gold[row["id"]]["text"]
        assert record.spans and span_problems(record.text, record.spans, schema.label_codes) == []
        assert set(record.form) == {f.name for f in schema.fields_for(record.specialty)}
        assert row["model_version"].startswith("tcm-text@")
        assert 0.0 <= row["uncertainty"] <= 1.0
        for name, indices in record.form_evidence.items():
            assert all(0 <= i < len(record.spans) for i in indices), name
        # the image path still points at the photo, now relative to the output file
        assert (out.parent / row["image"]).resolve() == (corpus.parent / gold[row["id"]]["image"]).resolve()


def test_a_stopped_run_resumes_without_duplicates(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["structure", "--in", str(corpus), "--out", str(out), "--no-image"]) == EXIT_OK
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    # as if killed while writing the third line
    out.write_text("".join(lines[:2]) + lines[2][:40], encoding="utf-8")
    assert main(["structure", "--in", str(corpus), "--out", str(out), "--no-image"]) == EXIT_OK
    again = out.read_text(encoding="utf-8").splitlines(keepends=True)
    assert again[:2] == lines[:2]
    assert sorted(json.loads(x)["id"] for x in again) == sorted(json.loads(x)["id"] for x in lines)


def test_bad_lines_are_reported_and_the_rest_structured(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "mixed.jsonl"
    good = corpus.read_text(encoding="utf-8").splitlines()[:2]
    source.write_text("\n".join([good[0], "{not json", good[1], good[0]]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["structure", "--in", str(source), "--out", str(out), "--no-image"]) == EXIT_WITH_ISSUES
    report = capsys.readouterr().out
    assert "mixed.jsonl:2" in report and "more than once" in report
    assert len(_read(out)) == 2


def test_a_missing_model_is_a_clear_failure(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-model"
    assert main(["structure", "--in", str(corpus), "--out", str(tmp_path / "o.jsonl"), "--model", str(missing)]) == (
        EXIT_FAILED
    )
    assert "no-model" in capsys.readouterr().err
