"""Measure the reliability figures and write them into docs/reliability.md.

    python scripts/reliability_report.py                          # 50 kills per kind, fuzzing x5
    python scripts/reliability_report.py --kills-per-kind 20 --fuzz-scale 2 --dry-run

Runs the reliability tests (tests/reliability) with more kills and more fuzz
examples than the default suite, collects what they measured (the tests
append JSON lines to the file named by ``TCM_RELIABILITY_STATS``) and
replaces the part of docs/reliability.md between the ``figures`` markers with
tables made from it. Nothing is written when a test fails: the figures are
those of a passing run or none.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- figures:start (scripts/reliability_report.py) -->", "<!-- figures:end -->"
REPAIRED = {
    "annotation": "-",
    "import": "orphan image files swept on open: {n}",
    "structure": "cut-short last lines dropped on resume: {n}",
    "retrain": "interrupted runs booked and their folders removed: {n}",
}
COMMITTED = {
    "annotation": "saves",
    "import": "records",
    "structure": "output lines checked",
    "retrain": "models registered",
}


def run_tests(kills: int, scale: int, stats: Path) -> tuple[int, float]:
    env = dict(os.environ)
    env.update(
        {
            "TCM_RELIABILITY_STATS": str(stats),
            "TCM_KILLS_PER_KIND": str(kills),
            "TCM_FUZZ_SCALE": str(scale),
            "QT_QPA_PLATFORM": "offscreen",
            "OMP_NUM_THREADS": "1",
        }
    )
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/reliability"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env)
    return done.returncode, time.monotonic() - started


def load(stats: Path) -> dict[str, list[dict[str, Any]]]:
    sections: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in stats.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            sections[row.pop("section")].append(row)
    return sections


def render(sections: dict[str, list[dict[str, Any]]], kills: int, scale: int, seconds: float) -> str:
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} by `python scripts/reliability_report.py --kills-per-kind {kills}"
        f" --fuzz-scale {scale}` ({seconds / 60:.1f} min on {os.cpu_count()} CPU cores, {platform.system()},"
        f" Python {platform.python_version()}). The default test suite runs the same tests with 52 kills"
        " and the fuzz counts divided by the scale.",
        "",
        "### Kills (SIGKILL at a seeded random moment, then every invariant checked)",
        "",
        "| work killed | kills | invariant checks held | work committed across the kills | leftovers repaired |",
        "|---|---:|---:|---|---|",
    ]
    total_kills = total_checks = 0
    for row in sorted(sections.get("kills", []), key=lambda r: list(REPAIRED).index(r["kind"])):
        kind = row["kind"]
        total_kills += row["kills"]
        total_checks += row["invariant_checks"]
        repaired = REPAIRED[kind].format(n=row["repaired"])
        lines.append(
            f"| {kind} | {row['kills']} | {row['invariant_checks']:,} | {row['committed']:,} {COMMITTED[kind]}"
            f" | {repaired} |"
        )
    lines += [f"| **all** | **{total_kills}** | **{total_checks:,}** | | |", ""]
    lines += [
        "Broken invariants: 0 (the run passed). Half-written records, orphaned image files left after the"
        " next open, broken output lines after a resume, models without their run: 0.",
        "",
        "### Fuzzed inputs",
        "",
        "| target | inputs | refused with a clear message | safe result |",
        "|---|---:|---:|---:|",
    ]
    total_inputs = 0
    for row in sorted(sections.get("fuzz", []), key=lambda r: r["target"]):
        refused, ok = row.get("error", 0), row.get("ok", 0)
        total_inputs += refused + ok
        lines.append(f"| {row['target']} | {refused + ok:,} | {refused:,} | {ok:,} |")
    lines += [f"| **all** | **{total_inputs:,}** | | |", "", "Crashes (an exception other than the layer's error):"]
    lines += [" 0 in this run.", "", "### Memory", ""]
    for row in sections.get("pipeline_memory", []):
        lines.append(
            f"- A {row['chars']:,}-character record: peak RSS {row['growth_mb']:.0f} MB above the loaded model"
            f" (a 10,000-character one: {row['ten_k'] - row['after_load']:.0f} MB); {row['spans']:,} spans."
        )
    for row in sections.get("image_memory", []):
        lines.append(
            f"- A {row['megapixels']} MP {row['format'].upper()} photo: decoded to {row['shape'][1]}x{row['shape'][0]}"
            f" with a peak RSS growth of {row['growth_mb']:.0f} MB."
        )
    return "\n".join(lines) + "\n"


def write(section: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{DOC} has no figures markers ({START} ... {END})")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{section}{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills-per-kind", type=int, default=50)
    parser.add_argument("--fuzz-scale", type=int, default=5, help="fuzz examples = the suite's default times this")
    parser.add_argument("--dry-run", action="store_true", help="print the figures, do not write the document")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        stats = Path(folder) / "stats.jsonl"
        code, seconds = run_tests(args.kills_per_kind, args.fuzz_scale, stats)
        if code != 0:
            print(f"the reliability tests failed (exit {code}); {DOC.name} left as it was", file=sys.stderr)
            return code
        section = render(load(stats), args.kills_per_kind, args.fuzz_scale, seconds)
    print(section)
    if not args.dry_run:
        write(section)
        print(f"wrote the figures into {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
