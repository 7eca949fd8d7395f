"""The bundle's fused text model: text windows plus the record's tongue-photo tokens -> emissions (ONNX only).

A bundle with a ``fusion`` entry in its manifest carries two more files::

    "fusion": {"file": "fused_text.onnx",
               "image_tokens": {"file": "tongue_features.onnx", "output": "image_tokens",
                                "cells": 16, "channels": 512}, ...}

``tongue_features.onnx`` is the bundle's tongue classifier with its last
feature map as an extra output ``image_tokens`` [B, cells, channels], so
one run of it gives a photo's attributes and its tokens
(:meth:`TonguePipeline.with_features`);
``fused_text.onnx`` takes the text inputs plus ``image_tokens`` and
``image_mask`` [B] (1 = the record has a photo). A record without a usable
photo gets mask 0 and exactly the text path's emissions.
:class:`~tcm_desktop.inference.text_pipeline.TextPipeline` runs it when
given a :class:`FusedTextModel`; :class:`~tcm_desktop.inference.structuring.Structurer`
does so whenever the bundle has one and images are used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from tcm_desktop.inference.bundle import CPU, MANIFEST, ModelBundle
from tcm_desktop.inference.errors import BundleError

FUSION = "fusion"
IMAGE_TOKENS, IMAGE_MASK = "image_tokens", "image_mask"


@dataclass(frozen=True)
class FusionSpec:
    text_file: Path
    tokens_file: Path
    tokens_output: str
    cells: int
    channels: int

    @classmethod
    def from_manifest(cls, folder: Path, entry: Mapping[str, Any], files: Mapping[str, Any]) -> FusionSpec:
        try:
            tokens = entry["image_tokens"]
            spec = cls(
                folder / str(entry["file"]),
                folder / str(tokens["file"]),
                str(tokens.get("output", IMAGE_TOKENS)),
                int(tokens["cells"]),
                int(tokens["channels"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BundleError(
                f"the '{FUSION}' entry of {MANIFEST} in {folder} is malformed ({exc!r})", MANIFEST
            ) from exc
        for path in (spec.text_file, spec.tokens_file):
            if path.name not in files:
                raise BundleError(f"{MANIFEST} names the fusion model {path.name} but does not list it", path.name)
        return spec


def _session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=[CPU])
    except Exception as exc:  # ONNX Runtime raises its own untyped errors
        raise BundleError(f"ONNX Runtime cannot load {path.name}: {exc}", path.name) from exc


class FusedTextModel:
    """The fused text session and the image-token session of a bundle (both checked on creation)."""

    def __init__(self, spec: FusionSpec, intra_op_threads: int | None = 1, lexicon_features: int = 0) -> None:
        self.spec = spec
        key = int(intra_op_threads or 0)
        self.session = _session(spec.text_file, key)
        self.token_session = _session(spec.tokens_file, key)
        inputs = [i.name for i in self.session.get_inputs()]
        wanted = ["input_ids", "attention_mask", *(["lexicon"] if lexicon_features else []), IMAGE_TOKENS, IMAGE_MASK]
        if inputs != wanted:
            raise BundleError(f"{spec.text_file.name} takes {inputs}, expected {wanted}", spec.text_file.name)
        self.token_outputs = [o.name for o in self.token_session.get_outputs()]
        if spec.tokens_output not in self.token_outputs:
            raise BundleError(f"{spec.tokens_file.name} has no output {spec.tokens_output}", spec.tokens_file.name)

    def check_classifier_outputs(self, names: Sequence[str]) -> None:
        """Refuse a token model that lacks any of the tongue classifier's outputs ``names`` (it replaces
        the classifier when photos are read for this model)."""
        missing = [name for name in names if name not in self.token_outputs]
        if missing:
            file = self.spec.tokens_file.name
            raise BundleError(f"{file} lacks the tongue classifier's outputs {missing}", file)

    @classmethod
    def from_bundle(cls, bundle: ModelBundle, threads: int | None = 2) -> FusedTextModel | None:
        """The bundle's fused model, or None when its manifest has no ``fusion`` entry."""
        entry = bundle.manifest.get(FUSION)
        if not entry:
            return None
        files = bundle.manifest.get("files", {})
        intra_op = bundle.thread_plan(threads).intra_op
        return cls(FusionSpec.from_manifest(bundle.folder, entry, files), intra_op, bundle.lexicon_features)

    def feeds(self, images: Sequence[np.ndarray | None]) -> dict[str, np.ndarray]:
        """``image_tokens`` and ``image_mask`` for a batch whose rows have these tokens (None: no photo)."""
        tokens = np.zeros((len(images), self.spec.cells, self.spec.channels), dtype=np.float32)
        mask = np.zeros(len(images), dtype=np.float32)
        for row, value in enumerate(images):
            if value is not None:
                tokens[row] = value
                mask[row] = 1.0
        return {IMAGE_TOKENS: tokens, IMAGE_MASK: mask}
