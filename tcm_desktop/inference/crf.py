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

    Per step the work is one ``[B, T, T]`` max over the previous tag; padded
    steps keep the score and point back to the same tag, so each row's
    backtrace starts from its own last position.
    """
    emit, mask, _ = _check(emissions, mask, crf)
    batch, length, tags = emit.shape
    same = np.broadcast_to(np.arange(tags), (batch, tags))
    back = np.empty((length, batch, tags), dtype=np.int16 if tags < 2**15 else np.int32)
    score = crf.start[None, :] + emit[:, 0]
    trans = crf.transitions[None, :, :]
    for t in range(1, length):
        candidates = score[:, :, None] + trans  # [B, from, to]
        best = candidates.argmax(axis=1)
        new = np.take_along_axis(candidates, best[:, None, :], axis=1)[:, 0] + emit[:, t]
        step = mask[:, t, None]
        score = np.where(step, new, score)
        back[t] = np.where(step, best, same)
    score = score + crf.end[None, :]
    path = np.empty((batch, length), dtype=np.int64)
    rows = np.arange(batch)
    path[:, -1] = score.argmax(axis=1)
    for t in range(length - 1, 0, -1):
        path[:, t - 1] = back[t][rows, path[:, t]]
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
    (-10000) becomes an exact zero, an impossible tag ``-inf``.
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
    """``P(tag_t = j | text)`` per row, position and tag: ``float64 [B, L, T]``, 0 on padding.

    Each unpadded position sums to 1 over the tags.
    """
    alpha, beta = log_forward_backward(emissions, mask, crf)
    joint = alpha + beta
    top = joint.max(axis=2, keepdims=True)
    probs = np.exp(joint - top)
    probs /= probs.sum(axis=2, keepdims=True)
    probs[~np.asarray(mask, dtype=bool)] = 0.0
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
