"""The tongue image models of a bundle: what they expect (:class:`ImageModelSpec`) and their ONNX sessions.

A bundle's ``manifest.json`` describes them in its ``image`` entry::

    "image": {
      "segmenter":  {"file": "tongue_segmenter.onnx", "input_size": 128, ...},
      "classifier": {"file": "tongue_classifier.onnx", "input_size": 112, ...},
      "attributes": [{"name": "tongue_color", "classes": ["light", "regular", "dark"],
                      "form_values": ["淡白", "淡红", "暗红/紫暗"], "graded": false}, ...],
      "crop": {"margin": 0.12, "min_tongue_fraction": 0.02, "threshold": 0.5},
      ...
    }

The same facts are in each ONNX file's metadata, so two loose ONNX files
are usable on their own (:meth:`ImageModels.from_files`) and a bundle whose
manifest disagrees with its files is refused.

Graph contract: input ``image`` [B, 3, S, S] float32 RGB in [0, 1]; the
segmenter outputs ``tongue_prob`` [B, 1, S, S], the classifier one softmax
``prob_<attribute>`` [B, classes] per attribute.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnxruntime as ort

from tcm_desktop.inference.bundle import (
    CPU,
    MANIFEST,
    Device,
    _providers,
    _read_manifest,
    thread_plan,
    verify_files,
)
from tcm_desktop.inference.errors import BundleError
from tcm_desktop.inference.threads import ThreadPlan
from tcm_desktop.inference.tongue_crop import CropSettings

log = logging.getLogger(__name__)

INPUT, SEGMENTER_OUTPUT, OUTPUT_PREFIX = "image", "tongue_prob", "prob_"
SEGMENTER_KIND, CLASSIFIER_KIND = "tongue-segmenter", "tongue-classifier"


@dataclass(frozen=True)
class ImageAttribute:
    """One classifier head: the form field it fills, its classes and the form value of each."""

    name: str
    classes: tuple[str, ...]
    form_values: tuple[str, ...]
    graded: bool  # the classes are grades (light/severe) of a finding whose form value is the same

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "classes": list(self.classes),
            "form_values": list(self.form_values),
            "graded": self.graded,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageAttribute:
        try:
            attribute = cls(
                str(data["name"]),
                tuple(str(c) for c in data["classes"]),
                tuple(str(v) for v in data["form_values"]),
                bool(data.get("graded", False)),
            )
        except (KeyError, TypeError) as exc:
            raise BundleError(f"an image attribute in {MANIFEST} is malformed ({exc!r})", MANIFEST) from exc
        if not attribute.classes or len(attribute.classes) != len(attribute.form_values):
            raise BundleError(f"image attribute {attribute.name} needs one form value per class", MANIFEST)
        return attribute


@dataclass(frozen=True)
class ImageModelSpec:
    segmenter_file: Path
    classifier_file: Path
    segmenter_size: int
    classifier_size: int
    attributes: tuple[ImageAttribute, ...]
    crop: CropSettings

    @classmethod
    def from_manifest(cls, folder: Path, entry: Mapping[str, Any]) -> ImageModelSpec:
        try:
            return cls(
                folder / str(entry["segmenter"]["file"]),
                folder / str(entry["classifier"]["file"]),
                int(entry["segmenter"]["input_size"]),
                int(entry["classifier"]["input_size"]),
                tuple(ImageAttribute.from_dict(a) for a in entry["attributes"]),
                CropSettings.from_dict(entry["crop"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BundleError(f"the 'image' entry of {MANIFEST} in {folder} is malformed ({exc!r})", MANIFEST) from exc

    @classmethod
    def from_metadata(cls, segmenter: Path, classifier: Path) -> ImageModelSpec:
        """Read the spec from the two files' ONNX metadata."""
        seg_meta, cls_meta = _metadata(segmenter), _metadata(classifier)
        try:
            return cls(
                segmenter,
                classifier,
                int(seg_meta["input_size"]),
                int(cls_meta["input_size"]),
                tuple(ImageAttribute.from_dict(a) for a in json.loads(cls_meta["attributes"])),
                CropSettings.from_dict(json.loads(cls_meta["crop"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BundleError(f"the metadata of {classifier.name} or {segmenter.name} is incomplete ({exc!r})") from exc


def _metadata(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise BundleError(f"the image model {path} does not exist", path.name)
    try:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(str(path), options, providers=[CPU])
    except Exception as exc:  # ONNX Runtime raises its own untyped errors
        raise BundleError(f"ONNX Runtime cannot load {path.name}: {exc}", path.name) from exc
    return dict(session.get_modelmeta().custom_metadata_map)


class ImageModels:
    """The checked tongue segmenter and classifier; ``sessions(threads)`` creates each pair once."""

    def __init__(self, spec: ImageModelSpec, device: Device = "auto") -> None:
        self.spec = spec
        self.device: Device = device
        self._sessions: dict[int, tuple[ort.InferenceSession, ort.InferenceSession]] = {}

    @classmethod
    def from_files(cls, segmenter: Path | str, classifier: Path | str, device: Device = "auto") -> ImageModels:
        """Two loose ONNX files, described by their own metadata."""
        return cls(ImageModelSpec.from_metadata(Path(segmenter), Path(classifier)), device)

    @classmethod
    def load_bundle(cls, folder: Path | str, threads: int | None = 2, device: Device = "auto") -> ImageModels:
        """The image models of the bundle in ``folder`` (every file's sha256 checked); needs no text model."""
        folder = Path(folder)
        manifest = _read_manifest(folder)
        files = verify_files(folder, manifest)
        models = cls.from_manifest(folder, manifest, files, device)
        models.sessions(models.thread_plan(threads).intra_op)
        return models

    def thread_plan(self, threads: int | None) -> ThreadPlan:
        """How a pipeline given ``threads`` runs these models (see :mod:`.threads`)."""
        return thread_plan(threads, self.device)

    @classmethod
    def from_manifest(
        cls, folder: Path, manifest: Mapping[str, Any], files: Mapping[str, str], device: Device = "auto"
    ) -> ImageModels:
        entry = manifest.get("image")
        if not isinstance(entry, Mapping):
            raise BundleError(f"the model bundle {folder} has no tongue image model ('image' in {MANIFEST})", MANIFEST)
        spec = ImageModelSpec.from_manifest(folder, entry)
        for path in (spec.segmenter_file, spec.classifier_file):
            if path.name not in files:
                raise BundleError(f"{MANIFEST} names the image model {path.name} but does not list it", path.name)
        return cls(spec, device)

    def sessions(self, threads: int | None = 2) -> tuple[ort.InferenceSession, ort.InferenceSession]:
        """(segmenter, classifier) sessions for ``threads`` intra-op threads, created and checked on first use."""
        key = int(threads or 0)
        if key < 0:
            raise ValueError(f"threads must be positive (or None for ONNX Runtime's choice), got {threads}")
        if key not in self._sessions:
            segmenter = self._create(self.spec.segmenter_file, key)
            classifier = self._create(self.spec.classifier_file, key)
            self._check(segmenter, self.spec.segmenter_file, SEGMENTER_KIND, [SEGMENTER_OUTPUT])
            outputs = [OUTPUT_PREFIX + a.name for a in self.spec.attributes]
            self._check(classifier, self.spec.classifier_file, CLASSIFIER_KIND, outputs)
            self._sessions[key] = (segmenter, classifier)
        return self._sessions[key]

    def _create(self, path: Path, threads: int) -> ort.InferenceSession:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        providers = _providers(self.device)
        try:
            try:
                return ort.InferenceSession(str(path), options, providers=providers)
            except Exception as exc:  # a broken CUDA install must not stop a CPU run
                if providers == [CPU]:
                    raise
                log.warning("CUDA session failed (%s); using the CPU", exc)
                return ort.InferenceSession(str(path), options, providers=[CPU])
        except Exception as exc:  # ONNX Runtime raises its own untyped errors
            raise BundleError(f"ONNX Runtime cannot load {path.name}: {exc}", path.name) from exc

    def _check(self, session: ort.InferenceSession, path: Path, kind: str, outputs: Sequence[str]) -> None:
        name = path.name
        inputs = [i.name for i in session.get_inputs()]
        if inputs != [INPUT]:
            raise BundleError(f"{name} takes inputs {inputs}, expected ['{INPUT}']", name)
        found = [o.name for o in session.get_outputs()]
        if found != list(outputs):
            raise BundleError(f"{name} has outputs {found}, expected {list(outputs)}", name)
        meta = session.get_modelmeta().custom_metadata_map
        if meta.get("kind") != kind:
            raise BundleError(f"{name} is a {meta.get('kind')!r} model, expected {kind!r}", name)
        size = self.spec.segmenter_size if kind == SEGMENTER_KIND else self.spec.classifier_size
        if "input_size" in meta and int(meta["input_size"]) != size:
            raise BundleError(f"{name} takes {meta['input_size']}-pixel images, the manifest says {size}", name)
        if kind == CLASSIFIER_KIND and "attributes" in meta:
            described = [ImageAttribute.from_dict(a) for a in json.loads(meta["attributes"])]
            if tuple(described) != self.spec.attributes:
                raise BundleError(f"the attributes in {name}'s metadata differ from {MANIFEST}'s", name)
