"""The dictionary yardstick of tcm_ner: longest match, the annotation-share filter, strict scoring."""

from __future__ import annotations

from bench.tcm_ner_dictionary import EntityDictionary, score
from training.data import Example

TRAIN = [
    Example("a", "头痛发热，服桂枝汤", ((0, 2, "SYM"), (2, 4, "SYM"), (6, 9, "PRE"))),
    Example("b", "桂枝三钱，头痛", ((0, 2, "HER"), (5, 7, "SYM"))),
    Example("c", "桂枝汤加减", ((0, 3, "PRE"),)),
    Example("d", "发热恶寒", ()),  # 发热 left unannotated once: annotated in 1 of its 2 occurrences
]


def test_the_longest_known_string_wins_and_takes_its_most_frequent_type() -> None:
    dictionary = EntityDictionary(TRAIN, min_share=0.0)
    assert dictionary.tag("桂枝汤与桂枝") == [(0, 3, "PRE"), (4, 6, "HER")]
    assert dictionary.tag("头痛头痛") == [(0, 2, "SYM"), (2, 4, "SYM")]
    assert dictionary.tag("无") == []


def test_strings_seldom_annotated_are_left_out() -> None:
    assert "发热" in EntityDictionary(TRAIN, min_share=0.5).terms
    assert "发热" not in EntityDictionary(TRAIN, min_share=0.6).terms


def test_scores_are_strict_spans() -> None:
    test = [Example("t", "头痛，桂枝汤", ((0, 2, "SYM"), (3, 5, "HER")))]  # gold says 桂枝 alone
    report = score(EntityDictionary(TRAIN, min_share=0.0), test)
    assert (report.micro.tp, report.micro.fp, report.micro.fn) == (1, 1, 1)
