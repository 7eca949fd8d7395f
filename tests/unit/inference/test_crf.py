"""Batched CRF decoding against brute-force enumeration of every tag path."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tcm_desktop.inference.crf import CrfScores, log_partition, marginals, path_marginals, viterbi

FORBIDDEN = -10000.0


def random_crf(rng: np.random.Generator, tags: int, forbid: bool = True) -> CrfScores:
    transitions = rng.normal(size=(tags, tags))
    start = rng.normal(size=tags)
    if forbid:  # like BIO: tag 2 ("I") may only follow 1 ("B") or itself, never start
        transitions[:, 2] = FORBIDDEN
        transitions[1, 2] = rng.normal()
        transitions[2, 2] = rng.normal()
        start[2] = FORBIDDEN
    return CrfScores(transitions, start, rng.normal(size=tags))


def path_score(emissions: np.ndarray, crf: CrfScores, path: tuple[int, ...]) -> float:
    score = crf.start[path[0]] + crf.end[path[-1]] + sum(emissions[t, y] for t, y in enumerate(path))
    return float(score + sum(crf.transitions[a, b] for a, b in itertools.pairwise(path)))


def brute_force(emissions: np.ndarray, crf: CrfScores) -> tuple[tuple[int, ...], np.ndarray, float]:
    """(best path, marginals [L, T], log Z) by enumerating all T**L paths."""
    length, tags = emissions.shape
    paths = list(itertools.product(range(tags), repeat=length))
    scores = np.array([path_score(emissions, crf, p) for p in paths])
    weights = np.exp(scores - scores.max())
    probs = np.zeros((length, tags))
    for p, w in zip(paths, weights, strict=True):
        probs[np.arange(length), p] += w
    log_z = float(np.log(weights.sum()) + scores.max())
    return paths[int(scores.argmax())], probs / weights.sum(), log_z


def random_batch(rng: np.random.Generator, tags: int, lengths: list[int]) -> tuple[np.ndarray, np.ndarray]:
    width = max(lengths)
    emissions = rng.normal(scale=2.0, size=(len(lengths), width, tags))
    mask = np.arange(width)[None, :] < np.array(lengths)[:, None]
    emissions[~mask] = rng.normal(scale=50.0, size=(int((~mask).sum()), tags))  # padding must not matter
    return emissions, mask


@pytest.mark.parametrize("seed", range(12))
def test_viterbi_and_marginals_equal_brute_force_with_masks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    tags = 3 + seed % 2
    crf = random_crf(rng, tags, forbid=seed % 3 != 0)
    lengths = [int(n) for n in rng.integers(1, 6, size=4)]
    emissions, mask = random_batch(rng, tags, lengths)
    paths = viterbi(emissions, mask, crf)
    probs = marginals(emissions, mask, crf)
    log_z = log_partition(emissions, mask, crf)
    for row, n in enumerate(lengths):
        best, expected, expected_log_z = brute_force(emissions[row, :n], crf)
        assert tuple(paths[row, :n]) == best
        assert np.all(paths[row, n:] == -1)
        np.testing.assert_allclose(probs[row, :n], expected, atol=1e-6)  # float32
        assert np.all(probs[row, n:] == 0.0)
        assert log_z[row] == pytest.approx(expected_log_z, abs=1e-9)


def test_marginals_sum_to_one_per_position() -> None:
    rng = np.random.default_rng(7)
    crf = random_crf(rng, 5)
    emissions, mask = random_batch(rng, 5, [1, 9, 30, 17])
    sums = marginals(emissions, mask, crf).sum(axis=2)
    np.testing.assert_allclose(sums[mask], 1.0, atol=1e-6)
    assert np.all(sums[~mask] == 0.0)


def test_forbidden_moves_never_appear_in_paths_even_when_emissions_push_for_them() -> None:
    rng = np.random.default_rng(3)
    crf = random_crf(rng, 4)
    emissions, mask = random_batch(rng, 4, [40, 25, 1, 33])
    emissions[:, :, 2] += 6.0  # tag 2 is the emission favourite everywhere
    paths = viterbi(emissions, mask, crf)
    assert (paths == 2).any()
    for row in paths:
        row = row[row >= 0]
        assert row[0] != 2
        for a, b in itertools.pairwise(row):
            assert crf.transitions[a, b] > FORBIDDEN / 2, (a, b)
    probs = marginals(emissions, mask, crf)
    assert np.all(probs[:, 0, 2] < 1e-12)  # forbidden start has no probability mass


def test_a_batch_of_different_lengths_equals_one_by_one() -> None:
    rng = np.random.default_rng(11)
    crf = random_crf(rng, 6)
    lengths = [3, 50, 1, 64, 20]
    emissions, mask = random_batch(rng, 6, lengths)
    paths, confidence = path_marginals(emissions, mask, crf)
    probs = marginals(emissions, mask, crf)
    for row, n in enumerate(lengths):
        one_path, one_conf = path_marginals(emissions[row : row + 1, :n], mask[row : row + 1, :n], crf)
        np.testing.assert_array_equal(paths[row, :n], one_path[0])
        np.testing.assert_allclose(confidence[row, :n], one_conf[0], rtol=1e-6)
        np.testing.assert_allclose(
            probs[row, :n],
            marginals(emissions[row : row + 1, :n], mask[row : row + 1, :n], crf)[0],
            rtol=1e-6,  # float32: a batch may sum in another order than one row alone
        )
        expected = probs[row, np.arange(n), paths[row, :n]]
        np.testing.assert_allclose(confidence[row, :n], expected, rtol=1e-6)


def test_huge_emission_gaps_stay_finite() -> None:
    rng = np.random.default_rng(5)
    crf = random_crf(rng, 4)
    emissions, mask = random_batch(rng, 4, [12, 7])
    emissions *= 500.0  # gaps far beyond exp's range
    probs = marginals(emissions, mask, crf)
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs.sum(axis=2)[mask], 1.0, atol=1e-6)


def test_bad_shapes_and_masks_are_refused() -> None:
    crf = random_crf(np.random.default_rng(0), 3)
    emissions = np.zeros((2, 4, 3))
    with pytest.raises(ValueError, match="prefix"):
        viterbi(emissions, np.array([[1, 0, 1, 0], [1, 1, 1, 1]], dtype=bool), crf)
    with pytest.raises(ValueError, match="at least one"):
        viterbi(emissions, np.array([[0, 0, 0, 0], [1, 1, 1, 1]], dtype=bool), crf)
    with pytest.raises(ValueError, match="emissions"):
        marginals(np.zeros((2, 4, 5)), np.ones((2, 4), dtype=bool), crf)
    with pytest.raises(ValueError, match="transitions"):
        CrfScores(np.zeros((3, 2)), np.zeros(3), np.zeros(3))
