"""Export a trained fused tagger to ONNX (FP32, checked against torch; then INT8) and score the INT8 file.

    python -m training.fusion.publish --run /work/runs/fusion/fused-h8 \
        [--bundle-from models/tcm-text --bundle-out /work/runs/fusion/bundle]

Writes ``RUN/fused_text.onnx`` (dynamic INT8, like the shipped text model)
and ``RUN/onnx.json``: the FP32 export's largest difference from torch on
real test windows (emissions and gate), and the INT8 file's scores on the
test pairs with ONNX Runtime (numpy Viterbi, as the app decodes) and its
milliseconds per record (text model only; the image tokens are cached).

With ``--bundle-out`` it also writes a bundle: a copy of ``--bundle-from``
(every file unchanged) plus the fused text model and the tongue token graph,
described in the manifest's ``fusion`` entry, all hashes recomputed. The
shipped bundle is never touched.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic

from tcm_desktop.files import sha256_of
from tcm_desktop.inference.crf import CrfScores, viterbi
from tcm_desktop.inference.lexicon import Lexicon
from training.bundle import text_model_metadata
from training.data import windows
from training.fusion.checkpoint import FusedCheckpoint
from training.fusion.data import ImageTokens, PairedExample, load_pairs
from training.fusion.evaluate import Predictions, score
from training.fusion.export import IMAGE_MASK, IMAGE_TOKENS, check_fused_onnx, export_fused_onnx
from training.fusion.features import FEATURES_FILE, TokenCache
from training.vocab import encode_text, make_tokenizer_from_tokens

FUSED_FILE = "fused_text.onnx"
KIND = "tcm-fused-text"


def metadata(checkpoint: FusedCheckpoint, lexicon: Lexicon | None) -> dict[str, str]:
    assert checkpoint.fusion_config is not None
    return text_model_metadata(checkpoint.text, lexicon) | {
        "kind": KIND,
        "fusion": json.dumps(checkpoint.fusion_config.to_dict()),
        "image_tokens": json.dumps(checkpoint.image),
    }


def _feeds(
    items: Sequence[tuple[str, str]],
    images: ImageTokens,
    tokenizer: object,
    lexicon: Lexicon | None,
    pad_id: int,
) -> dict[str, np.ndarray]:
    """ONNX feeds for windows given as (example id, text)."""
    length = max(len(text) for _, text in items)
    ids = np.full((len(items), length), pad_id, dtype=np.int64)
    mask = np.zeros((len(items), length), dtype=np.int64)
    feeds: dict[str, np.ndarray] = {"input_ids": ids, "attention_mask": mask}
    lex = np.zeros((len(items), length, lexicon.n_features), dtype=np.float32) if lexicon else None
    for row, (_, text) in enumerate(items):
        ids[row, : len(text)] = encode_text(tokenizer, text)
        mask[row, : len(text)] = 1
        if lex is not None and lexicon is not None:
            lex[row, : len(text)] = lexicon.features(text)
    if lex is not None:
        feeds["lexicon"] = lex
    tokens, present = images.for_windows([example_id for example_id, _ in items])
    feeds[IMAGE_TOKENS], feeds[IMAGE_MASK] = tokens.numpy(), present.numpy()
    return feeds


def onnx_predict(
    session: ort.InferenceSession,
    checkpoint: FusedCheckpoint,
    pairs: Sequence[PairedExample],
    images: ImageTokens,
    lexicon: Lexicon | None,
    batch_size: int = 32,
) -> Predictions:
    """Spans per record with the ONNX file and a numpy Viterbi; gate statistics over photo records."""
    text = checkpoint.text
    tokenizer = make_tokenizer_from_tokens(text.vocab)
    pad_id = text.vocab.index("[PAD]")
    max_chars = int(text.train_config.get("max_chars", 256))
    model = text.build_model()
    crf = CrfScores(model.transition_matrix(), model.start_transitions(), model.end_transitions())
    started = time.perf_counter()
    items = [w for p in pairs for w in windows(p.example, max_chars)]
    items.sort(key=lambda w: len(w.text))
    out = Predictions({p.example.id: [] for p in pairs})
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        feeds = _feeds([(w.example_id, w.text) for w in chunk], images, tokenizer, lexicon, pad_id)
        emissions, gate = session.run(["emissions", "gate"], feeds)
        paths = viterbi(emissions, feeds["attention_mask"].astype(bool), crf)
        for row, window in enumerate(chunk):
            found = text.scheme.decode(paths[row, : len(window.text)].tolist())
            out.spans[window.example_id].extend((s + window.offset, e + window.offset, lab) for s, e, lab in found)
            if feeds[IMAGE_MASK][row]:
                out.gate_sum["all"] += float(gate[row, : len(window.text)].sum())
                out.gate_count["all"] += len(window.text)
    out.seconds = time.perf_counter() - started
    out.spans = {k: sorted(v) for k, v in out.spans.items()}
    return out


def _session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _check_sample(
    checkpoint: FusedCheckpoint, pairs: Sequence[PairedExample], images: ImageTokens, lexicon: Lexicon | None
) -> dict[str, torch.Tensor]:
    """Two real test windows, the second without its photo."""
    text = checkpoint.text
    chosen = [pairs[0], pairs[1]]
    items = [(p.example.id, windows(p.example, 256)[0].text) for p in chosen]
    feeds = _feeds(items, images, make_tokenizer_from_tokens(text.vocab), lexicon, text.vocab.index("[PAD]"))
    feeds[IMAGE_MASK][1] = 0.0  # one row without its photo
    return {k: torch.from_numpy(v) for k, v in feeds.items()}


def publish(run: Path, pairs_dir: Path, features: Path, threads: int = 1) -> dict[str, Any]:
    checkpoint = FusedCheckpoint.load(run / "best.pt")
    model = checkpoint.build_model().eval()
    lexicon = checkpoint.text.lexicon()
    test = load_pairs(pairs_dir / "test.jsonl")
    images = ImageTokens(TokenCache.load(features), {p.example.id: p.image for p in test})
    meta = metadata(checkpoint, lexicon)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fused.fp32.onnx"
        export_fused_onnx(model, fp32, meta)
        diff = check_fused_onnx(model, fp32, _check_sample(checkpoint, test, images, lexicon))
        quantize_dynamic(str(fp32), str(run / FUSED_FILE), weight_type=QuantType.QInt8)
    quantised = onnx.load(str(run / FUSED_FILE))
    for key, value in meta.items():  # quantize_dynamic keeps metadata on some versions only
        if not any(p.key == key for p in quantised.metadata_props):
            quantised.metadata_props.add(key=key, value=value)
    onnx.save(quantised, str(run / FUSED_FILE))
    predictions = onnx_predict(_session(run / FUSED_FILE, threads), checkpoint, test, images, lexicon)
    report = {
        "fp32_max_abs_diff": diff,
        "int8_bytes": (run / FUSED_FILE).stat().st_size,
        "threads": threads,
        "int8_test": score(test, predictions),
    }
    (run / "onnx.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return report


def write_bundle(run: Path, features: Path, source: Path, out: Path, metrics: dict[str, Any]) -> dict[str, Any]:
    """``source``'s files unchanged plus the fused model and the token graph, in a new folder ``out``."""
    checkpoint = FusedCheckpoint.load(run / "best.pt")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(source, out)
    shutil.copyfile(run / FUSED_FILE, out / FUSED_FILE)
    shutil.copyfile(features / FEATURES_FILE, out / FEATURES_FILE)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert checkpoint.fusion_config is not None
    manifest["version"] = f"{manifest['version']}+fusion"  # predictions say which model made them
    manifest["fusion"] = {
        "file": FUSED_FILE,
        "image_tokens": {
            "file": FEATURES_FILE,
            "output": "image_tokens",
            "cells": checkpoint.fusion_config.image_cells,
            "channels": checkpoint.fusion_config.image_channels,
        },
        "config": checkpoint.fusion_config.to_dict(),
        "quantisation": "dynamic INT8 (QInt8 weights)",
        "training": checkpoint.run,
        "metrics": metrics,
    }
    files = sorted(p.name for p in out.iterdir() if p.name != "manifest.json")
    manifest["files"] = {f: sha256_of(out / f) for f in files}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--pairs", type=Path, default=Path("/work/runs/fusion/pairs"))
    parser.add_argument("--features", type=Path, default=Path("/work/runs/fusion/features"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--bundle-from", type=Path, default=Path("models/tcm-text"))
    parser.add_argument("--bundle-out", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    report = publish(args.run, args.pairs, args.features, args.threads)
    print(json.dumps({k: v for k, v in report.items() if k != "int8_test"}, indent=1))
    test = report["int8_test"]
    print(f"INT8 test micro F1 {test['micro']['f1']:.4f}, shown {test['shown']}, {test['ms_per_record']} ms/record")
    if args.bundle_out:
        write_bundle(args.run, args.features, args.bundle_from, args.bundle_out, {"int8_test": test})
        print(f"bundle -> {args.bundle_out}")


if __name__ == "__main__":
    main()
