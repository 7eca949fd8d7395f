"""Ablation -DBP: the shipped text pipeline with and without Dynamic Batch Pruning, measured here.

    python bench/dbp_ablation.py [--model models/tcm-text] [--records 200] [--long 10] [--threads 2]

With DBP the windows of a chunk of records are sorted by length and batched
under the memory budget (``tcm_desktop.inference.batching.DynamicBatcher``);
without it (``FixedBatcher``) they go 16 at a time in reading order, each
padded to the full window, as a plain batched tagger does. Both run the same
INT8 model on the same generated records (those of ``tcm bench``), each in a
process of its own (``training.runtime_bench_worker``), so records/s and peak
RSS belong to that configuration alone. Writes the ``ablation-dbp`` section
of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import update_section  # noqa: E402
from training.runtime_bench import run_worker, span_f1, write_bench_records  # noqa: E402
from training.runtime_bench_worker import WorkerSpec  # noqa: E402

FIXED_ROWS = 16
SEED = 9001  # the records of `tcm bench`


def _row(name: str, result: dict[str, Any], f1: float, base: dict[str, Any] | None) -> str:
    def ratio(key: str) -> str:
        return f" ({result[key] / base[key]:.2f}×)" if base else ""

    return (
        f"| {name} | {result['records_per_s']:.1f}{ratio('records_per_s')} | "
        f"{result['long_ms_median']:.0f}{ratio('long_ms_median')} | "
        f"{result['peak_rss_mib']:.0f}{ratio('peak_rss_mib')} | {f1 * 100:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path(__file__).resolve().parents[1] / "models" / "tcm-text")
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--long", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()[0]  # other work on the machine slows both alike; said in the section
    with tempfile.TemporaryDirectory(prefix="dbp-ablation-") as tmp:
        folder = Path(tmp)
        records = write_bench_records(folder, args.records, args.long, SEED, images=False)
        results = {}
        for name, rows in (("dbp", None), ("fixed", FIXED_ROWS)):
            spec = WorkerSpec(
                engine="pipeline",
                model=str(args.model),
                mix=str(records.mix),
                long=str(records.long),
                threads=args.threads,
                passes=args.passes,
                pred_out=str(folder / f"{name}.jsonl"),
                fixed_batch_rows=rows,
            )
            result = run_worker(spec)
            results[name] = (result, span_f1(records, folder / f"{name}.jsonl"))
    (dbp, dbp_f1), (fixed, fixed_f1) = results["dbp"], results["fixed"]
    body = (
        "## Ablation -DBP: Dynamic Batch Pruning on and off (issue 4, item 5)\n\n"
        f"The shipped INT8 text pipeline ({args.model.name}), text only, {args.threads} threads, on the records of "
        f"`tcm bench` (seed {SEED}): {records.mix_records} records in the corpus's length mix (mean "
        f"{records.mix_mean_chars:.0f} characters) and {len(records.long_chars)} records of "
        f"{min(records.long_chars):,}-{max(records.long_chars):,} characters, one at a time. With DBP the windows are "
        "sorted by length and batched under the memory budget (64 MB); -DBP batches "
        f"{FIXED_ROWS} windows in reading order, each padded to the full window. Records/s: median of "
        f"{args.passes} passes; peak RSS: the process's high-water mark; ratios against DBP. "
        f"1-minute load average {load:.2f} at the start.\n\n"
        "| configuration | records/s | ms per 5,000+ char record (median) | peak RSS MiB | span F1 |\n"
        "|---|---:|---:|---:|---:|\n"
        f"{_row('with DBP (shipped)', dbp, dbp_f1, None)}\n"
        f"{_row('-DBP (fixed batches of 16, full padding)', fixed, fixed_f1, dbp)}"
    )
    update_section("ablation-dbp", body)
    print(body)


if __name__ == "__main__":
    main()
