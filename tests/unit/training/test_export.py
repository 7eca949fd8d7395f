"""ONNX export: matches torch on new shapes, one LSTM op, named inputs, metadata the runtime can read."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import onnx
import onnxruntime as ort
import pytest
import torch

from training.export import check_onnx, export_onnx
from training.model import Tagger, TaggerConfig

METADATA = {"labels": '["O", "B-HERB", "I-HERB"]', "tag_scheme": "BIO", "lexicon_version": "abc123def456"}


def tiny(features: int, lstm_hidden: int = 16) -> Tagger:
    torch.manual_seed(0)
    config = TaggerConfig(
        vocab_size=40,
        num_tags=3,
        num_lexicon_features=features,
        hidden_size=32,
        num_layers=2,
        num_heads=4,
        intermediate_size=64,
        max_positions=64,
        lstm_hidden=lstm_hidden,
    )
    return Tagger(config, [(0, 0), (0, 1), (1, 2), (1, 0), (2, 2), (2, 0), (1, 1), (2, 1)], [0, 1]).eval()


def sample(rows: int, length: int, features: int, pad: int) -> dict[str, torch.Tensor]:
    mask = torch.ones(rows, length, dtype=torch.int64)
    if pad:
        mask[-1, length - pad :] = 0
    out = {"input_ids": torch.randint(1, 40, (rows, length)) * mask, "attention_mask": mask}
    if features:
        out["lexicon"] = (torch.rand(rows, length, features) > 0.8).float()
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Tagger, Path]:
    model = tiny(features=8)
    path = tmp_path_factory.mktemp("onnx") / "tagger.onnx"
    export_onnx(model, path, METADATA)
    return model, path


@pytest.mark.parametrize(("rows", "length", "pad"), [(2, 9, 3), (3, 17, 0), (1, 30, 11)])
def test_onnx_matches_torch_on_shapes_it_was_not_traced_with(exported: tuple[Tagger, Path], rows, length, pad) -> None:
    model, path = exported
    assert check_onnx(model, path, sample(rows, length, 8, pad)) < 1e-4


def test_graph_has_named_dynamic_inputs_and_one_lstm(exported: tuple[Tagger, Path]) -> None:
    _, path = exported
    graph = onnx.load(str(path)).graph
    ops = Counter(node.op_type for node in graph.node)
    assert ops["LSTM"] == 1
    lstm = next(node for node in graph.node if node.op_type == "LSTM")
    assert lstm.input[4], "the LSTM must get sequence_lens, or padding leaks into the backward direction"
    inputs = {value.name: value.type.tensor_type for value in graph.input}
    assert list(inputs) == ["input_ids", "attention_mask", "lexicon"]
    assert inputs["input_ids"].elem_type == onnx.TensorProto.INT64
    assert inputs["lexicon"].elem_type == onnx.TensorProto.FLOAT
    assert [d.dim_param for d in inputs["lexicon"].shape.dim[:2]] == ["batch", "length"]
    assert inputs["lexicon"].shape.dim[2].dim_value == 8
    assert [value.name for value in graph.output] == ["emissions"]


def test_metadata_is_readable_from_onnxruntime(exported: tuple[Tagger, Path]) -> None:
    _, path = exported
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert session.get_modelmeta().custom_metadata_map == METADATA


def test_model_without_lexicon_or_lstm_has_no_lexicon_input(tmp_path: Path) -> None:
    model = tiny(features=0, lstm_hidden=0)
    path = tmp_path / "plain.onnx"
    export_onnx(model, path, {"labels": "[]"})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask"]
    assert check_onnx(model, path, sample(2, 11, 0, 4)) < 1e-4
