"""Span prediction with a PyTorch tagger: dev scoring during training and ``tcm predict``.

Long texts are cut into windows exactly as in training and the spans of
each window are shifted back to record offsets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from tcm_desktop.inference.lexicon import Lexicon
from training.batches import encode_windows, iterate_batches
from training.checkpoint import Checkpoint
from training.data import Example, Window, windows
from training.model import Tagger
from training.tags import TagScheme
from training.vocab import make_tokenizer_from_tokens

SpanTuple = tuple[int, int, str]


@dataclass
class TorchPredictor:
    model: Tagger
    scheme: TagScheme
    tokenizer: object
    lexicon: Lexicon | None
    pad_id: int
    max_chars: int = 256
    batch_size: int = 32

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint, lexicon: Lexicon | None = None) -> TorchPredictor:
        model = checkpoint.build_model().eval()
        tokenizer = make_tokenizer_from_tokens(checkpoint.vocab)
        if lexicon is None:
            lexicon = checkpoint.lexicon()  # checked against the model's lexicon version
        elif checkpoint.lexicon_version and lexicon.version != checkpoint.lexicon_version:
            raise ValueError(
                f"the lexicon ({lexicon.version}) is not the one the model was trained with "
                f"({checkpoint.lexicon_version})"
            )
        max_chars = int(checkpoint.train_config.get("max_chars", 256))
        uses_lexicon = bool(checkpoint.model_config.num_lexicon_features)
        pad_id = checkpoint.vocab.index("[PAD]")
        return cls(model, checkpoint.scheme, tokenizer, lexicon if uses_lexicon else None, pad_id, max_chars)

    @classmethod
    def from_path(cls, path: Path) -> TorchPredictor:
        return cls.from_checkpoint(Checkpoint.load(path))

    @torch.no_grad()
    def predict_windows(self, items: Sequence[Window]) -> dict[tuple[str, int], list[SpanTuple]]:
        """Spans per (example id, window offset), relative to the window."""
        self.model.eval()
        encoded = encode_windows(items, self.tokenizer, self.scheme)
        out: dict[tuple[str, int], list[SpanTuple]] = {(w.example_id, w.offset): [] for w in items}
        for batch in iterate_batches(encoded, self.batch_size, self.lexicon, self.pad_id):
            output = self.model(batch.input_ids, batch.attention_mask, batch.lexicon)
            for window, path in zip(batch.windows, self.model.decode(output.emissions, batch.mask), strict=True):
                out[(window.example_id, window.offset)] = self.scheme.decode(path[: len(window.text)])
        return out

    def predict(self, examples: Iterable[Example]) -> dict[str, list[SpanTuple]]:
        """Spans per example id, in record offsets."""
        examples = list(examples)
        items = [w for example in examples for w in windows(example, self.max_chars)]
        per_window = self.predict_windows(items)
        spans: dict[str, list[SpanTuple]] = {e.id: [] for e in examples}
        for (example_id, offset), found in per_window.items():
            spans[example_id].extend((s + offset, e + offset, label) for s, e, label in found)
        return {k: sorted(v) for k, v in spans.items()}


def span_scores(gold: dict[str, Sequence[SpanTuple]], pred: dict[str, Sequence[SpanTuple]]) -> dict[str, float]:
    """Strict micro precision, recall and F1 over (id, start, end, label)."""
    gold_set = {(k, *s) for k, spans in gold.items() for s in spans}
    pred_set = {(k, *s) for k, spans in pred.items() for s in spans}
    tp = len(gold_set & pred_set)
    precision = tp / len(pred_set) if pred_set else 0.0
    recall = tp / len(gold_set) if gold_set else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "gold": len(gold_set), "pred": len(pred_set)}
