"""Training of the tongue segmenter and attribute classifier: resumable, a checkpoint every epoch.

    tcm train-tongue --stage segmenter  --data ../shared/data/tongue --out /work/runs/tongue
    tcm train-tongue --stage classifier --data ../shared/data/tongue --out /work/runs/tongue

Run folder: ``split.json`` (by image id, fixed seed), ``cache.npz`` (decoded
photos), ``segmenter/`` and ``classifier/`` each with ``last.pt`` (resumed
from when present) and ``best.pt`` (best validation score). Checkpoints are
self-describing (config, attributes and classes, crop settings, data).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from tcm_desktop.domain import TcmError
from tcm_desktop.inference.tongue_crop import CropSettings, mask_iou, to_model_input
from training.checkpoint import code_commit
from training.tongue.data import (
    TongueCache,
    augment_segmentation,
    cache_for,
    classifier_crop,
    data_provenance,
    load_or_make_split,
    scan,
)
from training.tongue.labels import ATTRIBUTES
from training.tongue.models import (
    ClassifierConfig,
    SegmenterConfig,
    TinyUNet,
    TongueClassifier,
    dice_bce,
    masked_loss,
)

FORMAT = "tcm-tongue-checkpoint"
STAGES = ("segmenter", "classifier")


@dataclass
class TongueTrainConfig:
    data: str
    out: str
    stage: str = "classifier"
    epochs: int = 8
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 13
    threads: int = 2
    seg_size: int = 128
    cls_size: int = 112
    photo_side: int = 320
    backbone: str = "resnet50"
    crop: dict[str, float] = field(default_factory=lambda: CropSettings().to_dict())
    # training-time budget: the learning rate anneals to zero by it and training stops there
    # (mid-epoch if need be, after scoring and saving); reruns resume and count the time already spent
    max_minutes: float | None = None


def log_progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError) as exc:
        raise TcmError(f"cannot read the checkpoint {path}: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise TcmError(f"{path} is not a tongue-model checkpoint")
    return payload


def checkpoint_payload(
    model: TinyUNet | TongueClassifier,
    config: TongueTrainConfig,
    epoch: int = 0,
    history: list[dict[str, Any]] | None = None,
    data: dict[str, Any] | None = None,
    best_score: float = 0.0,
) -> dict[str, Any]:
    """A self-describing checkpoint of ``model`` (what export and evaluation read)."""
    return {
        "format": FORMAT,
        "kind": "segmenter" if isinstance(model, TinyUNet) else "classifier",
        "model_config": model.config.to_dict(),
        "state_dict": model.state_dict(),
        "epoch": epoch,
        "best_score": best_score,
        "history": list(history or []),
        "attributes": [asdict(a) for a in ATTRIBUTES],
        "crop": dict(config.crop),
        "train_config": asdict(config),
        "data": dict(data or {}),
        "commit": code_commit(),
    }


def build_model(payload: dict[str, Any]) -> nn.Module:
    """The network a checkpoint describes, with its weights, in eval mode."""
    if payload["kind"] == "segmenter":
        model: nn.Module = TinyUNet(SegmenterConfig.from_dict(payload["model_config"]))
    else:
        model = TongueClassifier(ClassifierConfig.from_dict(payload["model_config"]))
    model.load_state_dict(payload["state_dict"])
    return model.eval()


def chunks(indices: Sequence[int], size: int) -> list[list[int]]:
    return [list(indices[i : i + size]) for i in range(0, len(indices), size)]


class TrainingRun:
    """What both stages share: data, split, folders, resume and per-epoch checkpoints.

    The split and cache live in ``config.out`` (the run folder); checkpoints go to ``folder``
    (default ``config.out/kind``), each carrying ``extra`` beside the usual keys.
    """

    def __init__(
        self, config: TongueTrainConfig, kind: str, folder: Path | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        self.config, self.kind = config, kind
        self.extra = dict(extra or {})
        torch.set_num_threads(config.threads)
        self.root = Path(config.out)
        self.folder = folder or self.root / kind
        self.folder.mkdir(parents=True, exist_ok=True)
        data_dir = Path(config.data)
        items = scan(data_dir)
        split_path = self.root / "split.json"
        self.split = load_or_make_split(split_path, [i.sid for i in items], config.seed)
        self.provenance = data_provenance(data_dir, split_path, self.split)
        log_progress(f"loading the cache ({len(items)} images)")
        self.cache: TongueCache = cache_for(data_dir, self.root / "cache.npz", config.seg_size, config.photo_side)
        self.rng = np.random.default_rng(config.seed)
        torch.manual_seed(config.seed)
        self.started = time.monotonic()
        self.elapsed_before = 0.0  # seconds trained by earlier (resumed) runs

    def resume(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[int, float, list[dict[str, Any]]]:
        last = self.folder / "last.pt"
        if not last.is_file():
            return 0, -math.inf, []
        payload = load_checkpoint(last)
        model.load_state_dict(payload["state_dict"])
        optimizer.load_state_dict(payload["optimizer"])
        self.rng.bit_generator.state = payload["numpy_rng"]
        torch.set_rng_state(payload["torch_rng"])
        self.elapsed_before = float(payload.get("elapsed_s", 0.0))
        log_progress(f"resuming {self.kind} after epoch {payload['epoch']}")
        return payload["epoch"], payload["best_score"], payload["history"]

    def save(self, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int, best: float, history: list) -> None:
        payload = (
            checkpoint_payload(model, self.config, epoch=epoch, history=history, data=self.provenance, best_score=best)
            | self.extra
            | {
                "optimizer": optimizer.state_dict(),
                "numpy_rng": self.rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(),
                "elapsed_s": self.elapsed(),
            }
        )
        save_checkpoint(self.folder / "last.pt", payload)
        if history and history[-1]["score"] >= best:
            save_checkpoint(self.folder / "best.pt", {k: v for k, v in payload.items() if k != "optimizer"})

    def elapsed(self) -> float:
        return self.elapsed_before + time.monotonic() - self.started

    def progress(self, epoch: int, step: int, steps: int) -> float:
        """How far through the run: by the clock when ``max_minutes`` is set (the budget), else by epochs."""
        by_epochs = (epoch + step / steps) / self.config.epochs
        if self.config.max_minutes is None:
            return by_epochs
        return max(by_epochs, self.elapsed() / (60 * self.config.max_minutes))

    def out_of_time(self) -> bool:
        return self.config.max_minutes is not None and self.elapsed() >= 60 * self.config.max_minutes

    def lr_at(self, epoch: int, step: int, steps: int) -> float:
        """Linear warm-up over the first 20 steps, then cosine to zero at the end of the run (or of the budget)."""
        warm = min(1.0, (epoch * steps + step + 1) / min(steps, 20))
        progress = min(self.progress(epoch, step, steps), 1.0)
        return self.config.lr * warm * 0.5 * (1 + math.cos(math.pi * progress))


def segmenter_iou(model: TinyUNet, images: np.ndarray, masks: np.ndarray, threshold: float = 0.5) -> float:
    """Mean IoU over images of the segmenter's mask on its own (letterboxed) input."""
    scores = []
    with torch.no_grad():
        for rows in chunks(range(len(images)), 64):
            probs = torch.sigmoid(model(torch.from_numpy(to_model_input(list(images[rows]))))).numpy()[:, 0]
            scores += [mask_iou(p > threshold, m) for p, m in zip(probs, masks[rows], strict=True)]
    return float(np.mean(scores))


def train_segmenter(config: TongueTrainConfig) -> Path:
    run = TrainingRun(config, "segmenter")
    cache = run.cache
    model = TinyUNet(SegmenterConfig(input_size=config.seg_size))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    start, best, history = run.resume(model, optimizer)
    train_rows, val_rows = cache.index(run.split["train"]), cache.index(run.split["val"])
    for epoch in range(start, config.epochs):
        if run.out_of_time():
            break
        model.train()
        order = run.rng.permutation(train_rows)
        batches = chunks(order, config.batch_size)
        losses, tic = [], time.monotonic()
        for step, rows in enumerate(batches):
            if run.out_of_time():  # the budget ends mid-epoch: score and save what there is
                break
            for group in optimizer.param_groups:
                group["lr"] = run.lr_at(epoch, step, len(batches))
            pairs = [augment_segmentation(cache.seg_images[r], cache.seg_masks[r], run.rng) for r in rows]
            x = torch.from_numpy(to_model_input([p[0] for p in pairs]))
            y = torch.from_numpy(np.stack([p[1] for p in pairs]).astype(np.float32)[:, None])
            loss = dice_bce(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        iou = segmenter_iou(model, cache.seg_images[val_rows], cache.seg_masks[val_rows])
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "score": iou, "val_iou": iou})
        best = max(best, iou)
        run.save(model, optimizer, epoch + 1, best, history)
        log_progress(
            f"segmenter epoch {epoch + 1}: loss {np.mean(losses):.4f} val IoU {iou:.4f} ({time.monotonic() - tic:.0f}s)"
        )
        if run.out_of_time():
            log_progress("time limit reached; rerun the same command to resume")
            break
    return run.folder / "best.pt"


def class_weights(labels: np.ndarray, sizes: Sequence[int]) -> list[Tensor]:
    """Per head, inverse square-root class frequency (mean 1): rarer classes count a little more."""
    weights = []
    for column, n in enumerate(sizes):
        counts = np.bincount(labels[labels[:, column] >= 0, column], minlength=n).astype(np.float64) + 1
        w = 1 / np.sqrt(counts)
        weights.append(torch.tensor(w / w.mean(), dtype=torch.float32))
    return weights


def macro_f1(truth: np.ndarray, predicted: np.ndarray, classes: int) -> float:
    """Unweighted mean over classes of F1 (a class absent from both counts as 0 only if present in truth)."""
    scores = []
    for c in range(classes):
        tp = int(np.sum((predicted == c) & (truth == c)))
        fp = int(np.sum((predicted == c) & (truth != c)))
        fn = int(np.sum((predicted != c) & (truth == c)))
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else 0.0


def classify(model: TongueClassifier, crops: list[np.ndarray]) -> list[np.ndarray]:
    """Softmax probabilities per head for the crops, [N, classes] each."""
    outputs: list[list[np.ndarray]] = [[] for _ in model.head_names]
    with torch.no_grad():
        for rows in chunks(range(len(crops)), 32):
            logits = model(torch.from_numpy(to_model_input([crops[r] for r in rows])))
            for column, head in enumerate(logits):
                outputs[column].append(torch.softmax(head, dim=-1).numpy())
    return [np.concatenate(parts) for parts in outputs]


def score_heads(probs: Sequence[np.ndarray], labels: np.ndarray) -> dict[str, dict[str, float]]:
    out = {}
    for column, attribute in enumerate(ATTRIBUTES):
        known = labels[:, column] >= 0
        truth, predicted = labels[known, column], probs[column][known].argmax(axis=1)
        out[attribute.name] = {
            "n": int(known.sum()),
            "accuracy": float(np.mean(truth == predicted)) if known.any() else 0.0,
            "macro_f1": macro_f1(truth, predicted, len(attribute.classes)),
        }
    return out


def train_classifier(config: TongueTrainConfig) -> Path:
    run = TrainingRun(config, "classifier")
    heads = {a.name: len(a.classes) for a in ATTRIBUTES}
    model = TongueClassifier(ClassifierConfig(input_size=config.cls_size, backbone=config.backbone, heads=heads))
    return fit_classifier(run, model)


def labelled_rows(run: TrainingRun, part: str) -> list[int]:
    """Cache rows of the split ``part`` that carry at least one label."""
    labelled = (run.cache.labels >= 0).any(axis=1)
    return [r for r in run.cache.index(run.split[part]) if labelled[r]]


def plain_crops(run: TrainingRun, rows: Sequence[int]) -> list[np.ndarray]:
    """The classifier's un-augmented inputs for ``rows``, cut around the true mask's box."""
    cache, margin = run.cache, CropSettings.from_dict(run.config.crop).margin
    return [classifier_crop(cache.photos[r], tuple(cache.boxes[r]), run.config.cls_size, margin) for r in rows]


def mean_macro_f1(scores: dict[str, dict[str, float]]) -> float:
    """The one validation score that picks ``best.pt``: macro-F1 averaged over the heads."""
    return float(np.mean([s["macro_f1"] for s in scores.values()]))


def fit_classifier(run: TrainingRun, model: TongueClassifier, baseline: float | None = None) -> Path:
    """Train ``model`` for ``run.config.epochs`` (resuming ``run.folder/last.pt``); returns ``best.pt``'s path.

    The model may be a fresh network or a pruned one being fine-tuned; checkpoints describe its shape.
    ``baseline``: the validation score of what ``best.pt`` already holds (the pruned network before
    fine-tuning); only an epoch that beats it replaces it.
    """
    config, cache = run.config, run.cache
    margin = CropSettings.from_dict(config.crop).margin
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    run.started = time.monotonic()  # the time budget counts training, not what the caller did before
    start, best, history = run.resume(model, optimizer)
    if baseline is not None:
        best = max(best, baseline)
    train_rows, val_rows = labelled_rows(run, "train"), labelled_rows(run, "val")
    weights = class_weights(cache.labels[train_rows], list(model.config.heads.values()))
    val_crops = plain_crops(run, val_rows)
    log_progress(f"{run.kind}: {len(train_rows)} labelled training photos, {len(val_rows)} validation")
    for epoch in range(start, config.epochs):
        if run.out_of_time():
            break
        model.train()
        batches = chunks(run.rng.permutation(train_rows), config.batch_size)
        losses, tic = [], time.monotonic()
        for step, rows in enumerate(batches):
            if run.out_of_time():  # the budget ends mid-epoch: score and save what there is
                break
            for group in optimizer.param_groups:
                group["lr"] = run.lr_at(epoch, step, len(batches))
            crops = [
                classifier_crop(cache.photos[r], tuple(cache.boxes[r]), config.cls_size, margin, run.rng) for r in rows
            ]
            loss = masked_loss(
                model(torch.from_numpy(to_model_input(crops))), torch.from_numpy(cache.labels[rows]), weights
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        scores = score_heads(classify(model, val_crops), cache.labels[val_rows])
        score = mean_macro_f1(scores)
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "score": score, "val": scores})
        best = max(best, score)
        run.save(model, optimizer, epoch + 1, best, history)
        detail = " ".join(f"{k} {v['accuracy']:.2f}/{v['macro_f1']:.2f}" for k, v in scores.items())
        log_progress(
            f"{run.kind} epoch {epoch + 1}: loss {np.mean(losses):.4f} val mean macro-F1 {score:.4f} "
            f"[acc/F1 {detail}] ({time.monotonic() - tic:.0f}s)"
        )
        if run.out_of_time():
            log_progress("time limit reached; rerun the same command to resume")
            break
    return run.folder / "best.pt"


def train_tongue_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tcm train-tongue", description="Train the tongue segmenter or classifier.")
    parser.add_argument("--stage", choices=STAGES, required=True)
    parser.add_argument("--data", required=True, help="tongue data folder (images/, masks/, labels_manual.tsv)")
    parser.add_argument("--out", required=True, help="run folder (split.json, cache.npz, <stage>/last.pt, best.pt)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cls-size", type=int, default=112)
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument("--margin", type=float, default=CropSettings().margin)
    parser.add_argument("--max-minutes", type=float)
    args = parser.parse_args(argv)
    config = TongueTrainConfig(
        data=args.data,
        out=args.out,
        stage=args.stage,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        threads=args.threads,
        cls_size=args.cls_size,
        backbone=args.backbone,
        crop=CropSettings(margin=args.margin).to_dict(),
        max_minutes=args.max_minutes,
    )
    try:
        best = (train_segmenter if args.stage == "segmenter" else train_classifier)(config)
    except (TcmError, OSError, ValueError) as exc:
        print(f"tcm train-tongue: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"best": str(best)}))
    return 0


if __name__ == "__main__":
    sys.exit(train_tongue_main())
