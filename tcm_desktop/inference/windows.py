"""Long records in overlapping windows, stitched back into one tag path, then decoded once.

The text model sees at most ``max_chars`` characters (the manifest's
window ``W``). A longer record is cut into windows of exactly ``W`` that
overlap by at least ``overlap`` characters and are spread evenly, so the
last window ends at the record's end and no window is short.

Merging: between two neighbouring windows the *seam* is where a position
stops coming from the left window and starts coming from the right one. By
default it is the middle of their overlap, the point farthest from both
window edges (each position takes the prediction of the window in which it
has the most context). Within the middle half of the overlap the seam moves
to the nearest position where both windows' Viterbi paths agree, so the
stitched path is a path both windows endorse and a span crossing the seam
stays one span. Spans are decoded once over the stitched path of the whole
record: a span is never duplicated or split by a window edge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SpanTuple = tuple[int, int, str]  # start, end (exclusive), label

# tag prefix codes
_OUT, _B, _I, _E, _S = range(5)
_PREFIX_CODES = {"B": _B, "I": _I, "E": _E, "S": _S}


@dataclass(frozen=True)
class Window:
    """Characters ``start:end`` of a record."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


def plan_windows(length: int, window: int, overlap: int) -> tuple[Window, ...]:
    """Windows covering ``range(length)``: one when it fits, else evenly spread full windows.

    Neighbouring windows overlap by at least ``overlap`` characters
    (``0 <= overlap < window``); an empty record has no windows.
    """
    if window < 1:
        raise ValueError(f"the window must be at least 1 character, got {window}")
    if not 0 <= overlap < window:
        raise ValueError(f"the overlap must be in 0..{window - 1}, got {overlap}")
    if length <= 0:
        return ()
    if length <= window:
        return (Window(0, length),)
    stride = window - overlap
    count = math.ceil((length - window) / stride) + 1
    starts = [round(i * (length - window) / (count - 1)) for i in range(count)]
    return tuple(Window(s, s + window) for s in starts)


def choose_seams(windows: Sequence[Window], paths: Sequence[np.ndarray]) -> list[int]:
    """The seam between each pair of neighbouring windows: the first position taken from the right one.

    ``paths[i]`` is window i's tag path (one id per character of the window).
    """
    seams: list[int] = []
    previous = windows[0].start if windows else 0
    for (left, right), (left_path, right_path) in zip(
        zip(windows, windows[1:], strict=False), zip(paths, paths[1:], strict=False), strict=True
    ):
        lo, hi = right.start, left.end  # the overlap is [lo, hi)
        if hi <= lo:
            raise ValueError(f"windows {left} and {right} do not overlap")
        middle = max((lo + hi) // 2, previous + 1)
        margin = (hi - lo) // 4
        first, last = max(lo + margin, previous + 1), min(hi - margin, hi - 1)
        agree = left_path[lo - left.start : hi - left.start] == right_path[: hi - lo]
        candidates = np.flatnonzero(agree) + lo
        candidates = candidates[(candidates >= first) & (candidates <= last)]
        seam = int(candidates[np.argmin(np.abs(candidates - middle))]) if candidates.size else min(middle, hi - 1)
        seams.append(seam)
        previous = seam
    return seams


def merge_windows(
    length: int, windows: Sequence[Window], paths: Sequence[np.ndarray], scores: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """``(tags, scores)`` for the whole record from per-window paths and per-character scores.

    Each position comes from exactly one window, chosen by :func:`choose_seams`.
    """
    if len(windows) != len(paths) or len(windows) != len(scores):
        raise ValueError(f"{len(windows)} windows, {len(paths)} paths, {len(scores)} score rows")
    tags = np.zeros(length, dtype=np.int64)
    merged = np.zeros(length, dtype=np.float32)
    if not windows:
        return tags, merged
    if windows[0].start != 0 or windows[-1].end != length:
        raise ValueError(f"windows cover {windows[0].start}..{windows[-1].end}, not the record's 0..{length}")
    for window, path, score in zip(windows, paths, scores, strict=True):
        if len(path) != window.length or len(score) != window.length:
            raise ValueError(f"window {window} has {len(path)} tags and {len(score)} scores")
    bounds = [0, *choose_seams(windows, paths), length]
    for i, window in enumerate(windows):
        a, b = bounds[i], bounds[i + 1]
        tags[a:b] = paths[i][a - window.start : b - window.start]
        merged[a:b] = scores[i][a - window.start : b - window.start]
    return tags, merged


class TagDecoder:
    """Spans from tag ids, given the tag strings of a bundle (``O``, ``B-X``, ``I-X``, ``E-X``, ``S-X``).

    Lenient like ``training.tags.tags_to_spans``: ``B-``/``S-`` always start
    a span, ``I-``/``E-`` continue an open span of the same label or else
    start one, ``E-``/``S-`` close the span after their character, anything
    else is outside. Vectorised, so a 100,000-character record decodes in
    one pass of numpy operations.
    """

    def __init__(self, tags: Sequence[str]) -> None:
        labels: dict[str, int] = {}
        prefixes, label_ids = [], []
        for tag in tags:
            prefix, dash, kind = tag.partition("-")
            code = _PREFIX_CODES.get(prefix, _OUT) if dash and kind else _OUT
            prefixes.append(code)
            label_ids.append(labels.setdefault(kind, len(labels)) if code != _OUT else -1)
        self.tags: tuple[str, ...] = tuple(tags)
        self.labels: tuple[str, ...] = tuple(labels)
        self._prefix = np.array(prefixes, dtype=np.int8)
        self._label = np.array(label_ids, dtype=np.int64)

    def decode(self, tag_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(starts, ends, label indices into self.labels)`` of the spans, in text order."""
        ids = np.asarray(tag_ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.tags)):
            raise ValueError(f"tag ids must be in 0..{len(self.tags) - 1}")
        prefix, label = self._prefix[ids], self._label[ids]
        inside = prefix != _OUT
        closes = (prefix == _E) | (prefix == _S)
        continues = np.zeros(ids.shape, dtype=bool)
        continues[1:] = (
            inside[1:]
            & ((prefix[1:] == _I) | (prefix[1:] == _E))
            & inside[:-1]
            & ~closes[:-1]
            & (label[1:] == label[:-1])
        )
        starts = np.flatnonzero(inside & ~continues)
        last = inside.copy()
        last[:-1] &= ~continues[1:]
        ends = np.flatnonzero(last) + 1
        return starts, ends, label[starts]

    def spans(self, tag_ids: np.ndarray) -> list[SpanTuple]:
        starts, ends, labels = self.decode(tag_ids)
        return [(int(s), int(e), self.labels[k]) for s, e, k in zip(starts, ends, labels, strict=True)]
