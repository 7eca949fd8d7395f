"""A record in, its structured prediction out: spans, form, tongue attributes and flags.

:class:`Structurer` is the one entry point the GUI worker, ``tcm structure``
and ``tcm bench`` share, so they all measure and show the same thing:

1. the text pipeline (:mod:`.text_pipeline`) finds the spans of every text;
2. form filling (:mod:`.form_filling`) derives the record's form from them,
   each value with its evidence spans;
3. when the bundle has a tongue image model and the record a photo, the image
   pipeline gives tongue attributes with probabilities; they fill the tongue
   fields the text left empty, and where text and photo disagree the record
   is flagged (the text wins: the clinician looked at the patient).

Steps 1 and 3 run side by side: the photos on a thread of their own beside
the text's batches. When the bundle also has a fused text model (manifest
``fusion``, :mod:`.fusion`) and images are used, the photos come first: one
run of the token model gives each photo's attributes and the tokens the
fused model then reads with the text (records without a photo take its text
path).

A photo that cannot be read does not fail its record or the batch: the
record is structured from its text and carries a flag naming the problem.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tcm_desktop.domain import TcmError
from tcm_desktop.domain.records import Prediction, Record
from tcm_desktop.domain.schema import GENERAL, Schema, default_schema
from tcm_desktop.inference.bundle import Device, ModelBundle
from tcm_desktop.inference.form_filling import fill_form, merge_tongue_attributes
from tcm_desktop.inference.fusion import FusedTextModel
from tcm_desktop.inference.text_pipeline import (
    DEFAULT_MEMORY_BUDGET_MB,
    ProgressFn,
    StopFn,
    TextPipeline,
    TextResult,
)

ImageSource = Path | bytes | None


class Structurer:
    """Structures records with one :class:`ModelBundle` (sessions created once, reused for every call).

    ``use_image=False`` ignores the bundle's image model even when it has one
    (``tcm structure --no-image``). One structurer serves one thread at a time.
    """

    def __init__(
        self,
        bundle: ModelBundle,
        threads: int | None = 2,
        memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
        use_image: bool = True,
        schema: Schema | None = None,
    ) -> None:
        self.bundle = bundle
        self.schema = schema or default_schema()
        self.tongue = _tongue_pipeline(bundle, threads) if use_image else None
        self.fused = FusedTextModel.from_bundle(bundle, threads) if self.tongue is not None else None
        if self.fused is not None and self.tongue is not None:
            self.fused.check_classifier_outputs(self.tongue.classifier_outputs)
        self.text = TextPipeline(bundle, threads=threads, memory_budget_mb=memory_budget_mb, fused=self.fused)
        # A fused model needs photo tokens to mean anything; without images the plain text model runs.
        self.plain_text = (
            TextPipeline(bundle, threads=threads, memory_budget_mb=memory_budget_mb) if self.fused is not None else None
        )

    @classmethod
    def load(
        cls, folder: Path | str, threads: int | None = 2, device: Device = "auto", use_image: bool = True
    ) -> Structurer:
        """Load and verify the bundle in ``folder`` (raises BundleError) and build its structurer."""
        return cls(ModelBundle.load(folder, threads=threads, device=device), threads=threads, use_image=use_image)

    @property
    def model_version(self) -> str:
        return self.bundle.model_version

    @property
    def has_image_model(self) -> bool:
        return self.tongue is not None

    def structure(
        self,
        records: Sequence[Record],
        base_dir: Path | None = None,
        images: Sequence[ImageSource] | None = None,
        use_image: bool = True,
        on_progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> list[Prediction]:
        """One :class:`Prediction` per record, in order.

        Photos come from ``images`` (one path, bytes or None per record) or,
        when that is not given, from each record's ``image`` resolved against
        ``base_dir``. ``on_progress``/``should_stop`` are the text pipeline's
        (characters done of total; checked before every batch).
        """
        if images is not None and len(images) != len(records):
            raise ValueError(f"{len(images)} images for {len(records)} records")
        texts = [r.text for r in records]
        if self.fused is not None and use_image:  # the fused model reads the photo tokens: photos first
            photos = self._photos(records, base_dir, images, should_stop)
            tokens = [photos.tokens.get(i) for i in range(len(records))]
            found = self.text.predict(texts, on_progress=on_progress, should_stop=should_stop, images=tokens)
        elif use_image and self.tongue is not None:
            found, photos = self._text_beside_photos(records, base_dir, images, on_progress, should_stop)
        else:
            text = self.plain_text or self.text
            found = text.predict(texts, on_progress=on_progress, should_stop=should_stop)
            photos = _PhotoReadings()
        predictions = []
        for i, (record, result) in enumerate(zip(records, found, strict=True)):
            flags = list(photos.flags.get(i, ()))
            specialty = record.specialty
            if specialty not in self.schema.specialty_codes:  # e.g. a typo in a `tcm structure` input
                flags.append(f"specialty: unknown specialty {specialty!r}; the general form was filled")
                specialty = GENERAL
            form = fill_form(record.text, result.spans, specialty, self.schema)
            attributes = photos.attributes.get(i, {})
            if attributes:
                form, disagreements = merge_tongue_attributes(form, attributes)
                flags += disagreements
            predictions.append(
                Prediction(
                    record.id,
                    self.model_version,
                    result.spans,
                    form=tuple(form),
                    uncertainty=result.uncertainty,
                    tongue=attributes,
                    flags=tuple(flags),
                )
            )
        return predictions

    def _text_beside_photos(
        self,
        records: Sequence[Record],
        base_dir: Path | None,
        images: Sequence[ImageSource] | None,
        on_progress: ProgressFn | None,
        should_stop: StopFn | None,
    ) -> tuple[list[TextResult], _PhotoReadings]:
        """The text pipeline and the tongue pass at the same time: the photos on a side thread,
        one batch at a time, beside the text's batches (about 1.4x the records/s of one after
        the other on 2 cores); a failure of either stops the other."""
        failed = threading.Event()

        def photos_stop() -> bool:
            return failed.is_set() or (should_stop is not None and should_stop())

        with ThreadPoolExecutor(1, thread_name_prefix="tcm-tongue") as side:
            photos = side.submit(self._photos, records, base_dir, images, photos_stop)
            try:
                found = self.text.predict([r.text for r in records], on_progress=on_progress, should_stop=should_stop)
            except BaseException:
                failed.set()
                raise
            return found, photos.result()

    def _photos(
        self,
        records: Sequence[Record],
        base_dir: Path | None,
        images: Sequence[ImageSource] | None,
        should_stop: StopFn | None = None,
    ) -> _PhotoReadings:
        """What the photos of ``records`` show; with a fused model, its photo tokens from the same run."""
        if self.tongue is None:
            return _PhotoReadings()
        tongue = self.tongue
        if self.fused is not None:
            tongue = tongue.with_features(self.fused.token_session, self.fused.spec.tokens_output)
        sources: list[tuple[int, Path | bytes]] = []
        for i, record in enumerate(records):
            source = images[i] if images is not None else _image_path(record, base_dir)
            if source is not None:
                sources.append((i, source))
        readings = _PhotoReadings()
        results = tongue.predict_each([source for _, source in sources], workers=1, should_stop=should_stop)
        for (i, _), result in zip(sources, results, strict=True):
            if isinstance(result, TcmError):
                readings.flags[i] = (f"image: {result}",)
            elif not result.found:  # such a photo gives the fused model no evidence either
                readings.flags[i] = ("image: no tongue found in the photo",)
            else:
                readings.attributes[i] = {name: dict(probs) for name, probs in result.attributes.items()}
                if result.features is not None:
                    readings.tokens[i] = result.features
        return readings


@dataclass
class _PhotoReadings:
    """Per record index: tongue attributes, a flag for a photo that could not be used, fused-model tokens."""

    attributes: dict[int, dict[str, dict[str, float]]] = field(default_factory=dict)
    flags: dict[int, tuple[str, ...]] = field(default_factory=dict)
    tokens: dict[int, np.ndarray] = field(default_factory=dict)


def _image_path(record: Record, base_dir: Path | None) -> Path | None:
    if not record.image:
        return None
    path = Path(record.image.replace("\\", "/"))
    return path if path.is_absolute() or base_dir is None else base_dir / path


def _tongue_pipeline(bundle: ModelBundle, threads: int | None):  # type: ignore[no-untyped-def]
    """The bundle's tongue image pipeline, or None for a text-only bundle."""
    if not bundle.manifest.get("image"):
        return None
    from tcm_desktop.inference.image_pipeline import TonguePipeline

    return TonguePipeline(bundle, threads=threads)
