"""``tcm-desktop --self-test``: check an installation end to end, headless, and say PASS or FAIL per step.

IT staff (and ``packaging/smoke_test.py``) run it on the installed, frozen
program. Each step prints one line, ``PASS``, ``FAIL`` or ``SKIP``, its
name, its time and what it saw; the last line sums up. The exit status is 0
only when no step failed, else 1 (the failing steps are named).

Steps: ``bundle`` loads the shipped model bundle (every file's sha256 is
checked); ``structure`` generates a record with its tongue photo and
structures both; ``database`` writes the record, its photo and its
annotation into a temporary SQLite database and reads them back; the GUI
entry adds a ``gui`` step (Qt, translations, font, main window); and
``retrain`` runs a real one-epoch retraining on 10 corrected records in a
child process, exactly as the Retrain dialog does, then loads the bundle it
exported. ``retrain`` is skipped (not failed) in an installation without the
training component.

Everything is written under a temporary folder that is removed at the end;
``TCM_DATA_DIR`` and ``TCM_CONFIG_DIR`` point there while the steps run, so
the user's database, settings and models are never touched. The output also
goes to ``log`` when given (a windowed Windows program has no console).
No Qt and no torch here.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tcm_desktop.domain import NOT_MENTIONED
from tcm_desktop.domain.retraining import (
    DoneEvent,
    ErrorEvent,
    MetricsEvent,
    RetrainError,
    RetrainOptions,
    parse_event,
)
from tcm_desktop.frozen import is_frozen, retrain_command

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
SEED = 20250101
RETRAIN_RECORDS = 12  # the gold set takes 2 of them, 10 train
RETRAIN_TIMEOUT_S = 900
WHO = "self-test"
# Used only when the bundle has no checkpoint to fine-tune: a new model this small trains in seconds.
TINY_MODEL = {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64, "lstm_hidden": 16}


class SkipStep(Exception):
    """Raised by a step that does not apply to this installation (reported as SKIP, not a failure)."""


@dataclass
class SelfTestContext:
    """What the steps share: the temporary folder, the bundle folder, and what earlier steps produced."""

    tmp: Path
    bundle_dir: Path
    threads: int = 2
    found: dict[str, Any] = field(default_factory=dict)

    def need(self, key: str, step: str) -> Any:
        """An earlier step's result; a failure naming that step when it is missing."""
        if key not in self.found:
            raise RuntimeError(f"needs the {step!r} step, which did not pass")
        return self.found[key]


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[SelfTestContext], str]  # returns what it saw; raises to fail, SkipStep to skip


@dataclass(frozen=True)
class StepResult:
    name: str
    status: str  # PASS, FAIL or SKIP
    detail: str
    seconds: float

    def line(self) -> str:
        return f"{self.status} {self.name} ({self.seconds:.1f} s): {self.detail}"


def run_steps(steps: Sequence[Step], context: SelfTestContext, out: Callable[[str], None]) -> list[StepResult]:
    """Run every step (a failed one does not stop the rest), printing one line each through ``out``."""
    results = []
    for step in steps:
        start = time.perf_counter()
        try:
            status, detail = PASS, step.run(context)
        except SkipStep as exc:
            status, detail = SKIP, str(exc)
        except Exception as exc:  # noqa: BLE001 - any error is this step's failure, reported in words
            status, detail = FAIL, f"{type(exc).__name__}: {exc}"
        result = StepResult(step.name, status, detail, time.perf_counter() - start)
        results.append(result)
        out(result.line())
    return results


def summary(results: Sequence[StepResult], seconds: float) -> tuple[str, int]:
    """The last line and the exit status: 0 when nothing failed, else 1."""
    failed = [r.name for r in results if r.status == FAIL]
    counts = ", ".join(f"{sum(r.status == s for r in results)} {s.lower()}" for s in (PASS, FAIL, SKIP))
    if failed:
        return f"self-test FAILED in {seconds:.1f} s ({counts}); failing step(s): {', '.join(failed)}", 1
    return f"self-test PASSED in {seconds:.1f} s ({counts})", 0


# --- the steps ---------------------------------------------------------------------------


def check_bundle(context: SelfTestContext) -> str:
    from tcm_desktop.inference.bundle import ModelBundle

    if not context.bundle_dir.is_dir():
        raise FileNotFoundError(f"no model bundle at {context.bundle_dir}")
    bundle = ModelBundle.load(context.bundle_dir, threads=context.threads, device="cpu")
    context.found["bundle"] = bundle
    return f"{bundle.model_version} from {context.bundle_dir} (every file's sha256 checked)"


def structure_record(context: SelfTestContext) -> str:
    from tcm_desktop.demo.corpus import write_demo_corpus
    from tcm_desktop.inference.structuring import Structurer
    from tcm_desktop.store import ImportedRecord, read_records

    bundle = context.need("bundle", "bundle")
    corpus = context.tmp / "record.jsonl"
    write_demo_corpus(1, corpus, seed=SEED)
    (item,) = [r for r in read_records(corpus) if isinstance(r, ImportedRecord)]
    if item.image_path is None or not item.image_path.is_file():
        raise RuntimeError("the generated record has no tongue photo")
    structurer = Structurer(bundle, threads=context.threads)
    (prediction,) = structurer.structure([item.record], images=[item.image_path])
    if not prediction.spans:
        raise RuntimeError(f"no entity found in a {len(item.record.text)}-character record")
    filled = [v for v in prediction.form if v.value not in (None, "", [], NOT_MENTIONED)]
    tongue = (
        f"{len(prediction.tongue)} tongue attributes from the photo" if structurer.has_image_model else "no image model"
    )
    if structurer.has_image_model and not prediction.tongue:
        raise RuntimeError(f"the photo gave no tongue attributes: {'; '.join(prediction.flags) or 'no reason given'}")
    context.found["corpus"] = corpus
    context.found["prediction"] = prediction
    return f"{item.record.id}: {len(prediction.spans)} spans, {len(filled)} form fields filled, {tongue}"


def database_round_trip(context: SelfTestContext) -> str:
    from tcm_desktop.store import Database, import_records

    corpus = context.need("corpus", "structure")
    prediction = context.need("prediction", "structure")
    path = context.tmp / "self-test.sqlite"
    with Database.open(path, data_dir=context.tmp / "data") as db:
        report = import_records(corpus, db, who=WHO)
        if report.imported != 1:
            raise RuntimeError(f"import: {report}")
        db.predictions.add(prediction)
        form = {v.field: v.value for v in prediction.form}
        db.annotations.save(prediction.record_id, prediction.spans, form, who=WHO, verify=True)
    with Database.open(path, data_dir=context.tmp / "data", check=True) as db:
        stored = db.records.get(prediction.record_id)
        if [s.to_dict() for s in stored.record.spans] != [s.to_dict() for s in prediction.spans]:
            raise RuntimeError("the spans read back differ from those written")
        if stored.image_path is None or not stored.image_path.is_file():
            raise RuntimeError("the tongue photo was not stored")
        latest = db.predictions.latest(prediction.record_id)
        if latest is None or latest.model_version != prediction.model_version:
            raise RuntimeError("the prediction was not read back")
        status = stored.status.value
    return f"{path.name}: record, photo, prediction and annotation written, reopened and read back ({status})"


def retrain(context: SelfTestContext) -> str:
    from tcm_desktop.inference.bundle import ModelBundle

    bundle = context.need("bundle", "bundle")
    command = retrain_command(["-m", "training.retrain"])
    if not command.available:
        raise SkipStep(command.unavailable_reason)
    if not is_frozen() and importlib.util.find_spec("torch") is None:
        raise SkipStep("torch is not installed in this environment (pip install -e '.[train]')")
    job = _plan_retraining(context, bundle)
    command = retrain_command(job.arguments())
    done, metrics, stderr = _run_child(command.program, command.arguments, job.options.threads)
    if done is None or metrics is None:
        raise RuntimeError(f"the training process reported no {'model' if done is None else 'metrics'}:\n{stderr}")
    new = ModelBundle.load(done.bundle, threads=context.threads, device="cpu")
    source = f"fine-tuned {job.init_from.name}" if job.init_from else "trained a new tiny model"
    f1 = float(metrics.new["micro"]["f1"])
    return (
        f"{source} for {job.epochs} epoch on {done.train_records} records in a child process"
        f" ({Path(command.program).name}); gold-set micro F1 {f1:.3f} on {done.gold_records} records;"
        f" {new.model_version} loads"
    )


def _plan_retraining(context: SelfTestContext, bundle: Any) -> Any:
    """A database of generated records verified by a clinician, and the job the Retrain dialog would start."""
    from tcm_desktop.demo.generator import generate_records
    from tcm_desktop.store import BaseModel, Database, RetrainLedger

    options = RetrainOptions(
        epochs=1,
        replay_records=0,
        model_overrides=TINY_MODEL,
        max_train_windows=16,
        max_chars=128,
        threads=context.threads,
    )
    with Database.open(context.tmp / "retrain.sqlite", data_dir=context.tmp / "retrain-data") as db:
        for generated in generate_records(RETRAIN_RECORDS, seed=SEED):
            record = generated.record
            db.records.add(record, who=WHO)
            db.annotations.save(record.id, record.spans, record.form, who=WHO, verify=True)
        ledger = RetrainLedger(db, context.tmp / "models", WHO)
        job, _run_id = ledger.plan(BaseModel(context.bundle_dir, bundle.model_version), options)
    return job


def _run_child(
    program: str, arguments: Sequence[str], threads: int
) -> tuple[DoneEvent | None, MetricsEvent | None, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8", OMP_NUM_THREADS=str(threads))
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # Windows: no console window from a windowed app
    result = subprocess.run(
        [program, *arguments],
        capture_output=True,
        env=env,
        timeout=RETRAIN_TIMEOUT_S,
        creationflags=flags,
    )
    stdout = result.stdout.decode("utf-8", errors="replace")
    stderr = "\n".join(result.stderr.decode("utf-8", errors="replace").splitlines()[-20:])
    done: DoneEvent | None = None
    metrics: MetricsEvent | None = None
    for line in filter(None, (raw.strip() for raw in stdout.splitlines())):
        event = parse_event(line)  # RetrainError for anything that is not an event
        if isinstance(event, DoneEvent):
            done = event
        elif isinstance(event, MetricsEvent):
            metrics = event
        elif isinstance(event, ErrorEvent):
            raise RetrainError(f"the training process failed: {event.message}\n{stderr}")
    if result.returncode != 0:
        raise RetrainError(f"the training process exited with {result.returncode}:\n{stderr}")
    return done, metrics, stderr


CORE_STEPS = (Step("bundle", check_bundle), Step("structure", structure_record), Step("database", database_round_trip))
RETRAIN_STEP = Step("retrain", retrain)


# --- running -------------------------------------------------------------------------------


@contextmanager
def _private_folders(tmp: Path) -> Iterator[None]:
    """Point the data and config folders into ``tmp`` while the steps run."""
    keys = ("TCM_DATA_DIR", "TCM_CONFIG_DIR")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ["TCM_DATA_DIR"] = str(tmp / "user-data")
    os.environ["TCM_CONFIG_DIR"] = str(tmp / "user-config")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_self_test(
    log: Path | None = None,
    extra_steps: Sequence[Step] = (),
    bundle_dir: Path | None = None,
    retraining: bool = True,
) -> int:
    """Run the steps (``extra_steps`` before ``retrain``), print and log one line each; the exit status."""
    from tcm_desktop.resources import default_bundle_dir

    streams: list[TextIO] = [s for s in (sys.stdout,) if s is not None]
    log_file = Path(log).open("w", encoding="utf-8") if log is not None else None  # noqa: SIM115 - closed below
    if log_file is not None:
        streams.append(log_file)

    def out(line: str) -> None:
        for stream in streams:
            stream.write(line + "\n")
            stream.flush()

    start = time.perf_counter()
    frozen = "frozen" if is_frozen() else "source"
    out(f"tcm-desktop self-test ({frozen}, Python {sys.version.split()[0]}, {sys.platform})")
    steps = [*CORE_STEPS, *extra_steps, *([RETRAIN_STEP] if retraining else [])]
    try:
        with tempfile.TemporaryDirectory(prefix="tcm-self-test-") as tmp, _private_folders(Path(tmp)):
            context = SelfTestContext(Path(tmp), Path(bundle_dir) if bundle_dir else default_bundle_dir())
            results = run_steps(steps, context, out)
            context.found.clear()  # close sessions before the folder goes
        line, status = summary(results, time.perf_counter() - start)
        out(line)
        return status
    finally:
        if log_file is not None:
            log_file.close()
