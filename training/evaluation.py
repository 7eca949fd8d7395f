"""Strict span scores and form-field accuracy of predicted records against gold records.

Pure Python (no torch), so ``tcm evaluate`` runs anywhere. A predicted span
counts only when its (start, end, label) equals a gold span's; a partial
overlap is one false positive and one false negative, and so is a right span
with the wrong label.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tcm_desktop.domain import FieldType, Record, RecordError, TcmError, default_schema

SpanKey = tuple[int, int, str]


class EvaluationError(TcmError):
    """The gold or predicted records cannot be read or compared."""


@dataclass(frozen=True)
class Scores:
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float

    @classmethod
    def from_counts(cls, tp: int, fp: int, fn: int) -> Scores:
        """Scores from counts; a ratio with nothing to divide by is 0.0."""
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(tp, fp, fn, precision, recall, f1)

    @property
    def support(self) -> int:
        """Gold spans behind these scores."""
        return self.tp + self.fn

    def to_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 6),
            "recall": round(self.recall, 6),
            "f1": round(self.f1, 6),
        }


@dataclass(frozen=True)
class EvaluationReport:
    micro: Scores
    macro_f1: float
    per_label: dict[str, Scores]
    rare: Scores | None
    form_accuracy: dict[str, tuple[int, int]]
    records: int
    missing: tuple[str, ...] = ()  # gold ids with no prediction (their spans count as FN)
    extra: tuple[str, ...] = ()  # predicted ids with no gold record (ignored)
    form_unfilled: dict[str, int] = field(default_factory=dict)  # field -> gold records whose prediction lacks it
    rare_threshold: int = 5

    @property
    def warnings(self) -> list[str]:
        out = []
        if self.missing:
            out.append(f"{len(self.missing)} gold record(s) have no prediction: {_shorten(self.missing)}")
        if self.extra:
            out.append(f"{len(self.extra)} predicted record(s) not in the gold set (ignored): {_shorten(self.extra)}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "micro": self.micro.to_dict(),
            "macro_f1": round(self.macro_f1, 6),
            "per_label": {label: scores.to_dict() for label, scores in self.per_label.items()},
            "rare": self.rare.to_dict() if self.rare else None,
            "rare_threshold": self.rare_threshold,
            "form_accuracy": {
                name: {"correct": correct, "compared": compared, "accuracy": round(_ratio(correct, compared), 6)}
                for name, (correct, compared) in self.form_accuracy.items()
            },
            "form_unfilled": dict(self.form_unfilled),
            "missing": list(self.missing),
            "extra": list(self.extra),
        }

    def to_markdown(self) -> str:
        """The report as Markdown tables (for docs and the terminal)."""
        names = {label.code: label.zh for label in default_schema().labels}
        lines = [f"## Entities (strict span match, {self.records} records)", ""]
        lines += ["| label | | P | R | F1 | TP | FP | FN |", "|---|---|---:|---:|---:|---:|---:|---:|"]
        for label, scores in self.per_label.items():
            lines.append(_score_row(label, names.get(label, ""), scores))
        lines.append(_score_row("**micro**", "", self.micro))
        lines += ["", f"Macro F1 (over labels in gold or prediction): {self.macro_f1:.4f}"]
        if self.rare is not None:
            lines += ["", f"## Rare entities (seen fewer than {self.rare_threshold} times in training)", ""]
            lines += ["| | P | R | F1 | TP | FP | FN |", "|---|---:|---:|---:|---:|---:|---:|"]
            lines.append(_score_row("rare", None, self.rare))
        if self.form_accuracy:
            lines += ["", "## Form fields", "", "| field | accuracy | correct / compared |", "|---|---:|---:|"]
            for name, (correct, compared) in self.form_accuracy.items():
                lines.append(f"| {name} | {_ratio(correct, compared):.4f} | {correct} / {compared} |")
            unfilled = {name: n for name, n in self.form_unfilled.items() if n}
            if unfilled:
                listed = ", ".join(f"{name} ({n})" for name, n in unfilled.items())
                lines += ["", f"Not compared, the prediction lacks the field: {listed}"]
        if self.warnings:
            lines += [""] + [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines) + "\n"


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def _shorten(ids: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _score_row(name: str, zh: str | None, s: Scores) -> str:
    cells = [name] + ([] if zh is None else [zh])
    cells += [f"{s.precision:.4f}", f"{s.recall:.4f}", f"{s.f1:.4f}", str(s.tp), str(s.fp), str(s.fn)]
    return "| " + " | ".join(cells) + " |"


def normalise_text(text: str) -> str:
    """The form of an entity text that training counts and rare lookups share."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def entity_counts(records: Iterable[Record]) -> Counter[tuple[str, str]]:
    """How often each (label, normalised text) occurs as a span: ``train_counts`` for ``evaluate``."""
    counts: Counter[tuple[str, str]] = Counter()
    for record in records:
        for span in record.spans:
            counts[(span.label, normalise_text(span.text or record.text[span.start : span.end]))] += 1
    return counts


def _span_texts(record: Record, labels: set[str] | None) -> dict[SpanKey, str]:
    return {
        (s.start, s.end, s.label): s.text or record.text[s.start : s.end]
        for s in record.spans
        if labels is None or s.label in labels
    }


def _by_id(records: Sequence[Record], what: str) -> dict[str, Record]:
    out: dict[str, Record] = {}
    for record in records:
        if record.id in out:
            raise EvaluationError(f"the {what} records hold id {record.id!r} twice")
        out[record.id] = record
    return out


def _label_order(found: set[str], labels: Sequence[str] | None) -> list[str]:
    if labels is not None:
        return list(dict.fromkeys(labels))
    schema_order = [code for code in default_schema().label_codes if code in found]
    return schema_order + sorted(found - set(schema_order))


def evaluate(
    gold: Sequence[Record],
    pred: Sequence[Record],
    train_counts: Mapping[tuple[str, str], int] | None = None,
    rare_threshold: int = 5,
    labels: Sequence[str] | None = None,
) -> EvaluationReport:
    """Compare ``pred`` with ``gold`` record by record (matched by id).

    ``labels`` limits the evaluation to those categories (and lists each of
    them, present or not); macro F1 is the mean over the labels that occur in
    gold or prediction. With ``train_counts`` the report adds scores on the
    rare subset: spans whose (label, normalised text) was seen fewer than
    ``rare_threshold`` times in training.
    """
    gold_by_id, pred_by_id = _by_id(gold, "gold"), _by_id(pred, "predicted")
    keep = set(labels) if labels is not None else None
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    rare = [0, 0, 0]  # tp, fp, fn
    form_counts: dict[str, list[int]] = {}
    form_unfilled: Counter[str] = Counter()

    def is_rare(label: str, text: str) -> bool:
        assert train_counts is not None
        return train_counts.get((label, normalise_text(text)), 0) < rare_threshold

    for record_id, gold_record in gold_by_id.items():
        pred_record = pred_by_id.get(record_id)
        gold_spans = _span_texts(gold_record, keep)
        pred_spans = _span_texts(pred_record, keep) if pred_record is not None else {}
        for key in gold_spans.keys() & pred_spans.keys():
            tp[key[2]] += 1
        for key in pred_spans.keys() - gold_spans.keys():
            fp[key[2]] += 1
        for key in gold_spans.keys() - pred_spans.keys():
            fn[key[2]] += 1
        if train_counts is not None:
            rare_gold = {k for k, text in gold_spans.items() if is_rare(k[2], text)}
            rare_pred = {k for k, text in pred_spans.items() if is_rare(k[2], text)}
            hits = len(rare_pred & rare_gold)
            rare[0] += hits
            rare[1] += len(rare_pred) - hits
            rare[2] += len(rare_gold) - hits
        if pred_record is not None:
            for name, gold_value in gold_record.form.items():
                if name not in pred_record.form:
                    form_unfilled[name] += 1
                    continue
                counts = form_counts.setdefault(name, [0, 0])
                counts[0] += form_value_key(name, gold_value) == form_value_key(name, pred_record.form[name])
                counts[1] += 1

    found = set(tp) | set(fp) | set(fn)
    per_label = {label: Scores.from_counts(tp[label], fp[label], fn[label]) for label in _label_order(found, labels)}
    present = [s for label, s in per_label.items() if label in found]
    return EvaluationReport(
        micro=Scores.from_counts(sum(tp.values()), sum(fp.values()), sum(fn.values())),
        macro_f1=sum(s.f1 for s in present) / len(present) if present else 0.0,
        per_label=per_label,
        rare=Scores.from_counts(*rare) if train_counts is not None else None,
        form_accuracy={name: (c[0], c[1]) for name, c in _field_order(form_counts).items()},
        records=len(gold_by_id),
        missing=tuple(i for i in gold_by_id if i not in pred_by_id),
        extra=tuple(i for i in pred_by_id if i not in gold_by_id),
        form_unfilled=dict(_field_order(form_unfilled)),
        rare_threshold=rare_threshold,
    )


def _field_order(by_name: Mapping[str, Any]) -> dict[str, Any]:
    """Schema order (general block first), unknown fields after, sorted."""
    known = [f.name for f in default_schema().all_fields() if f.name in by_name]
    return {name: by_name[name] for name in known + sorted(set(by_name) - set(known))}


def _text_key(value: Any) -> str:
    return "" if value is None else "".join(unicodedata.normalize("NFKC", str(value)).split())


def _dose_key(value: Any) -> str:
    return _text_key(value).casefold().replace("克", "g")


def _herb_key(value: Any) -> frozenset[tuple[str, str]]:
    items = value if isinstance(value, list) else []
    return frozenset(
        (_text_key(item.get("herb")), _dose_key(item.get("dose")))
        if isinstance(item, Mapping)
        else (_text_key(item), "")
        for item in items
    )


def _number_key(value: Any, decimals: int | None) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _text_key(value)
    if not math.isfinite(number):
        return _text_key(value)
    return round(number, decimals if decimals is not None else 6)


def form_value_key(name: str, value: Any) -> Any:
    """A comparable form of a field's value: sets for lists, (herb, dose) sets for herbs."""
    try:
        form_field = default_schema().field(name)
    except KeyError:
        form_field = None
    kind = form_field.type if form_field else None
    if kind is FieldType.HERB_LIST or (
        kind is None and isinstance(value, list) and any(isinstance(v, Mapping) for v in value)
    ):
        return _herb_key(value)
    if kind is FieldType.LIST or (kind is None and isinstance(value, list | tuple)):
        items = value if isinstance(value, list | tuple) else [value] if value else []
        return frozenset(k for k in (_text_key(v) for v in items) if k)
    if kind in (FieldType.INTEGER, FieldType.DECIMAL):
        return _number_key(value, form_field.decimals if form_field and kind is FieldType.DECIMAL else None)
    if kind in (FieldType.ENUM, FieldType.TERNARY) and form_field is not None and value is None:
        return _text_key(form_field.empty_value())
    return _text_key(value)


def read_jsonl_records(path: Path) -> list[Record]:
    """Every record of a JSONL file; any bad line raises EvaluationError naming ``file:line``."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise EvaluationError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise EvaluationError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    records: list[Record] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = Record.from_dict(json.loads(line))
        except json.JSONDecodeError as exc:
            raise EvaluationError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
        except RecordError as exc:
            raise EvaluationError(f"{where}: {exc}") from exc
        for i, span in enumerate(record.spans):
            if not 0 <= span.start < span.end <= len(record.text):
                raise EvaluationError(f"{where}: spans[{i}] offsets {span.start}..{span.end} are outside the text")
            if record.text[span.start : span.end] != span.text:
                raise EvaluationError(f"{where}: spans[{i}] text {span.text!r} does not match the record text")
        if record.id in first_line:
            raise EvaluationError(f"{where}: id {record.id!r} already used on line {first_line[record.id]}")
        first_line[record.id] = number
        records.append(record)
    return records


def evaluate_main(argv: Sequence[str] | None = None) -> int:
    """``tcm evaluate --gold G.jsonl --pred P.jsonl [--train T.jsonl] [--json OUT.json]``."""
    parser = argparse.ArgumentParser(
        prog="tcm evaluate",
        description="Strict span precision, recall and F1 per category, and form-field accuracy per field.",
    )
    parser.add_argument("--gold", type=Path, required=True, help="gold records (JSONL)")
    parser.add_argument("--pred", type=Path, required=True, help="predicted records (JSONL), matched by id")
    parser.add_argument("--train", type=Path, help="training records (JSONL), to score rare entities")
    parser.add_argument("--rare-threshold", type=int, default=5, help="rare: seen fewer times in training (5)")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    try:
        gold = read_jsonl_records(args.gold)
        pred = read_jsonl_records(args.pred)
        counts = entity_counts(read_jsonl_records(args.train)) if args.train else None
        report = evaluate(gold, pred, counts, rare_threshold=args.rare_threshold)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except (EvaluationError, OSError) as exc:
        print(f"tcm evaluate: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(report.to_markdown())  # warnings (missing, extra records) are at its end
    return 0
