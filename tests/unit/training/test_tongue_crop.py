"""The crop geometry shared by tongue training and the runtime, on masks drawn here."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tcm_desktop.demo.tongue_image import TongueState, render_tongue, tongue_mask
from tcm_desktop.inference.tongue_crop import (
    PAD_VALUE,
    CropSettings,
    crop_square,
    largest_region,
    letterbox,
    mask_box,
    mask_iou,
    square_box,
    to_model_input,
    whole_image_box,
)

STATE = TongueState("淡红", "白", "薄", False, True)


def ellipse_mask(width: int = 200, height: int = 150, centre=(120, 80), axes=(40, 30)) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 255, -1)
    return mask > 0


def test_mask_box_is_the_box_of_the_largest_region() -> None:
    mask = ellipse_mask()
    mask[5:10, 5:10] = True  # a speck elsewhere is ignored
    assert mask_box(mask) == (80, 50, 161, 111)
    assert largest_region(mask)[7, 7] == np.False_


def test_a_region_below_the_minimum_share_is_not_found() -> None:
    mask = np.zeros((100, 100), bool)
    assert mask_box(mask) is None
    mask[10:14, 10:14] = True  # 0.16% of the photo
    assert mask_box(mask, min_fraction=0.02) is None
    assert mask_box(mask, min_fraction=0.001) == (10, 10, 14, 14)


def test_square_box_is_centred_with_the_margin_on_the_longer_side() -> None:
    x0, y0, x1, y1 = square_box((80, 50, 160, 110), margin=0.25)
    assert x1 - x0 == y1 - y0 == 120  # 80 * (1 + 2 * 0.25)
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == (120, 80)
    assert square_box((0, 0, 10, 4), 0.0) == (0, -3, 10, 7)
    assert whole_image_box(120, 90) == (0, -15, 120, 105)


def test_crop_square_pads_outside_the_photo_and_resizes() -> None:
    image = np.zeros((50, 80, 3), np.uint8)
    image[:, :40] = (255, 0, 0)
    crop = crop_square(image, (-20, -20, 60, 60), 40)
    assert crop.shape == (40, 40, 3)
    assert (crop[0, 0] == PAD_VALUE).all()  # padded corner
    assert tuple(crop[20, 15]) == (255, 0, 0) and tuple(crop[20, 35]) == (0, 0, 0)
    far = crop_square(image, (200, 200, 240, 240), 8)  # wholly outside: all padding
    assert (far == PAD_VALUE).all()
    with pytest.raises(ValueError, match="empty"):
        crop_square(image, (10, 10, 10, 20), 8)


def test_letterbox_keeps_the_aspect_and_maps_boxes_and_masks_back() -> None:
    mask = ellipse_mask()
    image = np.where(mask[..., None], np.uint8(200), np.uint8(30)).astype(np.uint8).repeat(3, axis=2)
    canvas, frame = letterbox(image, 64)
    assert canvas.shape == (64, 64, 3) and frame.scale == pytest.approx(64 / 200)
    assert (canvas[: frame.top] == PAD_VALUE).all() and frame.top == 8
    box = mask_box(canvas[..., 0] > 150)
    assert box is not None
    back = frame.box_to_image(box)
    assert all(abs(a - b) <= 4 for a, b in zip(back, (80, 50, 161, 111), strict=True))
    restored = frame.mask_to_image((canvas[..., 0] > 150).astype(np.float32)) > 0.5
    assert restored.shape == mask.shape and mask_iou(restored, mask) > 0.9


def test_the_crop_of_a_synthetic_tongue_holds_the_whole_tongue() -> None:
    image = render_tongue(STATE, seed=5)
    mask = tongue_mask(STATE, seed=5) > 127
    box = mask_box(mask, CropSettings().min_tongue_fraction)
    assert box is not None
    square = square_box(box, CropSettings().margin)
    marked = np.where(mask[..., None], np.uint8(255), np.uint8(0)).repeat(3, axis=2)
    crop = crop_square(marked, square, 64)[..., 0] > 127
    assert crop[0].sum() == crop[-1].sum() == crop[:, 0].sum() == crop[:, -1].sum() == 0  # margin all round
    assert crop.mean() > 0.25
    assert crop_square(image, square, 64).shape == (64, 64, 3)


def test_model_input_is_nchw_float_in_unit_range() -> None:
    batch = to_model_input([np.full((8, 8, 3), 255, np.uint8), np.zeros((8, 8, 3), np.uint8)])
    assert batch.shape == (2, 3, 8, 8) and batch.dtype == np.float32
    assert batch.max() == 1.0 and batch.min() == 0.0


def test_mask_iou() -> None:
    a, b = np.zeros((4, 4), bool), np.zeros((4, 4), bool)
    assert mask_iou(a, b) == 1.0
    a[:2], b[1:3] = True, True
    assert mask_iou(a, b) == pytest.approx(4 / 12)


def test_the_photo_fraction_counts_the_photo_part_of_the_canvas_only() -> None:
    photo = np.zeros((50, 100, 3), np.uint8)  # wide: padded above and below on a 64 canvas
    _canvas, frame = letterbox(photo, 64)
    mask = np.ones((64, 64), bool)  # padding included
    assert frame.photo_fraction(mask) == 1.0
    mask[:, :32] = False
    assert frame.photo_fraction(mask) == pytest.approx(0.5)
    assert frame.photo_fraction(np.zeros((64, 64), bool)) == 0.0
    full = frame.mask_to_image(mask.astype(np.float32)) > 0.5  # what it stands in for
    assert abs(full.mean() - frame.photo_fraction(mask)) < 0.02
