"""The demo database that ``tcm-desktop --demo`` opens: generated records, built once."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tcm_desktop.demo.corpus import write_demo_corpus
from tcm_desktop.store import Database, StoreError, import_records

DEMO_RECORDS = 200
DEMO_SEED = 20241204


def ensure_demo_database(
    folder: Path,
    n: int = DEMO_RECORDS,
    seed: int = DEMO_SEED,
    on_progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Return ``folder/demo.db``, generating and importing the demo corpus first if it is not there.

    The database is built under a temporary name and moved into place when
    complete, so an interrupted build never leaves a half-filled demo.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "demo.db"
    if target.is_file():
        return target
    corpus = folder / "demo.jsonl"
    write_demo_corpus(n, corpus, seed=seed, on_progress=on_progress)
    building = folder / "demo.building.db"
    for leftover in folder.glob("demo.building.db*"):
        leftover.unlink()
    with Database.open(building, data_dir=folder / "demo_data") as db:
        report = import_records(corpus, db, who="demo", on_progress=on_progress)
    if report.imported != n:
        raise StoreError(f"demo corpus imported {report.imported} of {n} records: {report}")
    os.replace(building, target)
    return target
