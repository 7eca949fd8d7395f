"""ONNX export and INT8 quantisation of the tongue models, and the bundle's ``image`` entry.

    tcm export-image-model --segmenter RUN/segmenter/best.pt --checkpoint RUN/classifier/best.pt \
        --data ../shared/data/tongue --out RUN/bundle [--base models/tcm-text] [--metrics RUN/metrics.json]

Each network is exported with a dynamic batch axis (opset 17), checked
against torch, then quantised to INT8 with static QDQ (per-channel weights,
activations calibrated on training-split photos). Labels, form values, input
size and crop settings go into the ONNX metadata and into the manifest's
``image`` entry; the manifest lists every file with its sha256. With
``--base`` the text bundle's files are copied in beside them (the base folder
itself is never changed), giving a bundle that ``ModelBundle.load`` opens.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process
from torch import nn

from tcm_desktop.domain import TcmError
from tcm_desktop.files import sha256_of
from tcm_desktop.inference.image_models import (
    CLASSIFIER_KIND,
    INPUT,
    OUTPUT_PREFIX,
    SEGMENTER_KIND,
    SEGMENTER_OUTPUT,
    ImageAttribute,
)
from tcm_desktop.inference.tongue_crop import CropSettings
from training.export import dynamo_export, save_checked, set_metadata
from training.tongue.labels import ATTRIBUTES, TongueAttribute, check_label_map, form_values, load_label_map
from training.tongue.models import ClassifierGraph, SegmenterGraph, TinyUNet, TongueClassifier
from training.tongue.train import build_model, load_checkpoint

SEGMENTER_FILE, CLASSIFIER_FILE, MANIFEST = "tongue_segmenter.onnx", "tongue_classifier.onnx", "manifest.json"
MANIFEST_FORMAT, MANIFEST_VERSION = "tcm-model-bundle", 1


class ImageExportError(TcmError):
    """A tongue model could not be exported, quantised or checked."""


def export_graph(
    graph: nn.Module, path: Path, input_size: int, outputs: Sequence[str], metadata: Mapping[str, str], opset: int = 17
) -> None:
    """Write ``graph`` (input ``image`` [B, 3, S, S]) to ``path`` with a dynamic batch axis and the metadata."""
    example = (torch.rand(2, 3, input_size, input_size),)
    batch = ({0: torch.export.Dim("batch", min=1, max=1024)},)
    try:
        proto = dynamo_export(graph.eval(), example, [INPUT], outputs, batch, opset)
    except RuntimeError as exc:
        raise ImageExportError(f"ONNX export of {path.name} failed: {exc}") from exc
    for value in [*proto.graph.input, *proto.graph.output]:
        dim = value.type.tensor_type.shape.dim[0]
        dim.Clear()
        dim.dim_param = "batch"
    save_checked(proto, path, metadata)


def run_onnx(path: Path, images: np.ndarray, threads: int = 2) -> list[np.ndarray]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return list(session.run(None, {INPUT: images.astype(np.float32)}))


def torch_outputs(graph: nn.Module, images: np.ndarray) -> list[np.ndarray]:
    with torch.no_grad():
        out = graph.eval()(torch.from_numpy(images.astype(np.float32)))
    return [t.numpy() for t in (out if isinstance(out, tuple) else (out,))]


def max_abs_diff(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    return float(max(np.abs(x - y).max() for x, y in zip(a, b, strict=True)))


class _Calibration(CalibrationDataReader):
    def __init__(self, images: np.ndarray, batch: int = 8) -> None:
        self._batches = iter([images[i : i + batch] for i in range(0, len(images), batch)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        chunk = next(self._batches, None)
        return None if chunk is None else {INPUT: chunk.astype(np.float32)}


def quantise_int8(fp32: Path, out: Path, calibration: np.ndarray) -> str:
    """Static QDQ INT8 (per-channel weights, MinMax-calibrated activations); returns a description."""
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(out),
            _Calibration(calibration),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
        )
    original, quantised = onnx.load(str(fp32)), onnx.load(str(out))
    set_metadata(quantised, {p.key: p.value for p in original.metadata_props})
    onnx.save(quantised, str(out))
    return f"static INT8 QDQ (per-channel QInt8 weights, QUInt8 activations, MinMax on {len(calibration)} photos)"


def image_attributes(
    attributes: Sequence[TongueAttribute], label_map: Mapping[str, Mapping[str, str]]
) -> list[ImageAttribute]:
    check_label_map(label_map, tuple(attributes))
    return [ImageAttribute(a.name, a.classes, tuple(form_values(label_map, a)), a.graded) for a in attributes]


def _attributes_of(payload: Mapping[str, Any]) -> list[TongueAttribute]:
    return [
        TongueAttribute(a["name"], a["column"], tuple(a["classes"]), bool(a["graded"]))
        for a in payload.get("attributes", [])
    ] or list(ATTRIBUTES)


def _agreement(reference: Sequence[np.ndarray], quantised: Sequence[np.ndarray], kind: str) -> dict[str, Any]:
    if kind == SEGMENTER_KIND:
        a, b = reference[0] > 0.5, quantised[0] > 0.5
        union = np.logical_or(a, b).sum(axis=(1, 2, 3))
        inter = np.logical_and(a, b).sum(axis=(1, 2, 3))
        iou = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
        return {"mask_iou_int8_vs_fp32": float(iou.mean()), "max_abs_diff": max_abs_diff(reference, quantised)}
    return {
        "top1_agreement_int8_vs_fp32": float(
            np.mean([np.mean(r.argmax(1) == q.argmax(1)) for r, q in zip(reference, quantised, strict=True)])
        ),
        "max_abs_diff": max_abs_diff(reference, quantised),
    }


def export_one(
    graph: nn.Module,
    staging: Path,
    file: str,
    input_size: int,
    outputs: Sequence[str],
    metadata: Mapping[str, str],
    calibration: np.ndarray,
    check: np.ndarray,
    quantise: bool,
    keep_fp32: Path | None,
) -> dict[str, Any]:
    """Export, compare with torch, quantise and compare again; returns the manifest's facts about the file."""
    kind = metadata["kind"]
    fp32 = staging / f"{Path(file).stem}.fp32.onnx"
    export_graph(graph, fp32, input_size, outputs, metadata)
    expected = torch_outputs(graph, check)
    reference = run_onnx(fp32, check)
    facts: dict[str, Any] = {"file": file, "input_size": input_size, "fp32_vs_torch_max_abs_diff": 0.0}
    facts["fp32_vs_torch_max_abs_diff"] = max_abs_diff(expected, reference)
    if facts["fp32_vs_torch_max_abs_diff"] > 1e-3:
        raise ImageExportError(f"{file}: ONNX differs from torch by {facts['fp32_vs_torch_max_abs_diff']:.2e}")
    if keep_fp32 is not None:
        keep_fp32.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fp32, keep_fp32 / file)
    if quantise:
        facts["quantisation"] = quantise_int8(fp32, staging / file, calibration)
        facts["int8_check"] = {"images": len(check)} | _agreement(reference, run_onnx(staging / file, check), kind)
        fp32.unlink()
    else:
        fp32.rename(staging / file)
        facts["quantisation"] = "none (FP32)"
    facts["bytes"] = (staging / file).stat().st_size
    return facts


def build_image_bundle(
    segmenter_checkpoint: Path,
    classifier_checkpoint: Path,
    out: Path,
    seg_calibration: np.ndarray,
    cls_calibration: np.ndarray,
    seg_check: np.ndarray,
    cls_check: np.ndarray,
    label_map: Mapping[str, Mapping[str, str]] | None = None,
    metrics: Mapping[str, Any] | None = None,
    base: Path | None = None,
    name: str = "tcm-tongue",
    version: str | None = None,
    quantise: bool = True,
    keep_fp32: Path | None = None,
) -> dict[str, Any]:
    """Write the bundle folder ``out`` (replaced) and return its manifest.

    Calibration and check arrays are model inputs (NCHW float32 in [0, 1]):
    letterboxed photos for the segmenter, crops for the classifier.
    """
    seg_payload, cls_payload = load_checkpoint(segmenter_checkpoint), load_checkpoint(classifier_checkpoint)
    segmenter, classifier = build_model(seg_payload), build_model(cls_payload)
    if not isinstance(segmenter, TinyUNet) or not isinstance(classifier, TongueClassifier):
        raise ImageExportError("--segmenter must be a segmenter checkpoint and --checkpoint a classifier checkpoint")
    attributes = image_attributes(_attributes_of(cls_payload), label_map or load_label_map())
    if [a.name for a in attributes] != classifier.head_names:
        raise ImageExportError(f"the classifier's heads {classifier.head_names} differ from its attributes")
    crop = CropSettings.from_dict(cls_payload["crop"])
    seg_size, cls_size = segmenter.config.input_size, classifier.config.input_size
    data = cls_payload.get("data", {})
    common = {
        "crop": json.dumps(crop.to_dict()),
        "input": "image: float32 RGB in [0, 1], NCHW",
        "data": json.dumps(data),
    }
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        manifest: dict[str, Any] = {}
        if base is not None:
            manifest = json.loads((base / MANIFEST).read_text(encoding="utf-8"))
            for file in manifest.get("files", {}):
                shutil.copyfile(base / file, staging / file)
        seg_meta = common | {"kind": SEGMENTER_KIND, "input_size": str(seg_size), "commit": seg_payload["commit"]}
        cls_meta = common | {
            "kind": CLASSIFIER_KIND,
            "input_size": str(cls_size),
            "backbone": classifier.config.backbone,
            "attributes": json.dumps([a.to_dict() for a in attributes], ensure_ascii=False),
            "commit": cls_payload["commit"],
        }
        seg_facts = export_one(
            SegmenterGraph(segmenter), staging, SEGMENTER_FILE, seg_size, [SEGMENTER_OUTPUT], seg_meta,
            seg_calibration, seg_check, quantise, keep_fp32,
        )  # fmt: skip
        cls_facts = export_one(
            ClassifierGraph(classifier), staging, CLASSIFIER_FILE, cls_size,
            [OUTPUT_PREFIX + a.name for a in attributes], cls_meta, cls_calibration, cls_check, quantise, keep_fp32,
        )  # fmt: skip
        now = datetime.datetime.now(datetime.UTC)
        if base is None:
            manifest = {
                "format": MANIFEST_FORMAT,
                "format_version": MANIFEST_VERSION,
                "name": name,
                "version": version or now.strftime("%Y.%m.%d-%H%M"),
                "created": now.isoformat(timespec="seconds"),
            }
        cls_facts |= {"backbone": classifier.config.backbone, "epochs": cls_payload["epoch"]}
        if "pruning" in cls_payload:  # a pruned classifier says how, and how much smaller
            pruning = cls_payload["pruning"]
            cls_facts["pruning"] = {k: pruning[k] for k in ("pruner", "budget", "before", "after", "ratio")}
        seg_facts |= {"architecture": f"U-Net {segmenter.config.to_dict()}", "epochs": seg_payload["epoch"]}
        manifest["image"] = {
            "segmenter": seg_facts,
            "classifier": cls_facts,
            "attributes": [a.to_dict() for a in attributes],
            "crop": crop.to_dict(),
            "input": "image: float32 RGB in [0, 1], NCHW; letterboxed photo (segmenter), square crop (classifier)",
            "training": {"data": data, "commit": cls_payload["commit"], "created": now.isoformat(timespec="seconds")},
            "metrics": dict(metrics or {}),
        }
        manifest["files"] = {f.name: sha256_of(f) for f in sorted(staging.iterdir()) if f.name != MANIFEST}
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
        return manifest
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _inputs_from_data(run: Path, data: Path, seg_payload: dict[str, Any], cls_payload: dict[str, Any]) -> tuple:
    """Calibration (training split) and check (validation split) inputs from the run's cache."""
    from tcm_desktop.inference.tongue_crop import to_model_input
    from training.tongue.data import cache_for, classifier_crop

    config = cls_payload["train_config"]
    cache = cache_for(data, run / "cache.npz", int(config["seg_size"]), int(config["photo_side"]))
    split = json.loads((run / "split.json").read_text(encoding="utf-8"))
    rng = np.random.default_rng(0)
    train = rng.permutation(cache.index(split["train"]))[:128]
    val = cache.index(split["val"])[:64]
    size, margin = int(config["cls_size"]), float(cls_payload["crop"]["margin"])

    def crops(rows: Sequence[int]) -> np.ndarray:
        return to_model_input([classifier_crop(cache.photos[r], tuple(cache.boxes[r]), size, margin) for r in rows])

    return (
        to_model_input(list(cache.seg_images[train])),
        crops(train),
        to_model_input(list(cache.seg_images[val])),
        crops(val),
    )


def export_image_model_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tcm export-image-model", description="Export the tongue segmenter and classifier into a model bundle."
    )
    parser.add_argument("--checkpoint", required=True, type=Path, help="classifier checkpoint (best.pt)")
    parser.add_argument("--segmenter", type=Path, help="segmenter checkpoint (default: RUN/segmenter/best.pt)")
    parser.add_argument("--data", required=True, type=Path, help="tongue data folder (calibration photos)")
    parser.add_argument("--out", required=True, type=Path, help="bundle folder (replaced)")
    parser.add_argument("--base", type=Path, help="a text bundle to copy in (left unchanged)")
    parser.add_argument("--metrics", type=Path, help="metrics JSON written by tcm evaluate-tongue")
    parser.add_argument("--labels", type=Path, help="label mapping YAML (default: resources/schema/tongue_labels.yaml)")
    parser.add_argument("--keep-fp32", type=Path, help="also keep the FP32 ONNX files in this folder")
    parser.add_argument("--name", default="tcm-tongue")
    parser.add_argument("--version")
    parser.add_argument("--fp32", action="store_true", help="skip INT8 quantisation")
    args = parser.parse_args(argv)
    run = args.checkpoint.resolve().parent.parent
    segmenter = args.segmenter or run / "segmenter" / "best.pt"
    try:
        seg_payload, cls_payload = load_checkpoint(segmenter), load_checkpoint(args.checkpoint)
        inputs = _inputs_from_data(run, args.data, seg_payload, cls_payload)
        metrics = json.loads(args.metrics.read_text(encoding="utf-8")) if args.metrics else None
        manifest = build_image_bundle(
            segmenter, args.checkpoint, args.out, *inputs,
            label_map=load_label_map(args.labels) if args.labels else None,
            metrics=metrics, base=args.base, name=args.name, version=args.version,
            quantise=not args.fp32, keep_fp32=args.keep_fp32,
        )  # fmt: skip
    except (TcmError, OSError, ValueError, KeyError) as exc:
        print(f"tcm export-image-model: {exc}", file=sys.stderr)
        return 2
    image = manifest["image"]
    print(json.dumps({k: image[k] for k in ("segmenter", "classifier")}, indent=2))
    print(f"bundle {manifest['name']} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(export_image_model_main())
