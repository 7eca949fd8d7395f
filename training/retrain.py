"""``python -m training.retrain``: retrain on the corrected records, evaluate on the frozen gold set, export a bundle.

The GUI runs this in a separate process (a crash or out-of-memory here cannot
take the window down) and reads its progress from stdout, one JSON event a
line (:mod:`tcm_desktop.domain.retraining`). Everything else -- warnings,
tracebacks, anything a library prints -- goes to stderr. The steps:

1. read the records from the database: every corrected or verified record
   outside the frozen gold set trains, the gold set only evaluates
   (``GoldSetRepository.training_ids``; checked again here);
2. mix in ``--replay`` generated records (the app's generator, a fixed seed)
   so the model keeps what the corrections do not show, repeat the corrected
   records to weigh at least as much, and hold out a dev set of both for
   early stopping (:func:`mixed_data`);
3. fine-tune the checkpoint given with ``--init-from`` (keeping its shape,
   vocabulary and labels; spans of labels it lacks are left out) or train a
   new model (``--model`` shape overrides, e.g. a tiny one in tests);
4. export the INT8 bundle into ``OUT/bundle`` (with the tongue photo models
   of ``--base-model`` carried over) and the checkpoint beside it as
   ``OUT/checkpoint.pt`` for the next fine-tuning;
5. evaluate the old bundle (``--base-model``) and the new one on the gold
   set, report both, and write the new scores into the bundle manifest.

The database is only read: registering the new model is the caller's job,
after this process has succeeded. On failure the output folder is removed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from tcm_desktop.domain import Record, TcmError, default_schema
from tcm_desktop.domain.retraining import (
    REPLAY_RECORDS,
    DoneEvent,
    ErrorEvent,
    LogEvent,
    MetricsEvent,
    ProgressEvent,
    RetrainError,
    RetrainEvent,
    RetrainJob,
    RetrainOptions,
    event_line,
)
from tcm_desktop.store import Database

Emit = Callable[[RetrainEvent], None]
METRIC_KEYS = ("records", "micro", "macro_f1", "per_label")
NOT_TRAINABLE_CONFIG = ("vocab_size", "num_tags", "num_lexicon_features")  # come from the data, not the shape
REPLAY_SEED = 90_001  # not the shipped model's training seeds: other generated records
DEV_EVERY = 10  # every 10th corrected record is held out for early stopping (from 10 on)
DEV_REPLAY_SHARE = 0.2
MAX_REPEATS = 5
FINE_TUNE_LR = 2e-4  # below a new model's 5e-4: the checkpoint is already good, nudge it


def parse_job(argv: Sequence[str] | None = None) -> RetrainJob:
    parser = argparse.ArgumentParser(
        prog="python -m training.retrain",
        description="Retrain on the corrected records of a database, evaluate on its frozen gold set, export a bundle.",
    )
    parser.add_argument("--db", required=True, type=Path, help="the app's database (read only)")
    parser.add_argument("--out", required=True, type=Path, help="new folder: bundle/ and checkpoint.pt")
    parser.add_argument("--name", required=True, help="bundle name, e.g. tcm-text")
    parser.add_argument("--version", required=True, help="bundle version")
    parser.add_argument("--base-model", type=Path, help="the bundle in use, evaluated beside the new one")
    parser.add_argument("--init-from", type=Path, help="checkpoint to fine-tune (default: train a new model)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--model", type=json.loads, default={}, help="shape overrides for a new model (JSON)")
    parser.add_argument("--max-train-windows", type=int)
    parser.add_argument("--max-chars", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--replay", type=int, default=REPLAY_RECORDS, help="generated records mixed in (0: none)")
    args = parser.parse_args(argv)
    if args.replay < 0:
        parser.error("--replay must be 0 or more")
    options = RetrainOptions(
        epochs=args.epochs,
        replay_records=args.replay,
        model_overrides=dict(args.model),
        max_train_windows=args.max_train_windows,
        max_chars=args.max_chars,
        threads=args.threads,
        seed=args.seed,
    )
    return RetrainJob(args.db, args.out, args.name, args.version, args.base_model, args.init_from, options)


def read_training_data(database: Path) -> tuple[list[Record], list[Record]]:
    """(training records, gold records) of the database; the gold set must be frozen."""
    with Database.open(database) as db:
        gold_ids = db.gold_set.ids()
        if not gold_ids:
            raise RetrainError(f"{database.name} has no frozen gold set; the program sets it aside before retraining")
        training_ids = db.gold_set.training_ids()
        leaked = set(training_ids) & set(gold_ids)
        if leaked:  # cannot happen through training_ids; a gold record must never train
            raise RetrainError(f"{len(leaked)} gold-set record(s) were about to be trained on")
        training = [db.records.get(record_id).record for record_id in training_ids]
        gold = [db.records.get(record_id).record for record_id in gold_ids]
    return training, gold


def write_examples(records: Sequence[Record], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for record in records:
            row = {"id": record.id, "specialty": record.specialty, "text": record.text}
            row["spans"] = [s.to_dict() for s in record.spans]
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


@dataclass(frozen=True)
class MixedData:
    train: list[Record]
    dev: list[Record]
    repeats: int  # how often each corrected training record occurs in ``train``
    replay: int  # generated records in ``train``


def mixed_data(corrected: Sequence[Record], replay_records: int, seed: int = REPLAY_SEED) -> MixedData:
    """Corrected records repeated to weigh at least as much as the ``replay_records`` generated ones
    (at most ``MAX_REPEATS`` times), and a dev set of both that never overlaps the training part."""
    from tcm_desktop.demo.generator import generate_records

    dev_corrected = list(corrected[DEV_EVERY - 1 :: DEV_EVERY]) if len(corrected) >= DEV_EVERY else []
    held = {r.id for r in dev_corrected}
    train_corrected = [r for r in corrected if r.id not in held]
    n_dev_replay = round(replay_records * DEV_REPLAY_SHARE) if replay_records else 0
    generated = [g.record for g in generate_records(replay_records + n_dev_replay, seed=seed)]
    replay = [replace(r, id=f"replay-{r.id}") for r in generated]
    repeats = max(1, min(MAX_REPEATS, math.ceil(replay_records / max(1, len(train_corrected)))))
    train = [
        replace(r, id=f"{r.id}#{copy}") if copy else r for copy in range(repeats) for r in train_corrected
    ] + replay[:replay_records]
    return MixedData(train, dev_corrected + replay[replay_records:], repeats, replay_records)


def evaluate_bundle(bundle_dir: Path, gold: Sequence[Record], threads: int) -> dict[str, Any]:
    """Strict span scores of the bundle's text model on ``gold``, every schema category listed."""
    from tcm_desktop.inference.bundle import ModelBundle
    from tcm_desktop.inference.text_pipeline import TextPipeline
    from training.evaluation import evaluate

    bundle = ModelBundle.load(bundle_dir, threads=threads, device="cpu")
    results = TextPipeline(bundle, threads=threads).predict([r.text for r in gold])
    predicted = [Record(r.id, r.specialty, r.text, spans=res.spans) for r, res in zip(gold, results, strict=True)]
    report = evaluate(gold, predicted, labels=default_schema().label_codes).to_dict()
    return {key: report[key] for key in METRIC_KEYS}


def _train_config(
    job: RetrainJob, data: Path, dev: Path | None, run_dir: Path, training: Sequence[Record], emit: Emit
) -> Any:
    from training.checkpoint import Checkpoint
    from training.trainer import TrainConfig

    options = job.options
    config = TrainConfig(
        train=[str(data)],
        dev=None if dev is None else str(dev),
        out=str(run_dir),
        model_overrides=dict(options.model_overrides),
        max_chars=options.max_chars,
        epochs=job.epochs,
        seed=options.seed,
        threads=options.threads,
        max_train_windows=options.max_train_windows,
    )
    if job.init_from is None:
        return config
    base = Checkpoint.load(job.init_from)  # keep its shape, lexicon input, window and labels
    shape = {k: v for k, v in base.model_config.to_dict().items() if k not in NOT_TRAINABLE_CONFIG}
    missing = sorted({s.label for r in training for s in r.spans} - set(base.labels))
    if missing:
        labels = ", ".join(missing)
        emit(LogEvent(f"spans of labels the model lacks are left out: {labels}", "labels_left_out", {"labels": labels}))
    config.init_from = str(job.init_from)
    config.lr = FINE_TUNE_LR
    config.model_overrides = shape
    config.use_lexicon = base.model_config.num_lexicon_features > 0
    config.tag_scheme = base.scheme.name
    config.max_chars = int(base.train_config.get("max_chars", options.max_chars))
    config.label_map = dict.fromkeys(missing)
    return config


def run_retrain(job: RetrainJob, emit: Emit) -> DoneEvent:
    """Do the job (see the module docstring), reporting through ``emit``; raises TcmError and others."""
    total = job.epochs + 4  # data, the epochs, bundle, two evaluations
    work = job.out_dir / "work"
    training, gold = read_training_data(job.database)
    if not training:
        raise RetrainError("there are no corrected or verified records outside the gold set to train on")
    from training.bundle import build_bundle, carry_image_models, update_manifest  # torch: only once the data is there
    from training.trainer import Trainer

    data = mixed_data(training, job.options.replay_records)
    write_examples(data.train, work / "train.jsonl")
    dev = work / "dev.jsonl" if data.dev else None
    if dev is not None:
        write_examples(data.dev, dev)
    counts = {"training": len(training), "gold": len(gold)}
    emit(LogEvent(f"{len(training)} training records, {len(gold)} gold-set records (never trained on)", "data", counts))
    mix = {"replay": data.replay, "repeats": data.repeats, "held_out": len(data.dev)}
    emit(
        LogEvent(
            f"mixed with {data.replay} generated records; each corrected record counts {data.repeats}x;"
            f" {len(data.dev)} records held out for early stopping",
            "mix",
            mix,
        )
    )
    emit(ProgressEvent("data", 1, total))

    config = _train_config(job, work / "train.jsonl", dev, work / "run", training, emit)
    source = f"fine-tuning {job.init_from.name}" if job.init_from else "training a new model"
    base = job.init_from.name if job.init_from else ""
    emit(LogEvent(f"{source}: up to {config.epochs} epochs", "start", {"base": base, "epochs": config.epochs}))
    epochs_done: list[int] = []

    def on_epoch(record: Mapping[str, Any]) -> None:
        epoch, f1, seconds = int(record["epoch"]), float(record["dev"]["f1"]), float(record["seconds"])
        epochs_done.append(epoch)
        values = {"epoch": epoch, "f1": f1, "seconds": seconds}
        emit(LogEvent(f"epoch {epoch}: dev F1 {f1:.4f} ({seconds:.0f} s)", "epoch", values))
        emit(ProgressEvent("train", 1 + epoch, total))

    best = Trainer(config).run(on_epoch=on_epoch)  # its own lines (batches, early stop): stderr, the technical log
    if not epochs_done or epochs_done[-1] < job.epochs:  # stopped early
        emit(ProgressEvent("train", 1 + job.epochs, total))

    emit(LogEvent("exporting the INT8 bundle", "export"))
    build_bundle(best, job.bundle_dir, name=job.name, version=job.version)
    if job.base_model is not None and carry_image_models(job.bundle_dir, job.base_model):
        emit(LogEvent("the tongue photo models of the model in use were carried over", "photo_models_kept"))
    shutil.copyfile(best, job.checkpoint)
    emit(ProgressEvent("bundle", job.epochs + 2, total))

    old: dict[str, Any] | None = None
    if job.base_model is not None:
        try:
            old = evaluate_bundle(job.base_model, gold, job.options.threads)
        except TcmError as exc:
            reason = str(exc)
            emit(
                LogEvent(f"the model in use could not be evaluated: {reason}", "old_model_unscored", {"reason": reason})
            )
    emit(ProgressEvent("evaluate", job.epochs + 3, total))
    new = evaluate_bundle(job.bundle_dir, gold, job.options.threads)
    update_manifest(job.bundle_dir, metrics={"gold_set": dict(new)})  # not a hashed file
    emit(ProgressEvent("evaluate", total, total))
    emit(MetricsEvent(old, new))
    shutil.rmtree(work, ignore_errors=True)
    return DoneEvent(job.bundle_dir, job.checkpoint, job.model_version, len(training), len(gold))


def _event_stream() -> TextIO:
    """A private copy of stdout for the events; stdout itself (Python's and C's) then goes to stderr."""
    sys.stdout.flush()
    events = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return events


def main(argv: Sequence[str] | None = None) -> int:
    events = _event_stream()

    def emit(event: RetrainEvent) -> None:
        events.write(event_line(event) + "\n")
        events.flush()

    job = parse_job(argv)
    out_existed = job.out_dir.exists()
    try:
        if out_existed and any(job.out_dir.iterdir()):
            raise RetrainError(f"the output folder {job.out_dir} already exists")
        job.out_dir.mkdir(parents=True, exist_ok=True)
        done = run_retrain(job, emit)
    except (TcmError, ValueError, OSError) as exc:
        emit(ErrorEvent(str(exc)))
        _remove(job.out_dir, out_existed)
        return 2
    except Exception as exc:  # noqa: BLE001 - e.g. a torch RuntimeError: the GUI must hear of it
        traceback.print_exc()
        emit(ErrorEvent(f"{type(exc).__name__}: {exc}"))
        _remove(job.out_dir, out_existed)
        return 3
    emit(done)
    return 0


def _remove(folder: Path, existed: bool) -> None:
    if not existed:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
