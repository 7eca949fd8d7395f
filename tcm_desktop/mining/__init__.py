"""The mining layer: association rules and statistics over structured fields. No Qt, no store.

    transactions = [transaction_from_findings(f, normalise) for f in findings]
    result = mine_rules(transactions, RuleQuery(min_support=0.05, min_confidence=0.6))

Reading records out of a database is :mod:`tcm_desktop.mining_data`'s job.
"""

from tcm_desktop.mining.engine import BasketMiner, MinedBaskets, mlxtend_miner
from tcm_desktop.mining.items import (
    Findings,
    Item,
    ItemKind,
    Normaliser,
    Transaction,
    pulse_qualities,
    restrict,
    transaction_from_findings,
)
from tcm_desktop.mining.rules import (
    FrequentItemset,
    MiningError,
    MiningResult,
    Rule,
    RuleOrder,
    RuleQuery,
    mine_rules,
    sort_rules,
)
from tcm_desktop.mining.statistics import (
    CorrectionRate,
    Period,
    ReviewEvent,
    Statistics,
    correction_rates,
    entity_counts,
)

__all__ = [
    "BasketMiner",
    "CorrectionRate",
    "Findings",
    "FrequentItemset",
    "Item",
    "ItemKind",
    "MinedBaskets",
    "MiningError",
    "MiningResult",
    "Normaliser",
    "Period",
    "ReviewEvent",
    "Rule",
    "RuleOrder",
    "RuleQuery",
    "Statistics",
    "Transaction",
    "correction_rates",
    "entity_counts",
    "mine_rules",
    "mlxtend_miner",
    "pulse_qualities",
    "restrict",
    "sort_rules",
    "transaction_from_findings",
]
