"""``tcm prune-tongue``: prune the tongue classifier to a memory budget, then fine-tune it.

    tcm prune-tongue --checkpoint RUN/classifier/best.pt --data ../shared/data/tongue --out RUN/pruned_mc \
        --pruner memory --budget-params 0.35 [--budget-macs F] [--episodes N] [--finetune-epochs E] [--max-minutes M]

``--pruner l1`` is the baseline (one keep ratio everywhere, the largest that fits);
``--pruner memory`` is the LSTM decision network trained by REINFORCE
(:mod:`training.tongue.pruning_policy`). Both remove the channels of least L1 norm with
torch-pruning's dependency graph, round widths to multiples of 16, recalibrate BatchNorm
and fine-tune with the training loop of :mod:`training.tongue.train` on the run's own split.

``--out`` gets ``pruning.json`` (the request, the plan, the search, parameters and MACs
before and after as counted by torch-pruning, validation scores, timings) and ``best.pt`` /
``last.pt``: self-describing checkpoints (width map in the model config, the plan under
``pruning``) that ``tcm evaluate-tongue --classifier`` and ``tcm export-image-model`` read
as they read an unpruned one. Put ``--out`` inside the run folder (``RUN/pruned_*``): export
finds the segmenter, split and cache two levels above the checkpoint. A rerun with the same
request reuses the plan and resumes fine-tuning from ``last.pt``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from tcm_desktop.domain import TcmError
from tcm_desktop.files import sha256_of
from tcm_desktop.inference.tongue_crop import to_model_input
from training.tongue.models import TongueClassifier
from training.tongue.pruning import (
    Budget,
    L1UniformPruner,
    Pruner,
    PruningError,
    PruningPlan,
    apply_plan,
    classifier_space,
    measure,
    recalibrate_batchnorm,
)
from training.tongue.pruning_policy import MemoryConstrainedPruner, SearchSettings
from training.tongue.train import (
    TongueTrainConfig,
    TrainingRun,
    build_model,
    checkpoint_payload,
    chunks,
    classify,
    fit_classifier,
    labelled_rows,
    load_checkpoint,
    log_progress,
    mean_macro_f1,
    plain_crops,
    save_checkpoint,
    score_heads,
)

REPORT = "pruning.json"


@dataclass
class PruneConfig:
    checkpoint: str
    data: str
    out: str
    pruner: str = "memory"
    budget_params: float | None = 0.35
    budget_macs: float | None = None
    episodes: int = 120
    policy_hidden: int = 64  # the decision network's LSTM width
    search_minutes: float | None = None
    penalty: float = 2.0
    calibration_batches: int = 4  # training batches that re-estimate BatchNorm after pruning
    reward_images: int | None = None  # validation photos scored per episode (None: all)
    finetune_epochs: int = 8
    lr: float = 5e-4
    max_minutes: float | None = None  # fine-tuning time budget, as train-tongue's
    batch_size: int = 32
    seed: int = 13
    threads: int = 2


class ProxyScore:
    """The search's reward signal: BatchNorm recalibrated on training crops, then validation mean macro-F1."""

    def __init__(self, calibration: Sequence[Tensor], crops: list[np.ndarray], labels: np.ndarray) -> None:
        self.calibration, self.crops, self.labels = list(calibration), crops, labels

    def __call__(self, model: nn.Module) -> float:
        recalibrate_batchnorm(model, self.calibration)
        return self.plain(model)

    def plain(self, model: nn.Module) -> float:
        """The score without recalibrating first."""
        assert isinstance(model, TongueClassifier)
        return mean_macro_f1(score_heads(classify(model, self.crops), self.labels))


def _l1(_config: PruneConfig, _score: ProxyScore, _batch: Tensor) -> Pruner:
    return L1UniformPruner()


def _memory(config: PruneConfig, score: ProxyScore, batch: Tensor) -> Pruner:
    settings = SearchSettings(
        episodes=config.episodes,
        hidden=config.policy_hidden,
        penalty=config.penalty,
        seed=config.seed,
        max_seconds=None if config.search_minutes is None else 60 * config.search_minutes,
    )
    return MemoryConstrainedPruner(score, batch, settings, log=log_progress)


PRUNERS: dict[str, Callable[[PruneConfig, ProxyScore, Tensor], Pruner]] = {"l1": _l1, "memory": _memory}


def _request(config: PruneConfig, source_sha: str) -> dict[str, Any]:
    """What decides the plan; a rerun must ask the same to reuse it (fine-tuning settings may change)."""
    keys = ("pruner", "budget_params", "budget_macs", "episodes", "policy_hidden", "search_minutes", "penalty",
            "calibration_batches", "reward_images", "batch_size", "seed")  # fmt: skip
    return {k: getattr(config, k) for k in keys} | {"source_sha256": source_sha}


def _write(path: Path, report: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def prune_classifier(config: PruneConfig) -> dict[str, Any]:
    """Plan (or reuse the plan), prune, fine-tune; returns the report also written to ``out/pruning.json``."""
    if config.pruner not in PRUNERS:
        raise PruningError(f"unknown pruner {config.pruner!r}; one of {sorted(PRUNERS)}")
    checkpoint = Path(config.checkpoint).resolve()
    payload = load_checkpoint(checkpoint)
    model = build_model(payload)
    if not isinstance(model, TongueClassifier):
        raise PruningError(f"{checkpoint} is not a classifier checkpoint")
    if model.config.widths:
        raise PruningError(f"{checkpoint} is already pruned; prune the unpruned one (budgets are fractions of it)")
    budget = Budget(config.budget_params, config.budget_macs)
    source_sha = sha256_of(checkpoint)[:16]
    fields = TongueTrainConfig.__dataclass_fields__
    train_config = TongueTrainConfig(
        **{k: v for k, v in payload["train_config"].items() if k in fields}
        | {"data": config.data, "out": str(checkpoint.parent.parent), "stage": "classifier",
           "epochs": config.finetune_epochs, "lr": config.lr, "batch_size": config.batch_size,
           "seed": config.seed, "threads": config.threads, "max_minutes": config.max_minutes}
    )  # fmt: skip
    out = Path(config.out)
    run = TrainingRun(train_config, f"pruned classifier ({config.pruner})", folder=out)
    rng = np.random.default_rng(config.seed)
    picked = rng.permutation(labelled_rows(run, "train"))[: config.calibration_batches * config.batch_size]
    calibration = [
        torch.from_numpy(to_model_input(plain_crops(run, rows))) for rows in chunks(picked, config.batch_size)
    ]
    val_rows = labelled_rows(run, "val")
    reward_rows = val_rows[: config.reward_images] if config.reward_images else val_rows
    reward = ProxyScore(calibration, plain_crops(run, reward_rows), run.cache.labels[reward_rows])
    validation = ProxyScore(calibration, plain_crops(run, val_rows), run.cache.labels[val_rows])
    example = calibration[0][:1]
    space = classifier_space(model, example)

    report_path, request = out / REPORT, _request(config, source_sha)
    previous = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else None
    if previous is not None:
        if previous["request"] != request:
            raise PruningError(f"{out} holds a pruning asked with other settings ({previous['request']}); "
                               "use another --out or delete it")  # fmt: skip
        plan, search_seconds = PruningPlan.from_dict(previous["plan"]), float(previous["seconds"]["search"])
        log_progress(f"reusing the {plan.pruner} plan in {report_path}")
    else:
        log_progress(f"{config.pruner} pruning of {len(space.groups)} channel groups to {budget.to_dict()}")
        tic = time.monotonic()
        plan = PRUNERS[config.pruner](config, reward, calibration[0]).plan(space, budget)
        search_seconds = time.monotonic() - tic
    if not space.within(plan, budget):
        raise PruningError(f"the {plan.pruner} plan does not fit the budget {budget.to_dict()}")

    pruned = apply_plan(model, plan, example)
    assert isinstance(pruned, TongueClassifier)
    recalibrate_batchnorm(pruned, calibration)
    before, after = measure(model, example), measure(pruned, example)
    summary = {
        "pruner": plan.pruner,
        "budget": budget.to_dict(),
        "round_to": space.round_to,
        "channels": plan.channels,
        "keep": plan.keep,
        "source_checkpoint": str(checkpoint),
        "source_sha256": source_sha,
        "before": asdict(before),
        "after": asdict(after),
        "ratio": after.ratio(before),
    }
    report: dict[str, Any] = {
        "request": request,
        "status": "planned",
        **summary,
        "groups": [{"name": g.name, "channels": g.channels, "kept": plan.channels[g.name]} for g in space.groups],
        "val_mean_macro_f1": {
            "unpruned": float(payload["best_score"]),
            "pruned_before_finetune": validation.plain(pruned),
        },
        "plan": plan.to_dict(),
        "seconds": {"search": search_seconds},
        "threads": config.threads,
    }
    _write(report_path, report)
    log_progress(
        f"pruned to {after.params / 1e6:.2f} M parameters ({summary['ratio']['params']:.3f}), "
        f"{after.macs / 1e6:.0f} M MACs ({summary['ratio']['macs']:.3f}); validation mean macro-F1 before "
        f"fine-tuning {report['val_mean_macro_f1']['pruned_before_finetune']:.4f}"
    )

    run.extra = {"pruning": summary}
    tic = time.monotonic()
    best_path = out / "best.pt"
    if not (out / "last.pt").is_file():  # a fresh start: the pruned, recalibrated network is the score to beat
        scores = score_heads(classify(pruned, validation.crops), validation.labels)
        score = mean_macro_f1(scores)
        history = [{"epoch": 0, "score": score, "val": scores}]
        save_checkpoint(
            best_path,
            checkpoint_payload(pruned, train_config, epoch=0, history=history, data=run.provenance, best_score=score)
            | run.extra,
        )
    if config.finetune_epochs > 0:  # best.pt changes only when an epoch beats it on validation
        fit_classifier(run, pruned, baseline=float(load_checkpoint(best_path)["best_score"]))
    final = load_checkpoint(best_path)
    if final["epoch"] == 0 and config.finetune_epochs > 0:
        log_progress("no fine-tuning epoch beat the recalibrated network on validation; it is kept")
    reloaded = build_model(final)
    assert isinstance(reloaded, TongueClassifier)
    if measure(reloaded, example) != after:
        raise PruningError(f"{best_path} does not load back to the pruned shape")
    report |= {
        "status": "done",
        "checkpoint": str(best_path),
        "finetune": {"epochs": final["epoch"], "asked": config.finetune_epochs, "lr": config.lr,
                     "max_minutes": config.max_minutes},
        "seconds": {"search": search_seconds, "finetune": time.monotonic() - tic},
    }  # fmt: skip
    report["val_mean_macro_f1"]["finetuned"] = float(final["best_score"])
    _write(report_path, report)
    return report


def prune_tongue_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tcm prune-tongue", description="Prune the tongue classifier to a memory budget and fine-tune it."
    )
    parser.add_argument("--checkpoint", required=True, help="unpruned classifier checkpoint (RUN/classifier/best.pt)")
    parser.add_argument("--data", required=True, help="tongue data folder")
    parser.add_argument("--out", required=True, help="output folder, inside the run folder (RUN/pruned_mc)")
    parser.add_argument("--pruner", choices=sorted(PRUNERS), default="memory")
    parser.add_argument("--budget-params", type=float, default=0.35, help="fraction of the unpruned parameters")
    parser.add_argument("--budget-macs", type=float, help="fraction of the unpruned MACs (optional)")
    parser.add_argument("--episodes", type=int, default=120, help="REINFORCE episodes (memory pruner)")
    parser.add_argument("--policy-hidden", type=int, default=64, help="decision network LSTM width (memory pruner)")
    parser.add_argument("--search-minutes", type=float, help="stop the search after this long")
    parser.add_argument("--penalty", type=float, default=2.0, help="reward lost per unit of relative budget excess")
    parser.add_argument("--calibration-batches", type=int, default=4)
    parser.add_argument("--reward-images", type=int, help="validation photos scored per episode (default: all)")
    parser.add_argument("--finetune-epochs", type=int, default=8)
    parser.add_argument("--lr", type=float, default=5e-4, help="fine-tuning learning rate (warm-up, cosine)")
    parser.add_argument("--max-minutes", type=float, help="fine-tuning time budget (resumable, as train-tongue)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    config = PruneConfig(
        checkpoint=args.checkpoint, data=args.data, out=args.out, pruner=args.pruner,
        budget_params=args.budget_params, budget_macs=args.budget_macs, episodes=args.episodes,
        policy_hidden=args.policy_hidden, search_minutes=args.search_minutes, penalty=args.penalty,
        calibration_batches=args.calibration_batches,
        reward_images=args.reward_images, finetune_epochs=args.finetune_epochs, lr=args.lr,
        max_minutes=args.max_minutes, batch_size=args.batch_size, seed=args.seed, threads=args.threads,
    )  # fmt: skip
    try:
        report = prune_classifier(config)
    except (TcmError, OSError, ValueError, KeyError) as exc:
        print(f"tcm prune-tongue: {exc}", file=sys.stderr)
        return 2
    keys = ("pruner", "budget", "before", "after", "ratio", "val_mean_macro_f1", "seconds", "checkpoint")
    print(json.dumps({k: report[k] for k in keys}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(prune_tongue_main())
