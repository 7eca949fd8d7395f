"""The few pixel operations the tongue models' pre-processing needs, in numpy.

They stand in for OpenCV's ``resize`` and ``connectedComponentsWithStats``,
which the shipped models were trained with, so the app need not ship
OpenCV (about 175 MB):

- :func:`resize_area` shrinks by averaging each output pixel's footprint,
  partly covered pixels weighted by the covered fraction (INTER_AREA);
- :func:`resize_linear` interpolates between the two nearest pixels, pixel
  centres at half-integers, edges repeated, in OpenCV's fixed-point
  arithmetic for uint8 (INTER_LINEAR);
- :func:`pad_constant` adds a border of one value (BORDER_CONSTANT);
- :func:`largest_component` keeps the largest 8-connected region of a mask,
  a tie going to the region OpenCV numbers first.

Results are within one grey level of OpenCV's (which rounds differently in
the last bit); the parity tests are tests/unit/inference/test_image_ops.py.
"""

from __future__ import annotations

import sys
from functools import lru_cache

import numpy as np

Size = tuple[int, int]  # (width, height), as Pillow and OpenCV take it
_COEF_SCALE = 2048  # OpenCV's bilinear weights for uint8 are integers out of 2**11
_GATHER_FLOATS = 2_000_000  # source values resize_area gathers at a time (8 MB as float32)


def _scale(src: int, dst: int) -> float:
    return 1.0 / (dst / src)  # OpenCV's arithmetic, so both map pixels to the same positions


@lru_cache(maxsize=256)
def _area_bands(src: int, dst: int) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV's area table: output pixel d is the sum of source pixels index[d] times weights[d] (dst x taps;
    a band shorter than the longest is padded with weight 0).

    A partly covered pixel counts with its covered fraction, unless under a thousandth (dropped, as OpenCV does).
    """
    scale = _scale(src, dst)
    f1 = np.arange(dst) * scale
    f2 = f1 + scale
    cell = np.minimum(scale, src - f1)
    s2 = np.minimum(np.floor(f2), src - 1).astype(np.intp)
    s1 = np.minimum(np.ceil(f1), s2).astype(np.intp)
    has_left = s1 - f1 > 1e-3
    has_right = f2 - s2 > 1e-3
    first = s1 - has_left
    stop = s2 + has_right
    source = first[:, None] + np.arange(int((stop - first).max()))  # (dst, taps)
    weights = np.where((source >= s1[:, None]) & (source < s2[:, None]), 1.0 / cell[:, None], 0.0)
    weights += np.where(has_left[:, None] & (source == s1[:, None] - 1), ((s1 - f1) / cell)[:, None], 0.0)
    right = np.minimum(np.minimum(f2 - s2, 1.0), cell) / cell
    weights += np.where(has_right[:, None] & (source == s2[:, None]), right[:, None], 0.0)
    return np.minimum(source, src - 1), weights.astype(np.float32)


def _whole_factor(src: int, dst: int) -> int:
    """The integer shrink factor where OpenCV averages whole blocks, else 0."""
    scale = _scale(src, dst)
    factor = round(scale)
    return factor if abs(scale - factor) < sys.float_info.epsilon else 0


def resize_area(image: np.ndarray, size: Size) -> np.ndarray:
    """``image`` (HxW or HxWxC, uint8 or float32) shrunk to ``size`` = (width, height) by area averaging.

    Each output pixel is the mean of its footprint in the source, partly
    covered pixels weighted by the covered fraction (OpenCV's INTER_AREA:
    the same table, float weights, within one grey level of it). Neither
    side may grow (use :func:`resize_linear`).
    """
    width, height = size
    src_h, src_w = image.shape[:2]
    if width < 1 or height < 1 or width > src_w or height > src_h:
        raise ValueError(f"resize_area shrinks only: {src_w}x{src_h} -> {width}x{height}")
    if image.dtype not in (np.uint8, np.float32):
        raise TypeError(f"resize_area takes uint8 or float32 pixels, not {image.dtype}")
    if (width, height) == (src_w, src_h):
        return image.copy()
    fx, fy = _whole_factor(src_w, width), _whole_factor(src_h, height)
    if fx and fy:
        blocks = image.reshape((height, fy, width, fx) + image.shape[2:])
        if image.dtype == np.float32:
            return blocks.mean(axis=(1, 3), dtype=np.float32)
        sums = blocks.sum(axis=(1, 3), dtype=np.int32)
        if fx == fy == 2:  # OpenCV's vector code for 2x2 rounds halves up
            return ((sums + 2) >> 2).astype(np.uint8)
        return np.clip(np.rint(sums * np.float32(1.0 / (fx * fy))), 0, 255).astype(np.uint8)
    # Down the columns, then (transposed) across the rows: each output row is a weighted sum of a few
    # consecutive source rows (one batched matrix product). A strip of output rows at a time, so a large
    # photo never exists as float32 at once.
    channels = image.shape[2:]
    index, weights = _area_bands(src_h, height)
    across = _area_bands(src_w, width)
    out = np.empty((height, width) + channels, image.dtype)
    strip = max(1, _GATHER_FLOATS // (index.shape[1] * image[0].size))
    for start in range(0, height, strip):
        rows = _area_rows(image, index[start : start + strip], weights[start : start + strip])
        n = len(rows)
        columns = rows.reshape(n, src_w, -1).transpose(1, 0, 2).reshape(src_w, -1)
        part = _area_rows(columns, *across).reshape(width, n, -1).transpose(1, 0, 2).reshape((n, width) + channels)
        out[start : start + n] = np.clip(np.rint(part), 0, 255) if image.dtype == np.uint8 else part
    return out


def _area_rows(values: np.ndarray, index: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Area averages along the first axis of ``values``, as float32 rows of the other axes flattened: the
    source rows each output row needs, gathered (a crop's view needs no copy of the whole photo) and
    combined by one batched matrix product."""
    gathered = values[index].reshape(index.shape + (-1,)).astype(np.float32)
    return np.matmul(weights[:, None, :], gathered)[:, 0]


@lru_cache(maxsize=256)
def _linear_table(src: int, dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output pixel: its two source pixels and the second one's weight (OpenCV's mapping and clamping)."""
    positions = ((np.arange(dst) + 0.5) * _scale(src, dst) - 0.5).astype(np.float32)
    first = np.floor(positions).astype(np.intp)
    weight = positions - first
    before = first < 0
    weight[before], first[before] = 0, 0
    after = first >= src - 1
    weight[after], first[after] = 0, src - 1
    return first, np.minimum(first + 1, src - 1), weight


def _fixed_point(weight: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV's 11-bit integer weights of the two taps, shaped to broadcast along one axis."""
    first = np.rint((1 - weight) * _COEF_SCALE).astype(np.int32)
    return first.reshape(shape), (_COEF_SCALE - first).reshape(shape)


def resize_linear(image: np.ndarray, size: Size) -> np.ndarray:
    """``image`` (HxW or HxWxC, uint8 or float32) resized to ``size`` = (width, height), bilinear.

    Pixel centres sit at half-integers and the edge pixels repeat beyond the
    border, as in OpenCV's INTER_LINEAR (two taps also when shrinking, no
    smoothing). uint8 goes through OpenCV's fixed-point arithmetic (11-bit
    weights), computed here for every pixel, so keep such outputs small (the
    crops are 112 pixels); float32 in float32, as OpenCV does.
    """
    width, height = size
    src_h, src_w = image.shape[:2]
    if width < 1 or height < 1:
        raise ValueError(f"cannot resize to {width}x{height}")
    if (width, height) == (src_w, src_h):
        return image.copy()
    x0, x1, wx = _linear_table(src_w, width)
    y0, y1, wy = _linear_table(src_h, height)
    across = (1, width) + (1,) * (image.ndim - 2)
    down = (height,) + (1,) * (image.ndim - 1)
    if image.dtype == np.uint8:
        ax0, ax1 = _fixed_point(wx, across)
        ay0, ay1 = _fixed_point(wy, down)
        rows = image.astype(np.int32)
        rows = (rows[:, x0] * ax0 + rows[:, x1] * ax1) >> 4  # OpenCV's vector path drops 4 bits before the 2nd pass
        out = (((rows[y0] * ay0) >> 16) + ((rows[y1] * ay1) >> 16) + 2) >> 2
        return np.clip(out, 0, 255).astype(np.uint8)
    if image.dtype != np.float32:
        raise TypeError(f"resize_linear takes uint8 or float32 pixels, not {image.dtype}")
    rows = image[:, x0] + (image[:, x1] - image[:, x0]) * wx.reshape(across)
    if height < src_h:
        return rows[y0] + (rows[y1] - rows[y0]) * wy.reshape(down)
    flat = rows.reshape(src_h, -1)
    return _enlarge_rows(flat, y0, wy).reshape((height, width) + image.shape[2:])


def _enlarge_rows(rows: np.ndarray, first: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Linear interpolation down the rows when enlarging: each output row is a copy of its first source
    row, plus the weighted difference to the next where the two differ. A mask's rows differ only along
    its outline, so a probability mask is enlarged at little more than the cost of the copy."""
    counts = np.bincount(first, minlength=len(rows))
    out = np.repeat(rows, counts, axis=0)  # rows[first], as ``first`` is sorted
    changed_row, changed_col = np.nonzero(rows[1:] != rows[:-1])
    if not len(changed_row):
        return out
    starts = np.cumsum(counts) - counts
    spans = counts[changed_row]
    offsets = np.arange(int(spans.sum())) - np.repeat(np.cumsum(spans) - spans, spans)
    target = np.repeat(starts[changed_row], spans) + offsets
    step = rows[changed_row + 1, changed_col] - rows[changed_row, changed_col]
    cols = np.repeat(changed_col, spans)
    out[target, cols] += np.repeat(step, spans) * weight[target]
    return out


def pad_constant(image: np.ndarray, top: int, bottom: int, left: int, right: int, value: int) -> np.ndarray:
    """``image`` with a border of ``value`` (in every channel) of the given widths."""
    height, width = image.shape[:2]
    out = np.full((height + top + bottom, width + left + right) + image.shape[2:], value, dtype=image.dtype)
    out[top : top + height, left : left + width] = image
    return out


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected region of a 2-D boolean mask (all False when the mask is empty).

    Of regions of equal size the one that a scan of 2x2 blocks, row pair by
    row pair, meets first wins: the one OpenCV's block-based labelling
    numbers first. Works on runs of pixels, so a segmenter's mask of a few
    hundred runs costs well under a millisecond.
    """
    binary = np.asarray(mask, dtype=bool)
    height, width = binary.shape
    padded = np.zeros((height, width + 2), np.int8)
    padded[:, 1:-1] = binary
    # In each row runs of True start and stop by turns, so the changes alternate start, stop, start, ...
    changes = np.flatnonzero(np.diff(padded.ravel()))
    rows, starts = np.divmod(changes[0::2], width + 2)
    stops = changes[1::2] - rows * (width + 2)
    if not len(rows):
        return np.zeros(binary.shape, dtype=bool)
    # Run j touches (8-connected) the runs i of the row above with stop_i >= start_j and start_i <= stop_j:
    # a contiguous range of them, found by searching row-major keys.
    stride = width + 2
    above = (rows - 1) * stride
    lo = np.searchsorted(rows * stride + stops, above + starts, "left")
    hi = np.searchsorted(rows * stride + starts, above + stops, "right")
    counts = np.maximum(hi - lo, 0)
    below = np.repeat(np.arange(len(rows)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip((np.repeat(lo, counts) + offsets).tolist(), below.tolist(), strict=True):
        a, b = root(i), root(j)
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b
    labels = np.array([root(i) for i in range(len(rows))])
    areas = np.bincount(labels, weights=stops - starts, minlength=len(rows))
    first_block = np.full(len(rows), np.iinfo(np.int64).max)
    np.minimum.at(first_block, labels, (rows // 2) * (width // 2 + 1) + starts // 2)
    first_block[areas < areas.max()] = np.iinfo(np.int64).max
    keep = labels == int(np.argmin(first_block))
    if keep.all():  # one region, the usual case
        return binary.copy()
    marks = np.zeros((height, width + 1), np.int8)
    marks[rows[keep], starts[keep]] = 1
    marks[rows[keep], stops[keep]] = -1
    return np.cumsum(marks, axis=1)[:, :width] > 0
