"""Hand-made records and transactions for the mining tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tcm_desktop.domain import Span
from tcm_desktop.mining import Item, ItemKind, Transaction


def written(*pieces: str | tuple[str, str]) -> tuple[str, tuple[Span, ...]]:
    """Text and spans from pieces: plain text, or (text, LABEL) for a span."""
    text, spans = "", []
    for piece in pieces:
        if isinstance(piece, tuple):
            words, label = piece
            spans.append(Span(len(text), len(text) + len(words), label, words))
            text += words
        else:
            text += piece
    return text, tuple(spans)


def transaction(record_id: str, *keys: str) -> Transaction:
    """A transaction from ``kind=value`` keys (``syndrome=A``, ``symptom=x``)."""
    return Transaction(record_id, frozenset(Item.from_key(k) for k in keys))


def keys(items: Iterable[Item]) -> list[str]:
    return sorted(i.key for i in items)


def rule_keys(rules: Sequence[object]) -> list[tuple[list[str], list[str]]]:
    return [(keys(r.antecedent), keys(r.consequent)) for r in rules]  # type: ignore[attr-defined]


SYNDROME, SYMPTOM = ItemKind.SYNDROME, ItemKind.SYMPTOM
