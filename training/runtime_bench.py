"""``tcm bench``: runtime speed, memory, cold start and size of the shipped pipeline against PyTorch.

One run generates one set of records with the demo generator (the corpus's
length mix, plus records of 5,000-7,000 characters) and measures, each in a
process of its own (:mod:`training.runtime_bench_worker`):

(a) the shipped bundle: INT8 ONNX through the application's pipeline, text
    only and, when the bundle has an image model, text + tongue photo;
(b) the same model in PyTorch FP32 (the checkpoint the bundle came from);
(c) a BERT-Large-shaped encoder with the same vocabulary, lexicon input and
    BiLSTM-CRF head in PyTorch FP32, random weights (speed only).

It prints a table (every figure also as a ratio against (a)), checks the
issue's targets, scores strict span F1 of (a) and (b) on the same records,
and writes the section ``runtime`` of docs/benchmarks.md.

    tcm bench [--model DIR] [--checkpoint best.pt] [--records 200] [--long 10] [--large-records 4]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from tcm_desktop.domain import Record, Span, TcmError
from training.evaluation import evaluate
from training.report import DOC, cpu_model, update_section
from training.runtime_bench_report import Measured, check_targets, ratios, render_markdown
from training.runtime_bench_worker import LARGE_SHAPE, WorkerSpec, read_records

SECTION = "runtime"
LONG_MIN_CHARS, LONG_MAX_CHARS = 5000, 7000
LONG_INDEX_BASE = 1_000_000  # long records are drawn from indices the mix never uses


class BenchError(TcmError):
    """The benchmark cannot run (no bundle, a failed measurement of the shipped pipeline ...)."""


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class RecordSet:
    mix: Path
    long: Path
    mix_records: int
    mix_chars: int
    mix_over_5000: int
    long_chars: tuple[int, ...]
    with_images: bool

    @property
    def mix_mean_chars(self) -> float:
        return self.mix_chars / self.mix_records if self.mix_records else 0.0


def _write_jsonl(path: Path, records: Sequence[Record]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for record in records:
            fh.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")


def write_bench_records(folder: Path, n: int, long_n: int, seed: int, images: bool) -> RecordSet:
    """Generate the records of one run into ``folder`` (``mix.jsonl``, ``long.jsonl``, ``images/``)."""
    from tcm_desktop.demo.corpus import image_seed
    from tcm_desktop.demo.generator import GeneratedRecord, generate_record
    from tcm_desktop.demo.raster import encode_jpeg
    from tcm_desktop.demo.tongue_image import render_tongue

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "images").mkdir(exist_ok=True)

    def with_photo(generated: GeneratedRecord, index: int) -> Record:
        record = generated.record
        if not images:
            return record
        photo = render_tongue(generated.tongue, image_seed(seed, index))[..., ::-1]  # BGR -> RGB
        (folder / "images" / f"{record.id}.jpg").write_bytes(encode_jpeg(photo, 95))  # OpenCV's default quality
        return dataclasses.replace(record, image=f"images/{record.id}.jpg")

    mix = [with_photo(generate_record(seed, i), i) for i in range(n)]
    long: list[Record] = []
    index = LONG_INDEX_BASE
    while len(long) < long_n:
        if index - LONG_INDEX_BASE > 400 * long_n + 1000:
            raise BenchError(f"the generator gave only {len(long)} records of {LONG_MIN_CHARS}+ characters")
        generated = generate_record(seed, index)
        if LONG_MIN_CHARS <= len(generated.record.text) <= LONG_MAX_CHARS:
            record = with_photo(generated, index)
            long.append(dataclasses.replace(record, id=f"LONG-{len(long) + 1:03d}-{record.id}"))
        index += 1
    _write_jsonl(folder / "mix.jsonl", mix)
    _write_jsonl(folder / "long.jsonl", long)
    return RecordSet(
        mix=folder / "mix.jsonl",
        long=folder / "long.jsonl",
        mix_records=len(mix),
        mix_chars=sum(len(r.text) for r in mix),
        mix_over_5000=sum(len(r.text) > LONG_MIN_CHARS for r in mix),
        long_chars=tuple(len(r.text) for r in long),
        with_images=images,
    )


# ---------------------------------------------------------------- F1 parity


def _read_predicted(path: Path, gold: Sequence[Record]) -> list[Record]:
    texts = {r.id: r for r in gold}
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in filter(str.strip, fh):
            raw = json.loads(line)
            record = texts[raw["id"]]
            spans = tuple(Span(s, e, label, record.text[s:e]) for s, e, label in raw["spans"])
            out.append(Record(id=record.id, specialty=record.specialty, text=record.text, spans=spans))
    return out


def span_f1(records: RecordSet, predicted: Path) -> float:
    """Strict span micro F1 of a worker's predictions against the generator's gold spans."""
    gold = read_records(records.mix) + read_records(records.long)
    return evaluate(gold, _read_predicted(predicted, gold)).micro.f1


# ---------------------------------------------------------------- running the workers


def _child_env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])  # so a checkout runs without being installed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    env.setdefault("OMP_NUM_THREADS", str(threads))
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def run_worker(spec: WorkerSpec, timeout: float | None = None) -> dict[str, Any]:
    """Run one configuration in a fresh interpreter and return its JSON result."""
    command = [sys.executable, "-m", "training.runtime_bench_worker", json.dumps(dataclasses.asdict(spec))]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=_child_env(spec.threads), check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"the {spec.engine} measurement ran past {timeout:.0f} s") from exc
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise BenchError(f"the {spec.engine} measurement failed (exit {done.returncode}): {tail[0]}")
    return json.loads(lines[-1])


def default_checkpoint(bundle: Path) -> Path | None:
    """The FP32 checkpoint the bundle's manifest names (``checkpoint`` or ``training.checkpoint``), if present."""
    try:
        manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    named = manifest.get("checkpoint") or (manifest.get("training") or {}).get("checkpoint")
    if not isinstance(named, str) or not named:
        return None
    path = Path(named) if Path(named).is_absolute() else bundle / named
    return path if path.is_file() else None


def _bundle_title(bundle: Path) -> tuple[str, bool]:
    """(a)'s description from the manifest, and whether the bundle has an image model."""
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    text_model = manifest.get("text_model", {}) or {}
    quantisation = str(text_model.get("quantisation", "unknown quantisation"))
    pruned = ", text encoder not pruned"
    image_pruning = (manifest.get("image") or {}).get("classifier", {}).get("pruning")
    if image_pruning:
        kept = image_pruning.get("ratio", {}).get("params")
        share = f" to {kept * 100:.0f}% of its parameters" if isinstance(kept, float) else ""
        pruned += f"; tongue classifier pruned ({image_pruning.get('pruner', '?')}){share}, static INT8"
    title = f"{manifest.get('name', bundle.name)} {manifest.get('version', '')}: ONNX Runtime, {quantisation}{pruned}"
    return title, bool(manifest.get("image"))


@dataclass
class BenchOptions:
    model: Path
    checkpoint: Path | None
    records: int = 200
    long: int = 10
    large_records: int = 4
    large_long: int = 1
    large_shape: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    threads: int = 2
    passes: int = 3
    seed: int = 9001
    timeout: float | None = 3600.0
    work_dir: Path | None = None  # where records and predictions go (a temporary folder when None)


@dataclass(frozen=True)
class Plan:
    """One configuration to measure: its key, its title in the table and what its worker runs."""

    key: str
    title: str
    spec: WorkerSpec
    projected: bool = False  # timed on a subset: records/s comes from chars/s


def plan_configurations(
    options: BenchOptions, records: RecordSet, folder: Path, structurer: bool, image_mode: bool
) -> tuple[list[Plan], dict[str, str]]:
    """The configurations to measure, and those left out with the reason."""
    title_a, _ = _bundle_title(options.model)
    common: dict[str, Any] = {"model": str(options.model), "mix": str(records.mix), "long": str(records.long)}
    common |= {"threads": options.threads, "seed": options.seed, "passes": options.passes}
    engine, what = ("structurer", "text + form filling") if structurer else ("pipeline", "text (TextPipeline)")
    spec = WorkerSpec(engine, pred_out=str(folder / "a.jsonl"), **common)
    plans = [Plan("a", f"(a) {title_a}; {what}", spec)]
    if image_mode:
        spec = WorkerSpec("structurer", use_image=True, **common)
        plans.append(Plan("a+image", f"(a) {title_a}; text + form filling + tongue photo", spec))
    skipped: dict[str, str] = {}
    if options.checkpoint is not None:
        spec = WorkerSpec("torch", checkpoint=str(options.checkpoint), pred_out=str(folder / "b.jsonl"), **common)
        plans.append(Plan("b", f"(b) the same model, PyTorch FP32, unpruned ({options.checkpoint.name})", spec))
    else:
        skipped["b"] = "no FP32 checkpoint: pass --checkpoint (the bundle's manifest names none)"
    if options.large_records > 0:
        shape = {**LARGE_SHAPE, **options.large_shape}
        limits = {"limit_mix": options.large_records, "limit_long": options.large_long, "passes": 1}
        spec = WorkerSpec("torch-large", large_shape=dict(options.large_shape), **(common | limits))
        title = (
            f"(c) BERT-Large shape ({shape['num_layers']} layers, hidden {shape['hidden_size']}, "
            f"{shape['num_heads']} heads, FFN {shape['intermediate_size']}) with the same head, PyTorch FP32, "
            "random weights"
        )
        plans.append(Plan("c", title, spec, projected=True))
    else:
        skipped["c"] = "--large-records 0"
    return plans, skipped


def structurer_available() -> bool:
    """Whether the application's Structurer (text, form filling, tongue photo) can be imported here."""
    try:
        importlib.import_module("tcm_desktop.inference.structuring")
    except ImportError:
        return False
    return True


def _load_average() -> float | None:
    """The 1-minute load average when the run starts: other work on the CPU slows every figure."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):  # Windows
        return None


def _versions() -> dict[str, str]:
    out = {}
    for name in ("onnxruntime", "torch", "transformers"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _measure(plan: Plan, records: RecordSet, timeout: float | None) -> tuple[dict[str, Any], Measured]:
    raw = run_worker(plan.spec, timeout)
    row = Measured.from_worker(plan.key, plan.title, raw, records.mix_mean_chars if plan.projected else None)
    if plan.projected:
        note = (
            f"timed on {row.records} corpus-mix record(s) (one pass) and {row.long_records} long one(s); "
            "its records/s is its chars/s over the mix's mean record length"
        )
        row = dataclasses.replace(row, note=note)
    return raw, row


def run_bench(options: BenchOptions, log: TextIO | None = None) -> dict[str, Any]:
    """Generate the records, measure every configuration, and return the whole result (JSON-ready).

    Raises :class:`BenchError` when the bundle is missing or (a) cannot be
    measured; a failed (b) or (c) is reported under ``skipped``.
    """

    def say(message: str) -> None:
        if log is not None:
            print(message, file=log, flush=True)

    if not (options.model / "manifest.json").is_file():
        raise BenchError(f"no model bundle at {options.model}")
    load = _load_average()
    _, has_image = _bundle_title(options.model)
    structurer = structurer_available()
    image_mode = has_image and structurer
    if not structurer:
        say("the Structurer facade is not importable: measuring (a) with TextPipeline, text only")
    with tempfile.TemporaryDirectory(prefix="tcm-bench-") as scratch:
        folder = options.work_dir or Path(scratch)
        say(f"generating {options.records} + {options.long} long records (seed {options.seed}) in {folder}")
        records = write_bench_records(folder, options.records, options.long, options.seed, images=image_mode)
        plans, skipped = plan_configurations(options, records, folder, structurer, image_mode)
        raw: dict[str, dict[str, Any]] = {}
        rows: dict[str, Measured] = {}
        for plan in plans:
            say(f"measuring {plan.title} ...")
            try:
                raw[plan.key], rows[plan.key] = _measure(plan, records, options.timeout)
            except BenchError as exc:
                if plan.key == "a":
                    raise
                skipped[plan.key] = str(exc)
                say(f"  not measured: {exc}")
        f1 = {key: span_f1(records, folder / f"{key}.jsonl") for key in ("a", "b") if key in rows}

    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu": cpu_model(),
            "logical_cpus": os.cpu_count(),
            "threads": options.threads,
            "load_average": load,
            **_versions(),
        },
        "settings": {
            "model": str(options.model),
            "checkpoint": str(options.checkpoint) if options.checkpoint else None,
            "seed": options.seed,
            "passes": options.passes,
            "large_records": options.large_records,
            "large_long": options.large_long,
            "large_shape": {**LARGE_SHAPE, **options.large_shape},
        },
        "records": {
            "mix": records.mix_records,
            "mix_mean_chars": records.mix_mean_chars,
            "mix_over_5000": records.mix_over_5000,
            "long": len(records.long_chars),
            "long_chars": list(records.long_chars),
            "images": records.with_images,
        },
        "configs": {key: {"title": rows[key].title, "note": rows[key].note, **raw[key]} for key in rows},
        "rows": {key: dataclasses.asdict(row) for key, row in rows.items()},
        "ratios": {key: ratios(row, rows["a"]) for key, row in rows.items()},
        "f1": f1,
        "skipped": skipped,
        "targets": [t.to_dict() for t in check_targets(rows, f1)],
    }


def build_parser() -> argparse.ArgumentParser:
    from tcm_desktop.resources import default_bundle_dir

    parser = argparse.ArgumentParser(
        prog="tcm bench",
        description="Runtime benchmark: the shipped INT8 pipeline against the FP32 model and a BERT-Large shape.",
    )
    parser.add_argument("--model", type=Path, default=default_bundle_dir(), help="the bundle (default: shipped)")
    parser.add_argument("--checkpoint", type=Path, help="FP32 checkpoint for (b) (default: the one the manifest names)")
    parser.add_argument("--records", type=int, default=200, help="corpus-mix records (200)")
    parser.add_argument("--long", type=int, default=10, help="records of 5,000-7,000 characters (10)")
    parser.add_argument("--large-records", type=int, default=4, help="corpus-mix records for (c); 0 skips (c) (4)")
    parser.add_argument("--large-long", type=int, default=1, help="long records for (c) (1)")
    parser.add_argument("--large-shape", type=json.loads, default={}, help="override (c)'s shape, JSON")
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="threads of every configuration (2): the pipeline's thread budget, PyTorch's intra-op threads",
    )
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the mix; the median counts (3)")
    parser.add_argument("--seed", type=int, default=9001, help="generator seed of the records (9001)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds one configuration may take")
    parser.add_argument("--work-dir", type=Path, help="keep the records and predictions here")
    parser.add_argument("--out-json", type=Path, help="also write the whole result as JSON here")
    parser.add_argument("--docs", type=Path, default=DOC, help="benchmark page to update (docs/benchmarks.md)")
    parser.add_argument("--no-docs", action="store_true", help="do not touch the benchmark page")
    return parser


def bench_main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.records < 1 or args.long < 0 or args.large_records < 0 or args.passes < 1 or args.threads < 1:
        print("tcm bench: --records, --passes and --threads must be at least 1, the others at least 0", file=sys.stderr)
        return 2
    checkpoint = args.checkpoint or default_checkpoint(args.model)
    options = BenchOptions(
        model=args.model,
        checkpoint=checkpoint,
        records=args.records,
        long=args.long,
        large_records=args.large_records,
        large_long=args.large_long,
        large_shape=args.large_shape,
        threads=args.threads,
        passes=args.passes,
        seed=args.seed,
        timeout=args.timeout,
        work_dir=args.work_dir,
    )
    try:
        result = run_bench(options, log=sys.stderr)
    except (TcmError, OSError, ValueError) as exc:
        print(f"tcm bench: {exc}", file=sys.stderr)
        return 2
    body = render_markdown(result)
    print(body)
    if args.out_json:
        args.out_json.parent.mkdir(parents=True, exist_ok=True)
        args.out_json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if not args.no_docs:
        update_section(SECTION, body, args.docs, writer="`tcm bench`")
        print(f"wrote the '{SECTION}' section of {args.docs}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(bench_main())
