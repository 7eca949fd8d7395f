"""Run the frozen app's ``--self-test`` headless, as an installed copy would run it, and check the answer.

    python packaging/smoke_test.py                   # dist/tcm-desktop: every step must pass, retrain included
    python packaging/smoke_test.py --no-retrain      # dist/tcm-desktop-inference: retrain must say "not available"
    python packaging/smoke_test.py --dist DIR        # another one-folder build

The app runs from a temporary working folder with ``QT_QPA_PLATFORM=offscreen``,
without ``PYTHONPATH``, ``TCM_RESOURCES`` or ``TCM_MODELS``, so it can only use
what the bundle holds. It passes when the app exits 0, every step line says
PASS (or, for an inference-only build, ``retrain`` says SKIP because
``tcm-retrain`` is missing) and the model bundle came from inside the build.
Exit 0 when it passed, 1 when it did not, 2 when there is no build.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
APP = "tcm-desktop.exe" if sys.platform == "win32" else "tcm-desktop"
TIMEOUT_S = 1200
HIDDEN = ("PYTHONPATH", "PYTHONHOME", "TCM_RESOURCES", "TCM_MODELS", "TCM_DATA_DIR", "TCM_CONFIG_DIR")
EXPECTED = ("bundle", "structure", "database", "gui", "retrain")


def problems(log: str, retraining: bool, folder: Path) -> list[str]:
    """What is wrong with the self-test's output ``log`` of the build in ``folder`` (empty: it passed)."""
    found: list[str] = []
    steps = {}
    for line in log.splitlines():
        status, _, rest = line.partition(" ")
        if status in ("PASS", "FAIL", "SKIP"):
            steps[rest.split(" ", 1)[0]] = (status, line)
    for name in EXPECTED:
        status, line = steps.get(name, ("", ""))
        if not status:
            found.append(f"step {name!r} did not report")
        elif name == "retrain" and not retraining:
            if status != "SKIP" or "not available" not in line:
                found.append(f"an inference-only build must skip retrain as not available: {line}")
        elif status != "PASS":
            found.append(line)
    bundle = steps.get("bundle", ("", ""))[1]
    if bundle and str(folder) not in bundle:
        found.append(f"the model bundle did not come from inside the build: {bundle}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-retrain", action="store_true", help="the inference-only build")
    parser.add_argument("--dist", type=Path, help="the one-folder build (default: dist/tcm-desktop[-inference])")
    args = parser.parse_args(argv)
    folder = (args.dist or DIST / ("tcm-desktop-inference" if args.no_retrain else "tcm-desktop")).resolve()
    app = folder / APP
    if not app.is_file():
        option = " --no-retrain" if args.no_retrain else ""
        print(f"smoke test: no build at {folder}; run bash packaging/build.sh{option}")
        return 2
    env = {k: v for k, v in os.environ.items() if k not in HIDDEN}
    env.update(QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "2"))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tcm-smoke-") as tmp:
        log_path = Path(tmp) / "self-test.log"
        try:
            result = subprocess.run(
                [str(app), "--self-test", "--self-test-log", str(log_path)],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            print(f"smoke test: FAIL: {app.name} --self-test did not end within {TIMEOUT_S} s")
            return 1
        log = log_path.read_text(encoding="utf-8") if log_path.is_file() else ""
    seconds = time.perf_counter() - start
    print(log or result.stdout, end="")
    found = problems(log, retraining=not args.no_retrain, folder=folder)
    if result.returncode != 0:
        found.insert(0, f"{app.name} --self-test exited with {result.returncode}")
    if found:
        print(result.stderr[-3000:], file=sys.stderr)
        print(f"smoke test: FAIL ({folder.name}, {seconds:.0f} s):\n  " + "\n  ".join(found))
        return 1
    print(f"smoke test: PASS ({folder.name}, {seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
