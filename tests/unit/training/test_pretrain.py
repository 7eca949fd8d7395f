"""MLM pretraining on a tiny corpus, then a tagger started from its encoder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

import torch  # noqa: E402

from training.checkpoint import Checkpoint  # noqa: E402
from training.pretrain import IGNORE, PretrainConfig, mask_tokens, pretrain  # noqa: E402
from training.trainer import TrainConfig, Trainer  # noqa: E402

TINY = {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64, "lstm_hidden": 16}


def test_masking_only_touches_real_regular_tokens() -> None:
    ids = torch.tensor([[10, 11, 12, 0, 0], [13, 2, 14, 15, 16]])
    attention = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    masked, labels = mask_tokens(
        ids, attention, 1.0, mask_id=4, first_regular=6, vocab=20, generator=torch.Generator().manual_seed(0)
    )
    assert (labels[attention == 0] == IGNORE).all() and labels[1, 1] == IGNORE  # padding and specials untouched
    chosen = labels != IGNORE
    assert chosen.sum() == 7 and (labels[chosen] == ids[chosen]).all()
    assert (masked[~chosen] == ids[~chosen]).all()


def test_pretrained_encoder_is_the_starting_point_of_training(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text(
        "\n".join(["患者腹痛三天，舌淡红，苔薄白，脉细。", "咳嗽咳痰，痰色黄，发热。"] * 20), encoding="utf-8"
    )
    mlm = pretrain(
        PretrainConfig(
            text=[str(text)],
            out=str(tmp_path / "mlm"),
            model_overrides=TINY,
            epochs=4,
            lr=5e-3,
            threads=1,
            batch_size=8,
        )
    )
    ckpt = Checkpoint.load(mlm)
    losses = [h["loss"] for h in ckpt.metrics["mlm_history"]]
    assert losses[-1] < losses[0] and ckpt.labels == ()
    data = tmp_path / "train.jsonl"
    rows = [
        {"id": f"R{i}", "text": "患者腹痛三天", "spans": [{"start": 2, "end": 4, "label": "SYM"}]} for i in range(4)
    ]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    trainer = Trainer(
        TrainConfig(
            train=[str(data)],
            dev=str(data),
            out=str(tmp_path / "run"),
            init_from=str(mlm),
            model_overrides=TINY,
            epochs=1,
            threads=1,
        )
    )
    trainer._prepare()
    key = "encoder.encoder.layer.0.attention.self.query.weight"
    assert torch.equal(trainer.model.state_dict()[key], ckpt.state_dict[key])
    assert trainer.vocab == ckpt.vocab and trainer.labels == ["SYM"]
