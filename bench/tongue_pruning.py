"""Pruning the tongue classifier: unpruned vs L1 vs memory-constrained, into docs/benchmarks.md ("tongue-pruning").

    python bench/tongue_pruning.py --run /work/runs/tongue \
        [--strategy l1=/work/runs/tongue/pruned_l1 --strategy memory=/work/runs/tongue/pruned_mc] \
        [--unpruned-bundle /work/runs/tongue/bundle]

Every figure is read from files the commands wrote; nothing is typed by hand. Per pruned
strategy, its folder holds ``pruning.json`` (``tcm prune-tongue``: parameters and MACs
before and after as torch-pruning counts them, the plan, the search, timings),
``metrics.json`` (``tcm evaluate-tongue --classifier FOLDER/best.pt``, and with
``--bundle FOLDER/bundle`` the INT8 pipeline's scores and milliseconds) and
``bundle/manifest.json`` (``tcm export-image-model``: the INT8 file's bytes). The unpruned
row reads ``RUN/metrics.json`` and the unpruned bundle's manifest; its parameters and MACs
are the pruning reports' "before" (all reports must come from the same checkpoint). A
figure whose file is missing shows as "-".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import DOC, update_section  # noqa: E402

SECTION = "tongue-pruning"
NAMES = {"none": "unpruned", "l1": "L1 uniform", "memory": "memory-constrained (LSTM + REINFORCE)"}
TARGET_MB = 10.0


def _kept_epoch(finetune: dict[str, Any]) -> str:
    """Which fine-tuning epoch the result is: the best on validation, 0 for the network before fine-tuning."""
    asked, kept = finetune.get("asked", "-"), finetune.get("epochs", "-")
    if kept == 0 and asked not in (0, "-"):
        return f"{asked} epochs asked, none beat the recalibrated network on validation: kept"
    return f"epoch {kept} of {asked} kept, best on validation"


def read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}"


def mean_f1(per_attribute: dict[str, dict[str, float]] | None) -> float | None:
    if not per_attribute:
        return None
    return sum(s["macro_f1"] for s in per_attribute.values()) / len(per_attribute)


def load_strategy(name: str, folder: Path, run: Path, unpruned_bundle: Path) -> dict[str, Any]:
    """What the files say about one strategy (``none``: the run's own classifier)."""
    if name == "none":
        metrics, manifest, report = read_json(run / "metrics.json"), read_json(unpruned_bundle / "manifest.json"), None
    else:
        metrics, manifest = read_json(folder / "metrics.json"), read_json(folder / "bundle" / "manifest.json")
        report = read_json(folder / "pruning.json")
    classifier = (metrics or {}).get("classifier", {})
    if name != "none" and classifier and Path(classifier.get("checkpoint", "")).parent != folder.resolve():
        print(f"warning: {folder}/metrics.json scores {classifier.get('checkpoint')}", file=sys.stderr)
    onnx = (metrics or {}).get("onnx", {}).get("int8", {})
    facts = (manifest or {}).get("image", {}).get("classifier", {})
    return {
        "name": name,
        "report": report,
        "test": classifier.get("test_predicted_box"),
        "int8": onnx.get("per_attribute"),
        "ms": onnx.get("ms_per_image_single_median"),
        "threads": (metrics or {}).get("onnx", {}).get("threads"),
        "bytes": facts.get("bytes"),
    }


def _sizes(rows: list[dict[str, Any]]) -> dict[str, dict[str, int] | None]:
    reports = [r["report"] for r in rows if r["report"]]
    sources = {r["source_sha256"] for r in reports}
    if len(sources) > 1:
        raise SystemExit(
            f"the pruning reports come from different checkpoints {sorted(sources)}; compare like with like"
        )
    before = reports[0]["before"] if reports else None
    return {r["name"]: (r["report"]["after"] if r["report"] else before) for r in rows}


def _table(rows: list[dict[str, Any]]) -> str:
    sizes = _sizes(rows)
    base = sizes.get("none")
    attributes = next((list(r["test"]) for r in rows if r["test"]), [])
    head = (
        "| strategy | params (M) | % of unpruned | MACs (M) | % of unpruned | INT8 ONNX (MB) | mean macro-F1 | "
        + " | ".join(f"{a} acc / F1" for a in attributes)
        + " | INT8 mean macro-F1 | ms per photo |"
    )
    lines = [head, "|---|" + "---:|" * (8 + len(attributes))]
    for row in rows:
        size = sizes.get(row["name"])
        params = f"{size['params'] / 1e6:.2f}" if size else "-"
        macs = f"{size['macs'] / 1e6:.0f}" if size else "-"
        p_share = pct(size["params"] / base["params"]) if size and base else "-"
        m_share = pct(size["macs"] / base["macs"]) if size and base else "-"
        mb = f"{row['bytes'] / 1e6:.2f}" if row["bytes"] else "-"
        test = row["test"] or {}
        per = [f"{pct(test[a]['accuracy'])} / {pct(test[a]['macro_f1'])}" if a in test else "-" for a in attributes]
        ms = f"{row['ms']:.1f}" if row["ms"] is not None else "-"
        lines.append(
            f"| {NAMES.get(row['name'], row['name'])} | {params} | {p_share} | {macs} | {m_share} | {mb} | "
            f"{pct(mean_f1(row['test']))} | " + " | ".join(per) + f" | {pct(mean_f1(row['int8']))} | {ms} |"
        )
    return "\n".join(lines)


def _stages(rows: list[dict[str, Any]]) -> str:
    """Channels kept per ResNet stage (all its groups together), per pruned strategy."""
    pruned = [r for r in rows if r["report"]]
    if not pruned:
        return ""
    stages: dict[str, dict[str, list[int]]] = {}
    for row in pruned:
        for group in row["report"]["groups"]:
            parts = group["name"].split(".")
            stage = parts[1] if len(parts) > 2 and parts[1].startswith("layer") else "stem"
            kept = stages.setdefault(stage, {}).setdefault(row["name"], [0, 0])
            kept[0] += group["kept"]
            kept[1] += group["channels"]
    head = "| stage | " + " | ".join(f"{NAMES[r['name']]} channels kept (%)" for r in pruned) + " |"
    lines = [head, "|---|" + "---:|" * len(pruned)]
    for stage, by in stages.items():
        lines.append(f"| {stage} | " + " | ".join(pct(by[r["name"]][0] / by[r["name"]][1]) for r in pruned) + " |")
    return "\n".join(lines)


def _budget(budget: dict[str, float | None]) -> str:
    parts = [f"{name} <= {pct(value)} %" for name, value in (("params", budget["params"]), ("MACs", budget["macs"]))]
    return " and ".join(p for p, v in zip(parts, (budget["params"], budget["macs"]), strict=True) if v is not None)


def _notes(rows: list[dict[str, Any]]) -> list[str]:
    by = {r["name"]: r for r in rows}
    notes = []
    for row in rows:
        report = row["report"]
        if not report:
            continue
        val = report["val_mean_macro_f1"]
        seconds = report["seconds"]
        line = (
            f"**{NAMES[row['name']]}**: budget {_budget(report['budget'])} of the unpruned network, widths in "
            f"multiples of {report['round_to']}; validation mean macro-F1 {pct(val['unpruned'])} unpruned, "
            f"{pct(val['pruned_before_finetune'])} right after pruning (BatchNorm recalibrated), "
            f"{pct(val.get('finetuned'))} after fine-tuning ({_kept_epoch(report.get('finetune', {}))}); "
            f"search {seconds['search'] / 60:.1f} min, fine-tuning {seconds.get('finetune', 0) / 60:.1f} min on "
            f"{report['threads']} CPU thread(s)."
        )
        info = report["plan"]["info"]
        if "history" in info:
            line += (
                f" {info['episodes_run']} REINFORCE episodes ({info['plans_scored']} distinct plans scored); the plan "
                f"kept is from {info['best_source']} (episode {info['best_episode']}), validation proxy "
                f"{pct(info['best_proxy_score'])}."
            )
        notes.append(line)
    if "l1" in by and "memory" in by:
        l1, mc = mean_f1(by["l1"]["test"]), mean_f1(by["memory"]["test"])
        if l1 is not None and mc is not None:
            better = "memory-constrained" if mc >= l1 else "L1 uniform"
            notes.append(
                f"Same budget, test mean macro-F1: memory-constrained {pct(mc)} vs L1 {pct(l1)} "
                f"({(mc - l1) * 100:+.1f} points); the better one here is **{better}**."
            )
    for row in rows:
        if row["name"] != "none" and row["bytes"]:
            met = "met" if row["bytes"] / 1e6 <= TARGET_MB else "missed"
            notes.append(
                f"{NAMES[row['name']]}: INT8 classifier {row['bytes'] / 1e6:.2f} MB, target <= {TARGET_MB:g} MB "
                f"**{met}**."
            )
    return notes


def render(rows: list[dict[str, Any]]) -> str:
    threads = next((r["threads"] for r in rows if r["threads"]), None)
    return (
        "## Tongue classifier pruning (issue 4, item 3)\n\n"
        "The ResNet-50 attribute classifier pruned to a parameter budget by two strategies that differ only in how "
        "many channels each channel group keeps: *L1 uniform* (one keep ratio everywhere, the largest that fits) and "
        "*memory-constrained* (an LSTM decision network over the 37 prunable groups, trained by REINFORCE on the "
        "validation macro-F1 of BatchNorm-recalibrated pruned networks, budget enforced). Both remove the channels "
        "of least L1 norm with torch-pruning's dependency graph and are fine-tuned alike. Scores are on the test "
        "split, crops around the segmenter's box (as in the app); parameters and MACs per 112 px image as "
        "torch-pruning counts them; ms per photo is the whole INT8 pipeline (segmenter + classifier, JPEG in), "
        f"median of single photos, {threads or '-'} threads.\n\n"
        f"{_table(rows)}\n\n"
        f"{_stages(rows)}\n\n" + "\n\n".join(_notes(rows))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=Path("/work/runs/tongue"))
    parser.add_argument("--strategy", action="append", default=[], help="NAME=FOLDER (l1, memory); repeatable")
    parser.add_argument("--unpruned-bundle", type=Path, help="the unpruned bundle (default RUN/bundle)")
    parser.add_argument("--doc", type=Path, help="benchmark page (default docs/benchmarks.md)")
    args = parser.parse_args()
    folders = dict(s.split("=", 1) for s in args.strategy) or {
        "l1": str(args.run / "pruned_l1"),
        "memory": str(args.run / "pruned_mc"),
    }
    unknown = set(folders) - set(NAMES)
    if unknown:
        raise SystemExit(f"unknown strategies {sorted(unknown)}; use {sorted(NAMES)[:2]}")
    bundle = args.unpruned_bundle or args.run / "bundle"
    rows = [load_strategy("none", args.run, args.run, bundle)]
    rows += [load_strategy(name, Path(folder).resolve(), args.run, bundle) for name, folder in folders.items()]
    body = render(rows)
    update_section(SECTION, body, args.doc or DOC)
    print(body)


if __name__ == "__main__":
    main()
