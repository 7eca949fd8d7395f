"""The runtime benchmark (`tcm bench`) as a script, for a checkout without the package installed.

    python bench/runtime.py [--records 200] [--long 10] [--large-records 4] [--checkpoint best.pt] ...

Same options and output as ``tcm bench`` (see :mod:`training.runtime_bench`):
it writes the ``runtime`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.runtime_bench import bench_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(bench_main())
