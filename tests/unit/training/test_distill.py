"""TinyBERT-style distillation: layer mapping, finite components, each one falling while the student learns."""

from __future__ import annotations

import pytest
import torch

from training.distill import DistillationLoss, DistillWeights, layer_mapping
from training.model import Tagger, TaggerConfig


def config(hidden: int, layers: int, heads: int = 4) -> TaggerConfig:
    return TaggerConfig(
        vocab_size=40,
        num_tags=3,
        num_lexicon_features=8,
        hidden_size=hidden,
        num_layers=layers,
        num_heads=heads,
        intermediate_size=2 * hidden,
        max_positions=64,
        lstm_hidden=16,
        dropout=0.0,
    )


def data() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    mask = torch.ones(4, 12, dtype=torch.int64)
    mask[-1, 7:] = 0
    return {
        "input_ids": torch.randint(1, 40, (4, 12), generator=gen) * mask,
        "attention_mask": mask,
        "lexicon": (torch.rand(4, 12, 8, generator=gen) > 0.8).float(),
        "tags": torch.randint(0, 3, (4, 12), generator=gen),
    }


@pytest.mark.parametrize(
    ("student", "teacher", "expected"),
    [(4, 8, [2, 4, 6, 8]), (4, 6, [1, 3, 4, 6]), (2, 2, [1, 2]), (3, 12, [4, 8, 12]), (1, 5, [5])],
)
def test_layer_mapping_is_uniform_and_ends_on_the_last_layer(student: int, teacher: int, expected: list[int]) -> None:
    assert layer_mapping(student, teacher) == expected


def _run(student: Tagger, teacher: Tagger, loss_fn: DistillationLoss, batch: dict[str, torch.Tensor]):
    args = (batch["input_ids"], batch["attention_mask"], batch["lexicon"])
    with torch.no_grad():
        t_out = teacher(*args, output_hidden=True, output_attentions=True)
    s_out = student(*args, output_hidden=True, output_attentions=True)
    gold = student.loss(s_out.emissions, batch["tags"], batch["attention_mask"])
    return loss_fn(s_out, t_out, batch["attention_mask"], gold)


def _like_a_trained_teacher(model: Tagger) -> None:
    # A freshly initialised model has near-zero attention scores and near-uniform
    # tag distributions; a trained teacher has neither.
    with torch.no_grad():
        for layer in model.encoder.encoder.layer:
            layer.attention.self.query.weight.normal_(std=0.3)
            layer.attention.self.key.weight.normal_(std=0.3)
        model.classifier.weight.mul_(20.0)


@pytest.mark.parametrize("teacher_heads", [4, 2])
def test_every_component_is_finite_and_decreases_with_a_frozen_teacher(teacher_heads: int) -> None:
    torch.manual_seed(0)
    s_cfg, t_cfg = config(32, 2), config(48, 4, heads=teacher_heads)
    student, teacher = Tagger(s_cfg), Tagger(t_cfg).eval()
    _like_a_trained_teacher(teacher)
    teacher.requires_grad_(False)
    loss_fn = DistillationLoss(s_cfg, t_cfg, DistillWeights(temperature=2.0))
    assert loss_fn.mapping == [2, 4]
    optimiser = torch.optim.Adam([*student.parameters(), *loss_fn.parameters()], lr=3e-3)
    batch = data()
    # Gold tags the teacher agrees with, as after a trained teacher: no component pulls against another.
    with torch.no_grad():
        emissions = teacher(batch["input_ids"], batch["attention_mask"], batch["lexicon"]).emissions
    batch["tags"] = emissions.argmax(-1)
    history = []
    for _ in range(30):
        total, parts = _run(student, teacher, loss_fn, batch)
        optimiser.zero_grad()
        total.backward()
        optimiser.step()
        history.append(parts)
    first, last = history[0], history[-1]
    assert set(first) == {"embedding", "hidden", "attention", "prediction", "gold", "total"}
    for name in first:
        assert all(torch.isfinite(torch.tensor(h[name])) for h in history), name
        assert last[name] < first[name], name


def test_zero_weight_components_are_skipped_and_need_no_outputs() -> None:
    s_cfg, t_cfg = config(32, 2), config(48, 4)
    student, teacher = Tagger(s_cfg), Tagger(t_cfg).eval()
    batch = data()
    args = (batch["input_ids"], batch["attention_mask"], batch["lexicon"])
    prediction_stage = DistillWeights(embedding=0.0, hidden=0.0, attention=0.0)
    assert not prediction_stage.needs_hidden and not prediction_stage.needs_attentions
    s_out, t_out = student(*args), teacher(*args)
    gold = student.loss(s_out.emissions, batch["tags"], batch["attention_mask"])
    total, parts = DistillationLoss(s_cfg, t_cfg, prediction_stage)(s_out, t_out, batch["attention_mask"], gold)
    assert set(parts) == {"prediction", "gold", "total"}
    assert total.item() == pytest.approx(parts["prediction"] + parts["gold"], rel=1e-5)
    with pytest.raises(ValueError, match="needs both models"):
        DistillationLoss(s_cfg, t_cfg, DistillWeights())(s_out, t_out, batch["attention_mask"], gold)


def test_prediction_loss_is_lowest_when_the_student_copies_the_teacher() -> None:
    s_cfg = config(32, 2)
    loss_fn = DistillationLoss(s_cfg, s_cfg, DistillWeights(embedding=0, hidden=0, attention=0, gold=0))
    teacher = torch.randn(2, 5, 3)
    mask = torch.ones(2, 5, dtype=torch.bool)
    copied = loss_fn._prediction_loss(teacher, teacher, mask)
    other = loss_fn._prediction_loss(torch.randn(2, 5, 3), teacher, mask)
    assert copied < other


def test_mismatched_tag_sets_are_refused() -> None:
    with pytest.raises(ValueError, match="tags"):
        DistillationLoss(
            config(32, 2), TaggerConfig.from_dict({**config(48, 4).to_dict(), "num_tags": 5}), DistillWeights()
        )
