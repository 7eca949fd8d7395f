"""Derive the shipped herb and formula term lists from the HerbiV tables (MIT).

Only names are taken (one per line, sorted, de-duplicated); the licence text
travels with them. Run from the project root:

    python scripts/build_lexicon.py [--source ../shared/data/lexicon]
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "resources" / "lexicon"
# A usable term is a short run of CJK characters (some HerbiV names carry
# bracketed notes or Latin; those are left out rather than guessed at).
TERM = re.compile(r"^[\u4e00-\u9fff]{2,12}$")


def names(path: Path, column: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return sorted({row[column].strip() for row in csv.DictReader(fh) if TERM.match(row[column].strip())})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/lexicon")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    herbs = names(args.source / "HerbiV_tcm.csv", "cn_name")
    formulas = names(args.source / "HerbiV_formula.csv", "name")
    (OUT / "herbiv_herbs.txt").write_text("\n".join(herbs) + "\n", encoding="utf-8")
    (OUT / "herbiv_formulas.txt").write_text("\n".join(formulas) + "\n", encoding="utf-8")
    shutil.copyfile(args.source / "HerbiV_LICENSE", OUT / "HerbiV_LICENSE")
    print(f"herbs {len(herbs)}, formulas {len(formulas)} -> {OUT}")


if __name__ == "__main__":
    main()
