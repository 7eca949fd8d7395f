"""Export a fused tagger to ONNX: text inputs + image tokens + image mask in; emissions and gate out.

Graph inputs: ``input_ids``, ``attention_mask`` [B, L] int64, ``lexicon``
[B, L, F] float32 (lexicon models), ``image_tokens`` [B, N, C] float32 (the
tongue feature graph's output, :mod:`training.fusion.features`) and
``image_mask`` [B] float32 (1 = the record has a photo, 0 = none: the
emissions are then the text path's). Outputs ``emissions`` [B, L, T] and
``gate`` [B, L]. The CRF stays outside, as for the text model.

The same helpers as :mod:`training.export` (dynamo exporter, constant
folding, ``sequence_lens`` on the BiLSTM, checked save), and the same fresh
interpreter per export.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
import onnxscript.optimizer
import torch
from torch import Tensor, nn

from training.export import (
    ATTENTION_MASK,
    EMISSIONS,
    INPUT_IDS,
    LEXICON,
    ExportError,
    _add_sequence_lens,
    dynamo_export,
    export_in_child,
    save_checked,
)
from training.fusion.model import FusedTagger, FusionConfig
from training.model import Tagger, TaggerConfig

IMAGE_TOKENS, IMAGE_MASK, GATE = "image_tokens", "image_mask", "gate"


class _FusedGraph(nn.Module):
    def __init__(self, model: FusedTagger) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, input_ids: Tensor, attention_mask: Tensor, lexicon: Tensor, image_tokens: Tensor, image_mask: Tensor
    ) -> tuple[Tensor, Tensor]:
        out = self.model(input_ids, attention_mask, lexicon, image_tokens, image_mask, pack=False)
        assert out.gate is not None
        return out.emissions, out.gate


class _FusedGraphNoLexicon(nn.Module):
    def __init__(self, model: FusedTagger) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, input_ids: Tensor, attention_mask: Tensor, image_tokens: Tensor, image_mask: Tensor
    ) -> tuple[Tensor, Tensor]:
        out = self.model(input_ids, attention_mask, None, image_tokens, image_mask, pack=False)
        assert out.gate is not None
        return out.emissions, out.gate


def input_names(model: FusedTagger) -> list[str]:
    lexicon = [LEXICON] if model.config.num_lexicon_features else []
    return [INPUT_IDS, ATTENTION_MASK, *lexicon, IMAGE_TOKENS, IMAGE_MASK]


def _example(model: FusedTagger) -> tuple[Tensor, ...]:
    assert model.fusion_config is not None
    batch, length = 2, 8
    ids = torch.ones(batch, length, dtype=torch.int64)
    mask = torch.ones(batch, length, dtype=torch.int64)
    fusion = model.fusion_config
    tokens = torch.rand(batch, fusion.image_cells, fusion.image_channels)
    present = torch.ones(batch)
    features = model.config.num_lexicon_features
    if features:
        return ids, mask, torch.zeros(batch, length, features), tokens, present
    return ids, mask, tokens, present


def _name_axes(graph: onnx.GraphProto) -> None:
    """Batch symbolic everywhere; length symbolic on the text inputs and both outputs."""
    with_length = {INPUT_IDS, ATTENTION_MASK, LEXICON, EMISSIONS, GATE}
    for value in [*graph.input, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        for index, name in ((0, "batch"), (1, "length")):
            if len(dims) > index and (index == 0 or value.name in with_length):
                dims[index].Clear()
                dims[index].dim_param = name
    del graph.value_info[:]


def _export_here(model: FusedTagger, path: Path, metadata: Mapping[str, str], opset: int) -> None:
    model = model.eval()
    example = _example(model)
    names = input_names(model)
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length", min=2, max=model.config.max_positions)
    dynamic = tuple(
        {0: batch, 1: length} if name in (INPUT_IDS, ATTENTION_MASK, LEXICON) else {0: batch} for name in names
    )
    graph = _FusedGraph(model) if model.config.num_lexicon_features else _FusedGraphNoLexicon(model)
    try:
        proto = dynamo_export(graph, example, names, [EMISSIONS, GATE], dynamic, opset)
    except RuntimeError as exc:
        raise ExportError(f"ONNX export failed: {exc}") from exc
    proto = onnxscript.optimizer.optimize(proto, input_size_limit=1 << 26, output_size_limit=1 << 26)
    _add_sequence_lens(proto.graph)
    _name_axes(proto.graph)
    save_checked(proto, path, metadata)


def export_fused_onnx(model: FusedTagger, path: Path, metadata: Mapping[str, str], opset: int = 17) -> None:
    """Write ``model``'s graph to ``path`` (in a fresh interpreter, as :func:`training.export.export_onnx`)."""
    if model.fusion_config is None:
        raise ExportError("a text-only model has no image inputs; export its tagger with training.export")
    payload = {
        "tagger": model.config.to_dict(),
        "fusion": model.fusion_config.to_dict(),
        "state": model.state_dict(),
        "path": str(path),
        "metadata": dict(metadata),
        "opset": opset,
    }
    export_in_child("training.fusion.export", payload)


def check_fused_onnx(model: FusedTagger, path: Path, feeds: Mapping[str, Tensor]) -> dict[str, float]:
    """Max abs difference of emissions and gate between torch and ONNX Runtime on ``feeds``."""
    import onnxruntime as ort

    model = model.eval()
    lexicon = feeds.get(LEXICON) if model.config.num_lexicon_features else None
    with torch.no_grad():
        out = model(feeds[INPUT_IDS], feeds[ATTENTION_MASK], lexicon, feeds[IMAGE_TOKENS], feeds[IMAGE_MASK])
    assert out.gate is not None
    names = input_names(model)
    arrays = {}
    for name in names:
        value = feeds[name].cpu().numpy()
        arrays[name] = value.astype(np.int64) if name in (INPUT_IDS, ATTENTION_MASK) else value.astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    emissions, gate = session.run([EMISSIONS, GATE], arrays)
    return {
        EMISSIONS: float(np.abs(out.emissions.numpy() - emissions).max()),
        GATE: float(np.abs(out.gate.numpy() - gate).max()),
    }


if __name__ == "__main__":  # the child process of export_fused_onnx
    job = torch.load(sys.argv[1], weights_only=False)
    child = FusedTagger(Tagger(TaggerConfig.from_dict(job["tagger"])), FusionConfig.from_dict(job["fusion"]))
    child.load_state_dict(job["state"])
    try:
        _export_here(child, Path(job["path"]), job["metadata"], job["opset"])
    except ExportError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
