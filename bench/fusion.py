"""Text-image fusion (issue 4, part 2): fused vs text-only, heads 4/8/12 and -AG, into docs/benchmarks.md ("fusion").

    python bench/fusion.py --runs /work/runs/fusion \
        [--variant text-only --variant fused-h8 --variant fused-h8-AG --variant fused-h4 --variant fused-h12]

Every figure is read from files the commands wrote, nothing is typed by hand:
``RUNS/pairs/pairs.json`` (``python -m training.fusion.pairs``), ``RUNS/features/sids.json``
(``python -m training.fusion.features``) and per variant ``RUNS/NAME/metrics.json``
(``python -m training.fusion.train``). A variant whose metrics are missing shows as "-".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import DOC, update_section  # noqa: E402

SECTION = "fusion"
VARIANTS = ("shipped", "text-only", "fused-h8", "fused-h8-AG", "fused-h4", "fused-h12")
BASELINE, MAIN = "text-only", "fused-h8"
TONGUE = ("TONGUE_BODY", "TONGUE_COAT")


def _read(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}"


def _shown(metrics: dict[str, Any] | None, label: str) -> dict[str, Any]:
    return ((metrics or {}).get("test") or {}).get("shown", {}).get(label, {})


def _shown_cell(metrics: dict[str, Any], label: str) -> str:
    shown = _shown(metrics, label)
    return f"{_pct(shown.get('f1'))} ({shown.get('tp', 0) + shown.get('fn', 0)})"


def _row(name: str, metrics: dict[str, Any] | None) -> str:
    if metrics is None:
        return f"| {name} | - | - | - | - | - | - | - | - | - |"
    test = metrics["test"]
    heads = "-" if metrics["heads"] is None else str(metrics["heads"])
    gate = {None: "-", True: "yes", False: "no (-AG)"}[metrics["gate"]]
    gate_mean = test["gate"].get("all")
    cells = [
        f"{metrics['variant']} (`{name}`)",
        heads,
        gate,
        _pct(test["micro"]["f1"]),
        _pct(((metrics.get("test_without_photos") or {}).get("micro") or {}).get("f1")),
        *(_shown_cell(metrics, label) for label in TONGUE),
        "-" if gate_mean is None else f"{gate_mean:.3f}",
        f"{metrics['params'] / 1e6:.3f}",
        f"{test['ms_per_record']:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def _target(rows: dict[str, dict[str, Any] | None]) -> list[str]:
    base, fused = rows.get(BASELINE), rows.get(MAIN)
    if base is None or fused is None:
        return ["Target (fused F1 on TONGUE_BODY and TONGUE_COAT >= text-only where the photo shows it): not measured."]
    parts, met = [], True
    for label in TONGUE:
        f, b = _shown(fused, label).get("f1"), _shown(base, label).get("f1")
        if f is None or b is None:
            return [f"Target: {label} not measured."]
        met &= f >= b
        parts.append(f"{label} {_pct(f)} vs {_pct(b)} ({(f - b) * 100:+.2f} points)")
    verdict = "**met**" if met else "**missed**"
    return [
        f"Target, fused (heads 8, gate) vs text-only where the photo shows the finding: {'; '.join(parts)}: {verdict}."
    ]


def _gates(rows: dict[str, dict[str, Any] | None]) -> list[str]:
    lines = []
    for name, metrics in rows.items():
        if metrics is None or metrics["gate"] is not True:
            continue
        gate = metrics["test"]["gate"]
        if gate.get("tongue") is not None and gate.get("other") is not None:
            lines.append(f"`{name}`: {gate['tongue']:.3f} inside gold tongue spans, {gate['other']:.3f} elsewhere")
    return ["Mean gate on test characters: " + "; ".join(lines) + "."] if lines else []


def _withheld(rows: dict[str, dict[str, Any] | None]) -> list[str]:
    """What the photos change: a fused model's test scores with and without them."""
    parts = []
    for name, metrics in rows.items():
        alone = (metrics or {}).get("test_without_photos")
        if not metrics or not alone:
            continue
        micro, without = metrics["test"]["micro"], alone["micro"]
        parts.append(f"`{name}` {micro['tp'] - without['tp']:+d} TP, {micro['fp'] - without['fp']:+d} FP")
    if not parts:
        return []
    return [
        "With photos vs photos withheld, same model and records (strict spans, all labels): " + "; ".join(parts) + ". "
        "The -AG row's mean gate is 1 by construction (every photo record takes the attended evidence whole)."
    ]


def _onnx(runs: Path, names: list[str]) -> list[str]:
    lines = []
    for name in names:
        report = _read(runs / name / "onnx.json")
        if report is None:
            continue
        diff, test = report["fp32_max_abs_diff"], report["int8_test"]
        shown = " and ".join(f"{label} {_pct(test['shown'][label].get('f1'))}" for label in TONGUE)
        export = f"the FP32 export differs from PyTorch by at most {diff['emissions']:.1e} (emissions)"
        export += f" and {diff['gate']:.1e} (gate) on real test windows"
        int8 = f"the dynamic-INT8 file ({report['int8_bytes'] / 1e6:.2f} MB, what a bundle ships)"
        int8 += f" scores micro F1 {_pct(test['micro']['f1'])}, {shown} on the test pairs with ONNX Runtime"
        speed = f"{test['ms_per_record']:.1f} ms/record ({report['threads']} thread(s), text model only, tokens cached)"
        lines.append(f"ONNX, `{name}`: {export}; {int8}, {speed}.")
    return lines


def render(runs: Path, names: list[str]) -> str:
    pairs, features = _read(runs / "pairs" / "pairs.json"), _read(runs / "features" / "sids.json")
    rows = {name: _read(runs / name / "metrics.json") for name in names}
    any_run = next((m for m in rows.values() if m and m["epochs"]), None)
    intro = [
        "## Text-image fusion (issue 4, part 2)",
        "",
        "Text token states (the tagger's encoder output, before the BiLSTM) attend to the image tokens of the "
        "record's tongue photo: the 4 x 4 cells of the shipped INT8 tongue classifier's last feature map "
        f"({(features or {}).get('cells', '-')} tokens of {(features or {}).get('channels', '-')} channels, the "
        "tensor its global average pool reads, exposed as an extra ONNX output; the image encoder stays frozen). "
        "A per-character gate g = sigmoid(w.[h; a] + b), times 0 for a record without a photo, admits the attended "
        "evidence: h + g a (the -AG ablation adds it whole, h + a). Every variant is fine-tuned from "
        "`tcm-text 0.2.0` the same way on the same pairs, the text-only row included (the fair baseline).",
        "",
        "**Pairs.** No real record comes with a photo, so the text is generated (`tcm demo`'s generator) and "
        "paired with real photos: a photo is paired only with generated records whose tongue truth (what their "
        "text describes) equals its manual labels mapped by `resources/schema/tongue_labels.yaml` (body colour "
        "and coat colour; an unlabelled attribute constrains nothing). Photos keep the tongue model's split by "
        f"image id (seed {(pairs or {}).get('split_seed', '-')}); each split draws records from its own generator "
        f"seed ({', '.join(f'{k} {v}' for k, v in ((pairs or {}).get('pool_seeds') or {}).items())}), records of "
        f"at most {(pairs or {}).get('max_record_chars', '-')} characters. "
        + (
            ", ".join(
                f"{split}: {pairs[split]['photos']} photos x {pairs[split]['per_photo']} = {pairs[split]['records']} "
                f"records ({pairs[split]['photos_with_label']['tongue_color']} photos with a body-colour label, "
                f"{pairs[split]['photos_with_label']['coat_color']} with a coat-colour label)"
                for split in ("train", "val", "test")
            )
            if pairs
            else ""
        )
        + ".",
        "",
        "Scores on the test pairs, strict span match: micro F1 over all labels and records; TONGUE_BODY and "
        "TONGUE_COAT F1 only on the records whose photo shows that finding (body colour / coat colour labelled), "
        'gold spans in brackets. "Photos withheld": the same fused model on the same records with image_mask 0 '
        "(its text path), i.e. how much of its score the photo carries. ms/record: PyTorch on the test pairs, "
        f"{(any_run or {}).get('threads', '-')} thread(s), windows of 256 characters in batches of 32, on a machine "
        "shared with other jobs (compare rows, not absolute values). "
        + (
            f"Training: {any_run['train_pairs']} pairs ({any_run['train_windows']} windows), "
            f"{any_run['epochs']} epoch(s), best dev micro F1 kept."
            if any_run
            else ""
        ),
        "",
        "| variant | heads | gate | micro F1 | micro F1, photos withheld | TONGUE_BODY F1 (gold) | "
        "TONGUE_COAT F1 (gold) | mean gate | params (M) | ms/record |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    table = [_row(name, rows[name]) for name in names]
    notes = _target(rows) + _gates(rows) + _withheld(rows) + _onnx(runs, names)
    return "\n".join(intro + table + [""] + [n + "\n" for n in notes])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, default=Path("/work/runs/fusion"))
    parser.add_argument("--variant", action="append", default=[], help="run folder name under RUNS; repeatable")
    parser.add_argument("--doc", type=Path, help="benchmark page (default docs/benchmarks.md)")
    args = parser.parse_args()
    body = render(args.runs, args.variant or list(VARIANTS))
    update_section(SECTION, body, args.doc or DOC)
    print(body)


if __name__ == "__main__":
    main()
