"""`tcm rules`: rules as a table or JSON from a real database; bad input is a message and status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mining_testkit import written

from tcm_desktop.cli import EXIT_FAILED, EXIT_OK, main
from tcm_desktop.domain import Record
from tcm_desktop.store import Database


def _note(record_id: str, syndrome: str, present: str, negated: str) -> Record:
    text, spans = written(
        "主诉：", (present, "SYM"), "，", ("无", "NEGATION"), (negated, "SYM"), "。\n中医诊断：", (syndrome, "SYNDROME")
    )
    return Record(record_id, "general", text, spans=spans, form={"syndromes": [syndrome], "pulse": "脉弦"})


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    with Database.open(path) as db:
        for k in range(4):
            record = _note(f"R{k}", "肝郁气滞证", "口苦", "发热")
            db.records.add(record)
            if k < 3:
                db.annotations.save(record.id, record.spans, record.form, who="dr.li", verify=True)
    return path


def test_json_lists_the_rules_of_verified_records(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["rules", "--db", str(db_path), "--json", "--antecedent", "syndrome", "--consequent", "symptom"])
    assert status == EXIT_OK
    out = json.loads(capsys.readouterr().out)
    assert (out["source"], out["transactions"]) == ("verified", 3)
    assert out["rules"] == [
        {
            "antecedent": [{"kind": "syndrome", "value": "肝郁气滞证"}],
            "consequent": [{"kind": "symptom", "value": "口苦"}],
            "count": 3,
            "support": 1.0,
            "confidence": 1.0,
            "lift": 1.0,
        }
    ]


def test_the_table_and_the_plots(db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plots = tmp_path / "plots"
    status = main(["rules", "--db", str(db_path), "--source", "annotated", "--min-confidence", "0.9", "--plots",
                   str(plots)])  # fmt: skip
    assert status == EXIT_OK
    out = capsys.readouterr().out
    assert "from 4 record(s)" in out
    assert "证候:肝郁气滞证" in out and "脉象:弦" in out and "发热" not in out
    assert sorted(p.name for p in plots.iterdir()) == ["confidence.png", "corrections.png", "entities.png"]


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--min-support", "0"], "minimum support must be above 0"),
        (["--min-support", "1.2"], "minimum support must be above 0"),
        (["--min-confidence", "-1"], "minimum confidence must be between 0 and 1"),
        (["--min-confidence", "nan"], "minimum confidence"),
        (["--max-length", "1"], "2 to 5 items"),
        (["--limit", "0"], "--limit must be at least 1"),
        (["--antecedent", "syndrome,colour"], "unknown item kind 'colour'"),
    ],
)
def test_bad_settings_say_why(db_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], words: str) -> None:
    assert main(["rules", "--db", str(db_path), *extra]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert err.startswith("tcm rules: ") and words in err and "Traceback" not in err


def test_a_missing_database_is_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.db"
    assert main(["rules", "--db", str(missing)]) == EXIT_FAILED
    assert "no database at" in capsys.readouterr().err
    assert not missing.exists()


def test_a_file_that_is_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("口苦三天" * 200, encoding="utf-8")
    assert main(["rules", "--db", str(bogus)]) == EXIT_FAILED
    assert "not a TCM Desktop database" in capsys.readouterr().err


def test_a_threshold_that_is_not_a_number_is_a_usage_error(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["rules", "--db", str(db_path), "--min-support", "abc"])
    assert stop.value.code == 2
    assert "invalid float value: 'abc'" in capsys.readouterr().err


def test_no_verified_records_points_to_the_other_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.db"
    Database.open(path).close()
    assert main(["rules", "--db", str(path)]) == EXIT_OK
    captured = capsys.readouterr()
    assert "no verified records" in captured.err and "--source annotated" in captured.err
    assert "0 rule(s) from 0 record(s)" in captured.out
