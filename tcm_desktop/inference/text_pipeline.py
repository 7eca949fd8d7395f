"""Entity spans for clinical texts with the bundle's ONNX text model and a CRF decoded in numpy.

``TextPipeline(bundle).predict(texts)`` runs, for every text:

1. overlapping windows of the model's ``max_chars`` (:mod:`.windows`);
2. Dynamic Batch Pruning over the windows of many records
   (:mod:`.batching`): similar lengths together, padding only to each
   batch's longest window, batch sizes under a memory budget;
3. per batch: character ids and lexicon features of each window and the
   ONNX emissions; per group of consecutive batches (``CRF_ROWS`` rows), the
   CRF's Viterbi path and marginals (:mod:`.crf`); with a thread budget of
   N, N groups run side by side (:mod:`.threads`);
4. per record: the windows' paths stitched at the seams and decoded once.

Memory stays flat for long records: windows are encoded only when their
batch runs, and a window keeps only its path and one score per character.

Scores:

* a span's ``confidence`` is the **minimum** over its characters of the
  CRF marginal probability of the tag the Viterbi path gave that character.
  The whole span is right only if every character's tag is, so this is an
  upper bound on the probability that the span is exactly right; one
  doubtful character makes a doubtful span.
* a record's ``uncertainty`` is ``1 - mean`` over its characters of the same
  per-character marginal (mean token-level least confidence, in [0, 1]):
  0 for a record the model is sure about everywhere, higher for records
  worth a human look first. Empty and whitespace-only records score 0.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from tcm_desktop.domain.records import Prediction, Span
from tcm_desktop.inference.batching import Batch, DynamicBatcher, FixedBatcher, MemoryCost
from tcm_desktop.inference.bundle import ModelBundle
from tcm_desktop.inference.crf import path_marginals
from tcm_desktop.inference.errors import PipelineError
from tcm_desktop.inference.fusion import FusedTextModel
from tcm_desktop.inference.threads import StopFn, run_jobs, stop_check
from tcm_desktop.inference.windows import TagDecoder, Window, merge_windows, plan_windows

ProgressFn = Callable[[int, int], None]

# The CRF runs over several model batches at once: its cost is a numpy loop over positions whose
# per-step overhead dominates for the few rows one memory-sized batch has (5 rows of 256: 1.40 s vs
# 0.90 s grouped to 48+ rows, 200 corpus-mix records); emissions cost 4 bytes per tag and character.
CRF_ROWS = 48
# 64 MB: peak RSS 175 MiB vs 334 MiB at 256 MB for 4% fewer records/s (2 cores, tcm-text 0.2.0)
DEFAULT_MEMORY_BUDGET_MB = 64.0
DEFAULT_OVERLAP = 32


@dataclass(frozen=True)
class TextResult:
    """The spans found in one text, its uncertainty and the model that found them."""

    spans: tuple[Span, ...]
    uncertainty: float
    model_version: str

    def to_prediction(self, record_id: str) -> Prediction:
        return Prediction(record_id, self.model_version, self.spans, uncertainty=self.uncertainty)


def memory_cost(bundle: ModelBundle) -> MemoryCost:
    """Peak bytes per padded character of the bundle's text model plus the CRF, from its shape.

    Calibrated on the shipped INT8 TinyBERT + BiLSTM with ONNX Runtime's CPU
    arena (peak RSS growth of about 44 KB/character at 128 characters and
    67 KB at 256); this estimate is about 15 % above those.
    """
    config = bundle.model_config
    hidden = int(config.get("hidden_size", 312))
    intermediate = int(config.get("intermediate_size", 4 * hidden))
    heads = int(config.get("num_heads", 12))
    lstm = int(config.get("lstm_hidden", hidden // 2))
    tags = len(bundle.tags)
    per_char = 4 * (20 * hidden + 2 * intermediate + 8 * lstm + bundle.lexicon_features) + 8 * 6 * tags
    return MemoryCost(per_char=per_char, per_char_per_length=4 * 3 * heads)


def crf_groups(batches: Sequence[Batch], rows: int) -> list[list[Batch]]:
    """Consecutive batches (DBP gives them in length order) gathered until a group has ``rows`` rows."""
    groups: list[list[Batch]] = []
    size = 0
    for batch in batches:
        if not groups or size >= rows:
            groups.append([])
            size = 0
        groups[-1].append(batch)
        size += len(batch)
    return groups


def _is_edge_char(ch: str) -> bool:
    # Spans never start or end with whitespace, punctuation, separators or
    # control characters (SCHEMA.md); % and ‰ are allowed at the edge.
    return ch.isspace() or unicodedata.category(ch)[0] in "PZC" and ch not in "%‰"


@dataclass
class _Pending:
    """One record on its way through the pipeline."""

    index: int
    text: str
    windows: tuple[Window, ...]
    paths: list[np.ndarray | None]
    scores: list[np.ndarray | None]
    image: np.ndarray | None = None  # the photo's tokens, for a fused model


class TextPipeline:
    """Runs a :class:`ModelBundle`'s text model over many texts.

    ``threads`` is the pipeline's thread budget: on the CPU that many
    batches run side by side with one ONNX Runtime thread each
    (:mod:`.threads`). ``memory_budget_mb`` caps the estimated activation
    memory of the batches in flight together; ``overlap`` (at most half a window) is the least overlap of
    neighbouring windows of a long record; ``max_batch_rows`` caps a batch
    whatever the budget; ``chunk_windows`` is how many windows are planned
    and batched together (records are never split across chunks). With
    ``fused`` (the bundle's :class:`FusedTextModel`) the fused text model
    runs instead of the text model and ``predict`` takes each record's
    image tokens.
    One pipeline serves one thread at a time.
    """

    def __init__(
        self,
        bundle: ModelBundle,
        threads: int | None = 2,
        memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
        overlap: int = DEFAULT_OVERLAP,
        max_batch_rows: int | None = 64,
        chunk_windows: int = 512,
        fused: FusedTextModel | None = None,
        batcher: FixedBatcher | None = None,
    ) -> None:
        if chunk_windows < 1:
            raise ValueError(f"chunk_windows must be at least 1, got {chunk_windows}")
        self.bundle = bundle
        self.fused = fused
        self.plan = bundle.thread_plan(threads)
        self.session = fused.session if fused is not None else bundle.text_session(self.plan.intra_op)
        self.window = bundle.max_chars
        self.overlap = min(overlap, self.window // 2)
        # Dynamic Batch Pruning, unless a FixedBatcher is given (the -DBP ablation of bench/dbp_ablation.py);
        # the budget covers every batch in flight
        per_batch_mb = memory_budget_mb / self.plan.workers
        self.batcher = batcher or DynamicBatcher(per_batch_mb, memory_cost(bundle), max_batch_rows)
        self.decoder = TagDecoder(bundle.tags)
        self.chunk_windows = chunk_windows
        self._lexicon = bundle.lexicon if bundle.lexicon_features else None
        self._features = bundle.lexicon_features

    @property
    def model_version(self) -> str:
        return self.bundle.model_version

    def predict(
        self,
        texts: Sequence[str],
        on_progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
        images: Sequence[np.ndarray | None] | None = None,
    ) -> list[TextResult]:
        """One :class:`TextResult` per text, in input order.

        ``images`` (fused model only) gives each text's photo tokens, None for
        a text without a photo; left out, no text has one.

        ``on_progress(done, total)`` is called after every batch with the
        characters processed so far (window overlaps counted) and the total,
        so ``done / total`` moves smoothly even for one very long record.
        ``should_stop()`` is checked before every batch; when it returns True
        the call raises :class:`PredictionCancelled`. Other failures raise
        :class:`PipelineError`.
        """
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise PipelineError(f"text {i} is a {type(text).__name__}, not a string")
        if images is not None and len(images) != len(texts):
            raise ValueError(f"{len(images)} images for {len(texts)} texts")
        results: list[TextResult | None] = [None] * len(texts)
        pending: list[_Pending] = []
        for i, text in enumerate(texts):
            if not text.strip():
                results[i] = TextResult((), 0.0, self.model_version)
                continue
            windows = plan_windows(len(text), self.window, self.overlap)
            image = images[i] if images is not None else None
            pending.append(_Pending(i, text, windows, [None] * len(windows), [None] * len(windows), image))
        total = sum(w.length for p in pending for w in p.windows)
        done = 0

        def count(_group: int, characters: int) -> None:
            nonlocal done
            done += characters
            if on_progress is not None:
                on_progress(done, total)

        for chunk in self._chunks(pending):
            items = [(p, k) for p in chunk for k in range(len(p.windows))]
            batches = self.batcher.plan([p.windows[k].length for p, k in items])
            groups = crf_groups(batches, min(CRF_ROWS, -(-len(items) // self.plan.workers)))
            jobs = [partial(self._run_group, [([items[i] for i in b.indices], b) for b in group]) for group in groups]
            run_jobs(jobs, self.plan.workers, on_result=count, before_each=stop_check(should_stop))
            for record in chunk:
                results[record.index] = self._finish(record)
                record.paths.clear()
                record.scores.clear()
        if on_progress is not None and total == 0:
            on_progress(0, 0)
        return [r for r in results if r is not None]

    def _chunks(self, pending: Sequence[_Pending]) -> Iterator[list[_Pending]]:
        chunk: list[_Pending] = []
        size = 0
        for record in pending:
            if chunk and size + len(record.windows) > self.chunk_windows:
                yield chunk
                chunk, size = [], 0
            chunk.append(record)
            size += len(record.windows)
        if chunk:
            yield chunk

    def _inputs(self, rows: Sequence[tuple[_Pending, int]], length: int) -> dict[str, np.ndarray]:
        ids = np.full((len(rows), length), self.bundle.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), length), dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        lexicon = np.zeros((len(rows), length, self._features), dtype=np.float32) if self._features else None
        for r, (record, k) in enumerate(rows):
            window = record.windows[k]
            piece = record.text[window.start : window.end]
            ids[r, : len(piece)] = self.bundle.tokenizer.encode(piece)
            mask[r, : len(piece)] = 1
            if lexicon is not None and self._lexicon is not None:
                lexicon[r, : len(piece)] = self._lexicon.features(piece)
        if lexicon is not None:
            feeds["lexicon"] = lexicon
        if self.fused is not None:
            feeds |= self.fused.feeds([record.image for record, _ in rows])
        return feeds

    def _run_group(self, group: Sequence[tuple[Sequence[tuple[_Pending, int]], Batch]]) -> int:
        """The model on each batch of ``group``, then the CRF once over all their rows (possibly beside
        other groups: each writes only its own windows' slots); the characters it covered."""
        emissions = [self._emissions(rows, batch) for rows, batch in group]
        length = max(e.shape[1] for e in emissions)
        rows = [row for part, _ in group for row in part]
        stacked = np.concatenate([np.pad(e, ((0, 0), (0, length - e.shape[1]), (0, 0))) for e in emissions])
        mask = np.zeros(stacked.shape[:2], dtype=bool)
        for r, (record, k) in enumerate(rows):
            mask[r, : record.windows[k].length] = True
        paths, scores = path_marginals(stacked, mask, self.bundle.crf)
        for r, (record, k) in enumerate(rows):
            n = record.windows[k].length
            record.paths[k] = paths[r, :n].astype(np.int16)
            record.scores[k] = scores[r, :n].copy()
        return sum(record.windows[k].length for record, k in rows)

    def _emissions(self, rows: Sequence[tuple[_Pending, int]], batch: Batch) -> np.ndarray:
        feeds = self._inputs(rows, batch.length)
        try:
            (emissions,) = self.session.run(["emissions"], feeds)
        except Exception as exc:  # ONNX Runtime raises its own untyped errors
            raise PipelineError(f"the text model failed on a batch of {len(rows)} window(s): {exc}") from exc
        return np.asarray(emissions)

    def _finish(self, record: _Pending) -> TextResult:
        paths = [p for p in record.paths if p is not None]
        scores = [s for s in record.scores if s is not None]
        tags, confidence = merge_windows(len(record.text), record.windows, paths, scores)
        starts, ends, labels = self.decoder.decode(tags)
        text = record.text
        spans: list[Span] = []
        for start, end, label in zip(starts.tolist(), ends.tolist(), labels.tolist(), strict=True):
            while start < end and _is_edge_char(text[start]):
                start += 1
            while end > start and _is_edge_char(text[end - 1]):
                end -= 1
            if start < end:
                score = float(confidence[start:end].min())
                spans.append(Span(start, end, self.decoder.labels[label], text[start:end], score))
        uncertainty = float(np.clip(1.0 - confidence.mean(dtype=np.float64), 0.0, 1.0))
        return TextResult(tuple(spans), uncertainty, self.model_version)
