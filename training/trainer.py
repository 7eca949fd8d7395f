"""Training loop: gradient accumulation, early stopping on dev F1, seeds, resumable checkpoints.

``train(config)`` trains a tagger on the label set found in the data (so a
foreign set such as tcm_ner's trains as it is), optionally distilled from a
teacher checkpoint, and writes ``last.pt`` (every epoch, resumable) and
``best.pt`` (best dev F1) in ``config.out``.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from tcm_desktop.files import sha256_of
from tcm_desktop.inference.lexicon import Lexicon
from training.batches import Augment, encode_windows, iterate_batches
from training.checkpoint import Checkpoint
from training.data import Example, label_set, load_examples, map_labels, split, windows
from training.distill import DistillationLoss, DistillWeights
from training.model import Tagger, TaggerConfig
from training.predict import TorchPredictor, span_scores
from training.tags import TagScheme
from training.vocab import base_characters, build_vocab, make_tokenizer_from_tokens, vocab_version

LOG_EVERY = 100  # batches between progress lines when there is no progress bar
PRESETS: dict[str, Callable[..., TaggerConfig]] = {
    "student": TaggerConfig.student,
    "teacher": TaggerConfig.teacher,
}


@dataclass
class TrainConfig:
    train: list[str]
    out: str
    dev: str | None = None
    dev_fraction: float = 0.1
    label_map: dict[str, str | None] = field(default_factory=dict)
    tag_scheme: str = "BIO"
    preset: str = "student"
    model_overrides: dict[str, Any] = field(default_factory=dict)
    use_lexicon: bool = True
    lexicon_file: str | None = None  # a lexicon TSV instead of the shipped one (the checkpoint keeps its entries)
    lexicon_drop: float = 0.1
    char_noise: float = 0.02
    max_chars: int = 256
    batch_size: int = 16
    grad_accum: int = 1
    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup_fraction: float = 0.06
    epochs: int = 20
    patience: int = 3
    seed: int = 13
    threads: int = 2
    teacher: str | None = None
    distill: dict[str, float] = field(default_factory=dict)
    init_from: str | None = None  # encoder weights (MLM-pretrained or an earlier model) to start from
    max_train_windows: int | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def warmup_linear_schedule(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_fraction: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup_fraction`` of the steps, then linear decay to 0."""
    total = max(1, total_steps)
    warmup = max(1, int(total * warmup_fraction))
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))
    )


def augment_for(vocab: Sequence[str], lexicon_drop: float, char_noise: float) -> Augment:
    """The training-time noise for a model with ``vocab`` (special tokens ``[X]`` first, never drawn)."""
    return Augment(
        lexicon_drop=lexicon_drop,
        char_noise=char_noise,
        unk_id=list(vocab).index("[UNK]"),
        vocab_size=len(vocab),
        first_regular_id=sum(1 for t in vocab if t.startswith("[") and t.endswith("]") and len(t) > 2),
    )


def _file_digest(path: Path) -> str:
    return sha256_of(path)[:16] if path.is_file() else ""


def _load(paths: list[str], label_map: dict[str, str | None]) -> tuple[list[Example], list[dict[str, Any]]]:
    examples: list[Example] = []
    provenance = []
    for source in paths:
        loaded, report = load_examples(Path(source))
        if label_map:
            loaded = map_labels(loaded, label_map)
        examples.extend(loaded)
        provenance.append(
            {
                "path": str(source),
                "sha256": _file_digest(Path(source)),
                "examples": len(loaded),
                "report": str(report)[:2000],
            }
        )
    return examples, provenance


class Trainer:
    """One training run; ``run()`` returns the path of the best checkpoint."""

    def __init__(self, config: TrainConfig, log: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.out = Path(config.out)
        self.log = log or (lambda message: print(message, file=sys.stderr))

    # ---- setup ---------------------------------------------------------------------------
    def _prepare(self) -> None:
        cfg = self.config
        torch.set_num_threads(cfg.threads)
        seed_everything(cfg.seed)
        train_examples, provenance = _load(cfg.train, cfg.label_map)
        if cfg.dev:
            dev_examples, dev_provenance = _load([cfg.dev], cfg.label_map)
            provenance += dev_provenance
        else:
            train_examples, dev_examples = split(train_examples, cfg.dev_fraction, cfg.seed)
        self.train_examples, self.dev_examples = train_examples, dev_examples
        self.init = Checkpoint.load(Path(cfg.init_from)) if cfg.init_from else None
        found = label_set(train_examples + dev_examples)
        if self.init is None:
            self.labels = found
            self.vocab = build_vocab((e.text for e in train_examples), extra=base_characters())
        else:
            # starting from a model keeps its vocabulary; fine-tuning a tagger also keeps its
            # label set (output layer and CRF); an MLM-pretrained encoder has none yet
            self.vocab = list(self.init.vocab)
            self.labels = list(self.init.labels) or found
            unknown = set(found) - set(self.labels)
            if unknown:
                raise ValueError(f"the data has labels the model {cfg.init_from} lacks: {sorted(unknown)}")
        self.scheme = TagScheme(cfg.tag_scheme, self.labels)
        self.tokenizer = make_tokenizer_from_tokens(self.vocab)
        self.pad_id = self.vocab.index("[PAD]")
        self.lexicon = (Lexicon.load(Path(cfg.lexicon_file) if cfg.lexicon_file else None)) if cfg.use_lexicon else None
        train_windows = [w for e in train_examples for w in windows(e, cfg.max_chars)]
        if cfg.max_train_windows:
            train_windows = train_windows[: cfg.max_train_windows]
        self.train_items = encode_windows(train_windows, self.tokenizer, self.scheme)
        self.data_description = {
            "sources": provenance,
            "train_examples": len(train_examples),
            "dev_examples": len(dev_examples),
            "train_windows": len(self.train_items),
            "train_characters": sum(len(i.ids) for i in self.train_items),
        }
        model_config = PRESETS[cfg.preset](
            vocab_size=len(self.vocab),
            num_tags=len(self.scheme.tags),
            num_lexicon_features=self.lexicon.n_features if self.lexicon else 0,
            **cfg.model_overrides,
        )
        self.model = Tagger(
            model_config, self.scheme.allowed_transitions(), self.scheme.allowed_starts(), self.scheme.allowed_ends()
        )
        if self.init is not None:
            self._init_weights(self.init, cfg.init_from or "")
        self.teacher: Tagger | None = None
        self.distill_loss: DistillationLoss | None = None
        if cfg.teacher:
            teacher_ckpt = Checkpoint.load(Path(cfg.teacher))
            if teacher_ckpt.vocab != self.vocab or list(teacher_ckpt.labels) != list(self.labels):
                raise ValueError("the teacher was trained with another vocabulary or label set")
            self.teacher = teacher_ckpt.build_model().eval()
            for p in self.teacher.parameters():
                p.requires_grad_(False)
            self.distill_loss = DistillationLoss(model_config, teacher_ckpt.model_config, DistillWeights(**cfg.distill))
        params = list(self.model.parameters()) + (list(self.distill_loss.parameters()) if self.distill_loss else [])
        self.optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        steps_per_epoch = math.ceil(len(self.train_items) / cfg.batch_size / cfg.grad_accum)
        self.scheduler = warmup_linear_schedule(self.optimizer, steps_per_epoch * cfg.epochs, cfg.warmup_fraction)
        self.augment = augment_for(self.vocab, cfg.lexicon_drop, cfg.char_noise)

    def _init_weights(self, source: Checkpoint, path: str) -> None:
        """Take every tensor of ``source`` whose name and shape match (all of them when fine-tuning,
        the encoder when starting from an MLM-pretrained checkpoint)."""
        own = self.model.state_dict()
        taken = {k: v for k, v in source.state_dict.items() if k in own and own[k].shape == v.shape}
        own.update(taken)
        self.model.load_state_dict(own)
        self.log(f"initialised {len(taken)} of {len(own)} tensors from {path}")

    # ---- checkpoints ------------------------------------------------------------------------
    def _checkpoint(self, progress: dict[str, Any], metrics: dict[str, Any]) -> Checkpoint:
        return Checkpoint(
            model_config=self.model.config,
            scheme=self.scheme,
            vocab=self.vocab,
            vocab_version=vocab_version(self.vocab),
            lexicon_version=self.lexicon.version if self.lexicon else None,
            lexicon_types=list(self.lexicon.types) if self.lexicon else [],
            lexicon_entries=list(self.lexicon.entries) if self.lexicon and self.config.lexicon_file else None,
            state_dict={k: v.detach().clone() for k, v in self.model.state_dict().items()},
            train_config=asdict(self.config),
            data=self.data_description,
            metrics=metrics,
            progress=progress,
        )

    def _resume(self) -> dict[str, Any]:
        last = self.out / "last.pt"
        if not last.is_file():
            return {"epoch": 0, "best_f1": -1.0, "bad_epochs": 0, "history": []}
        ckpt = Checkpoint.load(last)
        if ckpt.vocab != self.vocab or list(ckpt.labels) != list(self.labels):
            raise ValueError(f"{last} was trained on other data; use another --out or delete it")
        self.model.load_state_dict(ckpt.state_dict)
        state = ckpt.progress
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if self.distill_loss is not None and "distill" in state:
            self.distill_loss.load_state_dict(state["distill"])
        torch.set_rng_state(state["torch_rng"])
        self.log(f"resuming from {last} after epoch {state['epoch']}")
        return state

    # ---- loop -----------------------------------------------------------------------------
    def evaluate_dev(self) -> dict[str, float]:
        predictor = TorchPredictor(
            self.model, self.scheme, self.tokenizer, self.lexicon, self.pad_id, self.config.max_chars
        )
        pred = predictor.predict(self.dev_examples)
        gold = {e.id: list(e.spans) for e in self.dev_examples}
        return span_scores(gold, pred)

    def _step_loss(self, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        need_inner = self.teacher is not None
        out = self.model(
            batch.input_ids, batch.attention_mask, batch.lexicon, output_hidden=need_inner, output_attentions=need_inner
        )
        gold = self.model.loss(out.emissions, batch.tags, batch.mask)
        if self.teacher is None or self.distill_loss is None:
            return gold, {"gold": float(gold.detach())}
        with torch.no_grad():
            teacher_out = self.teacher(
                batch.input_ids, batch.attention_mask, batch.lexicon, output_hidden=True, output_attentions=True
            )
        return self.distill_loss(out, teacher_out, batch.mask, gold)

    def run(self, on_epoch: Callable[[dict[str, Any]], None] | None = None) -> Path:
        cfg = self.config
        self._prepare()
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "train_config.json").write_text(json.dumps(asdict(cfg), ensure_ascii=False, indent=2), "utf-8")
        state = self._resume()
        self.log(
            f"{self.data_description['train_windows']} training windows, {len(self.dev_examples)} dev examples, "
            f"{len(self.labels)} labels, {self.model.parameter_count():,} parameters"
        )
        best_path = self.out / "best.pt"
        for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
            self.model.train()
            started = time.monotonic()
            batches = iterate_batches(
                self.train_items,
                cfg.batch_size,
                self.lexicon,
                self.pad_id,
                seed=cfg.seed * 1000 + epoch,
                shuffle=True,
                augment=self.augment,
            )
            total_batches = math.ceil(len(self.train_items) / cfg.batch_size)
            running: dict[str, float] = {}
            bar = tqdm(batches, total=total_batches, desc=f"epoch {epoch}", file=sys.stderr, disable=None)
            self.optimizer.zero_grad()
            for i, batch in enumerate(bar, start=1):
                loss, parts = self._step_loss(batch)
                (loss / cfg.grad_accum).backward()
                if i % cfg.grad_accum == 0 or i == total_batches:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
                    self.optimizer.step()
                    self.scheduler.step()
                    self.optimizer.zero_grad()
                for k, v in parts.items():
                    running[k] = running.get(k, 0.0) * 0.98 + v * 0.02 if k in running else v
                bar.set_postfix({k: f"{v:.3f}" for k, v in running.items()})
                if bar.disable and i % LOG_EVERY == 0:  # no terminal: keep a log of progress instead
                    rate = i / max(1e-9, time.monotonic() - started)
                    losses = " ".join(f"{k} {v:.3f}" for k, v in running.items())
                    self.log(f"epoch {epoch}: batch {i}/{total_batches} ({rate:.2f} batches/s) {losses}")
            dev = self.evaluate_dev()
            record = {"epoch": epoch, "seconds": round(time.monotonic() - started, 1), "dev": dev, "loss": running}
            state["history"] = [*state["history"], record]
            improved = dev["f1"] > state["best_f1"]
            if improved:
                state["best_f1"], state["bad_epochs"] = dev["f1"], 0
            else:
                state["bad_epochs"] += 1
            self.log(
                f"epoch {epoch}: dev P {dev['precision']:.4f} R {dev['recall']:.4f} F1 {dev['f1']:.4f} "
                f"({record['seconds']} s){' *' if improved else ''}"
            )
            state.update(
                epoch=epoch,
                optimizer=self.optimizer.state_dict(),
                scheduler=self.scheduler.state_dict(),
                torch_rng=torch.get_rng_state(),
            )
            if self.distill_loss is not None:
                state["distill"] = self.distill_loss.state_dict()
            metrics = {"best_dev_f1": state["best_f1"], "history": state["history"]}
            ckpt = self._checkpoint(state, metrics)
            if improved:
                best = self._checkpoint({"epoch": epoch}, metrics | {"dev": dev})
                best.save(best_path)
            ckpt.save(self.out / "last.pt")
            if on_epoch:
                on_epoch(record)
            if state["bad_epochs"] >= cfg.patience:
                self.log(f"early stop: no dev F1 gain for {cfg.patience} epochs")
                break
        return best_path


def train(config: TrainConfig, log: Callable[[str], None] | None = None) -> Path:
    return Trainer(config, log).run()
