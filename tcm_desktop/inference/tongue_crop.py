"""Geometry shared by tongue-model training and inference (numpy only: no torch, no OpenCV).

Training and the runtime call the same functions, so the pixels a model sees
at run time are made exactly as the pixels it was trained on:

- :func:`letterbox` fits a whole photo into the segmenter's square input
  (aspect kept, padded), and :class:`Letterbox` maps its output back;
- :func:`mask_box` turns a tongue mask into the box of its largest region;
- :func:`square_box` grows a box by a margin into a square around its centre;
- :func:`crop_square` cuts that square out of the photo (padding where it
  leaves the photo) and resizes it to the classifier's input.

Images are HxWx3 uint8 RGB arrays; boxes are ``(x0, y0, x1, y1)`` in pixels,
end exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tcm_desktop.inference.image_ops import largest_component, pad_constant, resize_area, resize_linear

Box = tuple[int, int, int, int]
# Padding colour: mid-grey, far from every tongue colour, the same in training and at run time.
PAD_VALUE = 114


@dataclass(frozen=True)
class CropSettings:
    """How the classifier's input is cut from a photo; stored in the checkpoint, ONNX metadata and manifest."""

    margin: float = 0.12  # fraction of the box's longer side added on every side
    min_tongue_fraction: float = 0.02  # a mask region smaller than this share of the photo is "not found"
    threshold: float = 0.5  # segmenter probability above which a pixel is tongue

    def to_dict(self) -> dict[str, float]:
        return {"margin": self.margin, "min_tongue_fraction": self.min_tongue_fraction, "threshold": self.threshold}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CropSettings:
        return cls(
            margin=float(data["margin"]),
            min_tongue_fraction=float(data["min_tongue_fraction"]),
            threshold=float(data["threshold"]),
        )


@dataclass(frozen=True)
class Letterbox:
    """Where a photo went inside the square canvas: ``canvas = photo * scale + (left, top)``."""

    scale: float
    left: int
    top: int
    width: int  # the photo's size
    height: int
    size: int  # the canvas side

    def box_to_image(self, box: Box) -> Box:
        """A box in canvas pixels mapped to photo pixels (clipped to the photo)."""
        x0, y0, x1, y1 = box

        def back(value: int, offset: int, limit: int) -> int:
            return int(np.clip(round((value - offset) / self.scale), 0, limit))

        return (
            back(x0, self.left, self.width),
            back(y0, self.top, self.height),
            back(x1, self.left, self.width),
            back(y1, self.top, self.height),
        )

    def inner(self, canvas_map: np.ndarray) -> np.ndarray:
        """The part of a canvas-sized map that covers the photo (the padding cut off)."""
        inner_w = max(1, round(self.width * self.scale))
        inner_h = max(1, round(self.height * self.scale))
        return canvas_map[self.top : self.top + inner_h, self.left : self.left + inner_w]

    def mask_to_image(self, canvas_mask: np.ndarray) -> np.ndarray:
        """A float map over the canvas resized back onto the photo (bilinear), HxW float32."""
        return resize_linear(self.inner(canvas_mask).astype(np.float32), (self.width, self.height))

    def photo_fraction(self, canvas_mask: np.ndarray) -> float:
        """The share of the photo a boolean canvas mask covers, counted on the canvas (no resize back)."""
        inside = self.inner(canvas_mask)
        return float(inside.mean()) if inside.size else 0.0


def letterbox(image: np.ndarray, size: int, pad_value: int = PAD_VALUE) -> tuple[np.ndarray, Letterbox]:
    """The photo scaled to fit a ``size`` x ``size`` canvas (aspect kept, centred, padded with ``pad_value``)."""
    height, width = image.shape[:2]
    scale = size / max(height, width)
    inner_w, inner_h = max(1, round(width * scale)), max(1, round(height * scale))
    resize = resize_area if scale < 1 else resize_linear
    resized = resize(image, (inner_w, inner_h))
    canvas = np.full((size, size) + image.shape[2:], pad_value, dtype=image.dtype)
    left, top = (size - inner_w) // 2, (size - inner_h) // 2
    canvas[top : top + inner_h, left : left + inner_w] = resized
    return canvas, Letterbox(scale, left, top, width, height, size)


def largest_region(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected region of a boolean mask (all False when the mask is empty)."""
    return largest_component(mask)


def mask_box(mask: np.ndarray, min_fraction: float = 0.0) -> Box | None:
    """Bounding box of the largest region of ``mask``; None when it covers less than ``min_fraction``."""
    region = largest_region(mask)
    area = int(region.sum())
    if area == 0 or area < min_fraction * region.size:
        return None
    ys, xs = np.nonzero(region)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def square_box(box: Box, margin: float) -> Box:
    """A square around the box's centre, its side the box's longer side times ``1 + 2 * margin``.

    The square may reach outside the photo; :func:`crop_square` pads there.
    """
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0, 1) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = side / 2
    left, top = round(cx - half), round(cy - half)
    length = max(1, round(side))
    return (left, top, left + length, top + length)


def whole_image_box(width: int, height: int) -> Box:
    """The square centred on the photo that holds all of it (used when no tongue is found)."""
    return square_box((0, 0, width, height), 0.0)


def crop_square(image: np.ndarray, box: Box, size: int) -> np.ndarray:
    """Cut ``box`` out of ``image`` (padding with PAD_VALUE outside it) and resize to ``size`` x ``size``."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"empty crop box {box}")
    pad_left, pad_top = max(0, -x0), max(0, -y0)
    pad_right, pad_bottom = max(0, x1 - width), max(0, y1 - height)
    inner = image[max(0, y0) : min(height, y1), max(0, x0) : min(width, x1)]
    if inner.size == 0:
        inner = np.full((1, 1) + image.shape[2:], PAD_VALUE, dtype=image.dtype)
        pad_left, pad_top = 0, 0
        pad_right, pad_bottom = x1 - x0 - 1, y1 - y0 - 1
    if pad_left or pad_top or pad_right or pad_bottom:
        inner = pad_constant(inner, pad_top, pad_bottom, pad_left, pad_right, PAD_VALUE)
    resize = resize_area if inner.shape[0] > size else resize_linear
    return resize(inner, (size, size))


def to_model_input(images: list[np.ndarray]) -> np.ndarray:
    """Stack HxWx3 uint8 RGB images into the models' NCHW float32 input in [0, 1]."""
    batch = np.stack(images).astype(np.float32) / 255.0
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))


def mask_iou(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two boolean masks (1.0 when both are empty)."""
    union = np.logical_or(predicted, truth).sum()
    return 1.0 if union == 0 else float(np.logical_and(predicted, truth).sum() / union)
