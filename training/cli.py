"""``tcm train``, ``tcm predict``, ``tcm bench`` ...: the training module's commands (torch; not for the GUI)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from tcm_desktop.domain import Record, Span, TcmError
from training.checkpoint import Checkpoint
from training.data import load_examples
from training.predict import TorchPredictor
from training.trainer import PRESETS, TrainConfig, train


def parse_label_map(text: str) -> dict[str, str | None]:
    """``HER=HERB,PRE=FORMULA,CAU=`` (empty target drops the label) or a JSON file of the same mapping."""
    path = Path(text)
    if path.suffix == ".json" and path.is_file():
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): (str(v) if v else None) for k, v in raw.items()}
    mapping: dict[str, str | None] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        source, sep, target = item.partition("=")
        if not sep or not source:
            raise ValueError(f"label map item {item!r} is not SOURCE=TARGET")
        mapping[source.strip()] = target.strip() or None
    return mapping


def train_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tcm train", description="Train the lexicon-enhanced BERT-BiLSTM-CRF tagger.")
    parser.add_argument(
        "--train",
        action="append",
        required=True,
        help="training data: JSONL/JSON records, BIO file, or the app's .db (repeatable)",
    )
    parser.add_argument("--out", required=True, help="run folder: last.pt (resumable), best.pt, train_config.json")
    parser.add_argument("--dev", help="dev data (default: --dev-fraction of the training data)")
    parser.add_argument("--dev-fraction", type=float, default=0.1)
    parser.add_argument("--label-map", type=parse_label_map, default={}, help="e.g. HER=HERB,PRE=FORMULA,CAU=")
    parser.add_argument("--tag-scheme", choices=["BIO", "BIOES"], default="BIO")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="student")
    parser.add_argument(
        "--model", type=json.loads, default={}, help="model overrides as JSON, e.g. '{\"lstm_hidden\": 64}'"
    )
    parser.add_argument("--no-lexicon", action="store_true", help="train without lexicon features (ablation)")
    parser.add_argument("--lexicon", help="a lexicon TSV (term<TAB>type) to use instead of the shipped one")
    parser.add_argument("--lexicon-drop", type=float, default=0.1)
    parser.add_argument("--char-noise", type=float, default=0.02)
    parser.add_argument("--max-chars", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--grad-accum", type=int, default=1)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--teacher", help="distil from this teacher checkpoint (same data and vocabulary)")
    parser.add_argument("--distill", type=json.loads, default={}, help="distillation weights as JSON")
    parser.add_argument("--init-from", help="start from the weights of this checkpoint")
    parser.add_argument("--max-train-windows", type=int)
    args = parser.parse_args(argv)
    config = TrainConfig(
        train=args.train,
        out=args.out,
        dev=args.dev,
        dev_fraction=args.dev_fraction,
        label_map=args.label_map,
        tag_scheme=args.tag_scheme,
        preset=args.preset,
        model_overrides=args.model,
        use_lexicon=not args.no_lexicon,
        lexicon_file=args.lexicon,
        lexicon_drop=args.lexicon_drop,
        char_noise=args.char_noise,
        max_chars=args.max_chars,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        lr=args.lr,
        epochs=args.epochs,
        patience=args.patience,
        seed=args.seed,
        threads=args.threads,
        teacher=args.teacher,
        distill=args.distill,
        init_from=args.init_from,
        max_train_windows=args.max_train_windows,
    )
    try:
        best = train(config)
    except (TcmError, ValueError, OSError) as exc:
        print(f"tcm train: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"best": str(best), "config": asdict(config)}, ensure_ascii=False))
    return 0


def predict_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tcm predict", description="Predict spans with a PyTorch checkpoint.")
    parser.add_argument("--model", required=True, help="checkpoint (best.pt)")
    parser.add_argument("--in", dest="source", required=True, help="records: JSONL/JSON, BIO file or .db")
    parser.add_argument("--out", required=True, help="predicted records (JSONL, interchange format)")
    args = parser.parse_args(argv)
    try:
        predictor = TorchPredictor.from_path(Path(args.model))
        examples, _ = load_examples(Path(args.source), statuses=("new", "predicted", "corrected", "verified"))
        spans = predictor.predict(examples)
    except (TcmError, ValueError, OSError) as exc:
        print(f"tcm predict: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for example in examples:
            record = Record(
                id=example.id,
                specialty=example.specialty or "general",
                text=example.text,
                spans=tuple(Span(s, e, label, example.text[s:e]) for s, e, label in spans[example.id]),
            )
            fh.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
    print(f"predicted {len(examples)} records -> {out}")
    return 0


def describe_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tcm describe-model", description="Print what a checkpoint says about itself."
    )
    parser.add_argument("checkpoint")
    args = parser.parse_args(argv)
    try:
        print(json.dumps(Checkpoint.load(Path(args.checkpoint)).describe(), ensure_ascii=False, indent=2))
    except TcmError as exc:
        print(f"tcm describe-model: {exc}", file=sys.stderr)
        return 2
    return 0


def bench_main(argv: Sequence[str] | None = None) -> int:
    """``tcm bench``: the runtime benchmark (see :mod:`training.runtime_bench`)."""
    from training.runtime_bench import bench_main as run

    return run(argv)
