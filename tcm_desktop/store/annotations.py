"""Final annotations (what the clinician settled on) and the corrections they imply.

Saving an annotation replaces the record's final spans and form, stores the
diff against the latest prediction as a :class:`Correction` (the training
signal), appends an audit entry and moves the record to ``corrected`` or
``verified`` -- all in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tcm_desktop.domain import Prediction, Record, RecordStatus, SetBy, Span
from tcm_desktop.store.errors import InvalidRecordError, RecordNotFoundError, StoreError
from tcm_desktop.store.rows import annotation_dict, from_json, span_from_row, store_problems, to_json, utc_now

if TYPE_CHECKING:
    from tcm_desktop.store.database import Database

Annotation = tuple[tuple[Span, ...], dict[str, Any], dict[str, tuple[int, ...]]]


@dataclass(frozen=True)
class Correction:
    """How a saved annotation differs from what it was compared with.

    ``base`` says what that was: ``prediction`` (the latest prediction, the
    usual case), ``annotation`` (no prediction; the previous final
    annotation, e.g. imported gold) or ``none`` (nothing before). Spans are
    matched by offsets: same offsets and another label is a relabel, a span
    whose offsets changed is one removal plus one addition.
    ``form_changed`` maps a field to (before, after); a field absent on one
    side reads as None.
    """

    id: int
    record_id: str
    audit_id: int
    prediction_id: int | None
    model_version: str | None
    base: str
    at: str
    who: str
    spans_added: tuple[Span, ...] = ()
    spans_removed: tuple[Span, ...] = ()
    spans_relabelled: tuple[tuple[Span, Span], ...] = ()  # (before, after)
    form_changed: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.spans_added or self.spans_removed or self.spans_relabelled or self.form_changed)


@dataclass(frozen=True)
class _Detailed:
    spans: tuple[Span, ...]
    span_set_by: tuple[SetBy, ...]
    form: dict[str, Any]
    form_set_by: dict[str, SetBy]
    evidence: dict[str, tuple[int, ...]]


def write_annotation(
    conn: sqlite3.Connection,
    record_id: str,
    spans: Sequence[Span],
    form: Mapping[str, Any],
    form_evidence: Mapping[str, Sequence[int]],
    span_set_by: Sequence[SetBy],
    form_set_by: Mapping[str, SetBy],
    who: str,
    at: str,
) -> None:
    """Replace the final annotation rows of ``record_id`` (call inside a transaction)."""
    conn.execute("DELETE FROM annotations WHERE record_id = ?", (record_id,))
    conn.execute("INSERT INTO annotations (record_id, updated_at, updated_by) VALUES (?, ?, ?)", (record_id, at, who))
    conn.executemany(
        'INSERT INTO annotation_spans (record_id, idx, start, "end", label, text, confidence, set_by)'
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (record_id, i, s.start, s.end, s.label, s.text, s.confidence, SetBy(span_set_by[i]).value)
            for i, s in enumerate(spans)
        ],
    )
    conn.executemany(
        "INSERT INTO annotation_form (record_id, pos, field, value_json, evidence_json, set_by)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                record_id,
                pos,
                name,
                to_json(value),
                to_json(list(form_evidence[name])) if name in form_evidence else None,
                SetBy(form_set_by.get(name, SetBy.USER)).value,
            )
            for pos, (name, value) in enumerate(form.items())
        ],
    )


def _span_key(span: Span) -> tuple[int, int]:
    return span.start, span.end


def diff_annotations(
    before_spans: Sequence[Span],
    before_form: Mapping[str, Any],
    after_spans: Sequence[Span],
    after_form: Mapping[str, Any],
) -> dict[str, Any]:
    """The correction diff as JSON-able data (see :class:`Correction`)."""
    before_by_key = {_span_key(s): s for s in before_spans}
    after_by_key = {_span_key(s): s for s in after_spans}
    added = [s for k, s in after_by_key.items() if k not in before_by_key]
    removed = [s for k, s in before_by_key.items() if k not in after_by_key]
    relabelled = [
        (before_by_key[k], s)
        for k, s in after_by_key.items()
        if k in before_by_key and before_by_key[k].label != s.label
    ]
    changed: dict[str, dict[str, Any]] = {}
    for name in [*before_form, *(n for n in after_form if n not in before_form)]:
        old, new = before_form.get(name), after_form.get(name)
        if old != new:
            changed[name] = {"before": old, "after": new}
    return {
        "spans_added": [s.to_dict() for s in sorted(added)],
        "spans_removed": [s.to_dict() for s in sorted(removed)],
        "spans_relabelled": [{"before": b.to_dict(), "after": a.to_dict()} for b, a in sorted(relabelled)],
        "form_changed": changed,
    }


class AnnotationRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save(
        self,
        record_id: str,
        spans: Sequence[Span],
        form: Mapping[str, Any],
        who: str,
        form_evidence: Mapping[str, Sequence[int]] | None = None,
        set_by: Mapping[str, SetBy] | None = None,
        verify: bool = False,
    ) -> int:
        """Save the clinician's final annotation; returns the audit entry id.

        The annotation is checked with ``record_problems`` first
        (:class:`InvalidRecordError` listing every problem, nothing written).
        ``form`` is stored exactly as given (no defaults are filled in).
        ``set_by`` may name form fields and spans (``"spans[3]"``); anything
        not named keeps who set it if it is unchanged from the latest
        prediction (``model``) or the previous annotation (its ``set_by``),
        and is ``user`` otherwise. ``verify`` marks the record verified
        instead of corrected. Everything -- annotation, correction diff, audit
        entry, status -- is written in one transaction or not at all; a database
        failure is raised as :class:`StoreError`.
        """
        evidence = {k: tuple(int(i) for i in v) for k, v in (form_evidence or {}).items()}
        spans = tuple(spans)
        form = dict(form)
        row = self._db.conn.execute("SELECT specialty, text FROM records WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            raise RecordNotFoundError(record_id)
        problems = store_problems(Record(record_id, row[0], row[1], None, spans, form, evidence))
        if problems:
            raise InvalidRecordError(record_id, problems)
        explicit = dict(set_by or {})
        try:
            return self._write(record_id, spans, form, evidence, explicit, who, verify)
        except sqlite3.Error as exc:  # the transaction has rolled back: nothing of the save is kept
            raise StoreError(f"could not save the annotation of {record_id}: {exc}") from exc

    def _write(
        self,
        record_id: str,
        spans: tuple[Span, ...],
        form: dict[str, Any],
        evidence: dict[str, tuple[int, ...]],
        explicit: dict[str, SetBy],
        who: str,
        verify: bool,
    ) -> int:
        with self._db.transaction() as conn:
            previous = self._detailed(record_id)
            latest = self._db.predictions.latest_with_id(record_id)
            prediction = latest[1] if latest else None
            span_set_by = _span_owners(spans, explicit, prediction, previous)
            form_set_by = _form_owners(form, explicit, prediction, previous)
            now = utc_now()
            write_annotation(conn, record_id, spans, form, evidence, span_set_by, form_set_by, who, now)
            if prediction is not None:
                base = "prediction"
                base_spans, base_form = prediction.spans, {v.field: v.value for v in prediction.form}
            elif previous is not None:
                base, base_spans, base_form = "annotation", previous.spans, previous.form
            else:
                base, base_spans, base_form = "none", (), {}
            before = annotation_dict(previous.spans, previous.form, previous.evidence) if previous else None
            after = annotation_dict(spans, form, evidence)
            model_version = prediction.model_version if prediction else None
            status = RecordStatus.VERIFIED if verify else RecordStatus.CORRECTED
            audit_id = self._db.audit.append(
                who, "verify" if verify else "save", record_id, before, after, model_version
            )
            conn.execute(
                "INSERT INTO corrections (record_id, audit_id, prediction_id, model_version, base, at, who, diff_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record_id,
                    audit_id,
                    latest[0] if latest else None,
                    model_version,
                    base,
                    now,
                    who,
                    to_json(diff_annotations(base_spans, base_form, spans, form)),
                ),
            )
            conn.execute("UPDATE records SET status = ?, updated_at = ? WHERE id = ?", (status.value, now, record_id))
        return audit_id

    def current(self, record_id: str) -> Annotation | None:
        """(spans, form, form_evidence) of the final annotation, or None if the record has none."""
        detailed = self._detailed(record_id)
        if detailed is None:
            return None
        return detailed.spans, detailed.form, detailed.evidence

    def set_by(self, record_id: str) -> tuple[tuple[SetBy, ...], dict[str, SetBy]] | None:
        """Who set each span (in order) and each form field of the final annotation."""
        detailed = self._detailed(record_id)
        return None if detailed is None else (detailed.span_set_by, detailed.form_set_by)

    def _detailed(self, record_id: str) -> _Detailed | None:
        conn = self._db.conn
        if conn.execute("SELECT 1 FROM annotations WHERE record_id = ?", (record_id,)).fetchone() is None:
            return None
        span_rows = conn.execute(
            'SELECT start, "end", label, text, confidence, set_by FROM annotation_spans'
            " WHERE record_id = ? ORDER BY idx",
            (record_id,),
        ).fetchall()
        form_rows = conn.execute(
            "SELECT field, value_json, evidence_json, set_by FROM annotation_form WHERE record_id = ? ORDER BY pos",
            (record_id,),
        ).fetchall()
        return _Detailed(
            spans=tuple(span_from_row(r) for r in span_rows),
            span_set_by=tuple(SetBy(r[5]) for r in span_rows),
            form={r[0]: from_json(r[1]) for r in form_rows},
            form_set_by={r[0]: SetBy(r[3]) for r in form_rows},
            evidence={r[0]: tuple(from_json(r[2])) for r in form_rows if r[2] is not None},
        )

    def corrections(self, record_id: str | None = None) -> list[Correction]:
        """Stored correction diffs, oldest first (for one record or all)."""
        sql = "SELECT id, record_id, audit_id, prediction_id, model_version, base, at, who, diff_json FROM corrections"
        params: tuple[Any, ...] = ()
        if record_id is not None:
            sql += " WHERE record_id = ?"
            params = (record_id,)
        out: list[Correction] = []
        for row in self._db.conn.execute(sql + " ORDER BY id", params):
            diff = from_json(row[8])
            out.append(
                Correction(
                    *row[:8],
                    spans_added=tuple(Span.from_dict(s) for s in diff["spans_added"]),
                    spans_removed=tuple(Span.from_dict(s) for s in diff["spans_removed"]),
                    spans_relabelled=tuple(
                        (Span.from_dict(p["before"]), Span.from_dict(p["after"])) for p in diff["spans_relabelled"]
                    ),
                    form_changed={k: (v["before"], v["after"]) for k, v in diff["form_changed"].items()},
                )
            )
        return out


def _span_owners(
    spans: Sequence[Span], explicit: Mapping[str, SetBy], prediction: Prediction | None, previous: _Detailed | None
) -> list[SetBy]:
    predicted = {(s.start, s.end, s.label) for s in prediction.spans} if prediction else set()
    earlier = (
        {(s.start, s.end, s.label): who for s, who in zip(previous.spans, previous.span_set_by, strict=True)}
        if previous
        else {}
    )
    owners: list[SetBy] = []
    for i, span in enumerate(spans):
        key = (span.start, span.end, span.label)
        given = explicit.get(f"spans[{i}]")
        if given is not None:
            owners.append(SetBy(given))
        elif key in earlier:
            owners.append(earlier[key])
        elif key in predicted:
            owners.append(SetBy.MODEL)
        else:
            owners.append(SetBy.USER)
    return owners


def _form_owners(
    form: Mapping[str, Any], explicit: Mapping[str, SetBy], prediction: Prediction | None, previous: _Detailed | None
) -> dict[str, SetBy]:
    predicted = {v.field: (v.value, v.set_by) for v in prediction.form} if prediction else {}
    owners: dict[str, SetBy] = {}
    for name, value in form.items():
        if name in explicit:
            owners[name] = SetBy(explicit[name])
        elif previous is not None and name in previous.form and previous.form[name] == value:
            owners[name] = previous.form_set_by[name]
        elif name in predicted and predicted[name][0] == value:
            owners[name] = SetBy(predicted[name][1])
        else:
            owners[name] = SetBy.USER
    return owners
