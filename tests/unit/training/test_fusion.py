"""Text-image fusion: gate range, no photo = text path, ONNX = torch, image tokens, pairs, the app's fused path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper

from tcm_desktop.domain import Record
from tcm_desktop.files import sha256_of
from tcm_desktop.inference.bundle import ModelBundle
from tcm_desktop.inference.errors import BundleError
from tcm_desktop.inference.fusion import FusedTextModel
from tcm_desktop.inference.image_pipeline import TongueResult
from tcm_desktop.inference.structuring import Structurer
from tcm_desktop.inference.text_pipeline import TextPipeline
from tcm_desktop.inference.tongue_crop import to_model_input
from tests.unit.inference.tongue_models import CLS, image_entry, write_manifest, write_models
from training.bundle import build_bundle
from training.checkpoint import Checkpoint
from training.fusion.checkpoint import FusedCheckpoint
from training.fusion.data import ImageTokens
from training.fusion.export import GATE, check_fused_onnx, export_fused_onnx
from training.fusion.features import TOKENS, add_token_output
from training.fusion.model import FusedTagger, FusionConfig
from training.fusion.pairs import PhotoFindings, agrees, pair_photos, truth_values
from training.model import Tagger, TaggerConfig
from training.tags import TagScheme

CELLS, CHANNELS, FEATURES = 4, 6, 8


def tiny_tagger() -> Tagger:
    config = TaggerConfig(
        vocab_size=40,
        num_tags=3,
        num_lexicon_features=FEATURES,
        hidden_size=24,
        num_layers=1,
        num_heads=4,
        intermediate_size=32,
        max_positions=64,
        lstm_hidden=8,
    )
    return Tagger(config, [(0, 0), (0, 1), (1, 2), (1, 0), (2, 2), (2, 0), (1, 1), (2, 1)], [0, 1])


def tiny(heads: int = 4, gate: bool = True, trained: bool = True) -> FusedTagger:
    torch.manual_seed(0)
    model = FusedTagger(tiny_tagger(), FusionConfig(CHANNELS, CELLS, heads=heads, attention_dim=12, gate=gate))
    if trained:  # move the zero-initialised output projection so the image actually changes the states
        assert model.fusion is not None
        torch.nn.init.normal_(model.fusion.out.weight, std=0.5)
        torch.nn.init.normal_(model.fusion.gate.weight if model.fusion.gate is not None else model.fusion.out.bias)
    return model.eval()


def feeds(rows: int, length: int, pad: int = 0, photos: list[float] | None = None) -> dict[str, torch.Tensor]:
    mask = torch.ones(rows, length, dtype=torch.int64)
    if pad:
        mask[-1, length - pad :] = 0
    return {
        "input_ids": torch.randint(1, 40, (rows, length)) * mask,
        "attention_mask": mask,
        "lexicon": (torch.rand(rows, length, FEATURES) > 0.8).float(),
        "image_tokens": torch.rand(rows, CELLS, CHANNELS) * 5,
        "image_mask": torch.tensor(photos if photos is not None else [1.0] * rows),
    }


def run(model: FusedTagger, f: dict[str, torch.Tensor]):  # type: ignore[no-untyped-def]
    with torch.no_grad():
        return model(f["input_ids"], f["attention_mask"], f["lexicon"], f["image_tokens"], f["image_mask"])


@pytest.mark.parametrize("heads", [1, 4, 12])
def test_gate_is_inside_0_1_and_exactly_0_without_a_photo(heads: int) -> None:
    model = tiny(heads)
    f = feeds(3, 10, photos=[1.0, 0.0, 1.0])
    out = run(model, f)
    assert out.gate is not None and out.gate.shape == (3, 10)
    assert torch.all(out.gate[[0, 2]] > 0) and torch.all(out.gate[[0, 2]] < 1)
    assert torch.equal(out.gate[1], torch.zeros(10))


def test_a_record_without_photo_gets_the_text_models_emissions_whatever_the_tokens() -> None:
    model = tiny()
    f = feeds(2, 9, pad=3, photos=[0.0, 0.0])
    with torch.no_grad():
        text = model.tagger(f["input_ids"], f["attention_mask"], f["lexicon"]).emissions
    assert torch.equal(run(model, f).emissions, text)
    assert not torch.equal(run(model, f | {"image_mask": torch.ones(2)}).emissions, text)


def test_untrained_fusion_starts_as_the_text_model_with_and_without_gate() -> None:
    for gate in (True, False):
        model = tiny(gate=gate, trained=False)
        f = feeds(2, 7)
        with torch.no_grad():
            text = model.tagger(f["input_ids"], f["attention_mask"], f["lexicon"]).emissions
        assert torch.allclose(run(model, f).emissions, text)


def test_without_gate_the_image_evidence_is_added_whole() -> None:
    out = run(tiny(gate=False), feeds(2, 5, photos=[1.0, 0.0]))
    assert out.gate is not None
    assert torch.equal(out.gate, torch.tensor([[1.0] * 5, [0.0] * 5]))


def test_heads_must_divide_the_attention_width() -> None:
    with pytest.raises(ValueError, match="multiple of heads"):
        FusionConfig(CHANNELS, CELLS, heads=5, attention_dim=12)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[FusedTagger, Path]:
    model = tiny(heads=4)
    path = tmp_path_factory.mktemp("fused") / "fused.onnx"
    export_fused_onnx(model, path, {"kind": "tcm-fused-text"})
    return model, path


@pytest.mark.parametrize(
    ("rows", "length", "pad", "photos"), [(2, 9, 3, [1.0, 0.0]), (3, 17, 0, None), (1, 30, 11, None)]
)
def test_onnx_matches_torch(exported: tuple[FusedTagger, Path], rows: int, length: int, pad: int, photos) -> None:
    model, path = exported
    diff = check_fused_onnx(model, path, feeds(rows, length, pad, photos))
    assert diff["emissions"] < 1e-4 and diff[GATE] < 1e-5


def test_onnx_graph_names_its_inputs_and_keeps_the_metadata(exported: tuple[FusedTagger, Path]) -> None:
    _, path = exported
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    assert names == ["input_ids", "attention_mask", "lexicon", "image_tokens", "image_mask"]
    assert [o.name for o in session.get_outputs()] == ["emissions", "gate"]
    assert session.get_modelmeta().custom_metadata_map["kind"] == "tcm-fused-text"


def test_checkpoint_round_trip_rebuilds_the_same_model(tmp_path: Path) -> None:
    model = tiny()
    tagger = model.tagger
    scheme = TagScheme("BIO", ["HERB"])
    base = Checkpoint(tagger.config, scheme, ["[PAD]", "[UNK]"], "v", None, [], tagger.state_dict())
    FusedCheckpoint.of(model, base, progress={"epoch": 1}).save(tmp_path / "f.pt")
    loaded = FusedCheckpoint.load(tmp_path / "f.pt")
    f = feeds(2, 6, photos=[1.0, 0.0])
    assert loaded.fusion_config == model.fusion_config
    assert torch.equal(run(loaded.build_model().eval(), f).emissions, run(model, f).emissions)


class _Tokens:
    cells, channels = CELLS, CHANNELS

    def get(self, sid: str) -> np.ndarray:
        return np.full((CELLS, CHANNELS), float(sid), dtype=np.float32)


def test_image_tokens_per_window_are_zero_and_masked_without_a_photo() -> None:
    images = ImageTokens(_Tokens(), {"a": "3", "b": None})
    tokens, mask = images.for_windows(["a", "b", "unknown"])
    assert mask.tolist() == [1.0, 0.0, 0.0]
    assert float(tokens[0].mean()) == 3.0 and float(tokens[1:].abs().sum()) == 0.0
    _, dropped = images.for_windows(["a"] * 50, drop=0.5, rng=np.random.default_rng(0))
    assert 0 < float(dropped.sum()) < 50


def _tiny_classifier(path: Path) -> None:
    """image [B,3,8,8] -> conv stride 2 -> relu -> global mean -> one softmax head, as the shipped one is laid out."""
    rng = np.random.default_rng(0)
    init = [
        helper.make_tensor("w", TensorProto.FLOAT, [CHANNELS, 3, 2, 2], rng.normal(size=CHANNELS * 12).tolist()),
        helper.make_tensor("axes", TensorProto.INT64, [2], [2, 3]),
        helper.make_tensor("flat", TensorProto.INT64, [2], [0, -1]),
        helper.make_tensor("fc", TensorProto.FLOAT, [2, CHANNELS], rng.normal(size=2 * CHANNELS).tolist()),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "w"], ["conv"], strides=[2, 2]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("ReduceMean", ["relu", "axes"], ["mean"], keepdims=1),
        helper.make_node("Reshape", ["mean", "flat"], ["pooled"]),
        helper.make_node("Gemm", ["pooled", "fc"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["prob_x"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 8, 8])],
        [helper.make_tensor_value_info("prob_x", TensorProto.FLOAT, ["batch", 2])],
        init,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    proto.metadata_props.append(onnx.StringStringEntryProto(key="input_size", value="8"))
    onnx.save(proto, str(path))


def test_token_output_is_the_pooled_feature_map_cell_by_cell(tmp_path: Path) -> None:
    _tiny_classifier(tmp_path / "c.onnx")
    shape = add_token_output(tmp_path / "c.onnx", tmp_path / "t.onnx")
    assert (shape.cells, shape.channels) == (16, CHANNELS)
    image = np.random.default_rng(1).random((2, 3, 8, 8), dtype=np.float32)
    session = ort.InferenceSession(str(tmp_path / "t.onnx"), providers=["CPUExecutionProvider"])
    prob, tokens = session.run(["prob_x", TOKENS], {"image": image})
    assert tokens.shape == (2, 16, CHANNELS)
    probe = onnx.load(str(tmp_path / "c.onnx"))
    probe.graph.output.append(helper.make_tensor_value_info("relu", TensorProto.FLOAT, None))
    (relu,) = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        ["relu"], {"image": image}
    )
    np.testing.assert_allclose(tokens, relu.reshape(2, CHANNELS, 16).transpose(0, 2, 1))
    assert prob.shape == (2, 2)
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "t.onnx")).metadata_props}
    assert json.loads(meta["image_tokens"])["tensor"] == "relu"


def test_each_record_agrees_with_its_photos_labels_and_is_used_once() -> None:
    photos = [
        PhotoFindings("a", ("淡白", "白")),
        PhotoFindings("b", (None, "黄白相间")),
        PhotoFindings("c", (None, None)),
    ]
    pairs = pair_photos(photos, per_photo=2, seed=5, max_record_chars=1200)
    assert sorted(p.sid for p, _ in pairs) == ["a", "a", "b", "b", "c", "c"]
    for photo, generated in pairs:
        assert agrees(photo, truth_values(generated))
        assert len(generated.record.text) <= 1200
    assert len({g.record.id for _, g in pairs}) == 6
    assert truth_values(next(g for p, g in pairs if p.sid == "a")) == ("淡白", "白")
    assert not agrees(PhotoFindings("d", ("淡红", None)), ("淡白", "白"))


# --- the app's fused path (ONNX only): a bundle with a ``fusion`` entry -------------------------

TEXTS = ["腹痛3天，党参15g", "腹痛7天，党参15g，舌淡红"]


@pytest.fixture(scope="module")
def fused_bundle(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fused") / "bundle"
    build_bundle(tiny_checkpoint, folder, name="tiny", version="0.0.1", quantise=False)
    torch.manual_seed(0)
    model = FusedTagger(
        Checkpoint.load(tiny_checkpoint).build_model(), FusionConfig(CHANNELS, 16, heads=2, attention_dim=8)
    )
    assert model.fusion is not None
    torch.nn.init.normal_(model.fusion.out.weight, std=2.0)
    torch.nn.init.constant_(model.fusion.gate.bias, 2.0)  # type: ignore[union-attr]
    export_fused_onnx(model.eval(), folder / "fused_text.onnx", {"kind": "tcm-fused-text"})
    _tiny_classifier(folder / "classifier.tmp.onnx")
    add_token_output(folder / "classifier.tmp.onnx", folder / "tongue_features.onnx")
    (folder / "classifier.tmp.onnx").unlink()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["fusion"] = {
        "file": "fused_text.onnx",
        "image_tokens": {"file": "tongue_features.onnx", "output": "image_tokens", "cells": 16, "channels": CHANNELS},
    }
    manifest["files"] = {p.name: sha256_of(p) for p in sorted(folder.iterdir()) if p.name != "manifest.json"}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return folder


def test_without_photos_the_fused_path_gives_the_text_models_result(fused_bundle: Path) -> None:
    bundle = ModelBundle.load(fused_bundle, threads=1)
    fused = FusedTextModel.from_bundle(bundle, threads=1)
    assert fused is not None
    plain = TextPipeline(bundle, threads=1).predict(TEXTS)
    without = TextPipeline(bundle, threads=1, fused=fused).predict(TEXTS, images=[None, None])
    assert [r.spans for r in without] == [r.spans for r in plain]
    assert [r.uncertainty for r in without] == pytest.approx([r.uncertainty for r in plain], abs=1e-5)


def test_a_photo_changes_what_the_fused_model_reads(fused_bundle: Path) -> None:
    bundle = ModelBundle.load(fused_bundle, threads=1)
    fused = FusedTextModel.from_bundle(bundle, threads=1)
    assert fused is not None
    pipeline = TextPipeline(bundle, threads=1, fused=fused)
    tokens = np.random.default_rng(0).random((16, CHANNELS)).astype(np.float32) * 5
    with_photo = pipeline.predict(TEXTS, images=[None, tokens])
    without = pipeline.predict(TEXTS)
    assert with_photo[0] == without[0]
    assert with_photo[1].uncertainty != pytest.approx(without[1].uncertainty, abs=1e-7)
    feeds = fused.feeds([None, tokens])
    assert feeds["image_mask"].tolist() == [0.0, 1.0] and not feeds["image_tokens"][0].any()


def test_a_bundle_without_fusion_has_no_fused_model_and_a_broken_entry_is_refused(fused_bundle: Path) -> None:
    bundle = ModelBundle.load(fused_bundle, threads=1)
    assert FusedTextModel.from_bundle(_without_fusion(bundle)) is None
    bundle.manifest["fusion"] = {"file": "fused_text.onnx"}  # type: ignore[index]
    with pytest.raises(BundleError, match="malformed"):
        FusedTextModel.from_bundle(bundle)


def _without_fusion(bundle: ModelBundle) -> ModelBundle:
    bundle.manifest = {k: v for k, v in bundle.manifest.items() if k != "fusion"}
    return bundle


@pytest.fixture(scope="module")
def fused_photo_bundle(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole bundle: the tiny text model, the hand-written tongue models and a fused model reading their tokens."""
    folder = tmp_path_factory.mktemp("fused-photo") / "bundle"
    build_bundle(tiny_checkpoint, folder, name="tiny", version="0.0.1", quantise=False)
    write_models(folder)
    shape = add_token_output(folder / CLS, folder / "tongue_features.onnx")
    torch.manual_seed(0)
    config = FusionConfig(shape.channels, shape.cells, heads=1, attention_dim=4)
    model = FusedTagger(Checkpoint.load(tiny_checkpoint).build_model(), config)
    assert model.fusion is not None
    torch.nn.init.normal_(model.fusion.out.weight, std=2.0)
    torch.nn.init.constant_(model.fusion.gate.bias, 2.0)  # type: ignore[union-attr]
    export_fused_onnx(model.eval(), folder / "fused_text.onnx", {"kind": "tcm-fused-text"})
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["image"] = image_entry()
    manifest["fusion"] = {
        "file": "fused_text.onnx",
        "image_tokens": {
            "file": "tongue_features.onnx",
            "output": TOKENS,
            "cells": shape.cells,
            "channels": shape.channels,
        },
    }
    write_manifest(folder, manifest)
    return folder


def _photo(tongue: bool) -> bytes:
    pixels = np.full((60, 80, 3), 128, np.uint8)
    if tongue:
        cv2.ellipse(pixels, (40, 30), (25, 18), 0, 0, 360, (40, 40, 230), -1)  # BGR red
    ok, data = cv2.imencode(".jpg", pixels)
    assert ok
    return data.tobytes()


class _Refuse:
    """Stands in for the plain classifier session: the fused path must read photos with the token model only."""

    def run(self, *args: object) -> None:
        raise AssertionError("the plain classifier ran besides the token model")


def test_the_fused_path_reads_each_photo_once_for_attributes_and_tokens(fused_photo_bundle: Path) -> None:
    structurer = Structurer.load(fused_photo_bundle, threads=1)
    assert structurer.fused is not None and structurer.tongue is not None
    images = [_photo(True), None, _photo(False)]
    found, not_found = structurer.tongue.predict_each([images[0], images[2]])
    assert isinstance(found, TongueResult) and found.found and isinstance(not_found, TongueResult)
    # the photo's tokens as training reads them: the classifier's crop through the token graph
    ((crop, _),) = structurer.tongue.classifier_crops([images[0]])
    tokens_session = ort.InferenceSession(
        str(fused_photo_bundle / "tongue_features.onnx"), providers=["CPUExecutionProvider"]
    )
    (tokens,) = tokens_session.run([TOKENS], {"image": to_model_input([crop])})
    records = [Record(f"R{i}", "gastro", text) for i, text in enumerate([*TEXTS, TEXTS[0]])]
    reference = TextPipeline(structurer.bundle, threads=1, fused=structurer.fused).predict(
        [r.text for r in records], images=[tokens[0], None, None]
    )

    structurer.tongue._classifier = _Refuse()
    predictions = structurer.structure(records, images=images)
    assert [p.spans for p in predictions] == [r.spans for r in reference]
    assert [p.uncertainty for p in predictions] == pytest.approx([r.uncertainty for r in reference], abs=1e-6)
    without = TextPipeline(structurer.bundle, threads=1, fused=structurer.fused).predict([records[0].text])
    assert predictions[0].uncertainty != pytest.approx(without[0].uncertainty, abs=1e-6)  # the tokens were read
    assert predictions[0].tongue == {name: dict(probs) for name, probs in found.attributes.items()}
    assert predictions[1].tongue == {} and not predictions[1].flags
    assert predictions[2].flags == ("image: no tongue found in the photo",)


def test_a_token_model_without_the_classifier_outputs_is_refused(fused_photo_bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "bundle"
    shutil.copytree(fused_photo_bundle, copy)
    proto = onnx.load(str(copy / "tongue_features.onnx"))
    kept = [o for o in proto.graph.output if o.name == TOKENS]
    del proto.graph.output[:]
    proto.graph.output.extend(kept)
    onnx.save(proto, str(copy / "tongue_features.onnx"))
    write_manifest(copy, json.loads((copy / "manifest.json").read_text(encoding="utf-8")))
    with pytest.raises(BundleError, match="tongue_features.onnx lacks the tongue classifier's outputs"):
        Structurer.load(copy, threads=1)
