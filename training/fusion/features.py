"""Image tokens for the fusion: the shipped INT8 tongue classifier's last feature map, one token per cell.

The FP32 classifier checkpoint is gone, so the image encoder is the shipped
ONNX file itself, kept frozen: :func:`add_token_output` finds the tensor
feeding the global average pool (``ReduceMean``/``GlobalAveragePool`` over
the spatial axes, after the last ReLU) and adds it, reshaped to
``image_tokens`` [B, cells, channels], as an extra graph output. The
classifier's own outputs stay, so one run gives the attributes and the tokens.

:func:`extract` runs the bundle's segmenter and crops every photo exactly as
the app does (:meth:`TonguePipeline.classifier_crops`), then the token graph,
and caches the tokens as ``.npy`` with the photo ids::

    python -m training.fusion.features --bundle models/tcm-text \
        --data ../shared/data/tongue --out /work/runs/fusion/features
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from tcm_desktop.files import sha256_of
from tcm_desktop.inference.image_models import INPUT
from tcm_desktop.inference.image_pipeline import TonguePipeline
from tcm_desktop.inference.tongue_crop import to_model_input
from training.tongue.data import scan

TOKENS = "image_tokens"
FEATURES_FILE = "tongue_features.onnx"
POOL_OPS = ("ReduceMean", "GlobalAveragePool")


class FeatureGraphError(RuntimeError):
    """The classifier graph has no global average pool whose input could be exposed."""


@dataclass(frozen=True)
class TokenShape:
    cells: int
    channels: int


def pooled_tensor(graph: onnx.GraphProto) -> str:
    """The name of the feature map the classifier averages over space (the input of its last pool)."""
    pools = [node for node in graph.node if node.op_type in POOL_OPS]
    if not pools:
        raise FeatureGraphError(f"no {' or '.join(POOL_OPS)} node in the classifier graph")
    return pools[-1].input[0]


def add_token_output(source: Path, target: Path) -> TokenShape:
    """Write ``source`` with an extra output ``image_tokens`` [B, cells, channels]; return its shape."""
    proto = onnx.load(str(source))
    graph = proto.graph
    feature_map = pooled_tensor(graph)
    shape = _probe(proto, feature_map)
    graph.initializer.append(helper.make_tensor("image_tokens_shape", TensorProto.INT64, [3], [0, shape.channels, -1]))
    graph.node.extend(
        [
            helper.make_node(
                "Reshape", [feature_map, "image_tokens_shape"], ["image_tokens_flat"], name="image_tokens_reshape"
            ),
            helper.make_node("Transpose", ["image_tokens_flat"], [TOKENS], perm=[0, 2, 1], name="image_tokens_t"),
        ]
    )
    graph.output.append(
        helper.make_tensor_value_info(TOKENS, TensorProto.FLOAT, ["batch", shape.cells, shape.channels])
    )
    proto.metadata_props.append(
        onnx.StringStringEntryProto(
            key="image_tokens",
            value=json.dumps({"tensor": feature_map, "cells": shape.cells, "channels": shape.channels}),
        )
    )
    onnx.checker.check_model(proto)
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(target))
    return shape


def _probe(proto: onnx.ModelProto, tensor: str) -> TokenShape:
    """Run the graph once on a blank image to learn the feature map's shape."""
    probe = onnx.ModelProto()
    probe.CopyFrom(proto)
    probe.graph.output.append(helper.make_tensor_value_info(tensor, TensorProto.FLOAT, None))
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    size = next(int(p.value) for p in proto.metadata_props if p.key == "input_size")
    (value,) = session.run([tensor], {INPUT: np.zeros((1, 3, size, size), np.float32)})
    if value.ndim != 4:
        raise FeatureGraphError(f"{tensor} has shape {value.shape}, expected [B, C, H, W]")
    return TokenShape(cells=int(value.shape[2] * value.shape[3]), channels=int(value.shape[1]))


def token_session(path: Path, threads: int = 1) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def extract(bundle: Path, data_dir: Path, out: Path, threads: int = 1, chunk: int = 32) -> dict[str, object]:
    """Tokens of every photo in ``data_dir`` into ``out/tokens.npy`` (float16) with ``sids.json``."""
    out.mkdir(parents=True, exist_ok=True)
    graph = out / FEATURES_FILE
    shape = add_token_output(bundle / "tongue_classifier.onnx", graph)
    pipeline = TonguePipeline(bundle, threads=threads)
    session = token_session(graph, threads)
    items = scan(data_dir)
    found: list[bool] = []
    parts = []
    for start in range(0, len(items), chunk):
        paths = [item.image for item in items[start : start + chunk]]
        crops = pipeline.classifier_crops(paths)
        found += [ok for _, ok in crops]
        (tokens,) = session.run([TOKENS], {INPUT: to_model_input([c for c, _ in crops])})
        parts.append(np.asarray(tokens, dtype=np.float16))
        print(f"{min(start + chunk, len(items))}/{len(items)} photos", file=sys.stderr)
    tokens = np.concatenate(parts)
    np.save(out / "tokens.npy", tokens)
    meta = {
        "sids": [item.sid for item in items],
        "found": found,
        "cells": shape.cells,
        "channels": shape.channels,
        "classifier_sha256": sha256_of(bundle / "tongue_classifier.onnx")[:16],
        "segmenter_sha256": sha256_of(bundle / "tongue_segmenter.onnx")[:16],
        "bundle": str(bundle),
        "data": str(data_dir),
    }
    (out / "sids.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return meta


@dataclass(frozen=True)
class TokenCache:
    """The cached tokens, looked up by photo id."""

    tokens: np.ndarray  # [photos, cells, channels] float16
    index: dict[str, int]
    found: dict[str, bool]

    @classmethod
    def load(cls, folder: Path) -> TokenCache:
        meta = json.loads((folder / "sids.json").read_text(encoding="utf-8"))
        tokens = np.load(folder / "tokens.npy")
        sids = list(meta["sids"])
        return cls(tokens, {sid: i for i, sid in enumerate(sids)}, dict(zip(sids, meta["found"], strict=True)))

    @property
    def cells(self) -> int:
        return int(self.tokens.shape[1])

    @property
    def channels(self) -> int:
        return int(self.tokens.shape[2])

    def get(self, sid: str) -> np.ndarray:
        return self.tokens[self.index[sid]].astype(np.float32)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Cache the tongue classifier's feature-map tokens of every photo.")
    parser.add_argument("--bundle", type=Path, default=Path("models/tcm-text"))
    parser.add_argument("--data", type=Path, default=Path("../shared/data/tongue"))
    parser.add_argument("--out", type=Path, default=Path("/work/runs/fusion/features"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    meta = extract(args.bundle, args.data, args.out, args.threads)
    print(f"{len(meta['sids'])} photos, {meta['cells']} tokens of {meta['channels']} channels -> {args.out}")


if __name__ == "__main__":
    main()
