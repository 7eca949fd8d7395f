"""Figures the reliability tests measure, for ``scripts/reliability_report.py``.

The tests always count; when ``TCM_RELIABILITY_STATS`` names a file, the
counts are appended to it as JSON lines (one per test or fuzz target) so the
report script can quote what was actually run. ``TCM_KILLS_PER_KIND`` and
``TCM_FUZZ_SCALE`` make the runs longer than the default suite's.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

STATS_ENV = "TCM_RELIABILITY_STATS"
KILLS_ENV = "TCM_KILLS_PER_KIND"
FUZZ_SCALE_ENV = "TCM_FUZZ_SCALE"

# target -> outcome ("error": refused with a message, "ok": a safe result) -> examples
FUZZ_COUNTS: dict[str, Counter[str]] = {}


def _int_env(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, "")))
    except ValueError:
        return default


def kills_per_kind(default: int) -> int:
    return _int_env(KILLS_ENV, default)


def fuzz_examples(default: int) -> int:
    """``max_examples`` for a hypothesis fuzz test: the suite's default times ``TCM_FUZZ_SCALE``."""
    return default * _int_env(FUZZ_SCALE_ENV, 1)


def count_fuzz(target: str, outcome: str) -> None:
    FUZZ_COUNTS.setdefault(target, Counter())[outcome] += 1


def record(section: str, data: dict[str, Any]) -> None:
    """Append ``{"section": ..., **data}`` to the stats file, if one is named."""
    path = os.environ.get(STATS_ENV)
    if not path:
        return
    with Path(path).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"section": section, **data}, ensure_ascii=False) + "\n")


def flush_fuzz_counts() -> None:
    for target, outcomes in sorted(FUZZ_COUNTS.items()):
        record("fuzz", {"target": target, **dict(outcomes)})
    FUZZ_COUNTS.clear()
