"""The demo photos' drawing helpers: blur as OpenCV's, anti-aliased shapes, JPEG round trip."""

from __future__ import annotations

import numpy as np
import pytest

from tcm_desktop.demo.raster import (
    decode_jpeg,
    discs_coverage,
    encode_jpeg,
    gaussian_blur,
    polygon_coverage,
    polylines_coverage,
)


@pytest.mark.parametrize(("shape", "sigma", "size"), [((240, 320), 0.8, 3), ((60, 80, 3), 0.7, 0), ((9, 5), 2.8, 0)])
def test_gaussian_blur_matches_opencv(shape: tuple[int, ...], sigma: float, size: int) -> None:
    cv2 = pytest.importorskip("cv2")
    image = np.random.default_rng(0).random(shape, dtype=np.float32)
    np.testing.assert_allclose(
        gaussian_blur(image, sigma, size), cv2.GaussianBlur(image, (size, size), sigma), atol=1e-5
    )


def test_polygon_coverage_is_anti_aliased_and_has_the_right_area() -> None:
    square = np.array([[10.0, 10.0], [29.0, 10.0], [29.0, 29.0], [10.0, 29.0]])
    cover = polygon_coverage(square, 40, 40)
    assert cover[20, 20] == 1.0 and cover[0, 0] == 0.0
    assert abs(cover.sum() - 19 * 19) < 12  # the outline runs through pixel centres 10 and 29
    circle = discs_coverage(np.array([[20, 20]]), 6.5, 40, 40)
    assert 0 < circle[20, 13] < 1 or 0 < circle[20, 27] < 1  # a soft edge
    assert abs(circle.sum() - np.pi * 6.5**2) < 6


def test_polylines_are_as_wide_as_asked() -> None:
    line = polylines_coverage([np.array([[5.0, 20.0], [35.0, 20.0]])], 3, 40, 40)
    assert line[:, 20].sum() == pytest.approx(3, abs=0.5)
    assert not polylines_coverage([], 3, 40, 40).any()


def test_jpeg_round_trip_keeps_the_picture() -> None:
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[:, :32] = (200, 60, 70)
    back = decode_jpeg(encode_jpeg(rgb, 90))
    assert back.shape == rgb.shape
    assert np.abs(back.astype(int) - rgb).mean() < 3
