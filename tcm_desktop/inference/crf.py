"""Linear-chain CRF decoding outside the ONNX graph: batched Viterbi and marginals.

The text model stops at the emissions ``[B, L, T]``; the CRF scores live in
the bundle's ``crf.npz`` (``transitions[i, j]`` scores the move from tag
``i`` to tag ``j``; ``start``/``end`` score the first and last tag;
moves the tag scheme forbids carry a -10000 penalty). Both algorithms here
are vectorised over the batch and the tags and loop over positions only.

Masks are prefix masks (``mask[b, :n_b]`` true, the rest false), one row
per sequence, every row at least one position long; padded positions never
influence a row's result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tcm_desktop.inference.errors import BundleError

# Scores below this are the tag scheme's forbidden moves (-10000 added to a learned score).
FORBIDDEN_BELOW = -5000.0
# Largest score gap kept in the scaled forward-backward: exp(-30) ~ 1e-13, and the
# product of two such factors with 1/T stays a normal float32.
SCORE_FLOOR = 30.0


@dataclass(frozen=True)
class CrfScores:
    """The CRF's transition, start and end scores (float64)."""

    transitions: np.ndarray  # [T, T], from i to j
    start: np.ndarray  # [T]
    end: np.ndarray  # [T]

    def __post_init__(self) -> None:
        t = self.start.shape[0] if self.start.ndim == 1 else -1
        if t < 1 or self.transitions.shape != (t, t) or self.end.shape != (t,):
            raise ValueError(
                f"CRF scores need transitions [T, T], start [T], end [T]; got {self.transitions.shape}, "
                f"{self.start.shape}, {self.end.shape}"
            )
        for name in ("transitions", "start", "end"):
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if not np.all(np.isfinite(value)):
                raise ValueError(f"CRF {name} contain NaN or infinite scores")
            object.__setattr__(self, name, value)

    @property
    def num_tags(self) -> int:
        return int(self.start.shape[0])

    @classmethod
    def load(cls, path: Path) -> CrfScores:
        """Read ``crf.npz``; BundleError naming the file if it is unreadable or malformed."""
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(data["transitions"], data["start"], data["end"])
        except (OSError, KeyError, ValueError) as exc:
            raise BundleError(f"{path.name} is not a usable CRF score file: {exc}", path.name) from exc


def _check(emissions: np.ndarray, mask: np.ndarray, crf: CrfScores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(emissions as float64, mask as bool, lengths) after checking shapes and the prefix form of the mask."""
    if emissions.ndim != 3 or emissions.shape[2] != crf.num_tags:
        raise ValueError(f"emissions must be [B, L, {crf.num_tags}], got {emissions.shape}")
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != emissions.shape[:2]:
        raise ValueError(f"mask must be {emissions.shape[:2]}, got {mask.shape}")
    lengths = mask.sum(axis=1)
    if emissions.shape[1] == 0 or np.any(lengths == 0):
        raise ValueError("every sequence needs at least one position")
    if not np.array_equal(mask, np.arange(mask.shape[1])[None, :] < lengths[:, None]):
        raise ValueError("the mask must be a prefix mask (true up to each row's length, then false)")
    return np.asarray(emissions, dtype=np.float64), mask, lengths


def viterbi(emissions: np.ndarray, mask: np.ndarray, crf: CrfScores) -> np.ndarray:
    """The best tag path per row: ``int64 [B, L]``, -1 on padding.

    Forward, each step keeps only the best score per tag (one ``[B, T, T]``
    max over the previous tag, float32); back-pointers are not stored but
    recomputed during the backtrace for the one chosen tag per row, which is
    a ``[B, T]`` argmax per step. That is the same path as storing them
    (the first best previous tag wins ties either way) at about half the cost:
    numpy's argmax over a middle axis copies the array, its max does not.
    """
    emit, mask, lengths = _check(emissions, mask, crf)
    emit = emit.astype(np.float32)
    batch, length, tags = emit.shape
    trans = crf.transitions.astype(np.float32)
    ragged = bool(np.any(lengths != length))
    best = np.empty((length, batch, tags), dtype=np.float32)  # best score of a path ending in each tag
    score = (crf.start[None, :] + emit[:, 0]).astype(np.float32)
    best[0] = score
    candidates = np.empty((batch, tags, tags), dtype=np.float32)  # [B, from, to]
    for t in range(1, length):
        np.add(score[:, :, None], trans[None], out=candidates)
        new = candidates.max(axis=1)
        new += emit[:, t]
        score = np.where(mask[:, t, None], new, score) if ragged else new
        best[t] = score
    rows = np.arange(batch)
    last = lengths - 1
    current = (best[last, rows] + crf.end[None, :].astype(np.float32)).argmax(axis=1)
    into = np.ascontiguousarray(trans.T)  # into[k] = scores of every move into tag k
    path = np.empty((batch, length), dtype=np.int64)
    path[rows, last] = current
    for t in range(length - 1, 0, -1):
        previous = (best[t - 1] + into[current]).argmax(axis=1)
        current = np.where(t <= last, previous, current)  # rows shorter than t wait at their end
        path[:, t - 1] = current
    path[~mask] = -1
    return path


def _log_matmul(log_x: np.ndarray, exp_trans: np.ndarray, shift: float) -> np.ndarray:
    """``log(exp(log_x) @ exp(transitions))`` for ``[B, T]`` rows, stable: shift each row by its max."""
    top = log_x.max(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(log_x - top) @ exp_trans) + top + shift


def log_forward_backward(emissions: np.ndarray, mask: np.ndarray, crf: CrfScores) -> tuple[np.ndarray, np.ndarray]:
    """``(log_alpha, log_beta)``, each ``float64 [B, L, T]``, valid on unpadded positions.

    The log-sum-exp over the previous tag is a matrix product of
    ``exp(alpha - max)`` with ``exp(transitions - max)``: a forbidden move
    (-10000) becomes an exact zero, an impossible tag ``-inf``. Exact but
    slow; :func:`marginals` uses the scaled form.
    """
    emit, mask, _ = _check(emissions, mask, crf)
    length = emit.shape[1]
    shift = float(crf.transitions.max())
    exp_trans = np.exp(crf.transitions - shift)
    alpha = np.empty_like(emit)
    alpha[:, 0] = crf.start[None, :] + emit[:, 0]
    for t in range(1, length):
        new = _log_matmul(alpha[:, t - 1], exp_trans, shift) + emit[:, t]
        alpha[:, t] = np.where(mask[:, t, None], new, alpha[:, t - 1])
    beta = np.empty_like(emit)
    beta[:, -1] = crf.end[None, :]
    exp_trans_t = exp_trans.T.copy()
    for t in range(length - 2, -1, -1):
        new = _log_matmul(emit[:, t + 1] + beta[:, t + 1], exp_trans_t, shift)
        # a row whose last position is t (or earlier) ends here: beta is the end score
        beta[:, t] = np.where(mask[:, t + 1, None], new, crf.end[None, :])
    return alpha, beta


def log_partition(emissions: np.ndarray, mask: np.ndarray, crf: CrfScores) -> np.ndarray:
    """``log Z`` per row (float64 ``[B]``): the log-sum-exp of the scores of all tag paths."""
    alpha, _ = log_forward_backward(emissions, mask, crf)
    lengths = np.asarray(mask, dtype=bool).sum(axis=1)
    last = alpha[np.arange(alpha.shape[0]), lengths - 1] + crf.end[None, :]
    top = last.max(axis=1)
    return np.log(np.exp(last - top[:, None]).sum(axis=1)) + top


def marginals(emissions: np.ndarray, mask: np.ndarray, crf: CrfScores) -> np.ndarray:
    """``P(tag_t = j | text)`` per row, position and tag: ``float32 [B, L, T]``, 0 on padding.

    Scaled forward-backward in probability space (the HMM textbook's
    scaling): ``alpha_t = (alpha_{t-1} @ exp(transitions)) * exp(emission_t)``
    renormalised to sum 1 at every step, likewise beta. The scale factors
    cancel in the per-position normalisation, so no logs and no log-sum-exp:
    one small matrix product per step, in float32. Emissions are shifted by
    their maximum per position before ``exp``, so nothing overflows, and
    score gaps are capped at ``SCORE_FLOOR`` so nothing allowed underflows to
    zero (a tag that far behind has a probability under 1e-13 either way); a
    forbidden move stays an exact zero. Each unpadded position sums to 1.
    """
    emit, mask, lengths = _check(emissions, mask, crf)
    batch, length, tags = emit.shape
    ragged = bool(np.any(lengths != length))
    trans = crf.transitions - crf.transitions.max()
    moves = np.where(trans > FORBIDDEN_BELOW, np.exp(np.maximum(trans, -SCORE_FLOOR)), 0.0).astype(np.float32)
    moves_back = np.ascontiguousarray(moves.T)
    gaps = np.maximum(emit - emit.max(axis=2, keepdims=True), -SCORE_FLOOR)
    weights = np.exp(gaps).astype(np.float32)  # [B, L, T]
    alpha = np.empty_like(weights)
    step = weights[:, 0] * np.exp(crf.start - crf.start.max()).astype(np.float32)
    alpha[:, 0] = step / step.sum(axis=1, keepdims=True)
    for t in range(1, length):
        step = (alpha[:, t - 1] @ moves) * weights[:, t]
        alpha[:, t] = step / step.sum(axis=1, keepdims=True)
    end = np.exp(crf.end - crf.end.max()).astype(np.float32)
    beta = np.empty_like(weights)
    step = np.broadcast_to(end, (batch, tags)).copy()
    beta[:, -1] = step
    for t in range(length - 2, -1, -1):
        step = (weights[:, t + 1] * step) @ moves_back
        step /= step.sum(axis=1, keepdims=True)
        if ragged:  # a row whose last position is t ends here: beta is the end weight
            step = np.where(mask[:, t + 1, None], step, end)
        beta[:, t] = step
    probs = alpha * beta
    probs /= probs.sum(axis=2, keepdims=True)
    probs[~mask] = 0.0
    return probs


def path_marginals(emissions: np.ndarray, mask: np.ndarray, crf: CrfScores) -> tuple[np.ndarray, np.ndarray]:
    """``(path, confidence)``: the Viterbi path (-1 on padding) and the marginal probability of each of its tags.

    The confidence of position t is ``P(tag_t = path_t | text)``, float32,
    0 on padding. What a caller needs for spans and uncertainty without
    keeping the ``[B, L, T]`` marginals.
    """
    path = viterbi(emissions, mask, crf)
    probs = marginals(emissions, mask, crf)
    confidence = np.take_along_axis(probs, np.maximum(path, 0)[:, :, None], axis=2)[:, :, 0]
    confidence[path < 0] = 0.0
    return path, confidence.astype(np.float32)
