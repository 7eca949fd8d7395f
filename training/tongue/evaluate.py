"""Test-split scores of the tongue models, written as the metrics JSON the bundle and benchmark page use.

    tcm evaluate-tongue --run /work/runs/tongue --data ../shared/data/tongue                 # torch checkpoints
    tcm evaluate-tongue --run /work/runs/tongue --data ... --bundle RUN/bundle --fp32 RUN/onnx_fp32   # + ONNX
    tcm evaluate-tongue --run RUN --data ... --classifier RUN/pruned_mc/best.pt [--bundle RUN/pruned_mc/bundle]

Torch: segmenter mask IoU against the true masks at the photos' own
resolution; classifier accuracy and macro-F1 per attribute on crops cut
around the segmenter's box (what the app does) and around the true mask's
box, beside the majority class of the training split. ONNX: the same
through :class:`TonguePipeline` from the JPEG files, INT8 against FP32, and
milliseconds per photo on 2 threads. With ``--classifier`` another classifier checkpoint
(a pruned one) is scored with the run's segmenter and split, into ``metrics.json`` beside it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tcm_desktop.domain import TcmError
from tcm_desktop.inference.tongue_crop import (
    Letterbox,
    mask_box,
    mask_iou,
    to_model_input,
    whole_image_box,
)
from training.tongue.data import SOURCE, TongueCache, cache_for, classifier_crop, read_mask
from training.tongue.labels import ATTRIBUTES
from training.tongue.train import build_model, classify, load_checkpoint, macro_f1, score_heads

METRICS_FILE = "metrics.json"


def majority_baseline(train_labels: np.ndarray, test_labels: np.ndarray) -> dict[str, dict[str, Any]]:
    """Always the training split's most frequent class: accuracy and macro-F1 on the test labels."""
    out = {}
    for column, attribute in enumerate(ATTRIBUTES):
        known = train_labels[train_labels[:, column] >= 0, column]
        majority = int(np.bincount(known, minlength=len(attribute.classes)).argmax())
        truth = test_labels[test_labels[:, column] >= 0, column]
        predicted = np.full_like(truth, majority)
        out[attribute.name] = {
            "class": attribute.classes[majority],
            "n": int(len(truth)),
            "accuracy": float(np.mean(truth == majority)) if len(truth) else 0.0,
            "macro_f1": macro_f1(truth, predicted, len(attribute.classes)),
        }
    return out


def _confusions(probs: Sequence[np.ndarray], labels: np.ndarray) -> dict[str, list[list[int]]]:
    out = {}
    for column, attribute in enumerate(ATTRIBUTES):
        n = len(attribute.classes)
        matrix = np.zeros((n, n), dtype=int)
        known = labels[:, column] >= 0
        for t, p in zip(labels[known, column], probs[column][known].argmax(1), strict=True):
            matrix[t, p] += 1
        out[attribute.name] = matrix.tolist()
    return out


def _frame(original: tuple[int, int], size: int) -> Letterbox:
    height, width = original
    scale = size / max(height, width)
    inner_w, inner_h = max(1, round(width * scale)), max(1, round(height * scale))
    return Letterbox(scale, (size - inner_w) // 2, (size - inner_h) // 2, width, height, size)


def evaluate_torch(run: Path, data: Path, threads: int = 2, classifier: Path | None = None) -> dict[str, Any]:
    """Test-split scores of the run's segmenter and of ``classifier`` (default: the run's own, unpruned)."""
    torch.set_num_threads(threads)
    classifier_path = classifier or run / "classifier" / "best.pt"
    seg_payload = load_checkpoint(run / "segmenter" / "best.pt")
    cls_payload = load_checkpoint(classifier_path)
    segmenter, network = build_model(seg_payload), build_model(cls_payload)
    config = cls_payload["train_config"]
    crop = cls_payload["crop"]
    cache: TongueCache = cache_for(data, run / "cache.npz", int(config["seg_size"]), int(config["photo_side"]))
    split = json.loads((run / "split.json").read_text(encoding="utf-8"))
    test = cache.index(split["test"])
    with torch.no_grad():
        probs = torch.sigmoid(segmenter(torch.from_numpy(to_model_input(list(cache.seg_images[test]))))).numpy()[:, 0]
    ious, found, predicted_boxes = [], 0, {}
    for row, prob in zip(test, probs, strict=True):
        truth = read_mask(data / "masks" / f"{cache.sids[row]}.jpg")
        frame = _frame(truth.shape, prob.shape[0])
        predicted = frame.mask_to_image(prob) > crop["threshold"]  # as TonguePipeline.mask
        ious.append(mask_iou(predicted, truth))
        box = mask_box(prob > crop["threshold"])
        photo = cache.photos[row]
        shrink = photo.shape[1] / truth.shape[1]
        if box is not None and frame.photo_fraction(prob > crop["threshold"]) >= crop["min_tongue_fraction"]:
            found += 1
            x0, y0, x1, y1 = frame.box_to_image(box)
            predicted_boxes[row] = (round(x0 * shrink), round(y0 * shrink), round(x1 * shrink), round(y1 * shrink))
        else:
            predicted_boxes[row] = None
    labelled = [r for r in test if (cache.labels[r] >= 0).any()]
    size, margin = int(config["cls_size"]), float(crop["margin"])

    def crops(use_prediction: bool) -> list[np.ndarray]:
        out = []
        for r in labelled:
            box = predicted_boxes[r] if use_prediction else tuple(cache.boxes[r])
            if box is None:
                photo = cache.photos[r]
                out.append(classifier_crop(photo, whole_image_box(photo.shape[1], photo.shape[0]), size, 0.0))
            else:
                out.append(classifier_crop(cache.photos[r], box, size, margin))
        return out

    labels = cache.labels[labelled]
    on_predicted = classify(network, crops(True))
    on_true = classify(network, crops(False))
    train_rows = cache.index(split["train"])
    history = cls_payload["history"]
    return {
        "source": SOURCE,
        "split": {name: len(split[name]) for name in ("train", "val", "test")}
        | {"seed": split["seed"], "by": "image id"},
        "segmenter": {
            "test_images": len(test),
            "mask_iou_mean": float(np.mean(ious)),
            "mask_iou_median": float(np.median(ious)),
            "mask_iou_min": float(np.min(ious)),
            "found_rate": found / len(test),
            "epochs": seg_payload["epoch"],
            "input_size": int(config["seg_size"]),
            "val_iou": seg_payload["history"][-1]["val_iou"],
        },
        "classifier": {
            "checkpoint": str(classifier_path),
            "pruning": cls_payload.get("pruning"),
            "backbone": network.config.backbone,
            "input_size": size,
            "epochs": cls_payload["epoch"],
            "best_val_mean_macro_f1": max(h["score"] for h in history),
            "train_labelled": int(sum((cache.labels[r] >= 0).any() for r in train_rows)),
            "test_predicted_box": score_heads(on_predicted, labels),
            "test_true_box": score_heads(on_true, labels),
            "majority_baseline": majority_baseline(cache.labels[train_rows], labels),
            "confusion_predicted_box": _confusions(on_predicted, labels),
            "classes": {a.name: list(a.classes) for a in ATTRIBUTES},
        },
        "crop": crop,
    }


def evaluate_onnx(run: Path, data: Path, bundle: Path, fp32: Path | None, threads: int = 2) -> dict[str, Any]:
    """Test-split scores of the exported bundle through the app's pipeline (JPEG files in, form values out)."""
    from tcm_desktop.inference.image_models import ImageModels
    from tcm_desktop.inference.image_pipeline import TonguePipeline
    from training.tongue.data import scan

    split = json.loads((run / "split.json").read_text(encoding="utf-8"))
    items = {i.sid: i for i in scan(data)}
    test = [items[sid] for sid in split["test"]]
    int8 = TonguePipeline(bundle, threads=threads)
    pipelines = {"int8": int8}
    if fp32 is not None:
        pipelines["fp32"] = TonguePipeline(
            ImageModels.from_files(fp32 / int8.spec.segmenter_file.name, fp32 / int8.spec.classifier_file.name),
            threads=threads,
        )
    labels = np.array([i.labels for i in test])
    out: dict[str, Any] = {"threads": threads, "test_images": len(test)}
    grades: dict[str, list[np.ndarray]] = {}
    masks: dict[str, list[np.ndarray]] = {}
    for key, pipeline in pipelines.items():
        started = time.perf_counter()
        results = pipeline.predict([i.image for i in test])
        batch_ms = (time.perf_counter() - started) * 1000 / len(test)
        singles = []
        for item in test[:40]:
            tic = time.perf_counter()
            pipeline.predict([item.image])
            singles.append((time.perf_counter() - tic) * 1000)
        probs = []
        for attribute in pipeline.spec.attributes:
            classes = attribute.classes
            rows = []
            for r in results:
                if attribute.graded:
                    rows.append([r.grades[attribute.name][c] for c in classes])
                else:
                    rows.append([r.attributes[attribute.name][v] for v in attribute.form_values])
            probs.append(np.array(rows))
        grades[key] = probs
        masks[key] = [pipeline.mask(i.image) > pipeline.spec.crop.threshold for i in test]
        ious = [mask_iou(m, read_mask(i.mask)) for m, i in zip(masks[key], test, strict=True)]
        out[key] = {
            "per_attribute": score_heads(probs, labels),
            "mask_iou_mean": float(np.mean(ious)),
            "found_rate": float(np.mean([r.found for r in results])),
            "ms_per_image_batch16": batch_ms,
            "ms_per_image_single_median": statistics.median(singles),
        }
    if "fp32" in pipelines:
        out["int8_vs_fp32"] = {
            "top1_agreement": {
                a.name: float(np.mean(grades["int8"][c].argmax(1) == grades["fp32"][c].argmax(1)))
                for c, a in enumerate(ATTRIBUTES)
            },
            "max_abs_prob_diff": float(
                max(np.abs(x - y).max() for x, y in zip(grades["int8"], grades["fp32"], strict=True))
            ),
            "mask_iou": float(np.mean([mask_iou(a, b) for a, b in zip(masks["int8"], masks["fp32"], strict=True)])),
        }
    return out


def _record_in_manifest(bundle: Path, metrics: dict[str, Any]) -> None:
    """Put the final metrics into the bundle manifest's ``image`` entry (the manifest is not in its own hash list)."""
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["image"]["metrics"] = metrics
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def evaluate_tongue_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tcm evaluate-tongue", description="Score the tongue models on the test split."
    )
    parser.add_argument("--run", required=True, type=Path, help="run folder of tcm train-tongue")
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--bundle", type=Path, help="also score this exported bundle (INT8) through the pipeline")
    parser.add_argument("--fp32", type=Path, help="folder of the FP32 ONNX files (export --keep-fp32)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--classifier", type=Path, help="score this classifier checkpoint (e.g. a pruned one) instead of the run's"
    )
    parser.add_argument(
        "--out", type=Path, help="metrics file (default: RUN/metrics.json, or metrics.json beside --classifier)"
    )
    args = parser.parse_args(argv)
    path = args.out or (args.run if args.classifier is None else args.classifier.parent) / METRICS_FILE
    try:
        metrics = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        if args.bundle is None:
            metrics |= evaluate_torch(args.run, args.data, args.threads, args.classifier)
        else:
            metrics["onnx"] = evaluate_onnx(args.run, args.data, args.bundle, args.fp32, args.threads)
    except (TcmError, OSError, ValueError, KeyError) as exc:
        print(f"tcm evaluate-tongue: {exc}", file=sys.stderr)
        return 2
    path.write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if args.bundle is not None:
        _record_in_manifest(args.bundle, metrics)
    print(json.dumps(metrics, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(evaluate_tongue_main())
