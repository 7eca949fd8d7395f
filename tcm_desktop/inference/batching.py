"""Dynamic Batch Pruning: batches of similar-length windows sized to a memory budget.

Windows are sorted by length (longest first), so each batch is padded only
to its own longest window, and a batch takes windows while its padded size
``rows * length * cost_per_char(length)`` stays under the budget: many short
windows share a batch, long ones go a few at a time, and peak memory does
not depend on how many windows or how long the records are. Results come
back per batch and :func:`restore_order` puts them back in input order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

MB = 1024 * 1024


@dataclass(frozen=True)
class MemoryCost:
    """Bytes one character of a padded batch costs at inference.

    ``per_char`` covers the activations that grow with the number of
    characters (hidden states, feed-forward, LSTM, CRF tables);
    ``per_char_per_length`` the ones that also grow with the padded length
    (self-attention scores, ``heads * length`` per character).
    """

    per_char: float
    per_char_per_length: float = 0.0

    def __post_init__(self) -> None:
        if self.per_char <= 0 or self.per_char_per_length < 0:
            raise ValueError(f"memory costs must be positive, got {self}")

    def batch_bytes(self, rows: int, length: int) -> float:
        """Estimated peak bytes of one batch of ``rows`` windows padded to ``length``."""
        return rows * length * (self.per_char + self.per_char_per_length * length)


@dataclass(frozen=True)
class Batch:
    """Indices of the windows in one batch (longest first) and the padded length."""

    indices: tuple[int, ...]
    length: int

    def __len__(self) -> int:
        return len(self.indices)


class DynamicBatcher:
    """Plans batches of window indices under ``memory_budget_mb``.

    ``max_rows`` caps a batch's size whatever the budget (None: no cap).
    A window too long to fit the budget even alone gets a batch of its own.
    """

    def __init__(self, memory_budget_mb: float, cost: MemoryCost, max_rows: int | None = None) -> None:
        if memory_budget_mb <= 0:
            raise ValueError(f"the memory budget must be positive, got {memory_budget_mb} MB")
        if max_rows is not None and max_rows < 1:
            raise ValueError(f"max_rows must be at least 1, got {max_rows}")
        self.budget_bytes = float(memory_budget_mb) * MB
        self.cost = cost
        self.max_rows = max_rows

    def rows_for(self, length: int) -> int:
        """How many windows of ``length`` fit one batch (at least 1)."""
        if length <= 0:
            return self.max_rows or 1 << 30
        per_row = self.cost.batch_bytes(1, length)
        rows = max(1, int(self.budget_bytes // per_row))
        return min(rows, self.max_rows) if self.max_rows else rows

    def plan(self, lengths: Sequence[int]) -> list[Batch]:
        """Batches covering every index of ``lengths`` exactly once, longest windows first.

        Ties keep input order, so the plan is deterministic.
        """
        if any(n < 0 for n in lengths):
            raise ValueError("window lengths cannot be negative")
        order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
        batches: list[Batch] = []
        position = 0
        while position < len(order):
            longest = lengths[order[position]]
            take = self.rows_for(longest)
            chosen = tuple(order[position : position + take])
            batches.append(Batch(chosen, longest))
            position += len(chosen)
        return batches

    def padded_bytes(self, batch: Batch) -> float:
        return self.cost.batch_bytes(len(batch), batch.length)


class FixedBatcher:
    """The ablation without Dynamic Batch Pruning (-DBP): ``rows`` windows a batch in input order,
    each padded to the full window ``length``, whatever their lengths and the memory they take."""

    def __init__(self, rows: int, length: int) -> None:
        if rows < 1 or length < 1:
            raise ValueError(f"rows and length must be at least 1, got {rows} and {length}")
        self.rows = rows
        self.length = length

    def plan(self, lengths: Sequence[int]) -> list[Batch]:
        if any(n < 0 or n > self.length for n in lengths):
            raise ValueError(f"window lengths must be from 0 to {self.length}")
        indices = range(len(lengths))
        return [Batch(tuple(indices[i : i + self.rows]), self.length) for i in range(0, len(lengths), self.rows)]


def restore_order(batches: Sequence[Batch], results: Sequence[Sequence[T]]) -> list[T]:
    """Per-window results in input order, from per-batch results aligned with each batch's indices."""
    if len(batches) != len(results):
        raise ValueError(f"{len(results)} result lists for {len(batches)} batches")
    total = sum(len(b) for b in batches)
    out: list[T | None] = [None] * total
    filled = [False] * total
    for batch, found in zip(batches, results, strict=True):
        if len(found) != len(batch):
            raise ValueError(f"a batch of {len(batch)} windows came back with {len(found)} results")
        for index, value in zip(batch.indices, found, strict=True):
            if filled[index]:
                raise ValueError(f"window {index} is in more than one batch")
            filled[index] = True
            out[index] = value
    return out  # type: ignore[return-value]  # every slot was filled exactly once above
