"""A tiny tongue model bundle built from hand-written ONNX graphs (no torch, no shared data), for tests.

The stand-in segmenter calls a pixel tongue when it is much redder than it
is green, so a red ellipse on grey is "found" and a plain grey photo is not;
the stand-in classifier is average colour -> linear -> softmax per head.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from tcm_desktop.files import sha256_of

SEG, CLS = "tongue_segmenter.onnx", "tongue_classifier.onnx"
ATTRIBUTES = [
    {"name": "tongue_color", "classes": ["light", "regular", "dark"], "form_values": ["淡白", "淡红", "暗红/紫暗"]},
    {"name": "coat_color", "classes": ["white", "light_yellow", "yellow"], "form_values": ["白", "黄白相间", "黄"]},
    {"name": "fissure", "classes": ["light", "severe"], "form_values": ["有", "有"], "graded": True},
    {"name": "tooth_marks", "classes": ["light", "severe"], "form_values": ["有", "有"], "graded": True},
]
for entry in ATTRIBUTES:
    entry.setdefault("graded", False)
CROP = {"margin": 0.1, "min_tongue_fraction": 0.02, "threshold": 0.5}
SEG_SIZE, CLS_SIZE = 32, 24


def _image_input(size: int) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, size, size])


def _save(graph: onnx.GraphProto, path: Path, metadata: dict[str, str]) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    for key, value in metadata.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def write_models(folder: Path, attributes: list[dict] = ATTRIBUTES) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    weight = helper.make_tensor("w", TensorProto.FLOAT, [1, 3, 1, 1], [12.0, -12.0, 0.0])
    bias = helper.make_tensor("b", TensorProto.FLOAT, [1], [-3.0])
    seg = helper.make_graph(
        [
            helper.make_node("Conv", ["image", "w", "b"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["tongue_prob"]),
        ],
        "segmenter",
        [_image_input(SEG_SIZE)],
        [helper.make_tensor_value_info("tongue_prob", TensorProto.FLOAT, ["batch", 1, SEG_SIZE, SEG_SIZE])],
        [weight, bias],
    )
    _save(seg, folder / SEG, {"kind": "tongue-segmenter", "input_size": str(SEG_SIZE), "crop": json.dumps(CROP)})
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["f"]),
    ]
    inits, outputs = [], []
    for a in attributes:
        n = len(a["classes"])
        w = helper.make_tensor(f"w_{a['name']}", TensorProto.FLOAT, [3, n], rng.normal(0, 3, 3 * n).tolist())
        inits.append(w)
        nodes += [
            helper.make_node("MatMul", ["f", w.name], [f"z_{a['name']}"]),
            helper.make_node("Softmax", [f"z_{a['name']}"], [f"prob_{a['name']}"], axis=1),
        ]
        outputs.append(helper.make_tensor_value_info(f"prob_{a['name']}", TensorProto.FLOAT, ["batch", n]))
    cls = helper.make_graph(nodes, "classifier", [_image_input(CLS_SIZE)], outputs, inits)
    meta = {
        "kind": "tongue-classifier",
        "input_size": str(CLS_SIZE),
        "crop": json.dumps(CROP),
        "attributes": json.dumps(attributes, ensure_ascii=False),
    }
    _save(cls, folder / CLS, meta)


def image_entry() -> dict:
    return {
        "segmenter": {"file": SEG, "input_size": SEG_SIZE},
        "classifier": {"file": CLS, "input_size": CLS_SIZE},
        "attributes": ATTRIBUTES,
        "crop": CROP,
    }


def write_manifest(folder: Path, manifest: dict) -> None:
    manifest["files"] = {p.name: sha256_of(p) for p in sorted(folder.iterdir()) if p.name != "manifest.json"}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
