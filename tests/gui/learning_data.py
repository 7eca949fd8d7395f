"""Data for the active-learning GUI tests, made by the tests: generated records verified through the store."""

from __future__ import annotations

import json
from pathlib import Path

from tcm_desktop.demo.generator import generate_records
from tcm_desktop.domain.retraining import RetrainOptions
from tcm_desktop.store import Database

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "models" / "tcm-text"
SHIPPED_VERSION = f"tcm-text@{json.loads((SHIPPED / 'manifest.json').read_text(encoding='utf-8'))['version']}"
# A model small enough to train in seconds on a CPU: one epoch, a few windows.
TINY = RetrainOptions(
    epochs=1,
    new_model=True,  # not the shipped checkpoint: a tiny one trains in seconds
    replay_records=10,
    model_overrides={"hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64, "lstm_hidden": 16},
    max_train_windows=8,
    max_chars=128,
    threads=1,
)


def verified_database(path: Path, n: int = 12, seed: int = 11) -> Database:
    """``n`` generated records, each saved and verified by a clinician through the store."""
    db = Database.open(path)
    for generated in generate_records(n, seed=seed):
        record = generated.record
        db.records.add(record)
        db.annotations.save(record.id, record.spans, record.form, who="dr.li", verify=True)
    return db


def write_fake_python(folder: Path, stdout: str, exit_code: int, stderr: str = "") -> Path:
    """A stand-in interpreter (POSIX shell) that ignores its arguments and prints ``stdout``."""
    script = folder / "fake_python.sh"
    lines = ["#!/bin/sh", f"printf '%b' '{stdout}'"]
    if stderr:
        lines.append(f"printf '%s\\n' '{stderr}' >&2")
    lines.append(f"exit {exit_code}")
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    script.chmod(0o755)
    return script
