"""A real (tiny) training run end to end: overfit, checkpoint round trip, resume, predict."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

pytest.importorskip("torch")

from training.checkpoint import Checkpoint, CheckpointError  # noqa: E402
from training.cli import predict_main, train_main  # noqa: E402
from training.predict import TorchPredictor, span_scores  # noqa: E402
from training.trainer import TrainConfig, Trainer  # noqa: E402

TINY = {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64, "lstm_hidden": 16}
SYMPTOMS = ["腹痛", "咳嗽", "发热", "便血", "头痛", "乏力", "纳差"]
HERBS = ["党参", "白术", "茯苓", "甘草", "当归"]


def _records(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        text, spans = "", []
        for _ in range(rng.randint(1, 3)):
            if text:
                text += "，"
            if rng.random() < 0.4:
                text += "无"
                spans.append({"start": len(text) - 1, "end": len(text), "label": "NEGATION"})
            word = rng.choice(SYMPTOMS)
            spans.append({"start": len(text), "end": len(text) + len(word), "label": "SYM"})
            text += word
        text += "。处方："
        herb, dose = rng.choice(HERBS), f"{rng.randint(5, 30)}g"
        spans.append({"start": len(text), "end": len(text) + 2, "label": "HERB"})
        spans.append({"start": len(text) + 2, "end": len(text) + 2 + len(dose), "label": "DOSE"})
        text += herb + dose + "。"
        for s in spans:
            s["text"] = text[s["start"] : s["end"]]
        rows.append({"id": f"T{i:03d}", "specialty": "general", "text": text, "spans": spans})
    return rows


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _records(20)), encoding="utf-8")
    return path


def _config(data: Path, out: Path, **changes: object) -> TrainConfig:
    base = dict(
        train=[str(data)],
        dev=str(data),
        out=str(out),
        model_overrides=TINY,
        epochs=40,
        patience=40,
        lr=1e-2,
        batch_size=4,
        char_noise=0.0,
        lexicon_drop=0.0,
        warmup_fraction=0.0,
        seed=3,
        threads=1,
    )
    base.update(changes)
    return TrainConfig(**base)  # type: ignore[arg-type]


def test_tiny_model_overfits_20_records_to_f1_one(data: Path, tmp_path: Path) -> None:
    best = Trainer(_config(data, tmp_path / "run")).run()
    ckpt = Checkpoint.load(best)
    assert ckpt.metrics["dev"]["f1"] == pytest.approx(1.0)
    assert list(ckpt.labels) == ["DOSE", "HERB", "NEGATION", "SYM"]
    assert ckpt.describe()["tag_scheme"]["name"] == "BIO" and ckpt.lexicon_version
    # the checkpoint alone rebuilds a model that predicts the same spans
    predictor = TorchPredictor.from_checkpoint(ckpt)
    gold_rows = _records(20)
    from training.data import Example

    examples = [
        Example(r["id"], r["text"], tuple((s["start"], s["end"], s["label"]) for s in r["spans"])) for r in gold_rows
    ]
    scores = span_scores({e.id: list(e.spans) for e in examples}, predictor.predict(examples))
    assert scores["f1"] == pytest.approx(1.0)


def test_resume_continues_from_the_last_epoch(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    Trainer(_config(data, out, epochs=2)).run()
    first = Checkpoint.load(out / "last.pt")
    assert first.progress["epoch"] == 2
    Trainer(_config(data, out, epochs=3)).run()
    resumed = Checkpoint.load(out / "last.pt")
    assert resumed.progress["epoch"] == 3
    assert [h["epoch"] for h in resumed.metrics["history"]] == [1, 2, 3]


def test_cli_train_and_predict_write_interchange_records(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    status = train_main(
        [
            "--train",
            str(data),
            "--out",
            str(out),
            "--epochs",
            "1",
            "--model",
            json.dumps(TINY),
            "--threads",
            "1",
            "--no-lexicon",
        ]
    )
    assert status == 0 and (out / "best.pt").is_file()
    assert Checkpoint.load(out / "best.pt").lexicon_version is None
    pred = tmp_path / "pred.jsonl"
    assert predict_main(["--model", str(out / "best.pt"), "--in", str(data), "--out", str(pred)]) == 0
    rows = [json.loads(line) for line in pred.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 20 and all(s["text"] == r["text"][s["start"] : s["end"]] for r in rows for s in r["spans"])


def test_bad_checkpoints_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint"):
        Checkpoint.load(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read"):
        Checkpoint.load(junk)
