"""A retraining job and what its child process reports: the contract between the GUI and ``training.retrain``.

The GUI never imports torch. It describes the job as a :class:`RetrainJob`,
starts ``python -m training.retrain`` with :meth:`RetrainJob.arguments` in a
separate process, and reads the child's stdout: one JSON object per line
(:func:`event_line` writes them, :func:`parse_event` reads them back)::

    {"event": "progress", "stage": "train", "done": 3, "total": 8}
    {"event": "log", "message": "epoch 1: dev P 0.81 R 0.77 F1 0.79"}
    {"event": "metrics", "old": {...} | null, "new": {...}}
    {"event": "done", "bundle": "...", "checkpoint": "...", "model_version": "...", ...}
    {"event": "error", "message": "..."}

Metrics are the gold-set part of ``training.evaluation.EvaluationReport``:
``records``, ``micro`` and ``per_label`` (each with precision, recall, f1,
tp, fp, fn) and ``macro_f1``. Messages never carry record text.

A retrained model lives in ``<models folder>/<name>-<version>/``: the bundle
in ``bundle/`` and the checkpoint it was exported from, which the next
retraining fine-tunes, beside it as ``checkpoint.pt`` (a bundle holds
exactly the files its manifest lists). A shipped bundle names its checkpoint
in its manifest (``"checkpoint"``, relative to the bundle folder).

Fine-tuning on a few dozen corrected records alone would make the model
forget what those records do not show (labels they lack, other specialties),
so generated records are mixed in as replay (``RetrainOptions.replay_records``)
and the corrected records are repeated to weigh at least as much as them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tcm_desktop.domain.errors import TcmError

RETRAIN_MODULE = "training.retrain"
BUNDLE_FOLDER = "bundle"
CHECKPOINT_FILE = "checkpoint.pt"
FINE_TUNE_EPOCHS = 3  # from the current model's checkpoint: it already knows most of it
FROM_SCRATCH_EPOCHS = 20
REPLAY_RECORDS = 100  # generated records mixed into the corrected ones (0: corrections only)
MIN_TRAINING_RECORDS = 5  # corrected or verified records outside the gold set
STAGES = ("data", "train", "bundle", "evaluate")


class RetrainError(TcmError):
    """A retraining could not be planned, or its child process said something unreadable."""


@dataclass(frozen=True)
class RetrainOptions:
    """How to train: None picks the default (``FINE_TUNE_EPOCHS`` or ``FROM_SCRATCH_EPOCHS``).

    ``new_model`` trains a new model even when the base model has a
    checkpoint; ``model_overrides`` shapes such a new model (ignored when
    fine-tuning, which keeps the checkpoint's shape); tests pass a tiny one.
    """

    epochs: int | None = None
    new_model: bool = False
    replay_records: int = REPLAY_RECORDS
    model_overrides: Mapping[str, Any] = field(default_factory=dict)
    max_train_windows: int | None = None
    max_chars: int = 256
    threads: int = 2
    seed: int = 13


@dataclass(frozen=True)
class RetrainJob:
    """One retraining: where the data is, what it starts from, where the new model goes."""

    database: Path
    out_dir: Path  # created by the child; removed again if the run fails or is cancelled
    name: str
    version: str
    base_model: Path | None = None  # the bundle in use, evaluated beside the new one
    init_from: Path | None = None  # checkpoint to fine-tune; None trains a new model
    options: RetrainOptions = field(default_factory=RetrainOptions)

    @property
    def model_version(self) -> str:
        """``name@version``: what the new bundle's predictions are tagged with and its registry key."""
        return f"{self.name}@{self.version}"

    @property
    def bundle_dir(self) -> Path:
        return self.out_dir / BUNDLE_FOLDER

    @property
    def checkpoint(self) -> Path:
        return self.out_dir / CHECKPOINT_FILE

    @property
    def epochs(self) -> int:
        if self.options.epochs is not None:
            return self.options.epochs
        return FINE_TUNE_EPOCHS if self.init_from is not None else FROM_SCRATCH_EPOCHS

    def arguments(self) -> list[str]:
        """The interpreter arguments that run this job (``python <arguments>``)."""
        options = self.options
        args = ["-m", RETRAIN_MODULE, "--db", str(self.database), "--out", str(self.out_dir)]
        args += ["--name", self.name, "--version", self.version, "--epochs", str(self.epochs)]
        args += ["--max-chars", str(options.max_chars), "--threads", str(options.threads), "--seed", str(options.seed)]
        args += ["--replay", str(options.replay_records)]
        if self.base_model is not None:
            args += ["--base-model", str(self.base_model)]
        if self.init_from is not None:
            args += ["--init-from", str(self.init_from)]
        if options.model_overrides:
            args += ["--model", json.dumps(dict(options.model_overrides))]
        if options.max_train_windows is not None:
            args += ["--max-train-windows", str(options.max_train_windows)]
        return args

    def params(self) -> dict[str, Any]:
        """JSON-able description for the training-run record."""
        return {
            "out_dir": str(self.out_dir),
            "model_version": self.model_version,
            "base_model": str(self.base_model) if self.base_model else None,
            "init_from": str(self.init_from) if self.init_from else None,
            "epochs": self.epochs,
            "model_overrides": dict(self.options.model_overrides),
            "max_train_windows": self.options.max_train_windows,
            "max_chars": self.options.max_chars,
            "replay_records": self.options.replay_records,
            "seed": self.options.seed,
        }


def checkpoint_for_bundle(bundle_dir: Path | None) -> Path | None:
    """The checkpoint a bundle was exported from, or None (retraining then trains a new model).

    A retrained bundle has it beside its folder (``../checkpoint.pt``); a shipped
    one names it in its manifest (``"checkpoint"``, relative to the bundle).
    A checkpoint that is not there (e.g. an inference-only installation) is None.
    """
    if bundle_dir is None:
        return None
    bundle_dir = Path(bundle_dir)
    if bundle_dir.name == BUNDLE_FOLDER:
        checkpoint = bundle_dir.parent / CHECKPOINT_FILE
        if checkpoint.is_file():
            return checkpoint
    try:
        named = json.loads((bundle_dir / "manifest.json").read_text(encoding="utf-8")).get("checkpoint")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(named, str) or not named:
        return None
    checkpoint = (bundle_dir / named).resolve()
    return checkpoint if checkpoint.is_file() else None


def new_version(now: datetime, taken: set[str]) -> str:
    """A version for a retrained model from the time, e.g. ``r20250105-1430``; ``-2`` ... if taken."""
    base = now.strftime("r%Y%m%d-%H%M")
    version, n = base, 1
    while version in taken:
        n += 1
        version = f"{base}-{n}"
    return version


def safe_folder_name(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]+", "_", text).strip("._") or "model"


# --- events --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressEvent:
    stage: str  # one of STAGES
    done: int
    total: int


@dataclass(frozen=True)
class LogEvent:
    """A line for the dialog's log. ``message`` is English (the technical log, and what is shown when the
    reader does not know ``key``); with a ``key`` of LOG_KEYS the dialog shows its own sentence, in the
    user's language, filled from ``values`` (JSON scalars)."""

    message: str
    key: str | None = None
    values: Mapping[str, str | int | float] = field(default_factory=dict)


# What the child says in its log (the dialog has a sentence for each); values named in the comment.
LOG_KEYS = (
    "data",  # training, gold
    "mix",  # replay, repeats, held_out
    "labels_left_out",  # labels
    "start",  # base (file name, "" for a new model), epochs
    "epoch",  # epoch, f1, seconds
    "export",
    "photo_models_kept",
    "old_model_unscored",  # reason
)


@dataclass(frozen=True)
class MetricsEvent:
    old: Mapping[str, Any] | None  # None: the old model could not be evaluated (or there is none)
    new: Mapping[str, Any]


@dataclass(frozen=True)
class DoneEvent:
    bundle: Path
    checkpoint: Path | None
    model_version: str
    train_records: int
    gold_records: int


@dataclass(frozen=True)
class ErrorEvent:
    message: str


RetrainEvent = ProgressEvent | LogEvent | MetricsEvent | DoneEvent | ErrorEvent


def event_line(event: RetrainEvent) -> str:
    """One JSON line (no newline) for ``event``."""
    if isinstance(event, ProgressEvent):
        data: dict[str, Any] = {"event": "progress", "stage": event.stage, "done": event.done, "total": event.total}
    elif isinstance(event, LogEvent):
        data = {"event": "log", "message": event.message}
        if event.key is not None:
            data |= {"key": event.key, "values": dict(event.values)}
    elif isinstance(event, MetricsEvent):
        data = {"event": "metrics", "old": None if event.old is None else dict(event.old), "new": dict(event.new)}
    elif isinstance(event, DoneEvent):
        data = {
            "event": "done",
            "bundle": str(event.bundle),
            "checkpoint": None if event.checkpoint is None else str(event.checkpoint),
            "model_version": event.model_version,
            "train_records": event.train_records,
            "gold_records": event.gold_records,
        }
    else:
        data = {"event": "error", "message": event.message}
    return json.dumps(data, ensure_ascii=False)


def parse_event(line: str) -> RetrainEvent:
    """The event of one stdout line; :class:`RetrainError` for anything else."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RetrainError(f"the training process wrote something that is not an event: {line[:80]!r}") from exc
    if not isinstance(data, dict):
        raise RetrainError(f"the training process wrote something that is not an event: {line[:80]!r}")
    kind = data.get("event")
    try:
        if kind == "progress":
            stage, done, total = str(data["stage"]), int(data["done"]), int(data["total"])
            if stage not in STAGES or not 0 <= done <= total:
                raise ValueError(f"progress {stage} {done}/{total}")
            return ProgressEvent(stage, done, total)
        if kind == "log":
            return _log_event(data)
        if kind == "metrics":
            old, new = data["old"], data["new"]
            if not isinstance(new, dict) or not (old is None or isinstance(old, dict)):
                raise ValueError("metrics must be objects")
            _check_metrics(new)
            if old is not None:
                _check_metrics(old)
            return MetricsEvent(old, new)
        if kind == "done":
            checkpoint = data.get("checkpoint")
            return DoneEvent(
                Path(str(data["bundle"])),
                None if checkpoint is None else Path(str(checkpoint)),
                str(data["model_version"]),
                int(data["train_records"]),
                int(data["gold_records"]),
            )
        if kind == "error":
            return ErrorEvent(str(data["message"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise RetrainError(f"the training process sent a malformed {kind!r} event: {exc}") from exc
    raise RetrainError(f"the training process sent an unknown event {kind!r}")


def _log_event(data: Mapping[str, Any]) -> LogEvent:
    """A log line; a key this version does not know, or values that are not scalars, keep only the message."""
    message, key, values = str(data["message"]), data.get("key"), data.get("values") or {}
    scalars = isinstance(values, dict) and all(isinstance(v, str | int | float) for v in values.values())
    if key not in LOG_KEYS or not scalars:
        return LogEvent(message)
    return LogEvent(message, str(key), {str(k): v for k, v in values.items()})


def _check_metrics(metrics: Mapping[str, Any]) -> None:
    _scores(metrics["micro"])
    for scores in dict(metrics["per_label"]).values():
        _scores(scores)


# --- the side-by-side table ------------------------------------------------------------


@dataclass(frozen=True)
class ScoreCell:
    precision: float
    recall: float
    f1: float
    support: int  # gold spans


@dataclass(frozen=True)
class MetricsRow:
    label: str  # a label code, or "micro"
    old: ScoreCell | None
    new: ScoreCell | None

    @property
    def f1_change(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return self.new.f1 - self.old.f1


MICRO = "micro"


def _scores(raw: Any) -> ScoreCell:
    if not isinstance(raw, Mapping):
        raise ValueError("scores must be an object")
    return ScoreCell(
        float(raw["precision"]), float(raw["recall"]), float(raw["f1"]), int(raw.get("tp", 0)) + int(raw.get("fn", 0))
    )


def metrics_rows(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[MetricsRow]:
    """Micro scores first, then each category of either report (new's order first)."""
    rows = [
        MetricsRow(
            MICRO,
            _scores(old[MICRO]) if old else None,
            _scores(new[MICRO]) if new else None,
        )
    ]
    old_labels = dict(old.get("per_label", {})) if old else {}
    new_labels = dict(new.get("per_label", {})) if new else {}
    for label in [*new_labels, *(code for code in old_labels if code not in new_labels)]:
        rows.append(
            MetricsRow(
                label,
                _scores(old_labels[label]) if label in old_labels else None,
                _scores(new_labels[label]) if label in new_labels else None,
            )
        )
    return rows
