"""Fine-tune a fused tagger (or the text-only baseline) end to end on text-image pairs; resumable.

    python -m training.fusion.train --name fused-h8 --heads 8 \
        --init models/tcm-text-0.2.0.checkpoint.pt --pairs /work/runs/fusion/pairs \
        --features /work/runs/fusion/features --out /work/runs/fusion/fused-h8
    ... --name fused-h8-AG --heads 8 --no-gate        # the -AG ablation
    ... --name text-only --text-only                  # the fair baseline: same pairs, same schedule

The tagger starts from the text checkpoint; the fusion from scratch (its
output projection at zero, so step 0 is the text model). The image encoder
is frozen: its tokens are cached (:mod:`training.fusion.features`). ``last.pt``
is written every ``save_every`` steps and at each epoch's end, so a killed
run resumes where it stopped; ``best.pt`` is the best dev micro F1; at the
end the best model is scored on the test pairs into ``metrics.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from training.batches import encode_windows
from training.checkpoint import Checkpoint
from training.data import windows
from training.fusion.checkpoint import FusedCheckpoint
from training.fusion.data import ImageTokens, PairedExample, fused_batches, load_pairs
from training.fusion.evaluate import predict, score
from training.fusion.features import TokenCache
from training.fusion.model import FusedTagger, FusionConfig
from training.trainer import augment_for, seed_everything, warmup_linear_schedule
from training.vocab import make_tokenizer_from_tokens


@dataclass
class FusionRunConfig:
    name: str
    out: str
    init: str = "models/tcm-text-0.2.0.checkpoint.pt"
    pairs: str = "/work/runs/fusion/pairs"
    features: str = "/work/runs/fusion/features"
    text_only: bool = False
    heads: int = 8
    gate: bool = True
    attention_dim: int = 192
    epochs: int = 1
    batch_size: int = 16
    lr: float = 1e-4  # the pretrained tagger
    fusion_lr: float = 1e-3  # the new fusion layers
    warmup_fraction: float = 0.06
    weight_decay: float = 0.01
    photo_drop: float = 0.1  # share of training windows seen without their photo
    lexicon_drop: float = 0.1
    char_noise: float = 0.02
    max_chars: int = 256
    seed: int = 13
    threads: int = 1
    save_every: int = 50


class FusionRun:
    def __init__(self, config: FusionRunConfig) -> None:
        self.config = config
        self.out = Path(config.out)
        torch.set_num_threads(config.threads)
        seed_everything(config.seed)
        self.base = Checkpoint.load(Path(config.init))
        self.scheme = self.base.scheme
        self.tokenizer = make_tokenizer_from_tokens(self.base.vocab)
        self.pad_id = self.base.vocab.index("[PAD]")
        self.lexicon = self.base.lexicon()  # checked against the model's lexicon version
        pairs = Path(config.pairs)
        self.train_pairs, self.dev_pairs = load_pairs(pairs / "train.jsonl"), load_pairs(pairs / "val.jsonl")
        self.test_pairs = load_pairs(pairs / "test.jsonl")
        self.cache = TokenCache.load(Path(config.features))
        everything = self.train_pairs + self.dev_pairs + self.test_pairs
        self.images = ImageTokens(self.cache, {p.example.id: p.image for p in everything})
        fusion = None
        if not config.text_only:
            fusion = FusionConfig(
                self.cache.channels, self.cache.cells, config.heads, config.attention_dim, config.gate
            )
        self.model = FusedTagger(self.base.build_model(), fusion)
        train_windows = [w for p in self.train_pairs for w in windows(p.example, config.max_chars)]
        self.items = encode_windows(train_windows, self.tokenizer, self.scheme)
        fusion_params = list(self.model.fusion.parameters()) if self.model.fusion is not None else []
        groups: list[dict[str, Any]] = [{"params": list(self.model.tagger.parameters()), "lr": config.lr}]
        if fusion_params:
            groups.append({"params": fusion_params, "lr": config.fusion_lr})
        self.optimizer = torch.optim.AdamW(groups, weight_decay=config.weight_decay)
        self.steps_per_epoch = math.ceil(len(self.items) / config.batch_size)
        total = self.steps_per_epoch * config.epochs
        self.scheduler = warmup_linear_schedule(self.optimizer, total, config.warmup_fraction)
        self.augment = augment_for(self.base.vocab, config.lexicon_drop, config.char_noise)

    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {self.config.name}: {message}", file=sys.stderr, flush=True)

    def _checkpoint(self, progress: dict[str, Any], metrics: dict[str, Any]) -> FusedCheckpoint:
        image = {"features": self.config.features, "cells": self.cache.cells, "channels": self.cache.channels}
        run = {"config": asdict(self.config), "train_windows": len(self.items), "train_pairs": len(self.train_pairs)}
        return FusedCheckpoint.of(self.model, self.base, image=image, run=run, metrics=metrics, progress=progress)

    def _resume(self) -> dict[str, Any]:
        last = self.out / "last.pt"
        if not last.is_file():
            return {"epoch": 1, "step_in_epoch": 0, "best_f1": -1.0, "history": []}
        saved = FusedCheckpoint.load(last)
        self.model.tagger.load_state_dict(saved.text.state_dict)
        if self.model.fusion is not None:
            self.model.fusion.load_state_dict(saved.fusion_state)
        state = saved.progress
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        self.log(f"resuming at epoch {state['epoch']}, step {state['step_in_epoch']}")
        return state

    def _save_last(self, state: dict[str, Any]) -> None:
        state = state | {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
        }
        self._checkpoint(state, {"history": state["history"]}).save(self.out / "last.pt")

    def evaluate(self, pairs: list[PairedExample], images: ImageTokens | None = None) -> dict[str, Any]:
        predictions = predict(
            self.model,
            pairs,
            images or self.images,
            self.scheme,
            self.tokenizer,
            self.lexicon,
            self.pad_id,
            self.config.max_chars,
        )
        return score(pairs, predictions)

    def run(self) -> dict[str, Any]:
        cfg = self.config
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "run_config.json").write_text(json.dumps(asdict(cfg), indent=1) + "\n", encoding="utf-8")
        state = self._resume()
        if cfg.epochs == 0:  # the starting model as it is: the reference row
            self._checkpoint({"epoch": 0}, {}).save(self.out / "best.pt")
        self.log(
            f"{len(self.items)} windows from {len(self.train_pairs)} pairs, {self.steps_per_epoch} steps/epoch, "
            f"{self.model.parameter_count():,} parameters ({self.model.fusion_parameter_count():,} fusion)"
        )
        while state["epoch"] <= cfg.epochs:
            epoch, skip = state["epoch"], state["step_in_epoch"]
            self.model.train()
            started, running = time.monotonic(), None
            batches = fused_batches(
                self.items,
                self.images,
                cfg.batch_size,
                self.lexicon,
                self.pad_id,
                seed=cfg.seed * 1000 + epoch,
                shuffle=True,
                augment=self.augment,
                skip=skip,
                photo_drop=cfg.photo_drop,
            )
            for step, fused in enumerate(batches, start=skip + 1):
                batch = fused.batch
                out = self.model(
                    batch.input_ids, batch.attention_mask, batch.lexicon, fused.image_tokens, fused.image_mask
                )
                loss = self.model.loss(out.emissions, batch.tags, batch.mask)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
                self.optimizer.step()
                self.scheduler.step()
                self.optimizer.zero_grad()
                value = float(loss.detach())
                running = value if running is None else 0.95 * running + 0.05 * value
                if step % 25 == 0:
                    rate = (step - skip) / max(1e-9, time.monotonic() - started)
                    self.log(
                        f"epoch {epoch} step {step}/{self.steps_per_epoch} loss {running:.3f} ({rate:.2f} steps/s)"
                    )
                if step % cfg.save_every == 0:
                    self._save_last(state | {"step_in_epoch": step})
            dev = self.evaluate(self.dev_pairs)
            state["history"] = [*state["history"], {"epoch": epoch, "dev": dev, "loss": running}]
            self.log(f"epoch {epoch}: dev micro F1 {dev['micro']['f1']:.4f}, gate {dev['gate']}")
            if dev["micro"]["f1"] > state["best_f1"]:
                state["best_f1"] = dev["micro"]["f1"]
                self._checkpoint({"epoch": epoch}, {"dev": dev}).save(self.out / "best.pt")
            state = state | {"epoch": epoch + 1, "step_in_epoch": 0}
            self._save_last(state)
        return self.finish()

    def finish(self) -> dict[str, Any]:
        best = FusedCheckpoint.load(self.out / "best.pt")
        self.model = best.build_model()
        test = self.evaluate(self.test_pairs)
        # The same records with their photos withheld: how much of the score the image carries.
        alone = self.evaluate(self.test_pairs, ImageTokens(self.cache, {})) if self.model.fusion is not None else None
        metrics = {
            "name": self.config.name,
            "variant": _variant(self.config),
            "heads": None if self.config.text_only else self.config.heads,
            "gate": None if self.config.text_only else self.config.gate,
            "params": self.model.parameter_count(),
            "fusion_params": self.model.fusion_parameter_count(),
            "threads": self.config.threads,
            "train_pairs": len(self.train_pairs),
            "train_windows": len(self.items),
            "epochs": self.config.epochs,
            "best_epoch": best.progress.get("epoch"),
            "dev": best.metrics.get("dev"),
            "test": test,
            "test_without_photos": None if alone is None else {k: alone[k] for k in ("micro", "shown")},
            "init": self.config.init,
            "config": asdict(self.config),
        }
        (self.out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1) + "\n", "utf-8")
        self.log(
            f"test micro F1 {test['micro']['f1']:.4f}; shown TONGUE_BODY {test['shown']['TONGUE_BODY'].get('f1')}, "
            f"TONGUE_COAT {test['shown']['TONGUE_COAT'].get('f1')}; gate {test['gate']}"
        )
        return metrics


def _variant(config: FusionRunConfig) -> str:
    if config.text_only:
        return "text-only, not fine-tuned" if config.epochs == 0 else "text-only"
    return "fused" if config.gate else "fused -AG"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--init", default=FusionRunConfig.init)
    parser.add_argument("--pairs", default=FusionRunConfig.pairs)
    parser.add_argument("--features", default=FusionRunConfig.features)
    parser.add_argument("--text-only", action="store_true")
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--no-gate", action="store_true", help="the -AG ablation: h + a, no gate")
    parser.add_argument("--attention-dim", type=int, default=192)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=FusionRunConfig.lr)
    parser.add_argument("--fusion-lr", type=float, default=FusionRunConfig.fusion_lr)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--finish-only", action="store_true", help="score OUT/best.pt again; no training")
    args = parser.parse_args(argv)
    config = FusionRunConfig(
        name=args.name,
        out=str(args.out),
        init=args.init,
        pairs=args.pairs,
        features=args.features,
        text_only=args.text_only,
        heads=args.heads,
        gate=not args.no_gate,
        attention_dim=args.attention_dim,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        fusion_lr=args.fusion_lr,
        threads=args.threads,
    )
    run = FusionRun(config)
    if args.finish_only:
        run.finish()
    else:
        run.run()


if __name__ == "__main__":
    main()
