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
