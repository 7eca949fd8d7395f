"""Dynamic Batch Pruning: every window once, batches under the memory budget, input order restored."""

from __future__ import annotations

import numpy as np
import pytest

from tcm_desktop.inference.batching import MB, Batch, DynamicBatcher, FixedBatcher, MemoryCost, restore_order
from tcm_desktop.inference.text_pipeline import crf_groups

COST = MemoryCost(per_char=32 * 1024, per_char_per_length=150)


def random_lengths(seed: int, n: int = 300) -> list[int]:
    rng = np.random.default_rng(seed)
    short = rng.integers(1, 60, size=n // 2)
    full = rng.choice([256, 256, 256, 200, 131], size=n - n // 2)
    lengths = np.concatenate([short, full])
    rng.shuffle(lengths)
    return [int(n) for n in lengths]


@pytest.mark.parametrize("seed", range(5))
def test_every_window_appears_exactly_once(seed: int) -> None:
    lengths = random_lengths(seed)
    batches = DynamicBatcher(64, COST).plan(lengths)
    flat = [i for b in batches for i in b.indices]
    assert sorted(flat) == list(range(len(lengths)))
    for batch in batches:
        assert batch.length == max(lengths[i] for i in batch.indices)  # padded to its own longest only


@pytest.mark.parametrize("budget_mb", [8, 64, 256])
def test_no_batch_exceeds_the_budget(budget_mb: float) -> None:
    lengths = random_lengths(1)
    batcher = DynamicBatcher(budget_mb, COST)
    batches = batcher.plan(lengths)
    for batch in batches:
        assert batcher.padded_bytes(batch) <= budget_mb * MB or len(batch) == 1
    short_rows = max(len(b) for b in batches if b.length < 60)
    long_rows = max(len(b) for b in batches if b.length == 256)
    assert short_rows > long_rows  # short windows share bigger batches
    # packed, not merely under budget: only the last batch may have room for another window
    assert all(len(b) == batcher.rows_for(b.length) for b in batches[:-1])


def test_a_window_over_the_budget_gets_a_batch_of_its_own() -> None:
    batcher = DynamicBatcher(1, COST)  # 1 MB: not even one 256-character window fits
    batches = batcher.plan([256, 10, 256, 3])
    assert [len(b) for b in batches if b.length == 256] == [1, 1]
    assert sorted(i for b in batches for i in b.indices) == [0, 1, 2, 3]


def test_max_rows_caps_batches() -> None:
    batches = DynamicBatcher(10_000, COST, max_rows=7).plan([5] * 30)
    assert max(len(b) for b in batches) == 7
    assert sum(len(b) for b in batches) == 30


def test_results_are_restored_to_input_order() -> None:
    lengths = random_lengths(3, 101)
    batches = DynamicBatcher(16, COST).plan(lengths)
    assert [i for b in batches for i in b.indices] != list(range(len(lengths)))  # the plan did reorder
    per_batch = [[f"window-{i}-len-{lengths[i]}" for i in b.indices] for b in batches]
    assert restore_order(batches, per_batch) == [f"window-{i}-len-{n}" for i, n in enumerate(lengths)]


def test_restore_order_refuses_mismatched_results() -> None:
    batches = DynamicBatcher(16, COST).plan([3, 4, 5])
    with pytest.raises(ValueError, match="came back"):
        restore_order(batches, [list(b.indices)[:-1] or [0, 0] for b in batches])


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="budget"):
        DynamicBatcher(0, COST)
    with pytest.raises(ValueError, match="negative"):
        DynamicBatcher(8, COST).plan([3, -1])
    with pytest.raises(ValueError, match="positive"):
        MemoryCost(per_char=0)


def test_the_fixed_batcher_of_the_dbp_ablation_keeps_reading_order_and_pads_to_the_window() -> None:
    batches = FixedBatcher(rows=2, length=8).plan([3, 8, 1, 5, 0])
    assert [(b.indices, b.length) for b in batches] == [((0, 1), 8), ((2, 3), 8), ((4,), 8)]
    assert FixedBatcher(rows=4, length=8).plan([]) == []
    with pytest.raises(ValueError, match="from 0 to 8"):
        FixedBatcher(rows=2, length=8).plan([9])
    with pytest.raises(ValueError, match="at least 1"):
        FixedBatcher(rows=0, length=8)


def test_crf_groups_gather_consecutive_batches_up_to_the_row_count() -> None:
    batches = [Batch(tuple(range(i * 10, i * 10 + n)), 256 - i) for i, n in enumerate([5, 5, 3, 8, 1])]
    groups = crf_groups(batches, 10)
    assert [[len(b) for b in g] for g in groups] == [[5, 5], [3, 8], [1]]
    assert [b for g in groups for b in g] == batches
    assert crf_groups([], 10) == []
    assert [len(g) for g in crf_groups(batches, 1)] == [1] * 5
