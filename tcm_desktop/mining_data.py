"""What the miner reads from a database: transactions and statistics, per record source.

The glue between the store (records, annotations, predictions, corrections),
the structuring rules (which spans a record asserts: a negated mention
(无发热, 发热：否), a past-history one (既往史) or a resolved one (便血已止)
is not a present symptom; surface forms normalised to the curated term) and
the pure :mod:`tcm_desktop.mining`. Used by ``tcm rules`` and the rules dialog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any

from tcm_desktop.domain import RecordStatus, Span
from tcm_desktop.inference.form_context import FormContext
from tcm_desktop.inference.form_vocab import default_rule_book, default_term_index
from tcm_desktop.mining.items import Findings, Transaction, transaction_from_findings
from tcm_desktop.mining.statistics import Period, ReviewEvent, Statistics, correction_rates, entity_counts
from tcm_desktop.store import Database

SYMPTOM, SIGN, BODY_PART = "SYM", "SIGN", "BODY_PART"
Progress = Callable[[int, int], None]


class RecordSource(StrEnum):
    """Which records, and which of their annotations, the miner reads."""

    VERIFIED = "verified"  # the final annotation of records a clinician marked verified
    ANNOTATED = "annotated"  # every record's current annotation: final if saved, else the imported one
    PREDICTED = "predicted"  # the latest model prediction of every record that has one

    @property
    def zh(self) -> str:
        return {"verified": "已审核记录", "annotated": "全部已标注记录", "predicted": "模型预测"}[self.value]


def normalise_term(label: str, text: str) -> str:
    """The curated term for a surface form (肝气郁结证 -> 肝郁气滞证); unknown text stays as written."""
    return default_term_index().get((label, text), text)


def asserted_findings(text: str, spans: Sequence[Span], labels: Sequence[str]) -> dict[str, list[str]]:
    """Label -> texts of the spans the record asserts for now, in text order, each once.

    Left out: spans a NEGATION cue negates (before: 无发热, 无恶寒、发热; after:
    发热：否, 恶心、呕吐均无), spans in sections the form's list fields skip
    (past history, differential diagnosis) and findings a change word resolves
    (便血已止). A site written right before a finding (颈项 + 强痛, which the
    schema tags as two spans) is joined back when the whole is a known term
    of the finding's category (颈项强痛).
    """
    book = default_rule_book()
    context = FormContext(text, spans, book)
    skipped = book.excluded_sections("default")
    out: dict[str, list[str]] = {label: [] for label in labels}
    for i in context.indices(labels):
        if context.negation_cue(i) is not None or context.in_kinds(i, skipped) or context.resolved_by(i) is not None:
            continue
        found = out[spans[i].label]
        term = _with_site(context, i)
        if term not in found:
            found.append(term)
    return out


def _with_site(context: FormContext, i: int) -> str:
    """The span's text, or BODY_PART + it when they touch and together make a known term."""
    span = context.spans[i]
    j = context.previous(i)
    if j is not None:
        site = context.spans[j]
        whole = site.text + span.text
        if site.label == BODY_PART and site.end == span.start and (span.label, whole) in default_term_index():
            return whole
    return span.text


def findings_of(record_id: str, text: str, spans: Sequence[Span], form: Mapping[str, Any]) -> Findings:
    found = asserted_findings(text, spans, (SYMPTOM, SIGN))
    return Findings(record_id, dict(form), tuple(found[SYMPTOM]), tuple(found[SIGN]))


def transaction_of(record_id: str, text: str, spans: Sequence[Span], form: Mapping[str, Any]) -> Transaction:
    """One record's transaction: its form's items plus the symptoms and signs it asserts, normalised."""
    return transaction_from_findings(findings_of(record_id, text, spans, form), normalise_term)


def _annotations(db: Database, source: RecordSource) -> Iterator[tuple[str, str, tuple[Span, ...], Mapping[str, Any]]]:
    """(id, text, spans, form) of each record the source covers, in the order records were added."""
    source = RecordSource(source)
    if source is RecordSource.VERIFIED:
        verified = {s.id for s in db.records.list(status=RecordStatus.VERIFIED)}
        ids = [i for i in db.records.ids() if i in verified]
    else:
        ids = db.records.ids()
    for record_id in ids:
        if source is RecordSource.PREDICTED:
            prediction = db.predictions.latest(record_id)
            if prediction is None:
                continue
            text = db.records.get(record_id).record.text
            yield record_id, text, prediction.spans, {v.field: v.value for v in prediction.form}
            continue
        record = db.records.get(record_id).record
        if source is RecordSource.ANNOTATED and not record.spans and not record.form:
            continue  # never annotated: nothing to mine
        yield record_id, record.text, record.spans, record.form


def load_transactions(db: Database, source: RecordSource, on_progress: Progress | None = None) -> list[Transaction]:
    """The transactions of every record ``source`` covers."""
    rows = list(_annotations(db, source))
    out = []
    for k, (record_id, text, spans, form) in enumerate(rows, start=1):
        out.append(transaction_of(record_id, text, spans, form))
        if on_progress is not None and (k % 200 == 0 or k == len(rows)):
            on_progress(k, len(rows))
    return out


def review_events(db: Database) -> list[ReviewEvent]:
    """Each saved review of a model prediction: its model version, when, and whether it changed anything."""
    return [
        ReviewEvent(c.model_version, c.at, not c.is_empty)
        for c in db.annotations.corrections()
        if c.base == "prediction" and c.model_version is not None
    ]


def load_statistics(db: Database, source: RecordSource, period: Period = Period.WEEK) -> Statistics:
    """Entity counts over ``source``'s records, span confidences of the latest predictions by model
    version, and the correction rate per model version and ``period``."""
    labels: list[str] = []
    records = 0
    for _, _, spans, _ in _annotations(db, source):
        records += 1
        labels += [s.label for s in spans]
    confidences: dict[str, list[float]] = {}
    for record_id in db.records.ids():
        prediction = db.predictions.latest(record_id)
        if prediction is not None:
            values = [s.confidence for s in prediction.spans if s.confidence is not None]
            confidences.setdefault(prediction.model_version, []).extend(values)
    return Statistics(
        entity_counts=entity_counts(labels),
        confidences=confidences,
        correction_rates=correction_rates(review_events(db), period),
        records=records,
    )
