"""Strict span scores, rare subset, form accuracy and the evaluate command, on hand-counted cases."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tcm_desktop.domain import Record, Span
from training.evaluation import (
    EvaluationError,
    Scores,
    entity_counts,
    evaluate,
    evaluate_main,
    form_value_key,
    read_jsonl_records,
)


def rec(
    record_id: str,
    text: str,
    spans: list[tuple[int, int, str]] = (),  # type: ignore[assignment]
    form: dict[str, Any] | None = None,
    specialty: str = "general",
) -> Record:
    return Record(
        id=record_id,
        specialty=specialty,
        text=text,
        spans=tuple(Span(s, e, label, text[s:e]) for s, e, label in spans),
        form=form or {},
    )


TEXT = "腹痛三天，便血色鲜红"
GOLD = rec("R1", TEXT, [(0, 2, "SYM"), (2, 4, "TIME"), (5, 7, "SYM"), (8, 10, "COLOR")])


def test_scores_from_counts_never_divide_by_zero() -> None:
    assert Scores.from_counts(0, 0, 0) == Scores(0, 0, 0, 0.0, 0.0, 0.0)
    assert Scores.from_counts(0, 3, 0) == Scores(0, 3, 0, 0.0, 0.0, 0.0)
    s = Scores.from_counts(1, 2, 1)
    assert (s.precision, s.recall, s.f1) == pytest.approx((1 / 3, 1 / 2, 0.4))


def test_wrong_label_and_partial_overlap_are_errors() -> None:
    # 腹痛 right; 三天 as SYM (wrong label: FP SYM + FN TIME); 便血色 (partial: FP SYM + FN SYM); 鲜红 right.
    pred = rec("R1", TEXT, [(0, 2, "SYM"), (2, 4, "SYM"), (5, 8, "SYM"), (8, 10, "COLOR")])
    report = evaluate([GOLD], [pred])
    sym, time, color = report.per_label["SYM"], report.per_label["TIME"], report.per_label["COLOR"]
    assert (sym.tp, sym.fp, sym.fn) == (1, 2, 1)
    assert (sym.precision, sym.recall, sym.f1) == pytest.approx((1 / 3, 1 / 2, 0.4))
    assert (time.tp, time.fp, time.fn, time.f1) == (0, 0, 1, 0.0)
    assert (color.tp, color.fp, color.fn, color.f1) == (1, 0, 0, 1.0)
    assert (report.micro.tp, report.micro.fp, report.micro.fn) == (2, 2, 2)
    assert report.micro.f1 == pytest.approx(0.5)
    assert report.macro_f1 == pytest.approx((0.4 + 0.0 + 1.0) / 3)
    assert list(report.per_label) == ["SYM", "TIME", "COLOR"]  # schema order
    assert report.records == 1 and report.missing == () and report.extra == ()


def test_perfect_prediction_scores_one() -> None:
    report = evaluate([GOLD], [GOLD])
    assert report.micro.f1 == 1.0 and report.macro_f1 == 1.0


def test_empty_prediction_has_zero_recall() -> None:
    report = evaluate([GOLD], [rec("R1", TEXT)])
    assert (report.micro.tp, report.micro.fp, report.micro.fn) == (0, 0, 4)
    assert report.micro.recall == 0.0 and report.micro.precision == 0.0 and report.micro.f1 == 0.0


def test_empty_gold_and_empty_prediction_give_zeros() -> None:
    report = evaluate([rec("R1", "无不适")], [rec("R1", "无不适")])
    assert report.micro == Scores(0, 0, 0, 0.0, 0.0, 0.0)
    assert report.macro_f1 == 0.0 and report.per_label == {}
    assert evaluate([], []).records == 0


def test_macro_counts_labels_found_only_in_prediction() -> None:
    gold = rec("R1", "党参腹痛", [(2, 4, "SYM")])
    pred = rec("R1", "党参腹痛", [(0, 2, "HERB"), (2, 4, "SYM")])
    report = evaluate([gold], [pred])
    assert report.per_label["HERB"] == Scores(0, 1, 0, 0.0, 0.0, 0.0)
    assert report.macro_f1 == pytest.approx(0.5)


def test_labels_limit_the_evaluation_and_list_every_label() -> None:
    gold = rec("R1", TEXT, [(0, 2, "SYM"), (2, 4, "TIME")])
    pred = rec("R1", TEXT, [(0, 2, "SYM"), (8, 10, "COLOR")])
    report = evaluate([gold], [pred], labels=["SYM", "DOSE"])
    assert list(report.per_label) == ["SYM", "DOSE"]
    assert (report.micro.tp, report.micro.fp, report.micro.fn) == (1, 0, 0)
    assert report.macro_f1 == 1.0  # DOSE occurs nowhere, so it is not averaged in


def test_rare_subset() -> None:
    text = "腹痛便血鲜红腹痛"
    gold = rec("R1", text, [(0, 2, "SYM"), (2, 4, "SYM"), (4, 6, "COLOR")])
    # TP common 腹痛, TP rare 便血, FP rare 红, FP common 腹痛 (the second one).
    pred = rec("R1", text, [(0, 2, "SYM"), (2, 4, "SYM"), (5, 6, "COLOR"), (6, 8, "SYM")])
    counts = Counter({("SYM", "腹痛"): 10, ("SYM", "便血"): 2})
    report = evaluate([gold], [pred], train_counts=counts)
    # rare gold: 便血 (2 < 5), 鲜红 (0); rare pred: 便血, 红 -> tp 1, fp 1, fn 1
    assert report.rare == Scores.from_counts(1, 1, 1)
    assert (report.micro.tp, report.micro.fp, report.micro.fn) == (2, 2, 1)
    assert evaluate([gold], [pred]).rare is None
    # with threshold 2, 便血 (seen twice) is no longer rare
    assert evaluate([gold], [pred], counts, rare_threshold=2).rare == Scores.from_counts(0, 1, 1)


def test_entity_counts_normalise_width_and_case() -> None:
    records = [
        rec("A", "ＶＡＳ评分6分", [(0, 5, "EXAM")]),
        rec("B", "vas评分4分，腹痛", [(0, 5, "EXAM"), (8, 10, "SYM")]),
    ]
    assert entity_counts(records) == Counter({("EXAM", "vas评分"): 2, ("SYM", "腹痛"): 1})


def test_missing_record_counts_as_false_negatives_and_extra_is_ignored() -> None:
    other = rec("R2", "咳嗽", [(0, 2, "SYM")])
    extra = rec("R3", "发热", [(0, 2, "SYM")])
    report = evaluate([GOLD, other], [GOLD, extra])
    assert (report.micro.tp, report.micro.fp, report.micro.fn) == (4, 0, 1)
    assert report.missing == ("R2",) and report.extra == ("R3",)
    assert report.records == 2
    assert any("R2" in w for w in report.warnings) and any("R3" in w for w in report.warnings)
    assert "R2" in report.to_markdown()


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(EvaluationError, match="R1"):
        evaluate([GOLD, GOLD], [GOLD])


def test_form_accuracy_per_field() -> None:
    gold_a = {
        "tongue_color": "淡红",
        "syndromes": ["脾虚湿盛证", "湿热下注证"],
        "herbs": [{"herb": "党参", "dose": "15g"}, {"herb": "白术", "dose": "10g"}],
        "diarrhea_frequency": "每日>6次",
        "pulse": "脉细",
    }
    pred_a = {
        "tongue_color": "淡红",
        "syndromes": ["湿热下注证", "脾虚湿盛证"],  # order does not matter
        "herbs": [{"herb": "白术", "dose": "10 克"}, {"herb": "党参", "dose": "15g"}],
        "diarrhea_frequency": "每日4~6次",
    }  # no pulse: not compared, counted as unfilled
    gold_b = {"tongue_color": "红", "syndromes": ["脾虚湿盛证"], "herbs": [{"herb": "党参", "dose": "15g"}]}
    pred_b = {
        "tongue_color": "淡红",
        "syndromes": ["脾虚湿盛证", "湿热下注证"],
        "herbs": [{"herb": "党参", "dose": None}],
        "diarrhea_frequency": "无腹泻",  # not in gold: skipped
    }
    gold = [rec("A", "x", form=gold_a, specialty="gastro"), rec("B", "x", form=gold_b, specialty="gastro")]
    pred = [rec("A", "x", form=pred_a, specialty="gastro"), rec("B", "x", form=pred_b, specialty="gastro")]
    report = evaluate(gold, pred)
    assert report.form_accuracy == {
        "tongue_color": (1, 2),
        "syndromes": (1, 2),
        "herbs": (1, 2),
        "diarrhea_frequency": (0, 1),
    }
    assert list(report.form_accuracy) == ["tongue_color", "syndromes", "herbs", "diarrhea_frequency"]
    assert report.form_unfilled == {"pulse": 1}
    assert "| herbs | 0.5000 | 1 / 2 |" in report.to_markdown()


def test_form_value_keys() -> None:
    assert form_value_key("herbs", [{"herb": "党参"}]) == form_value_key("herbs", [{"herb": "党参", "dose": None}])
    assert form_value_key("herbs", [{"herb": "党参", "dose": "15g"}]) != form_value_key("herbs", [{"herb": "党参"}])
    assert form_value_key("vas_score", 4) == form_value_key("vas_score", 4.0)
    assert form_value_key("vas_score", 4) != form_value_key("vas_score", 5)
    assert form_value_key("healthy_wrist_circumference_cm", 18.5) == form_value_key(
        "healthy_wrist_circumference_cm", "18.5"
    )
    assert form_value_key("fever", None) == form_value_key("fever", "未提及")
    assert form_value_key("tongue", "舌淡红， 苔薄白") == form_value_key("tongue", "舌淡红，苔薄白")
    assert form_value_key("treatments", ["健脾化湿", ""]) == form_value_key("treatments", ["健脾化湿"])


def test_report_to_dict_and_markdown() -> None:
    pred = rec("R1", TEXT, [(0, 2, "SYM")])
    report = evaluate([GOLD], [pred], train_counts=Counter())
    data = json.loads(json.dumps(report.to_dict()))
    assert data["micro"] == {"tp": 1, "fp": 0, "fn": 3, "precision": 1.0, "recall": 0.25, "f1": 0.4}
    assert data["per_label"]["TIME"]["fn"] == 1
    assert data["rare"]["tp"] == 1
    text = report.to_markdown()
    assert "| SYM | 症状 | 1.0000 | 0.5000 | 0.6667 | 1 | 0 | 1 |" in text
    assert "| **micro** |" in text and "Rare entities" in text
    assert "Rare entities" not in evaluate([GOLD], [pred]).to_markdown()


def write_jsonl(path: Path, records: list[Record]) -> Path:
    path.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_read_jsonl_records_round_trip_and_errors(tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", [GOLD, rec("R2", "咳嗽")])
    assert [r.id for r in read_jsonl_records(good)] == ["R1", "R2"]
    bad = tmp_path / "bad.jsonl"
    line = json.dumps(GOLD.to_dict(), ensure_ascii=False)
    bad.write_text(line + "\n\n{not json\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match=r"bad.jsonl:3"):
        read_jsonl_records(bad)
    wrong_text = line.replace('"text": "腹痛"', '"text": "头痛"')
    bad.write_text(line.replace('"R1"', '"R0"') + "\n" + wrong_text + "\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match=r"bad.jsonl:2: spans\[0\]"):
        read_jsonl_records(bad)
    bad.write_text(line + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match=r"bad.jsonl:2: id 'R1' already used on line 1"):
        read_jsonl_records(bad)
    bad.write_text('{"id": "R1"}\n', encoding="utf-8")
    with pytest.raises(EvaluationError, match=r"bad.jsonl:1: text"):
        read_jsonl_records(bad)
    with pytest.raises(EvaluationError, match="cannot read"):
        read_jsonl_records(tmp_path / "none.jsonl")


def test_evaluate_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gold = write_jsonl(tmp_path / "gold.jsonl", [GOLD])
    pred = write_jsonl(tmp_path / "pred.jsonl", [rec("R1", TEXT, [(0, 2, "SYM"), (8, 10, "COLOR")])])
    # 腹痛 seen 5 times in training: common; 三天, 便血, 鲜红 are rare, and only 鲜红 is found.
    train = write_jsonl(tmp_path / "train.jsonl", [rec("T1", "腹痛" * 5, [(i, i + 2, "SYM") for i in range(0, 10, 2)])])
    out = tmp_path / "reports" / "eval.json"
    argv = ["--gold", str(gold), "--pred", str(pred), "--train", str(train), "--json", str(out)]
    assert evaluate_main(argv) == 0
    printed = capsys.readouterr().out
    assert "| COLOR | 颜色 | 1.0000 | 1.0000 | 1.0000 | 1 | 0 | 0 |" in printed
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["micro"]["tp"] == 2 and data["micro"]["fn"] == 2
    assert data["rare"] == {"tp": 1, "fp": 0, "fn": 2, "precision": 1.0, "recall": 0.333333, "f1": 0.5}


def test_evaluate_command_reports_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gold = write_jsonl(tmp_path / "gold.jsonl", [GOLD])
    assert evaluate_main(["--gold", str(gold), "--pred", str(tmp_path / "missing.jsonl")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
