"""Print the ``train`` extra of pyproject.toml without torch and torchvision, one requirement a line.

The packaging builds install a CPU torch on their own (the Linux PyPI wheel is
the CUDA build, whose libraries must never ship) and do not freeze
torchvision; the rest of the extra comes from here so it is listed once:

    python -m pip install $(python packaging/train_requirements.py)
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
INSTALLED_APART = {"torch", "torchvision"}


def train_requirements(pyproject: Path = PYPROJECT) -> list[str]:
    with pyproject.open("rb") as fh:
        extra = tomllib.load(fh)["project"]["optional-dependencies"]["train"]
    return [req for req in extra if re.split(r"[<>=!~ ;\[]", req, maxsplit=1)[0].lower() not in INSTALLED_APART]


if __name__ == "__main__":
    sys.stdout.write("".join(f"{req}\n" for req in train_requirements()))
