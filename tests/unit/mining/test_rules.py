"""Frequent itemsets and rules on hand-made transactions whose answers are worked out by hand."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest
from mining_testkit import SYMPTOM, SYNDROME, keys, rule_keys, transaction

from tcm_desktop.mining import ItemKind, MiningError, RuleQuery, Transaction, mine_rules
from tcm_desktop.mining.report import rules_table

# Supports: A 3/5, B 2/5, x 3/5, y 2/5, z 3/5; {A,x} 2/5, {A,y} 2/5, {B,z} 2/5, every other pair 1/5.
FIVE = [
    transaction("T1", "syndrome=A", "symptom=x", "symptom=y"),
    transaction("T2", "syndrome=A", "symptom=x"),
    transaction("T3", "syndrome=A", "symptom=y", "symptom=z"),
    transaction("T4", "syndrome=B", "symptom=z"),
    transaction("T5", "syndrome=B", "symptom=x", "symptom=z"),
]


def by_pair(result: object) -> dict[tuple[str, str], object]:
    return {(r.antecedent[0].key, r.consequent[0].key): r for r in result.rules}  # type: ignore[attr-defined]


def test_frequent_itemsets_have_the_counted_supports() -> None:
    result = mine_rules(FIVE, RuleQuery(min_support=0.4, min_confidence=0.0))
    found = {tuple(keys(s.items)): s.count for s in result.itemsets}
    assert found == {
        ("syndrome=A",): 3,
        ("symptom=x",): 3,
        ("symptom=z",): 3,
        ("syndrome=B",): 2,
        ("symptom=y",): 2,
        ("symptom=x", "syndrome=A"): 2,
        ("symptom=y", "syndrome=A"): 2,
        ("symptom=z", "syndrome=B"): 2,
    }
    assert result.transactions == 5
    assert all(s.support == s.count / 5 for s in result.itemsets)


def test_rules_have_the_worked_out_confidence_and_lift() -> None:
    result = mine_rules(FIVE, RuleQuery(min_support=0.4, min_confidence=0.6))
    rules = by_pair(result)
    expected = {  # (confidence, lift)
        ("syndrome=A", "symptom=x"): (Fraction(2, 3), Fraction(10, 9)),
        ("symptom=x", "syndrome=A"): (Fraction(2, 3), Fraction(10, 9)),
        ("syndrome=A", "symptom=y"): (Fraction(2, 3), Fraction(5, 3)),
        ("symptom=y", "syndrome=A"): (Fraction(1), Fraction(5, 3)),
        ("syndrome=B", "symptom=z"): (Fraction(1), Fraction(5, 3)),
        ("symptom=z", "syndrome=B"): (Fraction(2, 3), Fraction(5, 3)),
    }
    assert set(rules) == set(expected)
    for pair, (confidence, lift) in expected.items():
        rule = rules[pair]
        assert rule.support == pytest.approx(0.4)
        assert rule.count == 2
        assert rule.confidence == pytest.approx(float(confidence))
        assert rule.lift == pytest.approx(float(lift))
    # strongest first: the two certain rules, then by lift
    assert [r.confidence for r in result.rules[:2]] == [1.0, 1.0]
    assert result.rules[2].lift == pytest.approx(5 / 3)


def test_minimums_are_inclusive_and_raising_them_drops_rules() -> None:
    strict = mine_rules(FIVE, RuleQuery(min_support=0.4, min_confidence=0.7))
    # equal measures: ordered by the antecedent text
    assert rule_keys(strict.rules) == [(["symptom=y"], ["syndrome=A"]), (["syndrome=B"], ["symptom=z"])]
    assert mine_rules(FIVE, RuleQuery(min_support=0.41, min_confidence=0.0)).rules == ()


def test_item_kind_filters_keep_only_syndrome_to_symptom_rules() -> None:
    query = RuleQuery(0.4, 0.6, antecedent_kinds=frozenset({SYNDROME}), consequent_kinds=frozenset({SYMPTOM}))
    result = mine_rules(FIVE, query)
    assert sorted(rule_keys(result.rules)) == [
        (["syndrome=A"], ["symptom=x"]),
        (["syndrome=A"], ["symptom=y"]),
        (["syndrome=B"], ["symptom=z"]),
    ]


def test_longer_rules_need_a_larger_max_length() -> None:
    three = mine_rules(FIVE, RuleQuery(min_support=0.2, min_confidence=1.0, max_length=3))
    assert (["symptom=x", "symptom=y"], ["syndrome=A"]) in rule_keys(three.rules)
    rule = next(r for r in three.rules if keys(r.antecedent) == ["symptom=x", "symptom=y"])
    assert (rule.count, rule.confidence, rule.lift) == (1, 1.0, pytest.approx(5 / 3))
    two = mine_rules(FIVE, RuleQuery(min_support=0.2, min_confidence=1.0, max_length=2))
    assert all(len(r.items) == 2 for r in two.rules)


def test_drill_down_lists_the_records_holding_the_whole_rule() -> None:
    result = mine_rules(FIVE, RuleQuery(min_support=0.4, min_confidence=0.6))
    rules = by_pair(result)
    assert result.records_for(rules[("syndrome=A", "symptom=x")]) == ["T1", "T2"]
    assert result.records_for(rules[("syndrome=B", "symptom=z")]) == ["T4", "T5"]


def test_records_without_wanted_items_still_count_in_the_denominator() -> None:
    tongue_only = transaction("T6", "tongue=舌色:红")
    query = RuleQuery(0.3, 0.6, antecedent_kinds=frozenset({SYNDROME}), consequent_kinds=frozenset({SYMPTOM}))
    result = mine_rules([*FIVE, tongue_only], query)
    assert result.transactions == 6
    assert by_pair(result)[("syndrome=A", "symptom=x")].support == pytest.approx(2 / 6)
    assert by_pair(result)[("syndrome=A", "symptom=x")].lift == pytest.approx((2 / 3) / (3 / 6))


def test_no_transactions_mine_nothing() -> None:
    result = mine_rules([], RuleQuery())
    assert (result.transactions, result.itemsets, result.rules) == (0, (), ())
    assert "0 rule(s) from 0 record(s)" in rules_table(result)


@pytest.mark.parametrize(
    "query, words",
    [
        (RuleQuery(min_support=0.0), "minimum support"),
        (RuleQuery(min_support=1.5), "minimum support"),
        (RuleQuery(min_confidence=-0.1), "minimum confidence"),
        (RuleQuery(min_support=float("nan")), "minimum support"),
        (RuleQuery(max_length=1), "2 to 5 items"),
        (RuleQuery(antecedent_kinds=frozenset()), "antecedent must allow"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(query: RuleQuery, words: str) -> None:
    with pytest.raises(MiningError, match=words):
        mine_rules(FIVE, query)


def _brute_force(transactions: list[Transaction], min_support: float, min_confidence: float, max_length: int):
    n = len(transactions)
    baskets = [t.keys() for t in transactions]
    universe = sorted({k for b in baskets for k in b})
    counts = {}
    for size in range(1, max_length + 1):
        for combo in itertools.combinations(universe, size):
            c = sum(1 for b in baskets if set(combo) <= b)
            if c and c / n >= min_support:
                counts[frozenset(combo)] = c
    rules = set()
    for itemset, c in counts.items():
        for size in range(1, len(itemset)):
            for left in itertools.combinations(sorted(itemset), size):
                left_set = frozenset(left)
                if c / counts[left_set] >= min_confidence:
                    rules.add((tuple(sorted(left_set)), tuple(sorted(itemset - left_set))))
    return counts, rules


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_library_agrees_with_counting_every_combination(seed: int) -> None:
    rng = random.Random(seed)
    pool = [f"symptom=s{k}" for k in range(7)] + ["syndrome=A", "syndrome=B", "herb=h1"]
    transactions = [transaction(f"R{i}", *rng.sample(pool, rng.randint(1, 5))) for i in range(40)]
    counts, rules = _brute_force(transactions, 0.1, 0.5, 3)
    result = mine_rules(transactions, RuleQuery(min_support=0.1, min_confidence=0.5, max_length=3))
    assert {frozenset(i.key for i in s.items): s.count for s in result.itemsets} == counts
    assert {(tuple(keys(r.antecedent)), tuple(keys(r.consequent))) for r in result.rules} == rules
    for rule in result.rules:
        assert len(result.records_for(rule)) == rule.count


def test_kinds_given_as_text_are_read_as_item_kinds() -> None:
    query = RuleQuery(antecedent_kinds=frozenset({"syndrome"}))  # type: ignore[arg-type]
    assert query.antecedent_kinds == frozenset({ItemKind.SYNDROME})
