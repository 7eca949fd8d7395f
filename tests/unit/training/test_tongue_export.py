"""Exporting tiny random tongue models: ONNX matches torch, INT8 bundle loads, the pipeline reads it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from tcm_desktop.demo.tongue_image import TongueState, render_tongue
from tcm_desktop.files import sha256_of
from tcm_desktop.inference.bundle import ModelBundle
from tcm_desktop.inference.image_pipeline import TonguePipeline
from tcm_desktop.inference.tongue_crop import letterbox, to_model_input
from training.tongue.export import build_image_bundle, export_graph, run_onnx, torch_outputs
from training.tongue.labels import ATTRIBUTES
from training.tongue.models import (
    ClassifierConfig,
    ClassifierGraph,
    SegmenterConfig,
    SegmenterGraph,
    TinyUNet,
    TongueClassifier,
)
from training.tongue.train import TongueTrainConfig, checkpoint_payload

SHIPPED = Path(__file__).resolve().parents[3] / "models" / "tcm-text"
SHIPPED_VERSION = f"tcm-text@{json.loads((SHIPPED / 'manifest.json').read_text(encoding='utf-8'))['version']}"
SIZE = 32


def tiny_models() -> tuple[TinyUNet, TongueClassifier]:
    torch.manual_seed(0)
    segmenter = TinyUNet(SegmenterConfig(input_size=SIZE, base_channels=4, depth=2)).eval()
    heads = {a.name: len(a.classes) for a in ATTRIBUTES}
    classifier = TongueClassifier(ClassifierConfig(input_size=SIZE, backbone="resnet-tiny", heads=heads)).eval()
    return segmenter, classifier


def photos(n: int) -> list[np.ndarray]:
    states = [TongueState("淡红", "白", "薄", False, False), TongueState("淡白", "黄", "厚", True, True)]
    return [render_tongue(states[i % 2], seed=i, size=(96, 72))[..., ::-1] for i in range(n)]


def inputs(n: int) -> np.ndarray:
    return to_model_input([letterbox(p, SIZE)[0] for p in photos(n)])


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("ckpt")
    config = TongueTrainConfig(data="none", out=str(folder), seg_size=SIZE, cls_size=SIZE)
    paths = []
    for model in tiny_models():
        path = folder / f"{type(model).__name__}.pt"
        torch.save(checkpoint_payload(model, config, epoch=1, data={"source": "generated"}), path)
        paths.append(path)
    return paths[0], paths[1]


@pytest.mark.parametrize("which", ["segmenter", "classifier"])
def test_onnx_matches_torch_for_any_batch_size(tmp_path: Path, which: str) -> None:
    segmenter, classifier = tiny_models()
    if which == "segmenter":
        graph, outputs = SegmenterGraph(segmenter), ["tongue_prob"]
    else:
        graph, outputs = ClassifierGraph(classifier), [f"prob_{a.name}" for a in ATTRIBUTES]
    path = tmp_path / "m.onnx"
    export_graph(graph, path, SIZE, outputs, {"kind": which, "input_size": str(SIZE)})
    proto = onnx.load(str(path))
    assert proto.opset_import[0].version >= 17
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert {p.key: p.value for p in proto.metadata_props} == {"kind": which, "input_size": str(SIZE)}
    for n in (1, 5):
        batch = inputs(n)
        for expected, actual in zip(torch_outputs(graph, batch), run_onnx(path, batch, threads=1), strict=True):
            assert actual.shape == expected.shape
            assert np.abs(actual - expected).max() < 1e-4


def test_the_int8_bundle_describes_itself_and_runs(tmp_path: Path, checkpoints: tuple[Path, Path]) -> None:
    segmenter, classifier = checkpoints
    crops = to_model_input([letterbox(p, SIZE)[0] for p in photos(6)])
    out = tmp_path / "bundle"
    manifest = build_image_bundle(
        segmenter, classifier, out, inputs(8), crops, inputs(4), crops[:4], metrics={"note": "random weights"}
    )
    image = manifest["image"]
    assert set(manifest["files"]) == {"tongue_segmenter.onnx", "tongue_classifier.onnx"}
    assert all(sha256_of(out / f) == digest for f, digest in manifest["files"].items())
    assert [a["name"] for a in image["attributes"]] == ["tongue_color", "coat_color", "fissure", "tooth_marks"]
    assert image["attributes"][0]["form_values"] == ["淡白", "淡红", "暗红/紫暗"]
    assert image["attributes"][2] == {
        "name": "fissure",
        "classes": ["light", "severe"],
        "form_values": ["有", "有"],
        "graded": True,
    }
    assert image["classifier"]["input_size"] == SIZE and "static INT8 QDQ" in image["classifier"]["quantisation"]
    assert image["classifier"]["fp32_vs_torch_max_abs_diff"] < 1e-4
    assert 0.0 <= image["classifier"]["int8_check"]["top1_agreement_int8_vs_fp32"] <= 1.0
    assert image["metrics"] == {"note": "random weights"} and image["crop"]["margin"] > 0
    ops = {node.op_type for node in onnx.load(str(out / "tongue_classifier.onnx")).graph.node}
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    meta = {p.key: p.value for p in onnx.load(str(out / "tongue_classifier.onnx")).metadata_props}
    assert json.loads(meta["attributes"]) == image["attributes"] and meta["kind"] == "tongue-classifier"

    results = TonguePipeline(out, threads=1).predict([_jpeg(p) for p in photos(3)])
    for result in results:
        for probs in result.attributes.values():
            assert sum(probs.values()) == pytest.approx(1.0, abs=1e-6)


def test_a_base_text_bundle_is_copied_not_changed(tmp_path: Path, checkpoints: tuple[Path, Path]) -> None:
    before = sha256_of(SHIPPED / "manifest.json")
    crops = inputs(4)
    out = tmp_path / "both"
    build_image_bundle(*checkpoints, out, inputs(4), crops, inputs(2), crops[:2], base=SHIPPED, quantise=False)
    assert sha256_of(SHIPPED / "manifest.json") == before
    bundle = ModelBundle.load(out, threads=1)
    assert bundle.model_version == SHIPPED_VERSION and bundle.image is not None
    assert bundle.image.spec.classifier_size == SIZE
    assert "text.onnx" in bundle.manifest["files"] and "tongue_classifier.onnx" in bundle.manifest["files"]


def _jpeg(rgb: np.ndarray) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]))
    assert ok
    return buf.tobytes()
