"""A tiny trained text checkpoint, made once per test session for the tests that export or benchmark it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TINY = {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64, "lstm_hidden": 16}


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One epoch of a ``TINY`` tagger on twelve records with a symptom and a herb each."""
    pytest.importorskip("torch")
    from training.trainer import TrainConfig, Trainer

    folder = tmp_path_factory.mktemp("tiny-model")
    data = folder / "d.jsonl"
    rows = [
        {
            "id": f"R{i}",
            "text": f"腹痛{i}天，党参15g",
            "spans": [
                {"start": 0, "end": 2, "label": "SYM"},
                {"start": 5 + len(str(i)), "end": 7 + len(str(i)), "label": "HERB"},
            ],
        }
        for i in range(12)
    ]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    config = TrainConfig(
        train=[str(data)],
        dev=str(data),
        out=str(folder / "run"),
        model_overrides=TINY,
        epochs=1,
        threads=1,
        batch_size=4,
    )
    return Trainer(config).run()
