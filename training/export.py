"""Export a trained ``Tagger`` to ONNX: characters (+ lexicon) in, emissions out; CRF decoding stays outside.

Graph: inputs ``input_ids`` [B, L] int64, ``attention_mask`` [B, L] int64 and,
when the model reads lexicon features, ``lexicon`` [B, L, F] float32; output
``emissions`` [B, L, T] float32; batch and length are dynamic. The caller's
metadata (labels, tag scheme, vocabulary and lexicon versions ...) is stored
as ``metadata_props`` so the file describes itself. The runtime decodes with
``Tagger.transition_matrix()``/``start_transitions()``/``end_transitions()``,
which the caller also puts in the metadata.

Exporter choice (torch 2.14, transformers 5): the TorchScript exporter
(``dynamo=False``) traces transformers 5's BERT into a graph that disagrees
with torch, so the dynamo exporter is used. It cannot trace packed sequences,
so the BiLSTM is exported unpacked as one bidirectional ``LSTM`` op and then
given ``sequence_lens = sum(attention_mask)``: ONNX's LSTM then starts the
backward direction at each row's last real character and writes zeros past
it, exactly what packing does in torch. One LSTM op is also what dynamic INT8
quantisation handles.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxscript.optimizer
import torch
from onnx import TensorProto, helper
from torch import Tensor, nn

from training.model import Tagger, TaggerConfig

INPUT_IDS, ATTENTION_MASK, LEXICON, EMISSIONS = "input_ids", "attention_mask", "lexicon", "emissions"
_BATCH, _LENGTH = "batch", "length"


class ExportError(RuntimeError):
    """The model could not be written as an ONNX graph that matches it."""


class _EmissionsGraph(nn.Module):
    """What goes into the graph: the tagger up to its emissions, with the LSTM unpacked."""

    def __init__(self, model: Tagger) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: Tensor, attention_mask: Tensor, lexicon: Tensor | None = None) -> Tensor:
        embeds = self.model.input_embeddings(input_ids, lexicon)
        states = self.model.encoder(inputs_embeds=embeds, attention_mask=attention_mask).last_hidden_state
        return self.model.emissions_from_states(states, attention_mask, pack=False)


def _example_inputs(model: Tagger) -> tuple[Tensor, ...]:
    batch, length = 2, 8
    ids = torch.ones(batch, length, dtype=torch.int64)
    mask = torch.ones(batch, length, dtype=torch.int64)
    features = model.config.num_lexicon_features
    return (ids, mask, torch.zeros(batch, length, features)) if features else (ids, mask)


def _add_sequence_lens(graph: onnx.GraphProto) -> None:
    """Feed ``sum(attention_mask, axis=1)`` as int32 into every LSTM's (empty) ``sequence_lens`` input."""
    lstms = [node for node in graph.node if node.op_type == "LSTM"]
    if not lstms:
        return
    axes, lengths64, lengths = "seq_lens_axes", "seq_lens_int64", "seq_lens"
    graph.initializer.append(helper.make_tensor(axes, TensorProto.INT64, [1], [1]))
    prologue = [
        helper.make_node("ReduceSum", [ATTENTION_MASK, axes], [lengths64], keepdims=0, name="seq_lens_sum"),
        helper.make_node("Cast", [lengths64], [lengths], to=TensorProto.INT32, name="seq_lens_cast"),
    ]
    for node in lstms:
        while len(node.input) < 5:
            node.input.append("")
        if node.input[4]:
            raise ExportError(f"LSTM node {node.name} already has sequence_lens {node.input[4]!r}")
        node.input[4] = lengths
    # Topological order: the new nodes only read a graph input, so they can go first.
    nodes = prologue + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)


def _name_dynamic_axes(graph: onnx.GraphProto) -> None:
    """Batch and length are symbolic on every graph input and output (the exporter may pin them to the example)."""
    for value in [*graph.input, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        for index, name in ((0, _BATCH), (1, _LENGTH)):
            if len(dims) > index:
                dims[index].Clear()
                dims[index].dim_param = name
    # Intermediate shapes inferred from the example may be stale after the edits; the runtime does not need them.
    del graph.value_info[:]


def export_onnx(model: Tagger, path: Path, metadata: Mapping[str, str], opset: int = 17) -> None:
    """Write ``model``'s emissions graph to ``path`` with ``metadata`` as metadata_props.

    The export runs in a fresh interpreter: in torch 2.14 + transformers 5 a
    second dynamo export in one process pins the length axis to the example's
    (position ids and masks fixed at 8 characters), whatever was reset.
    """
    # parametrised modules only serialise through state_dict; the CRF penalties are buffers in it
    payload = {
        "config": model.config.to_dict(),
        "state": model.state_dict(),
        "path": str(path),
        "metadata": dict(metadata),
        "opset": opset,
    }
    export_in_child("training.export", payload)


def export_in_child(module: str, payload: Mapping[str, object]) -> None:
    """``python -m module JOB`` with ``payload`` saved as JOB: one dynamo export per fresh interpreter
    (see :func:`export_onnx`); :class:`ExportError` with the child's last words when it fails."""
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp) / "job.pt"
        torch.save(dict(payload), job)
        result = subprocess.run(
            [sys.executable, "-m", module, str(job)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
    if result.returncode != 0:
        raise ExportError(f"ONNX export failed: {result.stderr.strip()[-2000:]}")


def dynamo_export(
    graph: nn.Module,
    example: tuple[Tensor, ...],
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_shapes: tuple[dict[int, Any], ...],
    opset: int,
) -> onnx.ModelProto:
    """``graph`` exported by torch's dynamo exporter with its warnings and logs silenced;
    RuntimeError with the exporter's message when it fails (it raises many types)."""
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quiet = logging.getLogger("torch.onnx")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        raw = Path(tmp) / "raw.onnx"
        try:
            torch.onnx.export(
                graph,
                example,
                str(raw),
                input_names=list(input_names),
                output_names=list(output_names),
                dynamic_shapes=dynamic_shapes,
                opset_version=opset,
                dynamo=True,
                external_data=False,
                verbose=False,
            )
        except Exception as exc:
            raise RuntimeError(str(exc)) from exc
        finally:
            quiet.setLevel(level)
        return onnx.load(str(raw))


def set_metadata(proto: onnx.ModelProto, metadata: Mapping[str, str]) -> None:
    """Replace ``proto``'s metadata_props with ``metadata`` (labels, versions: the file describes itself)."""
    del proto.metadata_props[:]
    for key, value in metadata.items():
        proto.metadata_props.append(onnx.StringStringEntryProto(key=str(key), value=str(value)))


def save_checked(proto: onnx.ModelProto, path: Path, metadata: Mapping[str, str]) -> None:
    """Set ``metadata`` on ``proto``, check the model and write it to ``path``."""
    set_metadata(proto, metadata)
    onnx.checker.check_model(proto)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(path))


def _export_here(model: Tagger, path: Path, metadata: Mapping[str, str], opset: int) -> None:
    model = model.eval()
    example = _example_inputs(model)
    names = [INPUT_IDS, ATTENTION_MASK, LEXICON][: len(example)]
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length", min=2, max=model.config.max_positions)
    dynamic = tuple({0: batch, 1: length} for _ in example)
    try:
        proto = dynamo_export(_EmissionsGraph(model), example, names, [EMISSIONS], dynamic, opset)
    except RuntimeError as exc:
        raise ExportError(f"ONNX export failed: {exc}") from exc
    # The exporter folds constants only up to 262,144 elements, so the student's LSTM weights
    # (forward and backward concatenated at run time) stay computed; fold them into
    # initializers, or dynamic INT8 quantisation cannot reach the LSTM.
    proto = onnxscript.optimizer.optimize(proto, input_size_limit=1 << 26, output_size_limit=1 << 26)
    _add_sequence_lens(proto.graph)
    _name_dynamic_axes(proto.graph)
    save_checked(proto, path, metadata)


def check_onnx(model: Tagger, path: Path, sample_batch: Mapping[str, Tensor]) -> float:
    """Max abs difference of emissions between torch and onnxruntime on ``sample_batch``.

    ``sample_batch`` maps ``input_ids``, ``attention_mask`` and (for lexicon
    models) ``lexicon`` to tensors. Padded positions are compared too: both
    sides run the BiLSTM only over real characters.
    """
    import onnxruntime as ort

    model = model.eval()
    ids, mask = sample_batch[INPUT_IDS], sample_batch[ATTENTION_MASK]
    lexicon = sample_batch.get(LEXICON) if model.config.num_lexicon_features else None
    with torch.no_grad():
        expected = model(ids, mask, lexicon).emissions.cpu().numpy()
    feeds = {INPUT_IDS: ids.cpu().numpy().astype(np.int64), ATTENTION_MASK: mask.cpu().numpy().astype(np.int64)}
    if lexicon is not None:
        feeds[LEXICON] = lexicon.cpu().numpy().astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (actual,) = session.run([EMISSIONS], feeds)
    return float(np.abs(expected - actual).max())


if __name__ == "__main__":  # the child process of export_onnx
    job = torch.load(sys.argv[1], weights_only=False)
    child = Tagger(TaggerConfig.from_dict(job["config"]))
    child.load_state_dict(job["state"])
    try:
        _export_here(child, Path(job["path"]), job["metadata"], job["opset"])
    except ExportError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
