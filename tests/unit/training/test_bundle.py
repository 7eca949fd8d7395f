"""A bundle built from a real (tiny) checkpoint: INT8 ONNX, CRF scores, manifest with hashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

from tcm_desktop.files import sha256_of  # noqa: E402
from tcm_desktop.inference.lexicon import Lexicon  # noqa: E402
from tcm_desktop.inference.tokenizer import CharTokenizer  # noqa: E402
from training.bundle import build_bundle  # noqa: E402


@pytest.fixture(scope="module")
def checkpoint(tiny_checkpoint: Path) -> Path:
    return tiny_checkpoint


def test_bundle_is_int8_self_describing_and_hashed(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    manifest = build_bundle(checkpoint, out, name="tiny", version="0.0.1", metrics={"f1": 0.5})
    assert set(manifest["files"]) == {"text.onnx", "crf.npz", "vocab.txt", "lexicon.tsv", "manifest.json"} - {
        "manifest.json"
    }
    for name, digest in manifest["files"].items():
        assert sha256_of(out / name) == digest
    assert "DynamicQuantizeLSTM" in manifest["text_model"]["ops"]
    assert manifest["labels"] == ["HERB", "SYM"] and manifest["metrics"] == {"f1": 0.5}
    on_disk = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk["version"] == "0.0.1"

    session = ort.InferenceSession(str(out / "text.onnx"), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["labels"]) == ["HERB", "SYM"] and meta["tag_scheme"] == "BIO"
    text = "腹痛3天，党参15g"
    tokenizer = CharTokenizer.from_vocab_file(out / "vocab.txt")
    lexicon = Lexicon.load(out / "lexicon.tsv")
    ids = tokenizer.encode(text)[None, :]
    feeds = {
        "input_ids": ids,
        "attention_mask": np.ones_like(ids),
        "lexicon": lexicon.features(text)[None].astype(np.float32),
    }
    (emissions,) = session.run(None, feeds)
    crf = np.load(out / "crf.npz")
    assert emissions.shape == (1, len(text), len(manifest["tags"]))
    assert crf["transitions"].shape == (len(manifest["tags"]), len(manifest["tags"]))


def test_rebuilding_replaces_the_folder(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    build_bundle(checkpoint, out, version="1")
    (out / "stray.txt").write_text("left over")
    build_bundle(checkpoint, out, version="2")
    assert not (out / "stray.txt").exists()


def test_a_model_trained_with_its_own_lexicon_keeps_it_in_checkpoint_and_bundle(tmp_path: Path) -> None:
    from tcm_desktop.inference.bundle import ModelBundle
    from tcm_desktop.inference.lexicon import format_lexicon
    from training.checkpoint import Checkpoint
    from training.predict import TorchPredictor
    from training.trainer import TrainConfig, Trainer

    rows = [
        {"id": f"R{i}", "text": f"头痛{i}天，服桂枝汤", "spans": [{"start": 0, "end": 2, "label": "SYM"}]}
        for i in range(8)
    ]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    lexicon_file = tmp_path / "own.tsv"
    lexicon_file.write_text(format_lexicon([("头痛", "SYM"), ("桂枝汤", "PRE")], ["SYM", "PRE"]), encoding="utf-8")
    config = TrainConfig(
        train=[str(data)],
        dev=str(data),
        out=str(tmp_path / "run"),
        model_overrides={
            "hidden_size": 32,
            "num_layers": 1,
            "num_heads": 2,
            "intermediate_size": 64,
            "lstm_hidden": 16,
        },
        epochs=1,
        threads=1,
        batch_size=4,
        lexicon_file=str(lexicon_file),
    )
    best = Trainer(config).run()
    lexicon_file.unlink()  # the checkpoint alone must describe the lexicon
    ckpt = Checkpoint.load(best)
    own = ckpt.lexicon()
    assert own is not None and own.types == ("SYM", "PRE") and set(own.entries) == {("头痛", "SYM"), ("桂枝汤", "PRE")}
    assert ckpt.model_config.num_lexicon_features == 8 and own.version == ckpt.lexicon_version
    assert TorchPredictor.from_checkpoint(ckpt).lexicon is not None
    manifest = build_bundle(best, tmp_path / "bundle", version="0.0.1")
    assert manifest["lexicon_version"] == own.version
    loaded = ModelBundle.load(tmp_path / "bundle", threads=1)  # checks the lexicon against the manifest
    assert loaded.lexicon is not None and loaded.lexicon.features("头痛").any()
