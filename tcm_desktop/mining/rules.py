"""Association rules between items (the reference study's Algorithm 1), with drill-down to records.

    result = mine_rules(transactions, RuleQuery(min_support=0.05, min_confidence=0.6,
                                                antecedent_kinds={ItemKind.SYNDROME},
                                                consequent_kinds={ItemKind.SYMPTOM}))
    for rule in result.rules:
        print(rule, rule.support, rule.confidence, rule.lift)
    ids = result.records_for(result.rules[0])

Support is the share of transactions holding every item of the rule,
confidence the share of transactions with the antecedent that also hold the
consequent, lift the confidence over the consequent's own support.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tcm_desktop.domain import TcmError
from tcm_desktop.mining.engine import Basket, BasketMiner, mlxtend_miner
from tcm_desktop.mining.items import Item, ItemKind, Transaction, restrict

MAX_RULE_LENGTH = 5


class MiningError(TcmError):
    """The mining settings are not usable; the message says which and why."""


class RuleOrder(StrEnum):
    CONFIDENCE = "confidence"
    LIFT = "lift"
    SUPPORT = "support"


@dataclass(frozen=True)
class RuleQuery:
    """What to mine: thresholds, the longest rule, and which item kinds each side may hold (None: any)."""

    min_support: float = 0.05
    min_confidence: float = 0.5
    max_length: int = 2
    antecedent_kinds: frozenset[ItemKind] | None = None
    consequent_kinds: frozenset[ItemKind] | None = None

    def __post_init__(self) -> None:
        for name in ("antecedent_kinds", "consequent_kinds"):
            kinds = getattr(self, name)
            if kinds is not None:
                object.__setattr__(self, name, frozenset(ItemKind(k) for k in kinds))

    def problems(self) -> list[str]:
        """Why these settings cannot be mined (empty when they can)."""
        out = []
        if not 0.0 < self.min_support <= 1.0:
            out.append(f"minimum support must be above 0 and at most 1 (got {self.min_support:g})")
        if not 0.0 <= self.min_confidence <= 1.0:
            out.append(f"minimum confidence must be between 0 and 1 (got {self.min_confidence:g})")
        if not 2 <= self.max_length <= MAX_RULE_LENGTH:
            out.append(f"a rule holds 2 to {MAX_RULE_LENGTH} items (got {self.max_length})")
        for side in ("antecedent", "consequent"):
            kinds = getattr(self, f"{side}_kinds")
            if kinds is not None and not kinds:
                out.append(f"the {side} must allow at least one item kind")
        return out

    def kinds_needed(self) -> frozenset[ItemKind] | None:
        """The item kinds a wanted rule can contain, or None for all."""
        if self.antecedent_kinds is None or self.consequent_kinds is None:
            return None
        return self.antecedent_kinds | self.consequent_kinds

    def wants(self, antecedent: Iterable[Item], consequent: Iterable[Item]) -> bool:
        a_ok = self.antecedent_kinds is None or all(i.kind in self.antecedent_kinds for i in antecedent)
        c_ok = self.consequent_kinds is None or all(i.kind in self.consequent_kinds for i in consequent)
        return a_ok and c_ok


@dataclass(frozen=True)
class Rule:
    antecedent: tuple[Item, ...]
    consequent: tuple[Item, ...]
    count: int  # transactions holding every item of the rule
    support: float
    confidence: float
    lift: float

    @property
    def items(self) -> tuple[Item, ...]:
        return self.antecedent + self.consequent

    def __str__(self) -> str:
        return f"{'，'.join(map(str, self.antecedent))} → {'，'.join(map(str, self.consequent))}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "antecedent": [i.to_dict() for i in self.antecedent],
            "consequent": [i.to_dict() for i in self.consequent],
            "count": self.count,
            "support": round(self.support, 6),
            "confidence": round(self.confidence, 6),
            "lift": round(self.lift, 6),
        }


@dataclass(frozen=True)
class FrequentItemset:
    items: tuple[Item, ...]
    count: int
    support: float


@dataclass(frozen=True)
class MiningResult:
    query: RuleQuery
    transactions: int
    itemsets: tuple[FrequentItemset, ...]
    rules: tuple[Rule, ...]
    _index: TransactionIndex = field(repr=False, compare=False)

    def records_for(self, rule_or_items: Rule | Iterable[Item]) -> list[str]:
        """Ids of the records holding every item of a rule (or of the given items), in input order."""
        items = rule_or_items.items if isinstance(rule_or_items, Rule) else tuple(rule_or_items)
        return self._index.records_with(items)

    def to_dict(self) -> dict[str, Any]:
        q = self.query
        return {
            "transactions": self.transactions,
            "min_support": q.min_support,
            "min_confidence": q.min_confidence,
            "max_length": q.max_length,
            "antecedent_kinds": sorted(k.value for k in q.antecedent_kinds) if q.antecedent_kinds else None,
            "consequent_kinds": sorted(k.value for k in q.consequent_kinds) if q.consequent_kinds else None,
            "rules": [r.to_dict() for r in self.rules],
        }


class TransactionIndex:
    """Item -> the positions of the transactions holding it, for drill-down from a rule to its records."""

    def __init__(self, transactions: Sequence[Transaction]) -> None:
        self._ids = [t.record_id for t in transactions]
        self._where: dict[Item, set[int]] = {}
        for position, transaction in enumerate(transactions):
            for item in transaction.items:
                self._where.setdefault(item, set()).add(position)

    def records_with(self, items: Iterable[Item]) -> list[str]:
        sets = [self._where.get(item, set()) for item in items]
        if not sets:
            return list(self._ids)
        common = set.intersection(*sets)
        return [self._ids[p] for p in sorted(common)]


def _items(basket: Basket) -> tuple[Item, ...]:
    return tuple(sorted(Item.from_key(k) for k in basket))


def sort_rules(rules: Iterable[Rule], order: RuleOrder = RuleOrder.CONFIDENCE) -> list[Rule]:
    """Strongest first by ``order``, then by the other two measures, then by text (stable output)."""
    keys = {
        RuleOrder.CONFIDENCE: lambda r: (-r.confidence, -r.lift, -r.support),
        RuleOrder.LIFT: lambda r: (-r.lift, -r.confidence, -r.support),
        RuleOrder.SUPPORT: lambda r: (-r.support, -r.confidence, -r.lift),
    }[RuleOrder(order)]
    return sorted(rules, key=lambda r: (*keys(r), [i.key for i in r.antecedent], [i.key for i in r.consequent]))


def mine_rules(
    transactions: Sequence[Transaction],
    query: RuleQuery | None = None,
    miner: BasketMiner = mlxtend_miner,
    order: RuleOrder = RuleOrder.CONFIDENCE,
) -> MiningResult:
    """Frequent itemsets and the rules of ``query`` over ``transactions``; MiningError for bad settings.

    Every transaction counts in the denominators, also one that holds none of
    the wanted item kinds.
    """
    query = query or RuleQuery()
    problems = query.problems()
    if problems:
        raise MiningError("; ".join(problems))
    needed = query.kinds_needed()
    used = restrict(transactions, needed) if needed is not None else list(transactions)
    baskets = [t.keys() for t in used]
    n = len(baskets)
    mined = miner(baskets, query.min_support, query.min_confidence, query.max_length) if n else None
    if mined is None:
        return MiningResult(query, 0, (), (), TransactionIndex(transactions))
    counts = mined.itemsets
    itemsets = tuple(
        FrequentItemset(_items(s), c, c / n) for s, c in sorted(counts.items(), key=lambda kv: (-kv[1], sorted(kv[0])))
    )
    rules = []
    for antecedent, consequent in mined.rules:
        a_items, c_items = _items(antecedent), _items(consequent)
        if not query.wants(a_items, c_items):
            continue
        both = counts[antecedent | consequent]
        confidence = both / counts[antecedent]
        rules.append(Rule(a_items, c_items, both, both / n, confidence, confidence / (counts[consequent] / n)))
    return MiningResult(query, n, itemsets, tuple(sort_rules(rules, order)), TransactionIndex(transactions))
