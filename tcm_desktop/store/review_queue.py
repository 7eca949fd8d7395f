"""The active-learning queue: unreviewed records, those the model is least sure of first.

A record waits for review while its status is ``new`` or ``predicted``. Its
place in the queue comes from its latest stored prediction:

* the model's uncertainty (0..1, :mod:`tcm_desktop.inference.text_pipeline`);
* each text-image disagreement on a tongue attribute adds
  ``DISAGREEMENT_WEIGHT`` times the photo's probability: a confident photo
  that contradicts the text is a stronger reason to look than a moderately
  uncertain text;
* a photo the model could not use adds ``IMAGE_PROBLEM_WEIGHT``.

Records never predicted come last (nothing is known about them). Each entry
keeps *why* it ranks where it does, so the view can say so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tcm_desktop.domain import RecordStatus
from tcm_desktop.store.rows import from_json

if TYPE_CHECKING:
    from tcm_desktop.store.database import Database

DISAGREEMENT_WEIGHT = 0.5
IMAGE_PROBLEM_WEIGHT = 0.1
UNREVIEWED = (RecordStatus.NEW.value, RecordStatus.PREDICTED.value)

# The flag tongue_fusion.merge_tongue_attributes writes: "tongue_color: text 红, image 淡红 (0.82)".
_DISAGREEMENT = re.compile(r"^(?P<field>\w+): text (?P<text>.*), image (?P<image>.*) \((?P<p>[0-9.]+)\)$")
_IMAGE_PROBLEM = "image:"  # structuring: "image: <why the photo could not be used>"


@dataclass(frozen=True)
class Disagreement:
    """The text says one tongue attribute value, the photo another."""

    field: str  # form field, e.g. tongue_color
    text_value: str
    image_value: str
    probability: float  # of the photo's value


@dataclass(frozen=True)
class QueueEntry:
    """One record in the queue and why it is there."""

    record_id: str
    specialty: str
    status: RecordStatus
    score: float
    uncertainty: float | None  # None: the record was never predicted
    disagreements: tuple[Disagreement, ...] = ()
    image_problem: bool = False
    model_version: str | None = None

    @property
    def predicted(self) -> bool:
        return self.uncertainty is not None


def parse_flags(flags: Iterable[str]) -> tuple[tuple[Disagreement, ...], bool]:
    """The text-image disagreements among a prediction's flags, and whether a photo could not be used."""
    disagreements: list[Disagreement] = []
    image_problem = False
    for flag in flags:
        match = _DISAGREEMENT.match(str(flag))
        if match:
            disagreements.append(Disagreement(match["field"], match["text"], match["image"], _number(match["p"])))
        elif str(flag).startswith(_IMAGE_PROBLEM):
            image_problem = True
    return tuple(disagreements), image_problem


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def queue_score(uncertainty: float | None, disagreements: Sequence[Disagreement], image_problem: bool) -> float:
    """How urgently a record needs a person (higher first); see the module docstring."""
    score = float(uncertainty or 0.0)
    score += DISAGREEMENT_WEIGHT * sum(min(max(d.probability, 0.0), 1.0) for d in disagreements)
    return score + (IMAGE_PROBLEM_WEIGHT if image_problem else 0.0)


def queue_entry(
    record_id: str,
    specialty: str,
    status: RecordStatus | str,
    uncertainty: float | None,
    flags: Iterable[str] = (),
    model_version: str | None = None,
) -> QueueEntry:
    disagreements, image_problem = parse_flags(flags)
    return QueueEntry(
        record_id=record_id,
        specialty=specialty,
        status=RecordStatus(status),
        score=queue_score(uncertainty, disagreements, image_problem),
        uncertainty=None if uncertainty is None else float(uncertainty),
        disagreements=disagreements,
        image_problem=image_problem,
        model_version=model_version,
    )


def order_queue(entries: Iterable[QueueEntry]) -> list[QueueEntry]:
    """Highest score first; never-predicted records last; ties by record id."""
    return sorted(entries, key=lambda e: (not e.predicted, -e.score, e.record_id))


class ReviewQueue:
    """The queue over one database (read only)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def entries(self, limit: int | None = None) -> list[QueueEntry]:
        """Unreviewed records outside the gold set, in queue order; at most ``limit``."""
        placeholders = ", ".join("?" for _ in UNREVIEWED)
        rows = self._db.conn.execute(
            "SELECT r.id, r.specialty, r.status, p.uncertainty, p.flags_json, p.model_version FROM records r"
            " LEFT JOIN predictions p ON p.id = (SELECT max(q.id) FROM predictions q WHERE q.record_id = r.id)"
            f" WHERE r.status IN ({placeholders}) AND r.id NOT IN (SELECT record_id FROM gold_set)",
            UNREVIEWED,
        )
        entries = [
            queue_entry(rid, specialty, status, uncertainty, from_json(flags) or (), version)
            for rid, specialty, status, uncertainty, flags, version in rows
        ]
        ordered = order_queue(entries)
        return ordered if limit is None else ordered[: max(0, int(limit))]
