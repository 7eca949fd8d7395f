"""The frozen gold set: verified records set aside once to evaluate every retrained model, never trained on.

The first retraining freezes it (:meth:`GoldSetRepository.freeze`): a fixed
share of the verified records, chosen by a hash of their ids spread over the
specialties, so the same database always sets aside the same records. The
table refuses changes and deletions (migration 0002), so old and new models
are always compared on the same ground. :meth:`GoldSetRepository.training_ids`
is the one place that says which records a retraining may learn from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import zip_longest
from typing import TYPE_CHECKING

from tcm_desktop.domain import RecordStatus
from tcm_desktop.store.errors import StoreError
from tcm_desktop.store.rows import utc_now

if TYPE_CHECKING:
    from tcm_desktop.store.database import Database

GOLD_FRACTION = 0.2  # of the verified records when the set is frozen
MIN_GOLD_RECORDS = 2  # fewer cannot say anything about a model
MAX_GOLD_RECORDS = 200  # enough for stable micro scores; the rest is better spent on training
TRAINABLE = (RecordStatus.CORRECTED.value, RecordStatus.VERIFIED.value)


class GoldSetError(StoreError):
    """The gold set cannot be set aside (too few verified records)."""


def gold_set_size(verified: int, fraction: float = GOLD_FRACTION) -> int:
    """How many of ``verified`` records to set aside: the fraction, within the bounds; 0 when too few."""
    if verified < MIN_GOLD_RECORDS:
        return 0
    return min(verified, MAX_GOLD_RECORDS, max(MIN_GOLD_RECORDS, round(verified * fraction)))


def choose_gold_ids(candidates: Sequence[tuple[str, str]], size: int) -> list[str]:
    """``size`` ids of (id, specialty) candidates: each specialty's ids ranked by a hash of the id,
    taken in turn from every specialty so that each is represented. Deterministic."""
    by_specialty: dict[str, list[str]] = {}
    for record_id, specialty in candidates:
        by_specialty.setdefault(specialty, []).append(record_id)
    ranked = [sorted(ids, key=_rank) for _, ids in sorted(by_specialty.items())]
    chosen = [record_id for row in zip_longest(*ranked) for record_id in row if record_id is not None]
    return chosen[:size]


def _rank(record_id: str) -> str:
    return hashlib.sha256(f"tcm-gold-set\0{record_id}".encode()).hexdigest()


class GoldSetRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def ids(self) -> tuple[str, ...]:
        """The gold record ids in the order they were set aside (empty until frozen)."""
        return tuple(row[0] for row in self._db.conn.execute("SELECT record_id FROM gold_set ORDER BY rowid"))

    @property
    def is_frozen(self) -> bool:
        return self._db.conn.execute("SELECT 1 FROM gold_set LIMIT 1").fetchone() is not None

    def verified_count(self) -> int:
        return int(
            self._db.conn.execute(
                "SELECT count(*) FROM records WHERE status = ?", (RecordStatus.VERIFIED.value,)
            ).fetchone()[0]
        )

    def freeze(self, who: str, fraction: float = GOLD_FRACTION) -> tuple[str, ...]:
        """The gold ids, setting them aside first if that has not happened yet (audited).

        Raises :class:`GoldSetError` when there are fewer than
        ``MIN_GOLD_RECORDS`` verified records to set aside.
        """
        with self._db.transaction() as conn:
            existing = self.ids()
            if existing:
                return existing
            candidates = [
                (str(r[0]), str(r[1]))
                for r in conn.execute(
                    "SELECT id, specialty FROM records WHERE status = ? ORDER BY rowid", (RecordStatus.VERIFIED.value,)
                )
            ]
            size = gold_set_size(len(candidates), fraction)
            if size == 0:
                raise GoldSetError(
                    f"a gold set needs at least {MIN_GOLD_RECORDS} verified records; there are {len(candidates)}"
                )
            chosen = choose_gold_ids(candidates, size)
            now = utc_now()
            conn.executemany(
                "INSERT INTO gold_set (record_id, added_at, added_by) VALUES (?, ?, ?)",
                [(record_id, now, who) for record_id in chosen],
            )
            self._db.audit.append(who, "freeze_gold_set", None, None, {"records": chosen})
        return tuple(chosen)

    def training_ids(self) -> list[str]:
        """Corrected and verified records outside the gold set, in the order they were added:
        everything a retraining may learn from, and nothing else."""
        placeholders = ", ".join("?" for _ in TRAINABLE)
        rows = self._db.conn.execute(
            f"SELECT id FROM records WHERE status IN ({placeholders})"
            " AND id NOT IN (SELECT record_id FROM gold_set) ORDER BY rowid",
            TRAINABLE,
        )
        return [str(row[0]) for row in rows]
