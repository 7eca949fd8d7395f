"""The tongue photo data set (TonguExpert layout), its split by image id, a decoded cache and augmentations.

Layout: ``DIR/images/ID.jpg``, ``DIR/masks/ID.jpg`` (mask > 127 is tongue)
and ``DIR/labels_manual.tsv`` (``SID`` plus one column per attribute, NA
where unlabelled). The split is by image id with a fixed seed and is saved
as JSON, so every stage and every rerun sees the same test images.

The cache holds, per image, exactly what the runtime computes from it: the
segmenter's letterboxed input (:func:`letterbox`) with its mask, and the
photo shrunk to ``photo_side`` pixels on its longer side with the mask's box,
from which the classifier's crops are cut by :func:`crop_square`.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tcm_desktop.domain import TcmError
from tcm_desktop.files import sha256_of
from tcm_desktop.inference.tongue_crop import Box, crop_square, letterbox, mask_box, square_box
from training.tongue.labels import ATTRIBUTES, TongueAttribute

NA = "NA"
SPLITS = ("train", "val", "test")
SOURCE = "TonguExpert v1.0 tongue photographs (zxc1844/tongue_expert @ 2a130100); research use"


class TongueDataError(TcmError):
    """The tongue data folder is missing files or has labels outside the known classes."""


@dataclass(frozen=True)
class TongueItem:
    sid: str
    image: Path
    mask: Path
    labels: tuple[int, ...]  # class index per attribute (ATTRIBUTES order), -1 when NA


def scan(folder: Path, attributes: Sequence[TongueAttribute] = ATTRIBUTES) -> list[TongueItem]:
    """Every image with its mask and labels, sorted by id."""
    table = folder / "labels_manual.tsv"
    if not table.is_file():
        raise TongueDataError(f"{table} does not exist")
    with table.open(encoding="utf-8", newline="") as fh:
        rows = {row["SID"]: row for row in csv.DictReader(fh, delimiter="\t")}
    items = []
    for image in sorted((folder / "images").glob("*.jpg")):
        sid = image.stem
        mask = folder / "masks" / image.name
        if not mask.is_file():
            raise TongueDataError(f"{image.name} has no mask in {folder / 'masks'}")
        row = rows.get(sid, {})
        labels = []
        for attribute in attributes:
            value = (row.get(attribute.column) or NA).strip()
            if value == NA:
                labels.append(-1)
            elif value in attribute.classes:
                labels.append(attribute.classes.index(value))
            else:
                raise TongueDataError(f"{sid}: {attribute.column}={value!r} is not one of {attribute.classes}")
        items.append(TongueItem(sid, image, mask, tuple(labels)))
    if not items:
        raise TongueDataError(f"no images in {folder / 'images'}")
    return items


def make_split(ids: Sequence[str], seed: int = 13, fractions: tuple[float, float] = (0.70, 0.15)) -> dict[str, Any]:
    """Shuffle the ids with ``seed`` and cut train / val / test (the rest)."""
    order = sorted(ids)
    random.Random(seed).shuffle(order)
    n_train = round(len(order) * fractions[0])
    n_val = round(len(order) * fractions[1])
    parts = {"train": order[:n_train], "val": order[n_train : n_train + n_val], "test": order[n_train + n_val :]}
    return {"seed": seed, "fractions": [fractions[0], fractions[1], 1 - sum(fractions)], "by": "image id"} | {
        name: sorted(part) for name, part in parts.items()
    }


def load_or_make_split(path: Path, ids: Sequence[str], seed: int = 13) -> dict[str, Any]:
    """The split saved at ``path``, made (and saved) on first use; refuses one that misses images."""
    if path.is_file():
        split = json.loads(path.read_text(encoding="utf-8"))
        known = {sid for name in SPLITS for sid in split[name]}
        if known != set(ids):
            raise TongueDataError(f"the split {path} does not cover the data's {len(ids)} images; delete it")
        return split
    split = make_split(ids, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(split, indent=1) + "\n", encoding="utf-8")
    return split


def read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise TongueDataError(f"cannot decode {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_mask(path: Path) -> np.ndarray:
    mask = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise TongueDataError(f"cannot decode {path}")
    return mask > 127


@dataclass
class TongueCache:
    """Decoded, resized copies of the photos (see the module docstring), index-aligned with ``sids``."""

    sids: list[str]
    labels: np.ndarray  # [N, attributes] int64, -1 = NA
    seg_images: np.ndarray  # [N, S, S, 3] uint8, letterboxed segmenter inputs
    seg_masks: np.ndarray  # [N, S, S] bool
    photos: list[np.ndarray]  # HxWx3 uint8, longer side photo_side
    boxes: np.ndarray  # [N, 4] int64 mask box in photo pixels

    def index(self, sids: Sequence[str]) -> list[int]:
        where = {sid: i for i, sid in enumerate(self.sids)}
        return [where[sid] for sid in sids]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        shapes = np.array([p.shape[:2] for p in self.photos], dtype=np.int64)
        flat = np.concatenate([p.reshape(-1) for p in self.photos])
        tmp = path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            sids=np.array(self.sids),
            labels=self.labels,
            seg_images=self.seg_images,
            seg_masks=self.seg_masks,
            photo_shapes=shapes,
            photos=flat,
            boxes=self.boxes,
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> TongueCache:
        with np.load(path) as data:
            shapes, flat = data["photo_shapes"], data["photos"]
            photos, start = [], 0
            for h, w in shapes:
                photos.append(flat[start : start + h * w * 3].reshape(h, w, 3))
                start += h * w * 3
            return cls(
                [str(s) for s in data["sids"]],
                data["labels"],
                data["seg_images"],
                data["seg_masks"],
                photos,
                data["boxes"],
            )


def _shrink(image: np.ndarray, side: int, interpolation: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return image
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=interpolation)


def build_cache(items: Sequence[TongueItem], seg_size: int = 128, photo_side: int = 320) -> TongueCache:
    """Decode every photo and mask once into a :class:`TongueCache`."""
    seg_images, seg_masks, photos, boxes = [], [], [], []
    for item in items:
        image, mask = read_rgb(item.image), read_mask(item.mask)
        if mask.shape != image.shape[:2]:
            raise TongueDataError(f"{item.sid}: mask {mask.shape} and image {image.shape[:2]} differ in size")
        canvas, _ = letterbox(image, seg_size)
        mask_canvas, _ = letterbox(mask.astype(np.uint8) * 255, seg_size, pad_value=0)
        seg_images.append(canvas)
        seg_masks.append(mask_canvas > 127)
        photo = _shrink(image, photo_side, cv2.INTER_AREA)
        small_mask = _shrink(mask.astype(np.uint8) * 255, photo_side, cv2.INTER_AREA) > 127
        box = mask_box(small_mask) or (0, 0, photo.shape[1], photo.shape[0])
        photos.append(photo)
        boxes.append(box)
    return TongueCache(
        [item.sid for item in items],
        np.array([item.labels for item in items], dtype=np.int64),
        np.stack(seg_images),
        np.stack(seg_masks),
        photos,
        np.array(boxes, dtype=np.int64),
    )


def cache_for(data_dir: Path, cache_path: Path, seg_size: int, photo_side: int) -> TongueCache:
    """The cache at ``cache_path``, built from ``data_dir`` when missing."""
    if cache_path.is_file():
        return TongueCache.load(cache_path)
    cache = build_cache(scan(data_dir), seg_size, photo_side)
    cache.save(cache_path)
    return cache


def data_provenance(data_dir: Path, split_path: Path, split: dict[str, Any]) -> dict[str, Any]:
    """What the checkpoint, ONNX metadata and manifest say about the data."""
    return {
        "source": SOURCE,
        "folder": str(data_dir),
        "labels_sha256": sha256_of(data_dir / "labels_manual.tsv")[:16],
        "split_file": split_path.name,
        "split_sha256": sha256_of(split_path)[:16],
        "split_seed": split["seed"],
        "split_sizes": {name: len(split[name]) for name in SPLITS},
    }


# --- augmentation (numpy / OpenCV; rng = np.random.Generator) ---------------------------------


def augment_segmentation(
    image: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random zoom (out to 0.55x, so smaller tongues in wider photos are seen), shift, tilt, flip and light."""
    size = image.shape[0]
    scale = rng.uniform(0.55, 1.15)
    angle = rng.uniform(-15, 15)
    shift = rng.uniform(-0.12, 0.12, 2) * size
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), angle, scale)
    matrix[:, 2] += shift
    border = cv2.BORDER_REPLICATE if rng.random() < 0.7 else cv2.BORDER_REFLECT_101
    out = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=border)
    out_mask = cv2.warpAffine(mask.astype(np.uint8) * 255, matrix, (size, size), flags=cv2.INTER_LINEAR)
    if border == cv2.BORDER_REFLECT_101:  # reflected tongue pixels are tongue too
        out_mask = cv2.warpAffine(
            mask.astype(np.uint8) * 255, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=border
        )
    if rng.random() < 0.5:
        out, out_mask = out[:, ::-1], out_mask[:, ::-1]
    return photometric(out, rng, hue=6.0), out_mask > 127


def photometric(image: np.ndarray, rng: np.random.Generator, hue: float = 0.0) -> np.ndarray:
    """Brightness, contrast and (optionally) a small hue shift, as lamps and cameras differ."""
    out = image.astype(np.float32)
    out = (out - out.mean()) * rng.uniform(0.85, 1.15) + out.mean() * rng.uniform(0.88, 1.12)
    if hue:
        hsv = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.int16)
        hsv[..., 0] = (hsv[..., 0] + round(rng.uniform(-hue, hue))) % 180
        return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
    return np.clip(out, 0, 255).astype(np.uint8)


def jitter_box(box: Box, rng: np.random.Generator, amount: float = 0.08) -> Box:
    """The box moved and resized by up to ``amount`` of its size, as a segmenter's box would be."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    dx0, dy0, dx1, dy1 = rng.uniform(-amount, amount, 4)
    return (round(x0 + dx0 * w), round(y0 + dy0 * h), round(x1 + dx1 * w), round(y1 + dy1 * h))


def classifier_crop(
    photo: np.ndarray, box: Box, size: int, margin: float, rng: np.random.Generator | None = None
) -> np.ndarray:
    """The classifier's input for one photo; with ``rng``, an augmented one (box jitter, flip, light)."""
    if rng is None:
        return crop_square(photo, square_box(box, margin), size)
    crop = crop_square(photo, square_box(jitter_box(box, rng), margin + rng.uniform(-0.04, 0.04)), size)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return photometric(crop, rng)
