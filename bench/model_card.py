"""Score the shipped text model and write its model card (docs/model_card_text.md) and metrics.

    python bench/model_card.py --checkpoint runs/gen_student/best.pt --bundle models/tcm-text \
        --gen-dev data/gen_dev.jsonl --emr-dev ../shared/data/emr_dev/records.jsonl

The card says what the model was trained on (with hashes), the commit, and
strict span scores on held-out generated records and on emr_dev (records
written independently of the generator: the figure that matters for real
notes). Every number in the card comes from this script's run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import machine  # noqa: E402
from tcm_desktop.domain import Record, Span  # noqa: E402
from training.checkpoint import Checkpoint  # noqa: E402
from training.data import Example  # noqa: E402
from training.evaluation import EvaluationReport, evaluate, read_jsonl_records  # noqa: E402
from training.predict import TorchPredictor  # noqa: E402

CARD = Path(__file__).resolve().parents[1] / "docs" / "model_card_text.md"


def score(predictor: TorchPredictor, path: Path, labels: list[str]) -> EvaluationReport:
    gold = read_jsonl_records(path)
    examples = [Example(r.id, r.text, ()) for r in gold]
    found = predictor.predict(examples)
    pred = [
        Record(
            id=r.id,
            specialty=r.specialty,
            text=r.text,
            spans=tuple(Span(s, e, lb, r.text[s:e]) for s, e, lb in found[r.id]),
        )
        for r in gold
    ]
    return evaluate(gold, pred, labels=labels)


def _table(report: EvaluationReport) -> str:
    rows = ["| category | P | R | F1 | gold |", "|---|---:|---:|---:|---:|"]
    for label, s in report.per_label.items():
        rows.append(f"| {label} | {s.precision * 100:.1f} | {s.recall * 100:.1f} | {s.f1 * 100:.1f} | {s.tp + s.fn} |")
    return "\n".join(rows)


def _score_row(name: str, r: EvaluationReport) -> str:
    m = r.micro
    return (
        f"| {name} | {r.records} | {m.precision * 100:.1f} | {m.recall * 100:.1f} | {m.f1 * 100:.1f} "
        f"| {r.macro_f1 * 100:.1f} |"
    )


def _lineage(ckpt: Checkpoint) -> str:
    """Sentences on the checkpoint training started from and on the teacher, when there were any."""
    out = ""
    init = ckpt.train_config.get("init_from")
    if init:
        out += f"\nTraining started from the weights of `{Path(init).name}`."
    teacher = ckpt.train_config.get("teacher")
    if teacher:
        shape = Checkpoint.load(Path(teacher)).model_config if Path(teacher).is_file() else None
        described = f" ({shape.num_layers} layers, hidden {shape.hidden_size})" if shape else ""
        out += (
            f"\nDistilled from a larger teacher{described} trained first on generated records (`{Path(teacher).name}`; "
            "TinyBERT-style embedding, hidden-state, attention and prediction losses beside the gold CRF loss)."
        )
    return out


def rebuild_bundle(checkpoint: Path, bundle: Path, version: str | None, metrics: dict[str, Any]) -> None:
    """Export ``checkpoint`` into ``bundle`` with ``metrics``, keeping the tongue photo models the bundle had,
    and ship the checkpoint beside it (``<name>-<version>.checkpoint.pt``, named in the manifest) so that
    retraining in the app fine-tunes it."""
    from training.bundle import build_bundle, carry_image_models, update_manifest

    old = json.loads((bundle / "manifest.json").read_text(encoding="utf-8")) if bundle.exists() else {}
    name, version = old.get("name", "tcm-text"), version or old.get("version")
    with tempfile.TemporaryDirectory(prefix="model-card-") as tmp:
        previous = Path(tmp) / "previous"
        if bundle.exists():
            shutil.copytree(bundle, previous)
        manifest = build_bundle(checkpoint, bundle, name, version, metrics)
        if previous.exists():
            carry_image_models(bundle, previous)
    shipped = bundle.parent / f"{name}-{manifest['version']}.checkpoint.pt"
    if checkpoint.resolve() != shipped.resolve():
        shutil.copyfile(checkpoint, shipped)
    update_manifest(bundle, checkpoint=os.path.relpath(shipped, bundle))  # not a hashed file: the bundle stays valid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--bundle", type=Path, help="bundle folder whose manifest gets the metrics (rebuilt)")
    parser.add_argument("--gen-dev", type=Path, required=True)
    parser.add_argument("--emr-dev", type=Path, required=True)
    parser.add_argument("--metrics-out", type=Path, default=Path("metrics.json"))
    parser.add_argument("--version", help="the rebuilt bundle's version (default: keep the old one)")
    parser.add_argument("--card", type=Path, default=CARD, help="where the model card goes")
    args = parser.parse_args()
    torch.set_num_threads(2)
    ckpt = Checkpoint.load(args.checkpoint)
    predictor = TorchPredictor.from_checkpoint(ckpt)
    labels = list(ckpt.labels)
    gen = score(predictor, args.gen_dev, labels)
    emr = score(predictor, args.emr_dev, labels)
    metrics = {
        "generated_dev": {
            "micro_f1": gen.micro.f1,
            "precision": gen.micro.precision,
            "recall": gen.micro.recall,
            "macro_f1": gen.macro_f1,
            "records": gen.records,
        },
        "emr_dev": {
            "micro_f1": emr.micro.f1,
            "precision": emr.micro.precision,
            "recall": emr.micro.recall,
            "macro_f1": emr.macro_f1,
            "records": emr.records,
            "per_label_f1": {k: v.f1 for k, v in emr.per_label.items()},
        },
    }
    args.metrics_out.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    if args.bundle:
        rebuild_bundle(args.checkpoint, args.bundle, args.version, metrics)
    sources = "\n".join(
        f"- `{Path(s['path']).name}`: {s['examples']} records, sha256 {s['sha256']}"
        for s in ckpt.data.get("sources", [])
    )
    history = ckpt.metrics.get("history", [])
    layers = f"{ckpt.model_config.num_layers} layer" + ("s" if ckpt.model_config.num_layers != 1 else "")
    card = f"""# Model card: shipped text model

_Written by `bench/model_card.py`; every figure below is from its run. Machine: {machine()}._

## What it is
A character tagger for the 23 categories of `resources/schema/labels.yaml`: a TinyBERT-shaped encoder
({layers}, hidden {ckpt.model_config.hidden_size}, {ckpt.model_config.num_heads} heads,
FFN {ckpt.model_config.intermediate_size}) trained from scratch (no downloaded weights), lexicon features
({len(ckpt.lexicon_types)} types, lexicon version `{ckpt.lexicon_version}`) added to its embeddings, a BiLSTM
(2 x {ckpt.model_config.lstm_hidden}) and a CRF over {ckpt.scheme.name} tags. {predictor.model.parameter_count():,}
parameters. Code commit `{ckpt.commit}`, checkpoint created {ckpt.created}.

## Data
Trained only on records generated by `tcm demo` (the project's own generator and curated vocabulary; herb and
formula names partly from HerbiV, MIT). No patient data, no tcm_ner, no emr_dev in training.
{sources}

{ckpt.data.get("train_windows", "?")} training windows of at most {ckpt.train_config.get("max_chars")} characters,
{len(history)} epochs (early stopping on the generated dev set).{_lineage(ckpt)}

## Scores (strict span match)
| set | records | micro P | micro R | micro F1 | macro F1 |
|---|---:|---:|---:|---:|---:|
{_score_row("generated dev (another seed)", gen)}
{_score_row("emr_dev (written independently)", emr)}

The gap between the two rows is how far generated text is from real notes; emr_dev is the figure to trust.

### emr_dev per category
{_table(emr)}

## Limits
- Trained on generated text only; categories whose real phrasing the generator covers poorly score lower on emr_dev.
- Torch FP32 scores; the shipped bundle is the INT8 ONNX export of the same weights.
"""
    args.card.parent.mkdir(parents=True, exist_ok=True)
    args.card.write_text(card, encoding="utf-8")
    print(card)


if __name__ == "__main__":
    main()
