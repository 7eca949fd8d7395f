"""Write measured results into docs/benchmarks.md, one named section per benchmark.

Each section sits between ``<!-- BEGIN name -->`` and ``<!-- END name -->``
markers and is replaced whole on every run, so figures in the docs always
come from a script's output and never from hand edits.

Lives in ``training`` (an installed package) so ``tcm bench`` can write its
section without the checkout's ``bench/`` folder; ``bench/report.py``
re-exports it for the scripts there.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nEvery section below is written by a script under `bench/`; do not edit by hand.\n"


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    return f"{cpu_model()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}, {platform.system()}"


def update_section(name: str, body: str, doc: Path = DOC, writer: str = "bench/") -> None:
    """Replace (or append) the section ``name`` of ``doc`` with ``body`` and a footer naming the machine."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    footer = f"_Written by {writer} on {stamp}; machine: {machine()}._"
    block = f"<!-- BEGIN {name} -->\n{body.rstrip()}\n\n{footer}\n<!-- END {name} -->"
    text = doc.read_text(encoding="utf-8") if doc.is_file() else HEADER
    pattern = re.compile(rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")
