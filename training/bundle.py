"""Build a model bundle (ARCHITECTURE.md "The model bundle") from a text-model checkpoint.

The bundle is a folder with the INT8 text model (``text.onnx``), the CRF
scores (``crf.npz``: transitions, start and end), the vocabulary, the
lexicon the model was trained with, and ``manifest.json`` describing all of
it with the sha256 of every file. Labels and the tag scheme are also in the
ONNX metadata so they cannot drift from the weights.

    tcm export-model --checkpoint best.pt --out models/tcm-text [--name tcm-text] [--version 1.0.0]
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
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic

from tcm_desktop.domain import TcmError
from tcm_desktop.files import sha256_of
from tcm_desktop.inference.lexicon import Lexicon, format_lexicon
from tcm_desktop.resources import resource_path
from training.checkpoint import Checkpoint
from training.export import check_onnx, export_onnx
from training.vocab import encode_text, make_tokenizer_from_tokens

MANIFEST_FORMAT = "tcm-model-bundle"
MANIFEST_VERSION = 1
TEXT_MODEL, CRF_FILE, VOCAB_FILE, LEXICON_FILE, MANIFEST = (
    "text.onnx",
    "crf.npz",
    "vocab.txt",
    "lexicon.tsv",
    "manifest.json",
)


def quantised_op_types(path: Path) -> list[str]:
    """Distinct op types of an ONNX file, to check that INT8 quantisation reached the LSTM."""
    return sorted({node.op_type for node in onnx.load(str(path)).graph.node})


def text_model_metadata(ckpt: Checkpoint, lexicon: Lexicon | None) -> dict[str, str]:
    """What the text ONNX file says about itself: labels, tags, scheme, vocabulary and lexicon versions."""
    return {
        "labels": json.dumps(list(ckpt.labels), ensure_ascii=False),
        "tags": json.dumps(list(ckpt.scheme.tags), ensure_ascii=False),
        "tag_scheme": ckpt.scheme.name,
        "vocab_version": ckpt.vocab_version,
        "lexicon_version": lexicon.version if lexicon else "",
        "lexicon_types": json.dumps(list(lexicon.types) if lexicon else []),
        "max_chars": str(ckpt.train_config.get("max_chars", 256)),
        "commit": ckpt.commit,
    }


def _sample_batch(ckpt: Checkpoint, lexicon: Lexicon | None) -> dict[str, torch.Tensor]:
    tokenizer = make_tokenizer_from_tokens(ckpt.vocab)
    texts = ["患者腹痛3天，舌淡红，苔薄白，脉细。", "处方：党参15g 白术10g 茯苓15g"]
    length = max(len(t) for t in texts)
    ids = np.zeros((len(texts), length), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, text in enumerate(texts):
        ids[row, : len(text)] = encode_text(tokenizer, text)
        mask[row, : len(text)] = 1
    batch = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
    if lexicon is not None:
        lex = np.zeros((len(texts), length, lexicon.n_features), dtype=np.float32)
        for row, text in enumerate(texts):
            lex[row, : len(text)] = lexicon.features(text)
        batch["lexicon"] = torch.from_numpy(lex)
    return batch


def build_bundle(
    checkpoint: Path,
    out: Path,
    name: str = "tcm-text",
    version: str | None = None,
    metrics: Mapping[str, Any] | None = None,
    quantise: bool = True,
) -> dict[str, Any]:
    """Write the bundle folder ``out`` (replaced atomically) and return its manifest."""
    ckpt = Checkpoint.load(checkpoint)
    model = ckpt.build_model().eval()
    lexicon = ckpt.lexicon()  # checked against the model's lexicon version
    out = out.resolve()
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent if out.parent.exists() else None))
    try:
        fp32 = staging / "text.fp32.onnx"
        meta = text_model_metadata(ckpt, lexicon)
        export_onnx(model, fp32, meta)
        sample = _sample_batch(ckpt, lexicon)
        fp32_diff = check_onnx(model, fp32, sample)
        text_path = staging / TEXT_MODEL
        if quantise:
            quantize_dynamic(str(fp32), str(text_path), weight_type=QuantType.QInt8)
            quantised = onnx.load(str(text_path))
            for key, value in meta.items():  # quantize_dynamic keeps metadata on some versions only
                if not any(p.key == key for p in quantised.metadata_props):
                    quantised.metadata_props.add(key=key, value=value)
            onnx.save(quantised, str(text_path))
            fp32.unlink()
        else:
            fp32.rename(text_path)
        np.savez(
            staging / CRF_FILE,
            transitions=model.transition_matrix(),
            start=model.start_transitions(),
            end=model.end_transitions(),
        )
        (staging / VOCAB_FILE).write_text("\n".join(ckpt.vocab) + "\n", encoding="utf-8")
        if lexicon is not None and ckpt.lexicon_entries is None:  # the shipped file, its header comments kept
            shutil.copyfile(resource_path("lexicon", "tcm_lexicon.tsv"), staging / LEXICON_FILE)
        elif lexicon is not None:
            (staging / LEXICON_FILE).write_text(format_lexicon(lexicon.entries, lexicon.types), encoding="utf-8")
        ops = quantised_op_types(text_path)
        if quantise and "LSTM" in ops:
            raise TcmError("INT8 quantisation left the LSTM in FP32 (its weights are not initializers)")
        files = sorted(p.name for p in staging.iterdir())
        manifest = {
            "format": MANIFEST_FORMAT,
            "format_version": MANIFEST_VERSION,
            "name": name,
            "version": version or datetime.datetime.now(datetime.UTC).strftime("%Y.%m.%d-%H%M"),
            "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "commit": ckpt.commit,
            "labels": list(ckpt.labels),
            "tags": list(ckpt.scheme.tags),
            "tag_scheme": ckpt.scheme.to_dict(),
            "vocab_version": ckpt.vocab_version,
            "lexicon_version": lexicon.version if lexicon else None,
            "lexicon_types": list(lexicon.types) if lexicon else [],
            "inputs": {
                "max_chars": int(ckpt.train_config.get("max_chars", 256)),
                "lexicon_features": lexicon.n_features if lexicon else 0,
            },
            "text_model": {
                "file": TEXT_MODEL,
                "quantisation": "dynamic INT8 (QInt8 weights)" if quantise else "none",
                "ops": ops,
                "fp32_export_max_abs_diff": fp32_diff,
            },
            "model_config": ckpt.model_config.to_dict(),
            "training": {"data": ckpt.data, "config": ckpt.train_config, "dev": ckpt.metrics.get("dev")},
            "metrics": dict(metrics or {}),
            "files": {f: sha256_of(staging / f) for f in files},
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
        return manifest
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def carry_image_models(bundle_dir: Path, source_bundle: Path) -> bool:
    """Copy the tongue image models of ``source_bundle`` (files and the manifest's ``image`` entry)
    into the text bundle ``bundle_dir``; False when the source has none.

    A retrained text model keeps the photo models of the bundle it replaces,
    so the photo's attributes and the text-photo disagreement flags stay.
    The copied files are checked against the source manifest's hashes first.
    """
    source_manifest = json.loads((source_bundle / MANIFEST).read_text(encoding="utf-8"))
    image = source_manifest.get("image")
    if not image:
        return False
    names = [image[part]["file"] for part in ("segmenter", "classifier")]
    path = bundle_dir / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for name in names:
        expected = source_manifest.get("files", {}).get(name)
        if expected is None or sha256_of(source_bundle / name) != expected:
            raise TcmError(f"{source_bundle / name} does not match its bundle's manifest; not carried over")
        shutil.copyfile(source_bundle / name, bundle_dir / name)
        manifest["files"][name] = expected
    update_manifest(bundle_dir, files=manifest["files"], image=image)
    return True


def update_manifest(bundle_dir: Path, **entries: Any) -> dict[str, Any]:
    """Set top-level ``entries`` of the bundle's manifest (written whole, then swapped in); the new manifest.

    For what is not a hashed file (metrics, the shipped checkpoint's name) or
    was checked on its way in (carried photo models).
    """
    path = bundle_dir / MANIFEST
    manifest = {**json.loads(path.read_text(encoding="utf-8")), **entries}
    partial = path.with_name(MANIFEST + ".partial")
    partial.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
    return manifest


def export_model_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tcm export-model", description="Build a model bundle from a checkpoint.")
    parser.add_argument("--checkpoint", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path, help="bundle folder (replaced)")
    parser.add_argument("--name", default="tcm-text")
    parser.add_argument("--version")
    parser.add_argument("--metrics", type=Path, help="JSON file of gold-set metrics to record in the manifest")
    parser.add_argument("--fp32", action="store_true", help="skip INT8 quantisation")
    args = parser.parse_args(argv)
    try:
        metrics = json.loads(args.metrics.read_text(encoding="utf-8")) if args.metrics else None
        manifest = build_bundle(args.checkpoint, args.out, args.name, args.version, metrics, not args.fp32)
    except (TcmError, OSError, ValueError) as exc:
        print(f"tcm export-model: {exc}", file=sys.stderr)
        return 2
    size = sum((args.out / f).stat().st_size for f in manifest["files"])
    print(f"bundle {manifest['name']} {manifest['version']} -> {args.out} ({size / 1e6:.1f} MB)")
    return 0
