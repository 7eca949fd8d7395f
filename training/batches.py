"""From windows of text to padded tensors, bucketed by length.

Batches are built from windows of similar length (fewer pad tokens, the
same idea as the runtime's Dynamic Batch Pruning) and shuffled per epoch
with the run's seed, so a resumed run sees the same order.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from tcm_desktop.inference.lexicon import Lexicon
from training.data import Window
from training.tags import TagScheme
from training.vocab import encode_text


@dataclass(frozen=True)
class EncodedWindow:
    window: Window
    ids: np.ndarray  # int64 [L]
    tags: np.ndarray  # int64 [L]


@dataclass
class Batch:
    windows: list[Window]
    input_ids: torch.Tensor  # [B, L] int64
    attention_mask: torch.Tensor  # [B, L] int64
    lexicon: torch.Tensor | None  # [B, L, F] float32
    tags: torch.Tensor  # [B, L] int64 (0 on padding)

    @property
    def mask(self) -> torch.Tensor:
        return self.attention_mask.bool()


def encode_windows(windows: Sequence[Window], tokenizer: object, scheme: TagScheme) -> list[EncodedWindow]:
    return [
        EncodedWindow(
            window=w,
            ids=np.asarray(encode_text(tokenizer, w.text), dtype=np.int64),
            tags=np.asarray(scheme.encode(len(w.text), w.spans), dtype=np.int64),
        )
        for w in windows
        if w.text
    ]


@dataclass(frozen=True)
class Augment:
    """Training-time noise that makes the model lean less on exact surface forms."""

    lexicon_drop: float = 0.0  # drop whole lexicon matches
    char_noise: float = 0.0  # replace characters by [UNK] or a random vocabulary character
    unk_id: int = 1
    vocab_size: int = 0
    first_regular_id: int = 0


def bucket_batches(items: Sequence[EncodedWindow], batch_size: int, seed: int, shuffle: bool) -> list[list[int]]:
    """Indices grouped into batches of similar length; batch order shuffled when ``shuffle``."""
    order = sorted(range(len(items)), key=lambda i: len(items[i].ids))
    if shuffle:
        # shuffle inside coarse length buckets so batches vary between epochs
        rng = random.Random(seed)
        bucket = batch_size * 20
        chunks = [order[i : i + bucket] for i in range(0, len(order), bucket)]
        for chunk in chunks:
            rng.shuffle(chunk)
        order = [i for chunk in chunks for i in sorted(chunk, key=lambda i: len(items[i].ids))]
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        random.Random(seed + 1).shuffle(batches)
    return batches


def collate(
    items: Sequence[EncodedWindow],
    lexicon: Lexicon | None,
    pad_id: int,
    augment: Augment | None = None,
    rng: np.random.Generator | None = None,
) -> Batch:
    length = max(len(item.ids) for item in items)
    ids = np.full((len(items), length), pad_id, dtype=np.int64)
    mask = np.zeros((len(items), length), dtype=np.int64)
    tags = np.zeros((len(items), length), dtype=np.int64)
    lex = np.zeros((len(items), length, lexicon.n_features), dtype=np.float32) if lexicon else None
    for row, item in enumerate(items):
        n = len(item.ids)
        ids[row, :n] = item.ids
        mask[row, :n] = 1
        tags[row, :n] = item.tags
        if lex is not None and lexicon is not None:
            drop = augment.lexicon_drop if augment else 0.0
            lex[row, :n] = lexicon.features(item.window.text, drop_rate=drop, rng=rng)
    if augment and augment.char_noise > 0 and rng is not None:
        noisy = (rng.random(ids.shape) < augment.char_noise) & (mask == 1)
        random_ids = rng.integers(augment.first_regular_id, augment.vocab_size, size=ids.shape)
        replacement = np.where(rng.random(ids.shape) < 0.5, augment.unk_id, random_ids)
        ids = np.where(noisy, replacement, ids)
    return Batch(
        windows=[item.window for item in items],
        input_ids=torch.from_numpy(ids),
        attention_mask=torch.from_numpy(mask),
        lexicon=torch.from_numpy(lex) if lex is not None else None,
        tags=torch.from_numpy(tags),
    )


def iterate_batches(
    items: Sequence[EncodedWindow],
    batch_size: int,
    lexicon: Lexicon | None,
    pad_id: int,
    seed: int = 0,
    shuffle: bool = False,
    augment: Augment | None = None,
    skip: int = 0,
) -> Iterator[Batch]:
    """Batches of ``items``; ``skip`` leaves out the first batches (resuming mid-epoch)."""
    rng = np.random.default_rng(seed)
    for position, indices in enumerate(bucket_batches(items, batch_size, seed, shuffle)):
        if position < skip:
            continue
        yield collate([items[i] for i in indices], lexicon, pad_id, augment, rng)
