"""Transactions and statistics read from a real database: negated, past and resolved mentions excluded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mining_testkit import keys, written

from tcm_desktop.domain import FormValue, Prediction, Record, Span
from tcm_desktop.mining import ItemKind, RuleQuery, mine_rules
from tcm_desktop.mining_data import (
    RecordSource,
    asserted_findings,
    load_statistics,
    load_transactions,
    transaction_of,
)
from tcm_desktop.store import Database

NOTE = written(
    "主诉：",
    ("口苦", "SYM"),
    "、",
    ("胁肋胀痛", "SYM"),
    ("3天", "TIME"),
    "，",
    ("无", "NEGATION"),
    ("发热", "SYM"),
    "、",
    ("恶寒", "SYM"),
    "，",
    ("恶心", "SYM"),
    "：",
    ("否", "NEGATION"),
    "。\n既往史：",
    ("咳嗽", "SYM"),
    "多年。\n现病史：",
    ("便血", "SYM"),
    ("已止", "SEVERITY"),
    "，",
    ("颈项", "BODY_PART"),
    ("强痛", "SYM"),
    "。\n舌脉：",
    ("舌红", "TONGUE_BODY"),
    "，",
    ("苔黄", "TONGUE_COAT"),
    "，",
    ("脉弦", "PULSE"),
    "。\n中医诊断：",
    ("肝气郁结证", "SYNDROME"),
)


def test_negated_past_and_resolved_mentions_are_not_symptoms() -> None:
    text, spans = NOTE
    found = asserted_findings(text, spans, ("SYM",))["SYM"]
    # 无发热、恶寒 (a cue over a list), 恶心：否 (a cue after), 既往史 咳嗽, 便血已止: all left out;
    # 颈项 + 强痛 joined back into the known term 颈项强痛.
    assert found == ["口苦", "胁肋胀痛", "颈项强痛"]


def test_a_record_transaction_normalises_its_syndrome() -> None:
    text, spans = NOTE
    form = {"syndromes": ["肝气郁结证"], "tongue_color": "红", "coat_color": "黄", "pulse": "脉弦"}
    transaction = transaction_of("R1", text, spans, form)
    assert keys(transaction.items) == [
        "pulse=弦",
        "symptom=口苦",
        "symptom=胁肋胀痛",
        "symptom=颈项强痛",
        "syndrome=肝郁气滞证",
        "tongue=舌色:红",
        "tongue=苔色:黄",
    ]
    assert not {i.value for i in transaction.items if i.kind is ItemKind.SYMPTOM} & {"发热", "恶寒", "恶心", "咳嗽"}


def _record(record_id: str, syndrome: str, present: list[str], negated: list[str]) -> Record:
    pieces: list[str | tuple[str, str]] = ["主诉："]
    for k, word in enumerate(present):
        pieces += (["、"] if k else []) + [(word, "SYM")]
    for word in negated:
        pieces += ["，", ("无", "NEGATION"), (word, "SYM")]
    pieces += ["。\n中医诊断：", (syndrome, "SYNDROME")]
    text, spans = written(*pieces)
    return Record(record_id, "general", text, spans=spans, form={"syndromes": [syndrome]})


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """Six records: four 肝郁气滞证 (口苦 in three, 发热 only ever negated), two 脾气虚证 (乏力)."""
    database = Database.open(tmp_path / "clinic.db")
    rows = [
        ("R1", "肝郁气滞证", ["口苦", "胁肋胀痛"], ["发热"]),
        ("R2", "肝郁气滞证", ["口苦"], ["发热"]),
        ("R3", "肝郁气滞证", ["口苦", "胁肋胀痛"], ["发热"]),
        ("R4", "肝郁气滞证", ["胁肋胀痛"], ["发热"]),
        ("R5", "脾气虚证", ["乏力"], []),
        ("R6", "脾气虚证", ["乏力", "口苦"], []),
    ]
    for record_id, syndrome, present, negated in rows:
        record = _record(record_id, syndrome, present, negated)
        database.records.add(record)
        if record_id != "R6":
            database.annotations.save(record_id, record.spans, record.form, who="dr.li", verify=True)
    yield database
    database.close()


def test_rules_from_verified_records_never_contain_negated_symptoms(db: Database) -> None:
    transactions = load_transactions(db, RecordSource.VERIFIED)
    assert [t.record_id for t in transactions] == ["R1", "R2", "R3", "R4", "R5"]
    query = RuleQuery(0.2, 0.5, antecedent_kinds=frozenset({ItemKind.SYNDROME}))
    result = mine_rules(transactions, query)
    pairs = {(str(r.antecedent[0]), str(r.consequent[0])): r for r in result.rules}
    assert set(pairs) == {
        ("证候:肝郁气滞证", "症状:口苦"),
        ("证候:肝郁气滞证", "症状:胁肋胀痛"),
        ("证候:脾气虚证", "症状:乏力"),
    }
    assert pairs[("证候:肝郁气滞证", "症状:口苦")].confidence == pytest.approx(3 / 4)
    assert result.records_for(pairs[("证候:肝郁气滞证", "症状:口苦")]) == ["R1", "R2", "R3"]
    assert all(i.value != "发热" for t in transactions for i in t.items)


def test_annotated_source_adds_records_not_yet_verified(db: Database) -> None:
    assert len(load_transactions(db, RecordSource.ANNOTATED)) == 6
    assert load_transactions(db, RecordSource.PREDICTED) == []


def test_predictions_and_reviews_feed_the_statistics(db: Database) -> None:
    text, _ = written("主诉：", ("乏力", "SYM"), "。")
    db.records.add(Record("P1", "general", text))
    spans = (Span(3, 5, "SYM", "乏力", 0.92),)
    db.predictions.add(Prediction("P1", "m1", spans, (FormValue("syndromes", ["脾气虚证"]),), 0.1))
    db.predictions.add(Prediction("R5", "m2", (Span(3, 5, "SYM", "乏力", 0.55),), (), 0.4))
    predicted = load_transactions(db, RecordSource.PREDICTED)
    assert [(t.record_id, keys(t.items)) for t in predicted] == [
        ("R5", ["symptom=乏力"]),
        ("P1", ["symptom=乏力", "syndrome=脾气虚证"]),
    ]
    db.annotations.save("P1", spans, {"syndromes": ["脾气虚证"]}, who="dr.li", verify=True)  # unchanged
    r5 = db.records.get("R5").record
    db.annotations.save("R5", r5.spans, dict(r5.form), who="dr.li", verify=True)  # adds the syndrome span
    stats = load_statistics(db, RecordSource.VERIFIED)
    counts = {label.code: n for label, n in stats.entity_counts}  # SYM: 3+2+3+2+1 (R1-R5) + 1 (P1)
    assert stats.records == 6
    assert counts["SYM"] == 12 and counts["SYNDROME"] == 5 and counts["TONGUE_BODY"] == 0
    assert {v: sorted(c) for v, c in stats.confidences.items()} == {"m1": [0.92], "m2": [0.55]}
    rates = {r.model_version: (r.reviewed, r.changed) for r in stats.correction_rates}
    assert rates == {"m1": (1, 0), "m2": (1, 1)}
