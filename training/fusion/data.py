"""Paired records as training examples, and batches that carry each window's image tokens.

A pair file (:mod:`training.fusion.pairs`) is JSONL in the interchange
format with ``image`` = the photo's id; :class:`ImageTokens` gives the cached
tokens (:mod:`training.fusion.features`) of a record's photo, or zeros and
``image_mask`` 0 for a record without one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from training.batches import Augment, Batch, EncodedWindow, iterate_batches
from training.data import Example

TONGUE_LABELS = ("TONGUE_BODY", "TONGUE_COAT")
# The photo attribute that shows each tongue label's finding.
SHOWN_BY = {"TONGUE_BODY": "tongue_color", "TONGUE_COAT": "coat_color"}


class TokenSource(Protocol):
    cells: int
    channels: int

    def get(self, sid: str) -> np.ndarray: ...


@dataclass(frozen=True)
class PairedExample:
    example: Example
    image: str | None  # photo id
    photo: Mapping[str, str | None]  # the photo's labels as form values (None = not labelled)


def load_pairs(path: Path) -> list[PairedExample]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw: dict[str, Any] = json.loads(line)
        spans = tuple(sorted((int(s["start"]), int(s["end"]), str(s["label"])) for s in raw.get("spans", [])))
        example = Example(str(raw["id"]), str(raw["text"]), spans, source=path.name, specialty=raw.get("specialty", ""))
        out.append(PairedExample(example, raw.get("image"), dict(raw.get("photo", {}))))
    return out


@dataclass
class FusedBatch:
    batch: Batch
    image_tokens: torch.Tensor  # [B, N, C] float32
    image_mask: torch.Tensor  # [B] float32, 1 = photo


class ImageTokens:
    """Tokens per example id from a :class:`TokenSource`; zeros and mask 0 where there is no photo."""

    def __init__(self, source: TokenSource, images: Mapping[str, str | None]) -> None:
        self.source = source
        self.images = dict(images)

    def for_windows(
        self, example_ids: Sequence[str], drop: float = 0.0, rng: np.random.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens [B, N, C] and mask [B]; with ``drop`` and ``rng``, photos left out at that rate (training)."""
        tokens = np.zeros((len(example_ids), self.source.cells, self.source.channels), dtype=np.float32)
        mask = np.zeros(len(example_ids), dtype=np.float32)
        for row, example_id in enumerate(example_ids):
            sid = self.images.get(example_id)
            if sid is None or (drop > 0 and rng is not None and rng.random() < drop):
                continue
            tokens[row] = self.source.get(sid)
            mask[row] = 1.0
        return torch.from_numpy(tokens), torch.from_numpy(mask)


def fused_batches(
    items: Sequence[EncodedWindow],
    images: ImageTokens,
    batch_size: int,
    lexicon: Any,
    pad_id: int,
    seed: int = 0,
    shuffle: bool = False,
    augment: Augment | None = None,
    skip: int = 0,
    photo_drop: float = 0.0,
) -> Iterator[FusedBatch]:
    """:func:`training.batches.iterate_batches` with each window's image tokens."""
    rng = np.random.default_rng(seed + 7)
    for batch in iterate_batches(items, batch_size, lexicon, pad_id, seed, shuffle, augment, skip):
        tokens, mask = images.for_windows([w.example_id for w in batch.windows], photo_drop, rng)
        yield FusedBatch(batch, tokens, mask)
