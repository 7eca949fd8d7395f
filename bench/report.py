"""Write measured results into docs/benchmarks.md, one named section per benchmark.

The writer lives in :mod:`training.report` (installed with the package, so
``tcm bench`` can use it too); the scripts under ``bench/`` import it from here.
"""

from __future__ import annotations

from training.report import DOC, HEADER, cpu_model, machine, update_section

__all__ = ["DOC", "HEADER", "cpu_model", "machine", "update_section"]
