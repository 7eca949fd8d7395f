"""Model predictions: spans with confidences, form values with evidence, uncertainty, tongue attributes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tcm_desktop.domain import FormValue, Prediction, RecordStatus, SetBy
from tcm_desktop.store.errors import InvalidRecordError, RecordNotFoundError
from tcm_desktop.store.rows import from_json, span_from_row, to_json, utc_now

if TYPE_CHECKING:
    from tcm_desktop.store.database import Database


def prediction_dict(prediction: Prediction) -> dict[str, Any]:
    """The JSON-able form of a prediction (as the audit log stores it)."""
    return {
        "model_version": prediction.model_version,
        "spans": [s.to_dict() for s in prediction.spans],
        "form": [
            {"field": v.field, "value": v.value, "evidence": list(v.evidence), "set_by": SetBy(v.set_by).value}
            for v in prediction.form
        ],
        "uncertainty": prediction.uncertainty,
        "tongue": {k: dict(v) for k, v in prediction.tongue.items()},
        "flags": list(prediction.flags),
    }


class PredictionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, prediction: Prediction, who: str = "model") -> int:
        """Store a prediction; a ``new`` record becomes ``predicted``. Returns the prediction id.

        Spans must lie inside the record text and match it (InvalidRecordError
        otherwise); the model's labels and boundaries are stored as they are.
        """
        conn = self._db.conn
        row = conn.execute("SELECT text, status FROM records WHERE id = ?", (prediction.record_id,)).fetchone()
        if row is None:
            raise RecordNotFoundError(prediction.record_id)
        text, status = row
        problems = [
            f"spans[{i}]: {s.text!r} at {s.start}..{s.end} does not match the text"
            for i, s in enumerate(prediction.spans)
            if not (0 <= s.start < s.end <= len(text)) or text[s.start : s.end] != s.text
        ]
        problems += [
            f"form.{v.field}: evidence points at a span that does not exist"
            for v in prediction.form
            if any(not 0 <= i < len(prediction.spans) for i in v.evidence)
        ]
        if problems:
            raise InvalidRecordError(prediction.record_id, problems)
        now = utc_now()
        with self._db.transaction():
            cursor = conn.execute(
                "INSERT INTO predictions (record_id, model_version, created_at, uncertainty, tongue_json, flags_json)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    prediction.record_id,
                    prediction.model_version,
                    now,
                    float(prediction.uncertainty),
                    to_json({k: dict(v) for k, v in prediction.tongue.items()}),
                    to_json(list(prediction.flags)),
                ),
            )
            prediction_id = int(cursor.lastrowid or 0)
            conn.executemany(
                'INSERT INTO prediction_spans (prediction_id, idx, start, "end", label, text, confidence)'
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (prediction_id, i, s.start, s.end, s.label, s.text, s.confidence)
                    for i, s in enumerate(prediction.spans)
                ],
            )
            conn.executemany(
                "INSERT INTO prediction_form (prediction_id, pos, field, value_json, evidence_json, set_by)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (prediction_id, pos, v.field, to_json(v.value), to_json(list(v.evidence)), SetBy(v.set_by).value)
                    for pos, v in enumerate(prediction.form)
                ],
            )
            new_status = RecordStatus.PREDICTED.value if status == RecordStatus.NEW.value else status
            conn.execute(
                "UPDATE records SET uncertainty = ?, status = ?, updated_at = ? WHERE id = ?",
                (float(prediction.uncertainty), new_status, now, prediction.record_id),
            )
            after = prediction_dict(prediction)
            after["prediction_id"] = prediction_id
            self._db.audit.append(who, "predict", prediction.record_id, None, after, prediction.model_version)
        return prediction_id

    def latest(self, record_id: str, model_version: str | None = None) -> Prediction | None:
        """The most recent prediction for the record (by one model version if given), or None."""
        found = self.latest_with_id(record_id, model_version)
        return None if found is None else found[1]

    def latest_with_id(self, record_id: str, model_version: str | None = None) -> tuple[int, Prediction] | None:
        sql = "SELECT id, model_version, uncertainty, tongue_json, flags_json FROM predictions WHERE record_id = ?"
        params: list[Any] = [record_id]
        if model_version is not None:
            sql += " AND model_version = ?"
            params.append(model_version)
        row = self._db.conn.execute(sql + " ORDER BY id DESC LIMIT 1", params).fetchone()
        if row is None:
            return None
        prediction_id, version, uncertainty, tongue_json, flags_json = row
        return prediction_id, self._load(prediction_id, record_id, version, uncertainty, tongue_json, flags_json)

    def awaiting(self, model_version: str, statuses: Sequence[RecordStatus]) -> list[str]:
        """Ids (in order) of the records in ``statuses`` with no prediction of ``model_version``: one query."""
        marks = ", ".join("?" for _ in statuses)
        sql = (
            f"SELECT r.id FROM records r WHERE r.status IN ({marks}) AND NOT EXISTS"
            " (SELECT 1 FROM predictions p WHERE p.record_id = r.id AND p.model_version = ?) ORDER BY r.id"
        )
        params = [RecordStatus(s).value for s in statuses] + [model_version]
        return [row[0] for row in self._db.conn.execute(sql, params)]

    def _load(
        self, prediction_id: int, record_id: str, version: str, uncertainty: float, tongue_json: str, flags_json: str
    ) -> Prediction:
        conn = self._db.conn
        spans = tuple(
            span_from_row(r)
            for r in conn.execute(
                'SELECT start, "end", label, text, confidence FROM prediction_spans'
                " WHERE prediction_id = ? ORDER BY idx",
                (prediction_id,),
            )
        )
        form = tuple(
            FormValue(r[0], from_json(r[1]), tuple(from_json(r[2])), SetBy(r[3]))
            for r in conn.execute(
                "SELECT field, value_json, evidence_json, set_by FROM prediction_form"
                " WHERE prediction_id = ? ORDER BY pos",
                (prediction_id,),
            )
        )
        return Prediction(
            record_id=record_id,
            model_version=version,
            spans=spans,
            form=form,
            uncertainty=float(uncertainty),
            tongue=from_json(tongue_json),
            flags=tuple(from_json(flags_json)),
        )

    def count(self, record_id: str | None = None) -> int:
        if record_id is None:
            return int(self._db.conn.execute("SELECT count(*) FROM predictions").fetchone()[0])
        return int(
            self._db.conn.execute("SELECT count(*) FROM predictions WHERE record_id = ?", (record_id,)).fetchone()[0]
        )
