"""Frozen entry of the retraining child (``tcm-retrain``), the program the GUI starts instead of ``python``.

``tcm-retrain ARGS`` is ``python -m training.retrain ARGS`` (what
:func:`tcm_desktop.frozen.retrain_command` starts). ``tcm-retrain -m MODULE
ARGS`` runs one of :data:`MODULES` as ``python -m`` would: the ONNX export
(``training.export``, ``training.fusion.export``) runs itself in a fresh interpreter with
``sys.executable -m training.export``, and in a frozen build
``sys.executable`` is this program.
"""

import multiprocessing
import runpy
import sys

MODULES = ("training.retrain", "training.export", "training.fusion.export")


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "-m":
        module = argv[1]
        if module not in MODULES:
            print(f"tcm-retrain: cannot run -m {module}; only {', '.join(MODULES)}", file=sys.stderr)
            return 2
        sys.argv = [module, *argv[2:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    from training.retrain import main as retrain_main

    return retrain_main(argv)


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main(sys.argv[1:]))
