"""Text-model benchmarks of issue 3, measured here and written into docs/benchmarks.md.

    python bench/text_model.py tcm-ner   --data ../shared/data/tcm_ner --runs /work/runs/bench
    python bench/text_model.py tcm-ner-gazetteer   # the same with the training entities as lexicon features
    python bench/text_model.py ablation  --data ../shared/data/tcm_ner --runs /work/runs/bench
    python bench/text_model.py distill   --runs /work/runs/bench   # generated corpus, scored on emr_dev too
    python bench/text_model.py shapes    --runs /work/runs/bench   # smaller encoders: F1 against INT8 speed

Each sub-command trains what it needs (resumable: a run folder with a
finished ``best.pt`` is reused, a half-done one resumes from ``last.pt``),
scores the test set and rewrites its own section of the benchmark page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import DOC, update_section  # noqa: E402
from training.checkpoint import Checkpoint  # noqa: E402
from training.data import Example, as_records, load_examples  # noqa: E402
from training.evaluation import entity_counts, evaluate  # noqa: E402
from training.predict import TorchPredictor  # noqa: E402
from training.trainer import TrainConfig, Trainer  # noqa: E402

PUBLISHED_MC_TCMNER = 94.05
TCM_NER_LABELS = ("SYM", "HER", "PRE", "CAU", "EFF")


@dataclass
class Scored:
    name: str
    checkpoint: Checkpoint
    micro_f1: float
    precision: float
    recall: float
    rare_f1: float | None
    per_label: dict[str, float]
    parameters: int
    chars_per_second: float
    epochs: int


def _speed(predictor: TorchPredictor, examples: list[Example], repeats: int = 3) -> float:
    sample = examples[:300]
    chars = sum(len(e.text) for e in sample)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        predictor.predict(sample)
        times.append(time.perf_counter() - started)
    return chars / statistics.median(times)


def train_or_reuse(config: TrainConfig) -> Path:
    best = Path(config.out) / "best.pt"
    done = Path(config.out) / "DONE"
    if best.is_file() and done.is_file():
        return best
    path = Trainer(config).run()
    done.write_text("finished\n")
    return path


def score(name: str, best: Path, train: list[Example], test: list[Example]) -> Scored:
    ckpt = Checkpoint.load(best)
    predictor = TorchPredictor.from_checkpoint(ckpt)
    predicted = predictor.predict(test)
    report = evaluate(as_records(test), as_records(test, predicted), entity_counts(as_records(train)))
    return Scored(
        name=name,
        checkpoint=ckpt,
        micro_f1=report.micro.f1 * 100,
        precision=report.micro.precision * 100,
        recall=report.micro.recall * 100,
        rare_f1=report.rare.f1 * 100 if report.rare else None,
        per_label={label: s.f1 * 100 for label, s in report.per_label.items()},
        parameters=predictor.model.parameter_count(),
        chars_per_second=_speed(predictor, test),
        epochs=len(ckpt.metrics.get("history", [])),
    )


def _tcm_ner(data: Path) -> tuple[list[Example], list[Example]]:
    train, _ = load_examples(data / "train.txt", labels=set(TCM_NER_LABELS))
    test, _ = load_examples(data / "test.txt", labels=set(TCM_NER_LABELS))
    return train, test


def _base(data: Path, out: Path, **changes: object) -> TrainConfig:
    """The tcm_ner recipe: up to 20 epochs, 10% of train.txt held out for early stopping."""
    config = TrainConfig(
        train=[str(data / "train.txt")],
        out=str(out),
        dev_fraction=0.1,
        max_chars=256,
        epochs=20,
        patience=3,
        batch_size=16,
        lr=1e-3,
        seed=13,
    )
    for key, value in changes.items():
        setattr(config, key, value)
    return config


def _row(s: Scored) -> str:
    rare = f"{s.rare_f1:.2f}" if s.rare_f1 is not None else "-"
    return (
        f"| {s.name} | {s.micro_f1:.2f} | {s.precision:.2f} | {s.recall:.2f} | {rare} | "
        f"{s.parameters / 1e6:.2f} M | {s.chars_per_second:,.0f} | {s.epochs} |"
    )


def _head(threads: int) -> str:
    return (
        f"| model | micro F1 | P | R | rare-entity F1 | parameters | chars/s (torch, {threads} thread(s)) | epochs |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|"
    )


def cmd_tcm_ner(args: argparse.Namespace) -> None:
    train, test = _tcm_ner(args.data)
    s = score("student + lexicon", train_or_reuse(_base(args.data, args.runs / "ner_student_lex")), train, test)
    intro = (
        "## Text model on tcm_ner (issue 3a)\n\n"
        f"Trained on `tcm_ner/train.txt` ({len(train):,} sentences; 10% held out for early stopping), "
        f"scored on `test.txt` ({len(test):,} sentences), strict span match, the corpus's own five types. "
        "No downloaded weights: every weight was trained on this machine."
    )
    _write_tcm_ner("text-tcm-ner", intro, s, args)


def _write_tcm_ner(section: str, intro: str, s: Scored, args: argparse.Namespace) -> None:
    """A tcm_ner section: ``intro``, the row of ``s`` beside the published figure, F1 per type, the target."""
    per_label = " | ".join(f"{k} {v:.2f}" for k, v in s.per_label.items())
    target = "met" if s.micro_f1 >= 92 else "missed"
    body = (
        f"{intro}\n\n{_head(args.threads)}\n{_row(s)}\n"
        f"| published MC-TCMNER (MMM 2024) | {PUBLISHED_MC_TCMNER:.2f} | | | | | | |\n\n"
        f"Per type F1: {per_label}. Target >= 92 micro F1: **{target}**."
    )
    update_section(section, body, args.doc)
    print(body)


def cmd_tcm_ner_gazetteer(args: argparse.Namespace) -> None:
    """The tcm_ner recipe with the training entities as extra lexicon types (a gazetteer) beside the shipped
    lexicon: the dictionary yardstick's knowledge given to the tagger as features."""
    from bench.tcm_ner_dictionary import EntityDictionary, choose_share
    from tcm_desktop.inference.lexicon import Lexicon, format_lexicon

    train, test = _tcm_ner(args.data)
    share, _ = choose_share(train)
    gazetteer = EntityDictionary(train, share).terms
    shipped = Lexicon.load()
    types = [*shipped.types, *(f"TRAIN_{label}" for label in TCM_NER_LABELS)]
    entries = [*shipped.entries, *((term, f"TRAIN_{label}") for term, label in gazetteer.items())]
    lexicon_file = args.runs / "tcm_ner_gazetteer.tsv"
    lexicon_file.parent.mkdir(parents=True, exist_ok=True)
    lexicon_file.write_text(format_lexicon(entries, types), encoding="utf-8")
    # every training entity is in the gazetteer, 88 % of the test ones: drop features more often than usual
    # so that the tagger also learns the entities from their context
    config = _base(args.data, args.runs / "ner_student_gazetteer", lexicon_file=str(lexicon_file), lexicon_drop=0.3)
    s = score("student + lexicon + training-entity gazetteer", train_or_reuse(config), train, test)
    intro = (
        "## Text model on tcm_ner with a gazetteer of the training entities (issue 3a)\n\n"
        f"The recipe of the tcm_ner table, plus {len(gazetteer):,} entity strings of `train.txt` as five more "
        f"lexicon types (the dictionary yardstick's list, r = {share:.1f}: strings annotated in at least that share "
        "of their occurrences), lexicon features dropped at rate 0.3 in training."
    )
    _write_tcm_ner("text-tcm-ner-gazetteer", intro, s, args)


def cmd_ablation(args: argparse.Namespace) -> None:
    train, test = _tcm_ner(args.data)
    with_lex = score("with lexicon", train_or_reuse(_base(args.data, args.runs / "ner_student_lex")), train, test)
    without = score(
        "without lexicon",
        train_or_reuse(_base(args.data, args.runs / "ner_student_nolex", use_lexicon=False)),
        train,
        test,
    )
    gain = (with_lex.rare_f1 or 0) - (without.rare_f1 or 0)
    body = (
        "## Lexicon ablation (issue 3b)\n\n"
        "Same student, same data and seed as above; rare entities are those whose (type, text) occurs "
        "fewer than 5 times in the training file.\n\n"
        f"{_head(args.threads)}\n{_row(with_lex)}\n{_row(without)}\n\n"
        f"Rare-entity F1 gain from the lexicon: **{gain:+.2f}** points "
        f"(micro F1 {with_lex.micro_f1 - without.micro_f1:+.2f})."
    )
    update_section("text-lexicon-ablation", body, args.doc)
    print(body)


SHIPPED_STUDENT = Path(__file__).resolve().parents[1] / "models" / "tcm-text-0.2.0.checkpoint.pt"
STUDENT_SHAPE = {"num_layers": 2, "hidden_size": 256, "num_heads": 4, "intermediate_size": 1024}


def _generated(train: Path, dev: Path, out: Path, **changes: object) -> TrainConfig:
    """The recipe of the shipped student (tcm-text 0.2.0): 2 epochs on the generated corpus, dev for early stop."""
    recipe: dict[str, object] = {"dev": str(dev), "model_overrides": dict(STUDENT_SHAPE), "epochs": 2, "patience": 1}
    config = _base(train.parent, out, **{**recipe, **changes})
    config.train = [str(train)]
    return config


def cmd_distill(args: argparse.Namespace) -> None:
    """Teacher (TinyBERT-4 shape) vs the shipped student trained alone vs the same student distilled,
    all on the generated corpus with the same recipe; scored on generated dev and on emr_dev."""
    train, _ = load_examples(args.gen_train)
    dev, _ = load_examples(args.gen_dev)
    emr, _ = load_examples(args.emr)
    teacher_best = train_or_reuse(
        _generated(args.gen_train, args.gen_dev, args.runs / "gen_teacher", model_overrides={}, threads=args.threads)
    )
    distilled_best = train_or_reuse(
        _generated(
            args.gen_train,
            args.gen_dev,
            args.runs / "gen_student_distilled",
            teacher=str(teacher_best),
            threads=args.threads,
        )
    )
    models = [
        ("teacher (4L/312/12 heads, TinyBERT-4 shape)", teacher_best),
        ("student alone (2L/256/4 heads; tcm-text 0.2.0)", args.student_alone),
        ("student distilled from the teacher", distilled_best),
    ]
    rows_dev = [score(name, best, train, dev) for name, best in models]
    rows_emr = [score(name, best, train, emr) for name, best in models]
    head = _head(args.threads)
    body = (
        "## Distillation (issue 3c)\n\n"
        "TinyBERT-style distillation in one stage: embedding, hidden-state (student layer m <- teacher layer 2m) and "
        "attention MSE, soft prediction loss and the gold CRF loss, from a teacher trained first. All three on the "
        f"same generated corpus ({len(train):,} records, `tcm demo --seed 101`), same recipe (2 epochs, lr 1e-3, "
        "lexicon features, seed 13). emr_dev: realistic notes written apart from the generator (evaluation only). "
        "Rare entities: fewer than 5 times in the training data. "
        f"chars/s: PyTorch FP32, {args.threads} thread(s), on the scored set.\n\n"
        f"Generated dev ({len(dev)} records):\n\n{head}\n" + "\n".join(_row(r) for r in rows_dev) + "\n\n"
        f"emr_dev ({len(emr)} records):\n\n{head}\n" + "\n".join(_row(r) for r in rows_emr)
    )
    update_section("text-distillation", body, args.doc)
    print(body)


# Smaller encoders for CPUs without fast integer GEMMs (issue 5); the shipped student is the first row.
SHAPES: dict[str, dict[str, int]] = {
    "2L/128, FFN 512, BiLSTM 2x64": {
        "num_layers": 2, "hidden_size": 128, "num_heads": 4, "intermediate_size": 512, "lstm_hidden": 64,
    },
    "1L/192, FFN 768, BiLSTM 2x64": {
        "num_layers": 1, "hidden_size": 192, "num_heads": 4, "intermediate_size": 768, "lstm_hidden": 64,
    },
}  # fmt: skip


def _slug(name: str) -> str:
    return "gen_shape_" + "".join(c if c.isalnum() else "_" for c in name.split(",")[0]).lower()


def cmd_shapes(args: argparse.Namespace) -> None:
    """The shipped student against smaller shapes, same recipe: F1 (generated dev, emr_dev) against the speed
    of each INT8 bundle in the runtime (text only, the records of `tcm bench`, a process per bundle)."""
    from training.bundle import build_bundle
    from training.runtime_bench import run_worker, write_bench_records
    from training.runtime_bench_worker import WorkerSpec

    train, _ = load_examples(args.gen_train)
    dev, _ = load_examples(args.gen_dev)
    emr, _ = load_examples(args.emr)
    baseline = args.runs / "gen_student_alone" / "bundle"  # its own export: models/tcm-text may ship another
    if not (baseline / "manifest.json").is_file():
        build_bundle(args.student_alone, baseline, version="shape-baseline")
    candidates = [("2L/256, FFN 1024, BiLSTM 2x128 (tcm-text 0.2.0)", args.student_alone, baseline)]
    for name, shape in SHAPES.items():
        distil = args.teacher is not None and any(name.startswith(prefix) for prefix in args.distill_shapes)
        for suffix, teacher in [("", None)] + ([(" distilled", str(args.teacher))] if distil else []):
            out = args.runs / (_slug(name) + suffix.replace(" ", "_"))
            recipe = {"model_overrides": dict(shape), "threads": args.threads, "teacher": teacher}
            best = train_or_reuse(_generated(args.gen_train, args.gen_dev, out, **recipe))
            bundle = out / "bundle"
            if not (bundle / "manifest.json").is_file():
                build_bundle(best, bundle, version="shape-candidate")
            candidates.append((name + suffix, best, bundle))
    load = os.getloadavg()[0]
    lines = []
    with tempfile.TemporaryDirectory(prefix="text-shapes-") as tmp:
        records = write_bench_records(Path(tmp), args.bench_records, args.bench_long, 9001, images=False)
        for name, best, bundle in candidates:
            on_dev, on_emr = score(name, best, train, dev), score(name, best, train, emr)
            spec = WorkerSpec(engine="pipeline", model=str(bundle), mix=str(records.mix), long=str(records.long),
                              threads=args.threads, passes=3)  # fmt: skip
            speed = run_worker(spec)
            onnx_mb = (bundle / "text.onnx").stat().st_size / 1e6
            lines.append(
                f"| {name} | {on_dev.parameters / 1e6:.2f} M | {on_dev.micro_f1:.2f} | {on_emr.micro_f1:.2f} | "
                f"{onnx_mb:.1f} | {speed['records_per_s']:.1f} | {speed['long_ms_median']:.0f} | "
                f"{speed['peak_rss_mib']:.0f} |"
            )
    body = (
        "## Text encoder size against speed (issue 5)\n\n"
        "Same recipe as the shipped student (generated corpus `tcm demo --seed 101`, 2 epochs, lr 1e-3, lexicon "
        "features, seed 13); only the encoder and BiLSTM widths differ (*distilled*: also TinyBERT-style losses from "
        "the teacher of the distillation table). F1: strict span micro F1 in PyTorch on the "
        "generated dev set and on emr_dev (realistic notes written apart from the generator). Speed: the INT8 ONNX "
        f"bundle in `TextPipeline`, text only, {args.threads} thread(s), on the records of `tcm bench` (seed 9001: "
        f"{records.mix_records} corpus-mix records, mean {records.mix_mean_chars:.0f} characters, and "
        f"{len(records.long_chars)} of 5,000+ characters), a process per bundle, median of 3 passes; 1-minute load "
        f"average {load:.2f} at the start.\n\n"
        "| encoder | parameters | generated dev F1 | emr_dev F1 | text.onnx MB | records/s | ms per 5,000+ char "
        "record | peak RSS MiB |\n|---|---:|---:|---:|---:|---:|---:|---:|\n" + "\n".join(lines)
    )
    update_section("text-shapes", body, args.doc)
    print(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["tcm-ner", "tcm-ner-gazetteer", "ablation", "distill", "shapes"])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/tcm_ner")
    parser.add_argument("--runs", type=Path, default=Path("/work/runs/bench"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--doc", type=Path, default=DOC, help="benchmark page to update")
    parser.add_argument("--bench-records", type=int, default=200, help="shapes: corpus-mix records timed")
    parser.add_argument("--bench-long", type=int, default=10, help="shapes: 5,000+ character records timed")
    parser.add_argument("--gen-train", type=Path, default=Path("/work/runs/data/gen2_train.jsonl"), help="distill")
    parser.add_argument("--gen-dev", type=Path, default=Path("/work/runs/data/gen2_dev.jsonl"), help="distill")
    parser.add_argument(
        "--emr", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/emr_dev/records.jsonl"
    )
    parser.add_argument("--student-alone", type=Path, default=SHIPPED_STUDENT, help="distill: the student alone")
    parser.add_argument("--teacher", type=Path, help="shapes: also distil shapes from this teacher checkpoint")
    parser.add_argument(
        "--distill-shapes", nargs="+", default=[""], help="shapes: distil only the shapes whose name starts so"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    commands = {
        "tcm-ner": cmd_tcm_ner,
        "tcm-ner-gazetteer": cmd_tcm_ner_gazetteer,
        "ablation": cmd_ablation,
        "distill": cmd_distill,
        "shapes": cmd_shapes,
    }
    commands[args.command](args)


if __name__ == "__main__":
    main()
