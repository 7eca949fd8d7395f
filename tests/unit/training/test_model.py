"""The tagger: shapes, padding, training signal, legal decoding, self-describing config and constraints."""

from __future__ import annotations

import pytest
import torch

from training.model import FORBIDDEN_SCORE, Tagger, TaggerConfig, TaggerOutput

O, B, I = 0, 1, 2  # noqa: E741 - the tag names
BIO_TRANSITIONS = [(O, O), (O, B), (B, B), (B, I), (B, O), (I, I), (I, O), (I, B)]  # never O -> I
BIO_STARTS = [O, B]


def tiny(**overrides: object) -> TaggerConfig:
    base: dict[str, object] = {
        "vocab_size": 40,
        "num_tags": 3,
        "num_lexicon_features": 8,
        "hidden_size": 32,
        "num_layers": 2,
        "num_heads": 4,
        "intermediate_size": 64,
        "max_positions": 64,
        "lstm_hidden": 16,
    }
    return TaggerConfig(**{**base, **overrides})  # type: ignore[arg-type]


def batch(rows: int = 3, length: int = 10, features: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    mask = torch.ones(rows, length, dtype=torch.int64)
    mask[-1, length // 2 :] = 0
    return {
        "input_ids": torch.randint(1, 40, (rows, length), generator=gen) * mask,
        "attention_mask": mask,
        "lexicon": (torch.rand(rows, length, features, generator=gen) > 0.8).to(torch.uint8),
        "tags": torch.randint(0, 3, (rows, length), generator=gen),
    }


@pytest.mark.parametrize("lstm_hidden", [16, 0])
def test_output_shapes(lstm_hidden: int) -> None:
    config = tiny(lstm_hidden=lstm_hidden)
    model = Tagger(config).eval()
    data = batch()
    out = model(data["input_ids"], data["attention_mask"], data["lexicon"], output_hidden=True, output_attentions=True)
    assert isinstance(out, TaggerOutput)
    assert out.emissions.shape == (3, 10, 3)
    assert out.hidden_states is not None and len(out.hidden_states) == config.num_layers + 1
    assert all(h.shape == (3, 10, 32) for h in out.hidden_states)
    assert out.attentions is not None and len(out.attentions) == config.num_layers
    assert all(a.shape == (3, 4, 10, 10) for a in out.attentions)
    plain = model(data["input_ids"], data["attention_mask"], data["lexicon"])
    assert plain.hidden_states is None and plain.attentions is None
    torch.testing.assert_close(plain.emissions, out.emissions)


def test_attentions_are_raw_scores_not_probabilities() -> None:
    model = Tagger(tiny()).eval()
    data = batch()
    out = model(data["input_ids"], data["attention_mask"], data["lexicon"], output_attentions=True)
    assert out.attentions is not None
    assert not torch.allclose(out.attentions[0].sum(-1), torch.ones(1))
    assert (out.attentions[0] < 0).any()


@pytest.mark.parametrize("lstm_hidden", [16, 0])
def test_padding_does_not_change_real_positions(lstm_hidden: int) -> None:
    model = Tagger(tiny(lstm_hidden=lstm_hidden)).eval()
    data = batch()
    n = int(data["attention_mask"][-1].sum())
    padded = model(data["input_ids"], data["attention_mask"], data["lexicon"]).emissions[-1, :n]
    alone = model(data["input_ids"][-1:, :n], data["attention_mask"][-1:, :n], data["lexicon"][-1:, :n]).emissions[0]
    torch.testing.assert_close(padded, alone, atol=1e-5, rtol=1e-5)


def test_lexicon_features_change_emissions_and_are_required() -> None:
    model = Tagger(tiny()).eval()
    data = batch()
    with_lex = model(data["input_ids"], data["attention_mask"], data["lexicon"]).emissions
    without = model(data["input_ids"], data["attention_mask"], torch.zeros_like(data["lexicon"])).emissions
    assert not torch.allclose(with_lex, without)
    with pytest.raises(ValueError, match="lexicon"):
        model(data["input_ids"], data["attention_mask"])
    no_lex = Tagger(tiny(num_lexicon_features=0)).eval()
    assert no_lex(data["input_ids"], data["attention_mask"]).emissions.shape == (3, 10, 3)


@pytest.mark.parametrize("use_crf", [True, False])
def test_loss_decreases_on_a_fixed_batch(use_crf: bool) -> None:
    torch.manual_seed(0)
    model = Tagger(tiny(use_crf=use_crf, dropout=0.0), BIO_TRANSITIONS, BIO_STARTS)
    data = batch()
    data["tags"] = torch.tensor([[O, B, I, I, O, O, B, O, O, O]] * 3)
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=5e-3)
    losses = []
    for _ in range(25):
        out = model(data["input_ids"], data["attention_mask"], data["lexicon"])
        loss = model.loss(out.emissions, data["tags"], data["attention_mask"])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert all(map(torch.isfinite, map(torch.tensor, losses)))
    assert losses[-1] < 0.5 * losses[0]


def _craft_model(constrained: bool) -> Tagger:
    model = Tagger(tiny(), BIO_TRANSITIONS if constrained else None, BIO_STARTS if constrained else None)
    with torch.no_grad():
        for raw in model.crf.parametrizations.values():
            raw.original.zero_()
    return model


def _illegal(path: list[int]) -> bool:
    return path[0] == I or any((a, b) not in BIO_TRANSITIONS for a, b in zip(path, path[1:], strict=False))


def test_decode_obeys_forbidden_transitions() -> None:
    # Emissions that favour O I I and I O: both illegal under BIO.
    emissions = torch.tensor(
        [[[5.0, 0.0, 1.0], [0.0, 4.0, 5.0], [0.0, 0.0, 5.0]], [[0.0, 4.0, 5.0], [5.0, 0.0, 0.0], [0, 0, 0]]]
    )
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    assert _craft_model(constrained=False).decode(emissions, mask) == [[O, I, I], [I, O]]
    paths = _craft_model(constrained=True).decode(emissions, mask)
    assert paths == [[O, B, I], [B, O]]
    assert not any(map(_illegal, paths))


def test_constraints_also_hold_without_crf() -> None:
    model = Tagger(tiny(use_crf=False), BIO_TRANSITIONS, BIO_STARTS)
    assert not any(p.requires_grad for p in model.crf.parameters())
    assert model.parameter_count() < model.parameter_count(trainable_only=False)
    emissions = torch.tensor([[[5.0, 0.0, 1.0], [0.0, 4.0, 5.0], [0.0, 0.0, 5.0]]])
    assert model.decode(emissions, torch.ones(1, 3, dtype=torch.int64)) == [[O, B, I]]


def test_transition_matrices_carry_the_constraints_into_checkpoints() -> None:
    model = Tagger(tiny(), BIO_TRANSITIONS, BIO_STARTS)
    matrix, starts, ends = model.transition_matrix(), model.start_transitions(), model.end_transitions()
    assert matrix.shape == (3, 3) and starts.shape == (3,) and ends.shape == (3,)
    assert matrix[O, I] < FORBIDDEN_SCORE / 2 and starts[I] < FORBIDDEN_SCORE / 2
    assert abs(matrix[B, I]) < 1 and abs(ends).max() < 1
    restored = Tagger(tiny())  # built without constraints: the checkpoint brings them
    restored.load_state_dict(model.state_dict())
    assert (restored.transition_matrix() == matrix).all()


def test_config_round_trip_ignores_unknown_keys_and_fills_defaults() -> None:
    config = tiny(use_crf=False, dropout=0.2)
    assert TaggerConfig.from_dict(config.to_dict()) == config
    assert TaggerConfig.from_dict({**config.to_dict(), "added_in_v9": 1}) == config
    old = {"vocab_size": 40, "num_tags": 3, "num_lexicon_features": 0}
    assert TaggerConfig.from_dict(old) == TaggerConfig(40, 3, 0)
    with pytest.raises(ValueError, match="multiple"):
        tiny(hidden_size=30)


def test_presets_student_is_tinybert_shaped_and_smaller_than_teacher() -> None:
    student = TaggerConfig.student(vocab_size=6000, num_tags=41, num_lexicon_features=48)
    teacher = TaggerConfig.teacher(vocab_size=6000, num_tags=41, num_lexicon_features=48)
    assert (student.num_layers, student.hidden_size, student.num_heads, student.intermediate_size) == (4, 312, 12, 1200)
    assert teacher.num_heads == student.num_heads and teacher.num_layers % student.num_layers == 0
    assert TaggerConfig.student(vocab_size=1, num_tags=1, num_lexicon_features=0, lstm_hidden=0).lstm_hidden == 0
    n_student, n_teacher = Tagger(student).parameter_count(), Tagger(teacher).parameter_count()
    assert 5_000_000 < n_student < 8_000_000
    assert n_teacher > 2 * n_student


def test_resize_token_embeddings_keeps_rows_and_updates_config() -> None:
    model = Tagger(tiny())
    before = model.encoder.embeddings.word_embeddings.weight[:40].detach().clone()
    model.resize_token_embeddings(50)
    assert model.config.vocab_size == 50
    torch.testing.assert_close(model.encoder.embeddings.word_embeddings.weight[:40], before)
