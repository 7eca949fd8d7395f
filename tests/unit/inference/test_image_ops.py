"""The numpy stand-ins for OpenCV in the tongue pre-processing, checked against OpenCV itself.

The shipped tongue models were trained on pixels made by cv2.resize and
cv2.connectedComponentsWithStats; the app now makes them without OpenCV, so
they must come out the same (within one grey level where the two round a
last bit differently). OpenCV stays in the development environment for this.
"""

from __future__ import annotations

import numpy as np
import pytest

from tcm_desktop.inference.image_ops import largest_component, pad_constant, resize_area, resize_linear

cv2 = pytest.importorskip("cv2")

SHAPES = [(1, 1), (1, 9), (9, 1), (2, 2), (7, 5), (48, 64), (64, 48), (101, 37), (240, 320), (461, 731)]


def _random(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _assert_close_u8(ours: np.ndarray, theirs: np.ndarray, share: float) -> None:
    theirs = theirs.reshape(ours.shape)  # OpenCV drops a channel axis of length 1
    diff = np.abs(ours.astype(int) - theirs.astype(int))
    assert diff.max() <= 1
    # off by one where a weighted mean lands on .5: a share of the values, but on a small output that share
    # is less than one value, and OpenCV builds round such ties differently (4.x vs 5.x, SIMD paths)
    assert (diff > 0).sum() <= max(2, share * diff.size)


def _shrunk_sizes(width: int, height: int) -> list[tuple[int, int]]:
    sizes = {(width, height), (max(1, width // 2), max(1, height // 2)), (max(1, width // 3), height)}
    sizes |= {(max(1, round(width * 0.17)), max(1, round(height * 0.17))), (1, 1), (max(1, width - 1), height)}
    return sorted(sizes)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("channels", [0, 1, 3])
def test_area_shrink_matches_opencv(shape: tuple[int, int], channels: int) -> None:
    height, width = shape
    image = _random(shape + ((channels,) if channels else ()), seed=height * 1000 + width + channels)
    for size in _shrunk_sizes(width, height):
        theirs = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        _assert_close_u8(resize_area(image, size), theirs, share=1e-2)


@pytest.mark.parametrize("factor", [2, 3, 4, 5, 16])
def test_area_shrink_by_whole_factors_matches_opencv_rounding(factor: int) -> None:
    # OpenCV averages whole blocks here and rounds halves its own way (up for 2x2, to even otherwise)
    image = _random((factor * 24, factor * 32, 3), seed=factor)
    theirs = cv2.resize(image, (32, 24), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(resize_area(image, (32, 24)), theirs)


def test_area_shrink_of_a_photo_crop_view_and_of_floats() -> None:
    photo = _random((300, 400, 3), seed=5)
    view = photo[37:277, 51:291]  # not contiguous, as crop_square passes it
    _assert_close_u8(resize_area(view, (112, 112)), cv2.resize(view, (112, 112), interpolation=cv2.INTER_AREA), 1e-3)
    floats = np.random.default_rng(6).random((90, 130), dtype=np.float32)
    theirs = cv2.resize(floats, (41, 29), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(resize_area(floats, (41, 29)), theirs, atol=1e-5)


def test_area_refuses_to_enlarge() -> None:
    with pytest.raises(ValueError, match="shrinks only"):
        resize_area(_random((10, 10), seed=1), (11, 10))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("channels", [0, 3])
def test_linear_matches_opencv(shape: tuple[int, int], channels: int) -> None:
    height, width = shape
    image = _random(shape + ((channels,) if channels else ()), seed=height * 7 + width)
    for size in [(112, 112), (width * 3 + 1, height * 2 + 3), (max(1, width // 2), height + 5), (1, 1)]:
        theirs = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        # OpenCV rounds a few pixels of each row in scalar code; on tiny pictures those are a large share
        share = 0.03 if min(shape + size) >= 8 else 1.0
        _assert_close_u8(resize_linear(image, size), theirs, share)


@pytest.mark.parametrize("shape", [(1, 1), (3, 200), (81, 128), (128, 96), (50, 50)])
def test_linear_float_maps_match_opencv(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(shape[0])
    for field in (rng.random(shape, dtype=np.float32), (rng.random(shape) > 0.5).astype(np.float32)):
        for size in [(731, 461), (shape[1] * 2, shape[0] * 5), (max(1, shape[1] // 3), max(1, shape[0] // 2))]:
            theirs = cv2.resize(field, size, interpolation=cv2.INTER_LINEAR)
            np.testing.assert_allclose(resize_linear(field, size), theirs, atol=1e-4)


def test_linear_of_three_float_channels() -> None:
    field = np.random.default_rng(3).random((20, 30, 3), dtype=np.float32)
    theirs = cv2.resize(field, (70, 45), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(resize_linear(field, (70, 45)), theirs, atol=1e-4)


@pytest.mark.parametrize("channels", [0, 3])
def test_pad_constant_matches_copy_make_border(channels: int) -> None:
    image = _random((13, 21) + ((channels,) if channels else ()), seed=channels)
    for top, bottom, left, right in [(0, 0, 0, 5), (3, 0, 7, 0), (4, 9, 2, 1), (0, 40, 0, 0)]:
        value = (114,) * max(channels, 1)
        theirs = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=value)
        np.testing.assert_array_equal(pad_constant(image, top, bottom, left, right, 114), theirs)


def _opencv_largest(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros(mask.shape, dtype=bool)
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def test_largest_component_matches_opencv_on_random_masks() -> None:
    rng = np.random.default_rng(0)
    for _ in range(400):
        height, width = (int(v) for v in rng.integers(1, 70, 2))
        mask = rng.random((height, width)) < rng.uniform(0.02, 0.65)
        np.testing.assert_array_equal(largest_component(mask), _opencv_largest(mask))


def test_largest_component_edge_cases() -> None:
    empty = np.zeros((128, 128), bool)
    assert not largest_component(empty).any()
    one = empty.copy()
    one[127, 0] = True
    np.testing.assert_array_equal(largest_component(one), one)
    full = np.ones((5, 9), bool)
    np.testing.assert_array_equal(largest_component(full), full)
    diagonal = np.eye(6, dtype=bool)  # 8-connected: one region
    np.testing.assert_array_equal(largest_component(diagonal), diagonal)


@pytest.mark.parametrize(
    "cells",
    [
        [(0, 5), (1, 0)],  # the second starts on a later row but in an earlier 2x2 block
        [(1, 0), (0, 5)],
        [(2, 0), (3, 4)],
        [(4, 10), (4, 2)],
        [(0, 0), (0, 2), (2, 0)],  # three single pixels
    ],
)
def test_a_tie_goes_to_the_region_opencv_numbers_first(cells: list[tuple[int, int]]) -> None:
    mask = np.zeros((8, 14), bool)
    for y, x in cells:
        mask[y, x] = True
    np.testing.assert_array_equal(largest_component(mask), _opencv_largest(mask))
    twin = np.zeros((16, 20), bool)
    twin[1:4, 9:12] = True
    twin[3:6, 1:4] = True  # equal squares
    np.testing.assert_array_equal(largest_component(twin), _opencv_largest(twin))
