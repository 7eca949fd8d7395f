"""Anti-aliased drawing, blur, smooth upscaling and JPEG for the demo tongue photos (numpy + Pillow).

Shapes are drawn by Pillow at ``SUPERSAMPLE`` times the size (around the
shapes only) and averaged down, which gives each edge pixel its covered
fraction (anti-aliasing). Coordinates are in pixels, pixel centres at
integers; a coverage map holds values in [0, 1].
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw

SUPERSAMPLE = 4
Point = tuple[float, float]


def _rasterise(width: int, height: int, points: np.ndarray, reach: float, draw: Callable[..., None]) -> np.ndarray:
    """HxW float32 coverage of what ``draw(canvas, to_canvas)`` paints, supersampled around ``points`` only.

    ``reach`` is how far (pixels) the shapes extend beyond ``points``; ``to_canvas`` maps (N, 2) pixel
    coordinates to the supersampled canvas, where pixel centres sit in the middle of their sub-pixels.
    """
    out = np.zeros((height, width), np.float32)
    lo = np.maximum(np.floor(points.min(axis=0) - reach - 1), 0).astype(int)
    hi = np.minimum(np.ceil(points.max(axis=0) + reach + 2), (width, height)).astype(int)
    if (hi <= lo).any():
        return out
    canvas = Image.new("L", tuple(((hi - lo) * SUPERSAMPLE).tolist()), 0)

    def to_canvas(xy: np.ndarray) -> list[Point]:
        scaled = (np.asarray(xy, dtype=np.float64) - lo) * SUPERSAMPLE + (SUPERSAMPLE - 1) / 2
        return [(float(x), float(y)) for x, y in scaled]

    draw(ImageDraw.Draw(canvas), to_canvas)
    out[lo[1] : hi[1], lo[0] : hi[0]] = np.asarray(canvas.reduce(SUPERSAMPLE), dtype=np.float32) / 255.0
    return out


def polygon_coverage(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """HxW float32 in [0, 1]: the share of each pixel inside the closed polygon ``points`` ((N, 2) x, y)."""
    return _rasterise(width, height, points, 0, lambda d, to: d.polygon(to(points), fill=255))


def polylines_coverage(paths: Sequence[np.ndarray], thickness: float, width: int, height: int) -> np.ndarray:
    """HxW float32 coverage of open polylines ``thickness`` pixels wide, with round ends and joints."""
    if not paths:
        return np.zeros((height, width), np.float32)
    line_width = max(1, round(thickness * SUPERSAMPLE))
    r = line_width / 2

    def draw(d: ImageDraw.ImageDraw, to: Callable[[np.ndarray], list[Point]]) -> None:
        for path in paths:
            xy = to(path)
            d.line(xy, fill=255, width=line_width, joint="curve")
            for x, y in (xy[0], xy[-1]):
                d.ellipse((x - r, y - r, x + r, y + r), fill=255)

    return _rasterise(width, height, np.concatenate(paths), thickness, draw)


def discs_coverage(centres: np.ndarray, radius: float, width: int, height: int) -> np.ndarray:
    """HxW float32 coverage of filled discs of ``radius`` pixels around ``centres`` ((N, 2) x, y)."""
    if not len(centres):
        return np.zeros((height, width), np.float32)
    r = radius * SUPERSAMPLE

    def draw(d: ImageDraw.ImageDraw, to: Callable[[np.ndarray], list[Point]]) -> None:
        for x, y in to(centres):
            d.ellipse((x - r, y - r, x + r, y + r), fill=255)

    return _rasterise(width, height, np.asarray(centres, dtype=np.float64), radius, draw)


def gaussian_kernel(sigma: float, size: int = 0) -> np.ndarray:
    """Normalised 1-D Gaussian weights; ``size`` 0 takes four sigmas on each side (odd length)."""
    if size <= 0:
        size = int(round(sigma * 8 + 1)) | 1
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2
    weights = np.exp(-(offsets**2) / (2 * sigma * sigma))
    return (weights / weights.sum()).astype(np.float32)


def _mirrored(values: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """``values`` extended by ``radius`` along ``axis``, mirrored without repeating the edge (OpenCV's default)."""
    length = values.shape[axis]
    index = np.arange(-radius, length + radius)
    period = 2 * (length - 1) if length > 1 else 1
    index = np.abs(index) % period
    index = np.where(index >= length, period - index, index)
    return np.take(values, index, axis=axis)


def gaussian_blur(image: np.ndarray, sigma: float, size: int = 0) -> np.ndarray:
    """``image`` (HxW or HxWxC float32) blurred with a separable Gaussian, the border mirrored."""
    kernel = gaussian_kernel(sigma, size)
    radius = len(kernel) // 2
    out = np.asarray(image, dtype=np.float32)
    for axis in (0, 1):
        padded = _mirrored(out, radius, axis)
        length = out.shape[axis]
        window = [slice(None)] * out.ndim
        blurred = np.zeros_like(out)
        term = np.empty_like(out)
        for k, weight in enumerate(kernel):
            window[axis] = slice(k, k + length)
            np.multiply(padded[tuple(window)], weight, out=term)
            blurred += term
        out = blurred
    return out


def smooth_upscale(values: np.ndarray, width: int, height: int) -> np.ndarray:
    """A small HxW float32 field enlarged to ``height`` x ``width`` with bicubic interpolation."""
    field = Image.fromarray(np.ascontiguousarray(values, dtype=np.float32))
    return np.asarray(field.resize((width, height), Image.Resampling.BICUBIC))


def encode_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    """HxWx3 uint8 RGB as JPEG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def decode_jpeg(data: bytes) -> np.ndarray:
    """JPEG bytes as HxWx3 uint8 RGB."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))
