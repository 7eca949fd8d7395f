"""Rules as text for a terminal: an aligned table (Chinese characters count two columns)."""

from __future__ import annotations

import unicodedata

from tcm_desktop.mining.rules import MiningResult, Rule

HEADINGS = ("#", "antecedent 前项", "consequent 后项", "support", "confidence", "lift", "records")


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


def _row(k: int, rule: Rule) -> tuple[str, ...]:
    return (
        str(k),
        "，".join(map(str, rule.antecedent)),
        "，".join(map(str, rule.consequent)),
        f"{rule.support:.4f}",
        f"{rule.confidence:.3f}",
        f"{rule.lift:.2f}",
        str(rule.count),
    )


def rules_table(result: MiningResult, limit: int | None = None) -> str:
    """The rules (strongest first, at most ``limit``) as an aligned table with a summary line."""
    q = result.query
    shown = result.rules if limit is None else result.rules[:limit]
    summary = (
        f"{len(result.rules)} rule(s) from {result.transactions} record(s) "
        f"(min support {q.min_support:g}, min confidence {q.min_confidence:g}, at most {q.max_length} items)"
    )
    if not shown:
        return summary
    rows = [HEADINGS, *(_row(k, r) for k, r in enumerate(shown, start=1))]
    widths = [max(display_width(row[c]) for row in rows) for c in range(len(HEADINGS))]
    numeric = {0, 3, 4, 5, 6}
    lines = ["  ".join(_pad(cell, widths[c], c in numeric) for c, cell in enumerate(row)).rstrip() for row in rows]
    if limit is not None and len(result.rules) > limit:
        summary += f"; showing the first {limit}"
    return "\n".join([summary, *lines])
