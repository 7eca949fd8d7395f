"""Scores of a fused (or text-only) tagger on paired records: strict spans, tongue spans where the photo shows them.

* ``micro``: strict span micro F1 over every label of every record;
* ``TONGUE_BODY`` / ``TONGUE_COAT``: that label's strict F1 on the records
  whose photo has the matching label (body colour / coat colour), i.e. the
  records where the photo shows the finding the text describes;
* ``gate``: the mean gate over the real characters of records with a photo,
  and separately inside and outside gold tongue spans.

Scoring is :func:`training.evaluation.evaluate` on :class:`Record` objects.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from tcm_desktop.domain.records import Record, Span
from training.batches import encode_windows
from training.data import windows
from training.evaluation import evaluate
from training.fusion.data import SHOWN_BY, TONGUE_LABELS, ImageTokens, PairedExample, fused_batches
from training.fusion.model import FusedTagger
from training.tags import TagScheme

SpanTuple = tuple[int, int, str]


@dataclass
class Predictions:
    spans: dict[str, list[SpanTuple]]
    gate_sum: dict[str, float] = field(default_factory=lambda: {"all": 0.0, "tongue": 0.0, "other": 0.0})
    gate_count: dict[str, int] = field(default_factory=lambda: {"all": 0, "tongue": 0, "other": 0})
    seconds: float = 0.0

    def gate_means(self) -> dict[str, float | None]:
        return {k: (self.gate_sum[k] / self.gate_count[k] if self.gate_count[k] else None) for k in self.gate_sum}


@torch.no_grad()
def predict(
    model: FusedTagger,
    pairs: Sequence[PairedExample],
    images: ImageTokens,
    scheme: TagScheme,
    tokenizer: object,
    lexicon: Any,
    pad_id: int,
    max_chars: int = 256,
    batch_size: int = 32,
) -> Predictions:
    """Spans per record (record offsets) and gate statistics."""
    model.eval()
    started = time.perf_counter()
    examples = [p.example for p in pairs]
    items = [w for e in examples for w in windows(e, max_chars)]
    encoded = encode_windows(items, tokenizer, scheme)
    tongue_tags = {i for i, tag in enumerate(scheme.tags) if tag != "O" and tag.split("-", 1)[1] in TONGUE_LABELS}
    out = Predictions({e.id: [] for e in examples})
    for fused in fused_batches(encoded, images, batch_size, lexicon, pad_id):
        batch = fused.batch
        result = model(batch.input_ids, batch.attention_mask, batch.lexicon, fused.image_tokens, fused.image_mask)
        paths = model.decode(result.emissions, batch.mask)
        for row, (window, path) in enumerate(zip(batch.windows, paths, strict=True)):
            found = scheme.decode(path[: len(window.text)])
            out.spans[window.example_id].extend((s + window.offset, e + window.offset, lab) for s, e, lab in found)
            if result.gate is None or not float(fused.image_mask[row]):
                continue
            gate = result.gate[row, : len(window.text)]
            gold = batch.tags[row, : len(window.text)]
            in_tongue = torch.tensor([int(t) in tongue_tags for t in gold.tolist()], dtype=torch.bool)
            for key, part in (("all", gate), ("tongue", gate[in_tongue]), ("other", gate[~in_tongue])):
                out.gate_sum[key] += float(part.sum())
                out.gate_count[key] += int(part.numel())
    out.seconds = time.perf_counter() - started
    out.spans = {k: sorted(v) for k, v in out.spans.items()}
    return out


def _records(pairs: Sequence[PairedExample], spans: dict[str, list[SpanTuple]] | None) -> list[Record]:
    records = []
    for pair in pairs:
        example = pair.example
        found = example.spans if spans is None else spans[example.id]
        records.append(
            Record(
                example.id,
                example.specialty or "general",
                example.text,
                spans=tuple(Span(s, e, label, example.text[s:e]) for s, e, label in found),
            )
        )
    return records


def score(pairs: Sequence[PairedExample], predictions: Predictions) -> dict[str, Any]:
    """The metrics above as a JSON-ready dict."""
    report = evaluate(_records(pairs, None), _records(pairs, predictions.spans))
    metrics: dict[str, Any] = {
        "records": len(pairs),
        "micro": report.micro.to_dict(),
        "macro_f1": round(report.macro_f1, 6),
        "per_label_all_records": {k: v.to_dict() for k, v in report.per_label.items() if k in TONGUE_LABELS},
        "shown": {},
        "gate": predictions.gate_means(),
        "seconds": round(predictions.seconds, 2),
        "ms_per_record": round(1000 * predictions.seconds / max(1, len(pairs)), 2),
    }
    for label, attribute in SHOWN_BY.items():
        subset = [p for p in pairs if p.photo.get(attribute)]
        sub = evaluate(_records(subset, None), _records(subset, predictions.spans), labels=[label])
        scores = sub.per_label.get(label)
        metrics["shown"][label] = {"records": len(subset), **(scores.to_dict() if scores else {})}
    return metrics
