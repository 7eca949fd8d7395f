"""The tables of ``tcm bench``: figures per configuration, ratios against (a), the issue's targets.

Pure Python (no torch, no ONNX Runtime): :mod:`training.runtime_bench`
fills these from its worker processes, and the tests check the logic with
hand-made numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MB = 1e6


# ---------------------------------------------------------------- measurements


@dataclass(frozen=True)
class Measured:
    """One configuration's figures, as the tables show them."""

    key: str  # "a", "a+image", "b", "c"
    title: str
    records_per_s: float
    chars_per_s: float
    long_ms_median: float | None
    peak_rss_mib: float | None
    cold_start_s: float
    size_bytes: int
    records: int  # records timed for records/s
    long_records: int
    note: str = ""

    @classmethod
    def from_worker(cls, key: str, title: str, raw: Mapping[str, Any], mix_mean_chars: float | None = None) -> Measured:
        """``mix_mean_chars``: project records/s from chars/s (a configuration timed on a subset)."""
        chars_per_s = float(raw["chars_per_s"])
        records_per_s = chars_per_s / mix_mean_chars if mix_mean_chars else float(raw["records_per_s"])
        return cls(
            key=key,
            title=title,
            records_per_s=records_per_s,
            chars_per_s=chars_per_s,
            long_ms_median=raw.get("long_ms_median"),
            peak_rss_mib=raw.get("peak_rss_mib"),
            cold_start_s=float(raw["cold_start_s"]),
            size_bytes=int(raw["size_bytes"]),
            records=int(raw["records"]),
            long_records=int(raw["long_records"]),
        )


def ratios(row: Measured, base: Measured) -> dict[str, float | None]:
    """Each figure of ``row`` divided by the same figure of ``base`` (None where either is missing or 0)."""

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    return {
        "records_per_s": ratio(row.records_per_s, base.records_per_s),
        "long_ms_median": ratio(row.long_ms_median, base.long_ms_median),
        "peak_rss_mib": ratio(row.peak_rss_mib, base.peak_rss_mib),
        "cold_start_s": ratio(row.cold_start_s, base.cold_start_s),
        "size_bytes": ratio(row.size_bytes, base.size_bytes),
    }


# ---------------------------------------------------------------- targets


@dataclass(frozen=True)
class RuntimeTargets:
    """The issue's targets for the shipped pipeline on a 2-core CPU without a GPU."""

    min_records_per_s: float = 60.0
    max_peak_rss_mib: float = 300.0
    max_bundle_mb: float = 25.0
    max_long_ms: float = 250.0
    max_cold_start_s: float = 1.0
    min_speedup_vs_large: float = 5.0
    max_f1_gap_points: float = 0.8


@dataclass(frozen=True)
class TargetRow:
    target: str
    measured: str
    status: str  # "met", "missed" or "not measured"

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def _status(ok: bool | None) -> str:
    return "not measured" if ok is None else "met" if ok else "missed"


def check_targets(
    rows: Mapping[str, Measured],
    f1: Mapping[str, float],
    targets: RuntimeTargets = RuntimeTargets(),
) -> list[TargetRow]:
    """Each target with what was measured and met / missed / not measured.

    The shipped pipeline is ``rows["a+image"]`` when it was measured, else
    ``rows["a"]`` (and the records/s figure says it is text only). The
    speed-up over (c) compares text with text: ``rows["a"]`` against
    ``rows["c"]``. ``f1`` holds micro F1 in [0, 1] under "a" and "b".
    """
    t = targets
    text = rows["a"]
    shipped = rows.get("a+image", text)
    only_text = "" if "a+image" in rows else " (text only: no image model in the bundle)"
    out = [
        TargetRow(
            f"text+image >= {t.min_records_per_s:g} records/s on the corpus mix",
            f"{shipped.records_per_s:.1f} records/s{only_text}",
            _status(shipped.records_per_s >= t.min_records_per_s),
        )
    ]
    rss = shipped.peak_rss_mib
    out.append(
        TargetRow(
            f"peak RSS of the inference process <= {t.max_peak_rss_mib:g} MiB",
            f"{rss:.0f} MiB" if rss is not None else "-",
            _status(None if rss is None else rss <= t.max_peak_rss_mib),
        )
    )
    size_mb = shipped.size_bytes / MB
    out.append(TargetRow(f"bundle <= {t.max_bundle_mb:g} MB", f"{size_mb:.1f} MB", _status(size_mb <= t.max_bundle_mb)))
    long_ms = shipped.long_ms_median
    out.append(
        TargetRow(
            f"a 5,000-character record <= {t.max_long_ms:g} ms",
            f"{long_ms:,.0f} ms (median of {shipped.long_records})" if long_ms is not None else "-",
            _status(None if long_ms is None else long_ms <= t.max_long_ms),
        )
    )
    out.append(
        TargetRow(
            f"model load to first prediction <= {t.max_cold_start_s:g} s",
            f"{shipped.cold_start_s:.2f} s",
            _status(shipped.cold_start_s <= t.max_cold_start_s),
        )
    )
    large = rows.get("c")
    speedup = text.records_per_s / large.records_per_s if large is not None and large.records_per_s else None
    out.append(
        TargetRow(
            f">= {t.min_speedup_vs_large:g}x the records/s of (c) BERT-Large",
            f"{speedup:.1f}x" if speedup is not None else "-",
            _status(None if speedup is None else speedup >= t.min_speedup_vs_large),
        )
    )
    gap = (f1["a"] - f1["b"]) * 100 if "a" in f1 and "b" in f1 else None
    out.append(
        TargetRow(
            f"F1 of the INT8 pipeline within {t.max_f1_gap_points:g} points of the FP32 model",
            f"{f1['a'] * 100:.2f} vs {f1['b'] * 100:.2f} ({gap:+.2f})" if gap is not None else "-",
            _status(None if gap is None else abs(gap) <= t.max_f1_gap_points),
        )
    )
    return out


# ---------------------------------------------------------------- output


def figure(value: float) -> str:
    """A figure with about three significant digits: 1,234 / 61.3 / 3.25 / 0.50 / 0.0281."""
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 0.1 or size == 0:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _cell(value: float | None, ratio: float | None, base: bool) -> str:
    if value is None:
        return "-"
    return figure(value) if base or ratio is None else f"{figure(value)} ({figure(ratio)}×)"


def _load_note(load: float | None) -> str:
    return "" if load is None else f"; 1-minute load average {load:.2f} at the start"


def render_markdown(result: Mapping[str, Any]) -> str:
    """The ``runtime`` section: configurations with ratios against (a), targets, F1 and the machine."""
    rows = {key: Measured(**row) for key, row in result["rows"].items()}
    machine = result["machine"]
    records = result["records"]
    versions = ", ".join(f"{name} {machine[name]}" for name in ("onnxruntime", "torch") if name in machine)
    lines = [
        "## Runtime (`tcm bench`)",
        "",
        f"One run over the same generated records (seed {result['settings']['seed']}): {records['mix']} records "
        f"in the corpus's length mix (mean {records['mix_mean_chars']:,.0f} characters, {records['mix_over_5000']} "
        f"over 5,000) and {records['long']} records of "
        f"{min(records['long_chars'], default=0):,}-{max(records['long_chars'], default=0):,} characters. "
        "Each configuration runs in a process of its own on the CPU; records/s is the median of "
        f"{result['settings']['passes']} passes after a warm-up, cold start runs from before importing the "
        "inference libraries to the first prediction returned, peak RSS is the process's high-water mark. "
        "Figures in parentheses are ratios against (a), text.",
        "",
        f"Machine: {machine['cpu']}, {machine['logical_cpus']} logical CPUs, {machine['threads']} threads used "
        "((a): that many model batches side by side, one ONNX Runtime thread each, and the tongue photos on a "
        "thread of their own beside the text; (b), (c): PyTorch intra-op threads), "
        f"CPU only; {versions}; {result['date'][:10]}{_load_note(machine.get('load_average'))}.",
        "",
        "| configuration | records/s | chars/s | ms per 5,000+ char record (median) | peak RSS MiB | "
        "cold start s | bundle MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, row in rows.items():
        r = result["ratios"][key]
        base = key == "a"
        lines.append(
            f"| {row.title} | {_cell(row.records_per_s, r['records_per_s'], base)} "
            f"| {figure(row.chars_per_s)} "
            f"| {_cell(row.long_ms_median, r['long_ms_median'], base)} "
            f"| {_cell(row.peak_rss_mib, r['peak_rss_mib'], base)} "
            f"| {_cell(row.cold_start_s, r['cold_start_s'], base)} "
            f"| {_cell(row.size_bytes / MB, r['size_bytes'], base)} |"
        )
    notes = [f"{row.title.split(' ', 1)[0]} {row.note}." for row in rows.values() if row.note]
    notes += [f"({key}) not measured: {why}." for key, why in result["skipped"].items()]
    notes.append(
        "Bundle MB: (a) every file of the bundle folder; (b) and (c) the bytes of their FP32 weights and buffers."
    )
    lines += [""] + [f"- {note}" for note in notes]
    f1 = result["f1"]
    if f1:
        scored = ", ".join(f"({key}) {value * 100:.2f}" for key, value in f1.items())
        lines += [
            "",
            f"Strict span micro F1 on the same {records['mix'] + records['long']} records (gold spans from the "
            f"generator): {scored}.",
        ]
    lines += ["", "### Targets (2-core CPU, no GPU)", "", "| target | measured | status |", "|---|---|---|"]
    lines += [f"| {t['target']} | {t['measured']} | **{t['status']}** |" for t in result["targets"]]
    return "\n".join(lines) + "\n"
