"""Pruning sweeps of the tongue classifier (issue 4, item 5), into docs/benchmarks.md.

    python bench/tongue_sweep.py --run /work/runs/tongue --data ../shared/data/tongue \
        [--ratios 0.3 0.5 0.7] [--hidden 64 128 256] [--hidden-ratio 0.5] \
        [--episodes 40] [--finetune-epochs 3] [--threads 1] [--report-only]

Two tables, mirroring the reference study's: the pruning ratio (share of the unpruned
parameters and MACs removed) for L1 uniform and memory-constrained pruning, and the width
of the decision network's LSTM at one ratio. Every setting is a ``tcm prune-tongue`` run in
``RUN/sweep/<name>`` scored by ``tcm evaluate-tongue --classifier`` (test split, crops around
the segmenter's box, FP32 torch), both of which skip what is already done, so the sweep
resumes where it stopped. The tables are read back from those files only. The sweep's
search and fine-tuning are shorter than the shipped model's (``--episodes``,
``--finetune-epochs``): compare rows with each other, not with the tongue-pruning table.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import DOC, update_section  # noqa: E402
from bench.tongue_pruning import mean_f1, pct, read_json  # noqa: E402
from training.tongue.evaluate import evaluate_tongue_main  # noqa: E402
from training.tongue.prune import REPORT, prune_tongue_main  # noqa: E402

RATIO_SECTION, HIDDEN_SECTION = "tongue-pruning-ratio", "tongue-policy-hidden"
DEFAULT_HIDDEN = 64  # tcm prune-tongue's default; its ratio-sweep run doubles as the hidden sweep's row


@dataclass(frozen=True)
class Setting:
    pruner: str
    ratio: float  # share of the unpruned parameters (and MACs) removed
    hidden: int = DEFAULT_HIDDEN

    @property
    def name(self) -> str:
        suffix = f"_h{self.hidden}" if self.pruner == "memory" and self.hidden != DEFAULT_HIDDEN else ""
        return f"{self.pruner}_r{round(self.ratio * 100)}{suffix}"


@dataclass(frozen=True)
class SweepOptions:
    run: Path
    data: Path
    episodes: int = 40
    finetune_epochs: int = 3
    threads: int = 1
    batch_size: int = 32
    calibration_batches: int = 4


def settings(ratios: list[float], hiddens: list[int], hidden_ratio: float) -> list[Setting]:
    grid = [Setting(pruner, ratio) for ratio in ratios for pruner in ("l1", "memory")]
    grid += [Setting("memory", hidden_ratio, hidden) for hidden in hiddens]
    return list(dict.fromkeys(grid))  # the default width at the hidden ratio is already in the grid


def measure(setting: Setting, options: SweepOptions) -> Path:
    """Prune, fine-tune and score one setting (each step skipped when its file says it is done)."""
    out = options.run / "sweep" / setting.name
    report = read_json(out / REPORT)
    if report is None or report.get("status") != "done":
        budget = f"{1 - setting.ratio:.4f}"
        args = ["--checkpoint", str(options.run / "classifier" / "best.pt"), "--data", str(options.data),
                "--out", str(out), "--pruner", setting.pruner, "--budget-params", budget, "--budget-macs", budget,
                "--episodes", str(options.episodes), "--policy-hidden", str(setting.hidden),
                "--finetune-epochs", str(options.finetune_epochs), "--batch-size", str(options.batch_size),
                "--calibration-batches", str(options.calibration_batches),
                "--threads", str(options.threads)]  # fmt: skip
        if prune_tongue_main(args) != 0:
            raise SystemExit(f"tcm prune-tongue failed for {setting.name}")
    if not (out / "metrics.json").is_file():
        _evaluate(options, ["--classifier", str(out / "best.pt")])
    return out


def _evaluate(options: SweepOptions, extra: list[str]) -> None:
    args = ["--run", str(options.run), "--data", str(options.data), "--threads", str(options.threads), *extra]
    if evaluate_tongue_main(args) != 0:
        raise SystemExit(f"tcm evaluate-tongue failed ({' '.join(extra) or 'unpruned'})")


def _facts(folder: Path) -> dict[str, Any] | None:
    report, metrics = read_json(folder / REPORT), read_json(folder / "metrics.json")
    if report is None:
        return None
    info = report["plan"]["info"]
    test = (metrics or {}).get("classifier", {}).get("test_predicted_box")
    return {
        "ratio": report["ratio"],
        "after": report["after"],
        "val": report["val_mean_macro_f1"],
        "test": mean_f1(test),
        "source": report["source_sha256"],
        "search_minutes": report["seconds"]["search"] / 60,
        "finetune_asked": report.get("finetune", {}).get("asked"),
        "finetune_best": report.get("finetune", {}).get("epochs"),  # the epoch kept (best on validation)
        "episodes": info.get("episodes_run"),
        "plans": info.get("plans_scored"),
        "proxy": info.get("best_proxy_score"),
        "source_of_plan": info.get("best_source"),
    }


def _cell(facts: dict[str, Any] | None, key: str) -> str:
    return pct(facts[key]) if facts and facts.get(key) is not None else "-"


def render_ratio(rows: dict[float, dict[str, dict[str, Any] | None]], unpruned: float | None) -> str:
    lines = [
        "| pruning ratio | L1: params / MACs kept (%) | L1 val F1 before / after fine-tuning | L1 test F1 | "
        "memory: params / MACs kept (%) | memory val F1 before / after fine-tuning | memory test F1 | "
        "memory - L1 (test) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| 0 % (unpruned) | 100.0 / 100.0 | - | {pct(unpruned)} | 100.0 / 100.0 | - | {pct(unpruned)} | - |",
    ]
    for ratio, by in sorted(rows.items()):
        cells = []
        for pruner in ("l1", "memory"):
            f = by.get(pruner)
            kept = f"{pct(f['ratio']['params'])} / {pct(f['ratio']['macs'])}" if f else "-"
            val = f"{pct(f['val']['pruned_before_finetune'])} / {pct(f['val'].get('finetuned'))}" if f else "-"
            cells += [kept, val, _cell(f, "test")]
        l1, mc = by.get("l1"), by.get("memory")
        gap = f"{(mc['test'] - l1['test']) * 100:+.1f}" if l1 and mc and None not in (l1["test"], mc["test"]) else "-"
        lines.append(f"| {ratio * 100:.0f} % | " + " | ".join(cells) + f" | {gap} |")
    return "\n".join(lines)


def summary(rows: dict[float, dict[str, dict[str, Any] | None]]) -> str:
    """Memory-constrained against L1 over the ratios both were measured at: after fine-tuning (test) and right
    after pruning (validation, what the search rewards)."""
    pairs = [(l1, mc) for by in rows.values() if (l1 := by.get("l1")) and (mc := by.get("memory"))]
    tested = [(mc["test"] - l1["test"]) * 100 for l1, mc in pairs if l1["test"] is not None and mc["test"] is not None]
    if not tested:
        return ""
    ahead = sum(mc["val"]["pruned_before_finetune"] > l1["val"]["pruned_before_finetune"] for l1, mc in pairs)
    return (
        f"Memory-constrained minus L1, test F1, mean over {len(tested)} ratios: **{sum(tested) / len(tested):+.1f}** "
        f"points (from {min(tested):+.1f} to {max(tested):+.1f}). Right after pruning (validation, BatchNorm "
        f"recalibrated: the search's reward) memory-constrained is ahead at {ahead} of {len(pairs)} ratios."
    )


def render_hidden(rows: dict[int, dict[str, Any] | None]) -> str:
    lines = [
        "| LSTM hidden | episodes | distinct plans scored | best validation proxy | plan from | "
        "params / MACs kept (%) | val F1 after fine-tuning | test F1 | search (min) |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for hidden, f in sorted(rows.items()):
        if f is None:
            lines.append(f"| {hidden} | - | - | - | - | - | - | - | - |")
            continue
        lines.append(
            f"| {hidden} | {f['episodes']} | {f['plans']} | {_cell(f, 'proxy')} | {f['source_of_plan']} | "
            f"{pct(f['ratio']['params'])} / {pct(f['ratio']['macs'])} | {pct(f['val'].get('finetuned'))} | "
            f"{_cell(f, 'test')} | {f['search_minutes']:.1f} |"
        )
    return "\n".join(lines)


def report(grid: list[Setting], options: SweepOptions, hidden_ratio: float, doc: Path) -> str:
    facts = {s: _facts(options.run / "sweep" / s.name) for s in grid}
    sources = {f["source"] for f in facts.values() if f}
    if len(sources) > 1:
        raise SystemExit(f"the sweep's runs come from different checkpoints {sorted(sources)}; compare like with like")
    unpruned = mean_f1((read_json(options.run / "metrics.json") or {}).get("classifier", {}).get("test_predicted_box"))
    by_ratio: dict[float, dict[str, dict[str, Any] | None]] = {}
    for s in grid:
        if s.hidden == DEFAULT_HIDDEN:
            by_ratio.setdefault(s.ratio, {})[s.pruner] = facts[s]
    by_hidden = {s.hidden: facts[s] for s in grid if s.pruner == "memory" and s.ratio == hidden_ratio}
    done = [f for f in facts.values() if f]
    epochs = sorted({f["finetune_asked"] for f in done if f["finetune_asked"] is not None})
    episodes = sorted({f["episodes"] for f in done if f["episodes"] is not None})
    recipe = (
        f"Sweep recipe: the same unpruned checkpoint for every row; budget = (1 - ratio) of its parameters and of "
        f"its MACs; widths in multiples of 16; {', '.join(map(str, epochs)) or '-'} fine-tuning epochs (the epoch best "
        f"on validation kept); "
        f"REINFORCE episodes {', '.join(map(str, episodes)) or '-'}; {options.threads} CPU thread(s). "
        "F1 = mean macro-F1 over the four attributes (percent); test = test split, crops around the segmenter's "
        "box, FP32 torch. Shorter search and fine-tuning than the shipped model's: compare rows with each other."
    )
    ratio_body = (
        "## Tongue pruning: ratio sweep (issue 4, item 5)\n\n"
        f"{recipe}\n\n{render_ratio(by_ratio, unpruned)}\n\n{summary(by_ratio)}"
    )
    hidden_body = (
        "## Tongue pruning: decision-network LSTM width (issue 4, item 5)\n\n"
        f"Memory-constrained pruning at ratio {hidden_ratio * 100:.0f} % with the policy LSTM's hidden size changed "
        f"and nothing else. {recipe}\n\n{render_hidden(by_hidden)}"
    )
    update_section(RATIO_SECTION, ratio_body, doc)
    update_section(HIDDEN_SECTION, hidden_body, doc)
    return ratio_body + "\n\n" + hidden_body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=Path("/work/runs/tongue"), help="run of tcm train-tongue")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/tongue")
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.3, 0.5, 0.7])
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--hidden-ratio", type=float, default=0.5)
    parser.add_argument("--episodes", type=int, default=40)
    parser.add_argument("--finetune-epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--calibration-batches", type=int, default=4)
    parser.add_argument("--report-only", action="store_true", help="only rewrite the tables from what is there")
    parser.add_argument("--doc", type=Path, default=DOC)
    args = parser.parse_args(argv)
    options = SweepOptions(args.run, args.data, args.episodes, args.finetune_epochs, args.threads, args.batch_size,
                           args.calibration_batches)  # fmt: skip
    grid = settings(args.ratios, args.hidden, args.hidden_ratio)
    if not args.report_only:
        for setting in grid:
            measure(setting, options)
            print(f"[sweep] {setting.name} done", flush=True)
        if not (args.run / "metrics.json").is_file():  # after the first pruning, which writes the run's split
            _evaluate(options, [])
    print(report(grid, options, args.hidden_ratio, args.doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
