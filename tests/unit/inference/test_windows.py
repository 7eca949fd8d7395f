"""Overlapping windows, stitching at the seams, and decoding the stitched path once."""

from __future__ import annotations

import numpy as np
import pytest

from tcm_desktop.inference.windows import TagDecoder, Window, choose_seams, merge_windows, plan_windows
from training.tags import TagScheme, tags_to_spans

SCHEME = TagScheme("BIO", ["HERB", "SYM"])
DECODER = TagDecoder(SCHEME.tags)


@pytest.mark.parametrize("length", [0, 1, 255, 256, 257, 480, 481, 1000, 5_000, 100_003])
def test_windows_cover_the_text_with_the_overlap(length: int) -> None:
    windows = plan_windows(length, 256, 32)
    if length == 0:
        assert windows == ()
        return
    assert windows[0].start == 0 and windows[-1].end == length
    assert all(w.length == min(256, length) for w in windows)
    for left, right in zip(windows, windows[1:], strict=False):
        assert right.start > left.start
        assert left.end - right.start >= 32  # overlap
    covered = np.zeros(length, dtype=int)
    for w in windows:
        covered[w.start : w.end] += 1
    assert covered.min() >= 1
    if length > 256:
        assert len(windows) == -(-(length - 256) // 224) + 1  # no more windows than the stride needs


def test_bad_window_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        plan_windows(1000, 256, 256)
    with pytest.raises(ValueError, match="window"):
        plan_windows(1000, 0, 0)


def synthetic_record(length: int, spans: list[tuple[int, int, str]]) -> np.ndarray:
    return np.array(SCHEME.encode(length, spans), dtype=np.int64)


def window_views(truth: np.ndarray, windows: tuple[Window, ...]) -> list[np.ndarray]:
    """What each window would predict if it saw the truth perfectly."""
    return [truth[w.start : w.end].copy() for w in windows]


def test_merge_of_perfect_windows_gives_each_span_once_even_across_seams() -> None:
    length = 1200
    windows = plan_windows(length, 256, 32)
    # one span over every overlap region (so every seam falls inside a span) plus some elsewhere
    spans = [(w.start - 6, w.start + 20, "SYM") for w in windows[1:]] + [(3, 5, "HERB"), (600, 602, "HERB")]
    truth = synthetic_record(length, spans)
    paths = window_views(truth, windows)
    scores = [np.full(w.length, 0.5 + i / 100, dtype=np.float32) for i, w in enumerate(windows)]
    tags, merged = merge_windows(length, windows, paths, scores)
    np.testing.assert_array_equal(tags, truth)
    assert DECODER.spans(tags) == sorted(spans)
    assert merged.min() >= 0.5  # every position got a score from some window


def test_disagreeing_windows_still_give_one_whole_span_at_the_seam() -> None:
    """Near its right edge the left window cuts the span short; the seam avoids that edge."""
    length = 400
    windows = plan_windows(length, 256, 112)
    (left, right) = windows
    span = (right.start + 40, left.end + 10, "SYM")  # starts inside the overlap, ends past the left window
    truth = synthetic_record(length, [span])
    paths = window_views(truth, windows)
    edge = left.end - left.start
    paths[0][edge - 8 :] = SCHEME.tag_id("O")  # left window: span stops 8 characters before its edge
    paths[1][:30] = SCHEME.tag_id("B-HERB")  # right window: nonsense near its left edge
    tags, _ = merge_windows(length, windows, paths, [np.ones(w.length, np.float32) for w in windows])
    assert DECODER.spans(tags) == [span]


def test_seam_prefers_agreement_near_the_middle() -> None:
    windows = (Window(0, 100), Window(60, 160))  # overlap 60..100, middle 80, search 70..90
    truth = np.zeros(160, dtype=np.int64)
    left, right = truth[0:100].copy(), truth[60:160].copy()
    left[78:84] = 1  # the windows disagree on 78..83
    assert choose_seams(windows, [left, right]) == [77]
    left[70:91] = 1  # no agreement anywhere in the search range: the middle
    assert choose_seams(windows, [left, right]) == [80]


def test_merge_refuses_windows_that_do_not_cover_the_record() -> None:
    windows = plan_windows(300, 256, 32)
    with pytest.raises(ValueError, match="cover"):
        merge_windows(301, windows, [np.zeros(256, np.int64)] * 2, [np.zeros(256, np.float32)] * 2)


@pytest.mark.parametrize("scheme_name", ["BIO", "BIOES"])
def test_decoder_equals_the_training_decoder_on_random_tag_sequences(scheme_name: str) -> None:
    scheme = TagScheme(scheme_name, ["HERB", "SYM", "DOSE"])
    decoder = TagDecoder(scheme.tags)
    rng = np.random.default_rng(0)
    for _ in range(300):
        ids = rng.integers(0, len(scheme.tags), size=int(rng.integers(0, 25)))
        assert decoder.spans(ids) == tags_to_spans([scheme.tags[i] for i in ids])


def test_decoder_on_a_long_record_is_vectorised() -> None:
    ids = np.tile(synthetic_record(10, [(2, 5, "HERB"), (6, 7, "SYM")]), 10_000)
    spans = DECODER.spans(ids)
    assert len(spans) == 20_000
    assert spans[-1] == (99_996, 99_997, "SYM")
