"""SIGKILL during save, import, batch structuring and retraining leaves a consistent state.

At least 50 kills in all (``TCM_KILLS_PER_KIND`` raises it for the report),
each at a seeded random moment of the work, each followed by the invariants
of :mod:`kill_harness`. POSIX only: SIGKILL is what a crash, the OOM killer or
a power cut looks like to the program (Windows has no SIGKILL; TerminateProcess
is the same thing and not tested here).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .kill_harness import run_kills
from .stats import kills_per_kind, record

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

# 14 + 14 + 12 + 12 = 52 kills in the default suite
DEFAULT_KILLS = {"annotation": 14, "import": 14, "structure": 12, "retrain": 12}
SEEDS = {"annotation": 101, "import": 202, "structure": 303, "retrain": 404}
TOTAL: dict[str, int] = {}


@pytest.mark.parametrize("kind", list(DEFAULT_KILLS))
def test_sigkill_at_random_moments_leaves_a_consistent_state(kind: str, tmp_path: Path) -> None:
    kills = kills_per_kind(DEFAULT_KILLS[kind])
    stats = run_kills(kind, kills, tmp_path / kind, SEEDS[kind])
    TOTAL[kind] = stats.kills
    record("kills", stats.as_dict())
    print(f"\n{kind}: {stats.as_dict()}")
    assert stats.kills == kills
    assert stats.committed > 0, "the driver never got any work done before its kills"


def test_at_least_fifty_kills_in_all() -> None:
    if len(TOTAL) < len(DEFAULT_KILLS):
        pytest.skip("run with the kill tests above")
    assert sum(TOTAL.values()) >= 50
