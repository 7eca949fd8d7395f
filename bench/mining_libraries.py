"""Which library mines association rules: mlxtend vs efficient-apriori on 100,000 synthetic transactions.

    python bench/mining_libraries.py [--n 100000] [--repeat 1]    # or as part of bench/mining.py

The transactions imitate clinic records: a syndrome (few common, many rare),
its characteristic symptoms, unrelated symptoms and signs, tongue and pulse
findings leaning on the syndrome, and the herbs of the syndrome's formula
with a few additions; about 25 items each. Each library mines the same
baskets at the same thresholds (itemsets of up to 3 items, then rules);
both must return the same itemsets with the same counts and the same rules.
Writes the ``mining-libraries`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import update_section  # noqa: E402
from tcm_desktop.mining import ItemKind, MinedBaskets, RuleQuery, mine_rules, mlxtend_miner  # noqa: E402
from tcm_desktop.mining.engine import Basket, BasketMiner  # noqa: E402
from tcm_desktop.mining.items import Item, Transaction  # noqa: E402

SECTION = "mining-libraries"
SETTINGS = ((0.02, 0.5), (0.01, 0.5))  # (min support, min confidence)
MAX_LENGTH = 3


def efficient_apriori_miner(
    baskets: Sequence[Basket], min_support: float, min_confidence: float, max_length: int
) -> MinedBaskets:
    """efficient-apriori's ``apriori`` (itemsets and rules in one call), as a basket miner."""
    from efficient_apriori import apriori

    itemsets, rules = apriori(
        [tuple(sorted(b)) for b in baskets],
        min_support=min_support,
        min_confidence=min_confidence,
        max_length=max_length,
    )
    counts = {frozenset(s): int(c) for level in itemsets.values() for s, c in level.items()}
    return MinedBaskets(counts, [(frozenset(r.lhs), frozenset(r.rhs)) for r in rules])


def mlxtend_fpgrowth_miner(
    baskets: Sequence[Basket], min_support: float, min_confidence: float, max_length: int
) -> MinedBaskets:
    """mlxtend's ``fpgrowth`` instead of its ``apriori`` (same encoding, same rule step)."""
    import numpy as np
    import pandas as pd
    from mlxtend.frequent_patterns import association_rules, fpgrowth

    from tcm_desktop.mining.engine import frequent_items

    n = len(baskets)
    columns = frequent_items(baskets, min_support)
    index = {item: k for k, item in enumerate(columns)}
    matrix = np.zeros((n, len(columns)), dtype=bool)
    for row, basket in enumerate(baskets):
        matrix[row, [index[i] for i in basket if i in index]] = True
    found = fpgrowth(
        pd.DataFrame(matrix, columns=columns), min_support=min_support, use_colnames=True, max_len=max_length
    )
    counts = {frozenset(s): round(float(p) * n) for s, p in zip(found["itemsets"], found["support"], strict=True)}
    table = association_rules(
        found, num_itemsets=n, metric="confidence", min_threshold=min_confidence, return_metrics=["confidence"]
    )
    return MinedBaskets(
        counts, [(frozenset(a), frozenset(c)) for a, c in zip(table["antecedents"], table["consequents"], strict=True)]
    )


MINERS: dict[str, tuple[BasketMiner, str]] = {
    "mlxtend apriori": (mlxtend_miner, "mlxtend 0.25 `apriori(low_memory=True)` + `association_rules`"),
    "efficient-apriori": (efficient_apriori_miner, "efficient-apriori 2.0 `apriori`"),
    "mlxtend fpgrowth": (mlxtend_fpgrowth_miner, "mlxtend 0.25 `fpgrowth` + `association_rules`"),
}
CANDIDATES = ("mlxtend apriori", "efficient-apriori")  # the two libraries the issue names


def synthetic_transactions(n: int, seed: int = 7) -> list[Transaction]:
    """``n`` clinic-like transactions (about 25 items each), deterministic by ``seed``."""
    rng = random.Random(seed)
    symptoms = [f"S{k:03d}" for k in range(400)]
    signs = [f"G{k:03d}" for k in range(100)]
    herbs = [f"H{k:03d}" for k in range(300)]
    tongue = [f"T{k:02d}" for k in range(20)]
    pulse = [f"P{k:02d}" for k in range(20)]
    syndromes = []
    for k in range(150):
        syndromes.append(
            (
                f"Y{k:03d}",
                rng.sample(symptoms, 4),
                rng.sample(tongue, 3),
                rng.sample(pulse, 2),
                rng.sample(herbs, rng.randint(8, 14)),
            )
        )
    weights = [1.0 / (k + 1) ** 0.9 for k in range(len(syndromes))]
    out = []
    for r in range(n):
        name, linked, tongue_cues, pulse_cues, formula = rng.choices(syndromes, weights)[0]
        items = {Item(ItemKind.SYNDROME, name)}
        items |= {Item(ItemKind.SYMPTOM, s) for s in linked if rng.random() < 0.6}
        items |= {Item(ItemKind.SYMPTOM, s) for s in rng.sample(symptoms, rng.randint(1, 4))}
        items |= {Item(ItemKind.SIGN, s) for s in rng.sample(signs, rng.randint(0, 3))}
        items |= {Item(ItemKind.TONGUE, rng.choice(tongue_cues if rng.random() < 0.8 else tongue)) for _ in range(3)}
        items |= {Item(ItemKind.PULSE, rng.choice(pulse_cues if rng.random() < 0.8 else pulse)) for _ in range(2)}
        items |= {Item(ItemKind.HERB, h) for h in formula if rng.random() < 0.9}
        items |= {Item(ItemKind.HERB, h) for h in rng.sample(herbs, rng.randint(0, 3))}
        out.append(Transaction(f"T{r:06d}", frozenset(items)))
    return out


@dataclass(frozen=True)
class Timing:
    library: str
    min_support: float
    min_confidence: float
    seconds: float
    itemsets: int
    rules: int
    same_as_first: bool


def _best(run: Callable[[], MinedBaskets], repeat: int) -> tuple[float, MinedBaskets]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return best, result


def time_libraries(transactions: Sequence[Transaction], names: Sequence[str], repeat: int = 1) -> list[Timing]:
    baskets = [t.keys() for t in transactions]
    timings = []
    for min_support, min_confidence in SETTINGS:
        reference: MinedBaskets | None = None
        for name in names:
            miner = MINERS[name][0]
            seconds, mined = _best(
                lambda m=miner, s=min_support, c=min_confidence: m(baskets, s, c, MAX_LENGTH), repeat
            )
            same = reference is None or (
                mined.itemsets == reference.itemsets and set(mined.rules) == set(reference.rules)
            )
            reference = reference or mined
            timings.append(
                Timing(name, min_support, min_confidence, seconds, len(mined.itemsets), len(mined.rules), same)
            )
            print(
                f"{name:18s} support {min_support:<5g} {seconds:7.2f} s  {len(mined.itemsets)} itemsets "
                f"{len(mined.rules)} rules  same={same}",
                flush=True,
            )
    return timings


def choose(timings: Sequence[Timing]) -> str:
    """The candidate with the smallest total time over the settings."""
    totals = {name: sum(t.seconds for t in timings if t.library == name) for name in CANDIDATES}
    return min(totals, key=totals.__getitem__)


def library_section(
    n: int, mean_items: float, repeat: int, timings: Sequence[Timing], end_to_end: float, rules_found: int, load: str
) -> str:
    chosen = choose(timings)
    rows = [
        f"| {t.library} | {t.min_support:g} | {t.min_confidence:g} | {t.seconds:.2f} | {t.itemsets} | {t.rules} | "
        f"{'yes' if t.same_as_first else '**no**'} |"
        for t in timings
    ]
    totals = {name: sum(t.seconds for t in timings if t.library == name) for name in CANDIDATES}
    other = next(name for name in CANDIDATES if name != chosen)
    ratio = totals[other] / totals[chosen] if totals[chosen] else float("nan")
    libraries = "; ".join(f"{name}: {MINERS[name][1]}" for name in dict.fromkeys(t.library for t in timings))
    return (
        "## Association mining: library choice\n\n"
        f"{n:,} synthetic clinic-like transactions ({mean_items:.1f} items on average: a syndrome, its linked "
        "symptoms, other symptoms and signs, tongue, pulse, the formula's herbs), itemsets of up to "
        f"{MAX_LENGTH} items, then rules; wall clock of the best of {repeat} run(s), one process, including "
        f"the one-hot encoding. {libraries}.\n\n"
        "| library | min support | min confidence | seconds | itemsets | rules | same itemsets and rules as the "
        "first row |\n|---|---:|---:|---:|---:|---:|---|\n" + "\n".join(rows) + "\n\n"
        f"**Chosen: {chosen}**, {ratio:.1f}x faster than {other} over these settings "
        f"({totals[chosen]:.1f} s vs {totals[other]:.1f} s). `tcm_desktop.mining.mine_rules` with it "
        f"(syndrome → symptom, support 0.01, confidence 0.5, the item-kind filter applied before mining) took "
        f"{end_to_end:.2f} s on the same {n:,} transactions and found {rules_found} rules. "
        f"Load average when the run started: {load}; absolute times move with other work on the machine, "
        "the ratio is what the choice rests on."
    )


def load_note() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def run(n: int, repeat: int, write: bool, with_fpgrowth: bool = False) -> str:
    load = load_note()
    started = time.perf_counter()
    transactions = synthetic_transactions(n)
    mean_items = sum(len(t.items) for t in transactions) / max(1, n)
    print(f"{n} synthetic transactions ({mean_items:.1f} items each) in {time.perf_counter() - started:.1f} s")
    names = [*CANDIDATES, *(["mlxtend fpgrowth"] if with_fpgrowth else [])]
    timings = time_libraries(transactions, names, repeat)
    query = RuleQuery(0.01, 0.5, 2, frozenset({ItemKind.SYNDROME}), frozenset({ItemKind.SYMPTOM}))
    started = time.perf_counter()
    result = mine_rules(transactions, query)
    end_to_end = time.perf_counter() - started
    body = library_section(n, mean_items, repeat, timings, end_to_end, len(result.rules), load)
    print(body)
    if write:
        update_section(SECTION, body)
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per library and setting (the best counts)")
    parser.add_argument("--fpgrowth", action="store_true", help="also time mlxtend's fpgrowth (slower than apriori)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    run(args.n, args.repeat, not args.no_write, args.fpgrowth)


if __name__ == "__main__":
    main()
