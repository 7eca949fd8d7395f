"""Tongue photo -> tongue attributes for the form, with ONNX Runtime only (no torch, no Qt).

    pipeline = TonguePipeline(ModelBundle.load(folder))        # or a bundle folder, or (segmenter, classifier)
    [result] = pipeline.predict([Path("R0001.jpg")])
    result.attributes["tongue_color"]   # {"淡白": 0.1, "淡红": 0.7, "暗红/紫暗": 0.2}
    result.grades["fissure"]            # {"light": 0.6, "severe": 0.4}; attributes["fissure"] == {"有": 1.0}

Steps per photo: decode (shrunk early when huge), segmenter on the
letterboxed photo, largest tongue region -> box, square crop with margin
(the function training used), classifier. A photo in which no tongue region
of at least ``min_tongue_fraction`` of the picture is found gives
``found=False`` and attributes read from the whole photo; callers should not
pre-fill the form from those.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from tcm_desktop.domain.errors import TcmError
from tcm_desktop.inference.errors import BundleError, PipelineError
from tcm_desktop.inference.image_io import DecodedPhoto, ImageError, decode_photo, describe
from tcm_desktop.inference.image_models import INPUT, OUTPUT_PREFIX, ImageModels
from tcm_desktop.inference.threads import StopFn, run_jobs, stop_check
from tcm_desktop.inference.tongue_crop import (
    Box,
    crop_square,
    letterbox,
    mask_box,
    square_box,
    to_model_input,
    whole_image_box,
)

if TYPE_CHECKING:
    from tcm_desktop.inference.bundle import Device, ModelBundle

__all__ = ["ImageError", "TonguePipeline", "TongueResult"]

ImageSource = bytes | Path | str
T = TypeVar("T")
BATCH = 16


def _frozen(mapping: Mapping[str, Mapping[str, float]]) -> Mapping[str, Mapping[str, float]]:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in mapping.items()})


@dataclass(frozen=True)
class TongueResult:
    """What the models read from one photo.

    ``attributes`` is keyed by form field (tongue_color, coat_color, fissure,
    tooth_marks) and gives each form value's probability (summing to 1 per
    field); for graded findings ``grades`` holds the grade probabilities
    (light/severe). ``box`` is the square the classifier saw and
    ``tongue_box`` the tongue's bounding box (None when not found), both in
    the original photo's pixels (``box`` may reach past its edges).
    """

    found: bool
    box: Box
    tongue_box: Box | None
    tongue_fraction: float
    attributes: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    grades: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    # the classifier's extra output when the pipeline was made with_features (the fused text model's photo tokens)
    features: np.ndarray | None = field(default=None, compare=False, repr=False)

    def best(self, attribute: str) -> tuple[str, float]:
        """The most probable form value of ``attribute`` and its probability."""
        value, p = max(self.attributes[attribute].items(), key=lambda kv: kv[1])
        return value, p


@dataclass(frozen=True)
class _Located:
    photo: DecodedPhoto
    found: bool
    tongue_box: Box | None  # in decoded-pixel coordinates
    fraction: float


class TonguePipeline:
    """Runs the tongue segmenter and classifier of a bundle on photos (paths or bytes)."""

    def __init__(
        self,
        models: ModelBundle | ImageModels | Path | str | tuple[Path | str, Path | str],
        threads: int | None = 2,
        device: Device = "auto",
    ) -> None:
        self.models = _resolve(models, threads, device)
        self.threads = threads
        self.plan = self.models.thread_plan(threads)
        self.spec = self.models.spec
        self._segmenter, self._classifier = self.models.sessions(self.plan.intra_op)
        self._feature_output: str | None = None

    @property
    def classifier_outputs(self) -> list[str]:
        """The classifier's output names, one per attribute, in the spec's order."""
        return [OUTPUT_PREFIX + attribute.name for attribute in self.spec.attributes]

    def with_features(self, classifier: object, output: str) -> TonguePipeline:
        """This pipeline with ``classifier`` (an ONNX session with the classifier's outputs plus
        ``output``) in place of its classifier: each result carries that output as ``features``,
        from the same single run that gives the attributes."""
        tapped = copy.copy(self)
        tapped._classifier = classifier
        tapped._feature_output = output
        return tapped

    def predict(
        self, images: Sequence[ImageSource], on_progress: Callable[[int, int], None] | None = None
    ) -> list[TongueResult]:
        """One result per image, in order. Raises :class:`ImageError` naming the first unreadable image."""

        def batch(start: int) -> list[TongueResult]:
            chunk = images[start : start + BATCH]
            return self._predict_photos([decode_photo(src, describe(src, start + i)) for i, src in enumerate(chunk)])

        return self._map_batches(len(images), batch, self.plan.workers, on_progress)

    def predict_each(
        self, images: Sequence[ImageSource], workers: int | None = None, should_stop: StopFn | None = None
    ) -> list[TongueResult | TcmError]:
        """One result per image, in order, or the error that made that image unusable: a bad
        photo costs only its own result. Decoded and run in batches (about twice the photos/s
        of one at a time), ``workers`` batches at a time (default: the thread plan's); a failing
        model run fails its whole batch. ``should_stop`` is checked before every batch; when it
        returns True the call raises :class:`PredictionCancelled`."""

        def batch(start: int) -> list[TongueResult | TcmError]:
            chunk: list[DecodedPhoto | TcmError] = []
            for i, src in enumerate(images[start : start + BATCH]):
                try:
                    chunk.append(decode_photo(src, describe(src, start + i)))
                except TcmError as exc:
                    chunk.append(exc)
            photos = [item for item in chunk if isinstance(item, DecodedPhoto)]
            try:
                done: Iterator[TongueResult | TcmError] = iter(self._predict_photos(photos) if photos else [])
            except TcmError as exc:
                done = iter([exc] * len(photos))
            return [next(done) if isinstance(item, DecodedPhoto) else item for item in chunk]

        return self._map_batches(len(images), batch, workers or self.plan.workers, should_stop=should_stop)

    def _map_batches(
        self,
        count: int,
        batch: Callable[[int], list[T]],
        workers: int,
        on_progress: Callable[[int, int], None] | None = None,
        should_stop: StopFn | None = None,
    ) -> list[T]:
        """``batch(start)`` for every BATCH photos of ``count``, ``workers`` at a time, results in order."""
        starts = list(range(0, count, BATCH))
        parts: list[list[T]] = [[] for _ in starts]
        done = 0

        def collect(index: int, results: list[T]) -> None:
            nonlocal done
            parts[index] = results
            done += len(results)
            if on_progress is not None:
                on_progress(done, count)

        jobs = [partial(batch, start) for start in starts]
        run_jobs(jobs, workers, on_result=collect, before_each=stop_check(should_stop))
        return [result for part in parts for result in part]

    def classifier_crops(self, images: Sequence[ImageSource]) -> list[tuple[np.ndarray, bool]]:
        """The classifier's input crop (S x S x 3 uint8) of each image and whether a tongue was found.

        Exactly what :meth:`predict` feeds the classifier, for models that read
        the same crops (the text-image fusion's image features).
        """
        out: list[tuple[np.ndarray, bool]] = []
        for start in range(0, len(images), BATCH):
            chunk = images[start : start + BATCH]
            located = self._locate([decode_photo(src, describe(src, start + i)) for i, src in enumerate(chunk)])
            crops, _ = self._crops(located)
            out += [(crop, item.found) for crop, item in zip(crops, located, strict=True)]
        return out

    def _crops(self, located: list[_Located]) -> tuple[list[np.ndarray], list[Box]]:
        crops, boxes = [], []
        margin = self.spec.crop.margin
        for item in located:
            pixels = item.photo.pixels
            height, width = pixels.shape[:2]
            box = square_box(item.tongue_box, margin) if item.tongue_box else whole_image_box(width, height)
            boxes.append(box)
            crops.append(crop_square(pixels, box, self.spec.classifier_size))
        return crops, boxes

    def _predict_photos(self, photos: list[DecodedPhoto]) -> list[TongueResult]:
        located = self._locate(photos)
        crops, boxes = self._crops(located)
        names = self.classifier_outputs + ([self._feature_output] if self._feature_output else [])
        outputs = self._run(self._classifier, crops, names)
        features = outputs.pop() if self._feature_output else None
        results = []
        for row, (item, box) in enumerate(zip(located, boxes, strict=True)):
            attributes: dict[str, dict[str, float]] = {}
            grades: dict[str, dict[str, float]] = {}
            for attribute, probs in zip(self.spec.attributes, outputs, strict=True):
                p = probs[row].astype(np.float64)
                p = p / p.sum()  # INT8 softmax may be off by a few thousandths
                values: dict[str, float] = {}
                for value, q in zip(attribute.form_values, p, strict=True):
                    values[value] = values.get(value, 0.0) + float(q)
                attributes[attribute.name] = values
                if attribute.graded:
                    grades[attribute.name] = {c: float(q) for c, q in zip(attribute.classes, p, strict=True)}
            scale = item.photo.scale
            results.append(
                TongueResult(
                    found=item.found,
                    box=_unscale(box, scale),
                    tongue_box=_unscale(item.tongue_box, scale) if item.tongue_box else None,
                    tongue_fraction=item.fraction,
                    attributes=_frozen(attributes),
                    grades=_frozen(grades),
                    features=None if features is None else np.asarray(features[row], dtype=np.float32),
                )
            )
        return results

    def _locate(self, photos: list[DecodedPhoto]) -> list[_Located]:
        canvases, frames = [], []
        for photo in photos:
            canvas, frame = letterbox(photo.pixels, self.spec.segmenter_size)
            canvases.append(canvas)
            frames.append(frame)
        (probs,) = self._run(self._segmenter, canvases)
        crop = self.spec.crop
        located = []
        for photo, frame, prob in zip(photos, frames, probs, strict=True):
            mask = prob[0] > crop.threshold
            fraction = frame.photo_fraction(mask)
            box = mask_box(mask, 0.0)
            found = box is not None and fraction >= crop.min_tongue_fraction
            located.append(_Located(photo, found, frame.box_to_image(box) if found and box else None, fraction))
        return located

    def mask(self, image: ImageSource) -> np.ndarray:
        """The tongue probability map of one photo at its decoded size (HxW float32), e.g. for display."""
        photo = decode_photo(image, describe(image, 0))
        canvas, frame = letterbox(photo.pixels, self.spec.segmenter_size)
        (probs,) = self._run(self._segmenter, [canvas])
        return frame.mask_to_image(probs[0, 0])

    def _run(self, session: object, images: list[np.ndarray], outputs: list[str] | None = None) -> list[np.ndarray]:
        try:
            return list(session.run(outputs, {INPUT: to_model_input(images)}))  # type: ignore[attr-defined]
        except Exception as exc:  # ONNX Runtime raises its own untyped errors
            raise PipelineError(f"the tongue model failed: {exc}") from exc


def _unscale(box: Box, scale: float) -> Box:
    if scale == 1.0:
        return box
    return (
        round(box[0] / scale),
        round(box[1] / scale),
        round(box[2] / scale),
        round(box[3] / scale),
    )


def _resolve(
    models: ModelBundle | ImageModels | Path | str | tuple[Path | str, Path | str],
    threads: int | None,
    device: Device,
) -> ImageModels:
    if isinstance(models, ImageModels):
        return models
    if isinstance(models, tuple):
        return ImageModels.from_files(models[0], models[1], device)
    if isinstance(models, (str, Path)):
        return ImageModels.load_bundle(models, threads, device)
    image = getattr(models, "image", None)
    if not isinstance(image, ImageModels):
        raise BundleError(f"the model bundle {getattr(models, 'folder', models)} has no tongue image model")
    return image
