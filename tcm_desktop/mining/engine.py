"""Frequent itemsets and association rules over baskets of item keys, by a library.

A *basket miner* takes baskets (sets of strings), a minimum support, a
minimum confidence and a maximum itemset length, and returns every frequent
itemset with its count and every rule (antecedent, consequent) that reaches
the confidence. :func:`mlxtend_miner` is the one the program uses: mlxtend's
``apriori`` (low-memory mode) and ``association_rules``; it mined 100,000
transactions fastest of the candidates measured by ``bench/mining.py`` (see
docs/benchmarks.md). Another library plugs in by returning the same
:class:`MinedBaskets`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

Basket = frozenset[str]


@dataclass(frozen=True)
class MinedBaskets:
    """Frequent itemsets (itemset -> number of baskets holding it) and the rules found."""

    itemsets: dict[Basket, int]
    rules: list[tuple[Basket, Basket]]  # (antecedent, consequent), both non-empty and disjoint


class BasketMiner(Protocol):
    def __call__(
        self, baskets: Sequence[Basket], min_support: float, min_confidence: float, max_length: int
    ) -> MinedBaskets: ...


def min_count(min_support: float, n: int) -> int:
    """The fewest baskets an itemset must be in to reach ``min_support`` of ``n``."""
    return max(1, math.ceil(min_support * n - 1e-9))


def frequent_items(baskets: Sequence[Basket], min_support: float) -> list[str]:
    """Items in at least ``min_support`` of the baskets, most frequent first (ties by name)."""
    counts = Counter(item for basket in baskets for item in basket)
    floor = min_count(min_support, len(baskets))
    return sorted((i for i, c in counts.items() if c >= floor), key=lambda i: (-counts[i], i))


def mlxtend_miner(
    baskets: Sequence[Basket], min_support: float, min_confidence: float, max_length: int
) -> MinedBaskets:
    """mlxtend ``apriori`` (low_memory) + ``association_rules`` on a one-hot matrix of the frequent items."""
    import numpy as np
    import pandas as pd
    from mlxtend.frequent_patterns import apriori, association_rules

    n = len(baskets)
    columns = frequent_items(baskets, min_support) if n else []
    if not columns:
        return MinedBaskets({}, [])
    index = {item: k for k, item in enumerate(columns)}
    matrix = np.zeros((n, len(columns)), dtype=bool)
    for row, basket in enumerate(baskets):
        matrix[row, [index[i] for i in basket if i in index]] = True
    frame = pd.DataFrame(matrix, columns=columns)
    found = apriori(frame, min_support=min_support, use_colnames=True, max_len=max_length, low_memory=True)
    itemsets = {
        frozenset(s): round(float(support) * n) for s, support in zip(found["itemsets"], found["support"], strict=True)
    }
    if max_length < 2 or not any(len(s) > 1 for s in itemsets):
        return MinedBaskets(itemsets, [])
    table = association_rules(
        found, num_itemsets=n, metric="confidence", min_threshold=min_confidence, return_metrics=["confidence"]
    )
    rules = [(frozenset(a), frozenset(c)) for a, c in zip(table["antecedents"], table["consequents"], strict=True)]
    return MinedBaskets(itemsets, rules)
