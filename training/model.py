"""The character tagger: a small BERT encoder with lexicon input, a BiLSTM and a constrained CRF.

Shape of the reference study (TinyBERT student: 4 layers, hidden 312, 12 heads,
FFN 1200), but built from a ``TaggerConfig`` only: nothing is downloaded, all
weights start random and are trained here.

Per-character lexicon features (multi-hot B/M/E/S per term type, from
``tcm_desktop.inference.lexicon``) go through ``Linear(F -> hidden)`` and are
added to the word embeddings; BERT then adds its position and type embeddings
and its LayerNorm as usual.

Transitions the tag scheme forbids (``I-X`` after ``O`` ...) get a fixed large
negative score added to the CRF's learned ones, in the loss and in decoding.
The penalties are buffers of the CRF, so a checkpoint carries them and
``transition_matrix()`` hands them to the ONNX runtime, which decodes outside
the graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torchcrf import CRF
from transformers import AttentionInterface, BertConfig, BertModel
from transformers.masking_utils import AttentionMaskInterface, eager_mask

# Added to a forbidden transition's score. Large enough that no path through it
# wins Viterbi or carries weight in the partition function; small enough that
# float32 sums of a few thousand of them stay finite.
FORBIDDEN_SCORE = -10000.0

# Attention implementation registered with transformers: eager attention that
# reports the raw scaled scores QK^T/sqrt(d) (before the padding mask and the
# softmax) as its "attention weights". TinyBERT distils those scores.
ATTENTION_IMPLEMENTATION = "tcm_scores"


def _attention_reporting_scores(
    module: nn.Module,
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attention_mask: Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **_: Any,
) -> tuple[Tensor, Tensor]:
    if scaling is None:
        scaling = query.size(-1) ** -0.5
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling
    masked = scores if attention_mask is None else scores + attention_mask
    probs = nn.functional.softmax(masked, dim=-1)
    probs = nn.functional.dropout(probs, p=dropout, training=module.training)
    output = torch.matmul(probs, value).transpose(1, 2).contiguous()
    return output, scores


AttentionInterface.register(ATTENTION_IMPLEMENTATION, _attention_reporting_scores)
AttentionMaskInterface.register(ATTENTION_IMPLEMENTATION, eager_mask)


@dataclass(frozen=True)
class TaggerConfig:
    """The model's shape; saved in checkpoints, so old ones must keep loading (see ``from_dict``)."""

    vocab_size: int
    num_tags: int
    num_lexicon_features: int  # 0 = no lexicon input
    hidden_size: int = 312
    num_layers: int = 4
    num_heads: int = 12
    intermediate_size: int = 1200
    max_positions: int = 512
    lstm_hidden: int = 128  # per direction; 0 = no BiLSTM (linear on the encoder states)
    dropout: float = 0.1
    use_crf: bool = True

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_heads:
            raise ValueError(f"hidden_size {self.hidden_size} is not a multiple of num_heads {self.num_heads}")
        if min(self.vocab_size, self.num_tags, self.num_layers, self.num_heads) < 1:
            raise ValueError("vocab_size, num_tags, num_layers and num_heads must be positive")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaggerConfig:
        """Known keys only; keys a newer version added are ignored, missing ones take defaults."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def student(cls, **overrides: Any) -> TaggerConfig:
        """TinyBERT-4 shape of the reference study: 4 layers, hidden 312, 12 heads, FFN 1200."""
        return cls(**{"hidden_size": 312, "num_layers": 4, "num_heads": 12, "intermediate_size": 1200, **overrides})

    @classmethod
    def teacher(cls, **overrides: Any) -> TaggerConfig:
        """8 layers, hidden 384, 12 heads, FFN 1536, BiLSTM 2x192.

        Not BERT-base: the teacher is trained from scratch on a clinic-sized
        corpus, often on CPU, where a 768-wide model costs ~4x the time without
        the pretraining that makes it worth it. 12 heads keep the per-head
        attention loss exact, and 8 = 2 x 4 layers gives the student an
        integer layer mapping (student layer m <- teacher layer 2m).
        """
        base = {"hidden_size": 384, "num_layers": 8, "num_heads": 12, "intermediate_size": 1536, "lstm_hidden": 192}
        return cls(**{**base, **overrides})


@dataclass
class TaggerOutput:
    emissions: Tensor  # [B, L, T]
    hidden_states: tuple[Tensor, ...] | None = None  # embedding output, then each layer's output: [B, L, H]
    attentions: tuple[Tensor, ...] | None = None  # each layer's raw scores QK^T/sqrt(d), pre-mask: [B, heads, L, L]


class _AddPenalty(nn.Module):
    """Parametrisation: learned scores plus a fixed penalty (0 allowed, FORBIDDEN_SCORE forbidden)."""

    def __init__(self, penalty: Tensor) -> None:
        super().__init__()
        self.register_buffer("penalty", penalty)

    def forward(self, learned: Tensor) -> Tensor:
        return learned + self.penalty


def _penalty(shape: tuple[int, ...], allowed: Iterable[Any] | None) -> Tensor:
    """Zero where allowed (everywhere when ``allowed`` is None), FORBIDDEN_SCORE elsewhere."""
    if allowed is None:
        return torch.zeros(shape)
    penalty = torch.full(shape, FORBIDDEN_SCORE)
    for index in allowed:
        penalty[index] = 0.0
    return penalty


class ConstrainedCRF(CRF):
    """torchcrf's CRF whose start, transition and end scores carry the tag scheme's penalties.

    The learned scores live at ``parametrizations.<name>.original``; reading
    ``self.transitions`` (as torchcrf's algorithms do) gives learned + penalty.
    """

    def __init__(
        self,
        num_tags: int,
        allowed_transitions: Iterable[tuple[int, int]] | None = None,
        allowed_starts: Iterable[int] | None = None,
        allowed_ends: Iterable[int] | None = None,
    ) -> None:
        super().__init__(num_tags, batch_first=True)
        parametrize.register_parametrization(
            self, "transitions", _AddPenalty(_penalty((num_tags, num_tags), allowed_transitions))
        )
        parametrize.register_parametrization(
            self, "start_transitions", _AddPenalty(_penalty((num_tags,), allowed_starts))
        )
        parametrize.register_parametrization(self, "end_transitions", _AddPenalty(_penalty((num_tags,), allowed_ends)))


class Tagger(nn.Module):
    """Characters (+ lexicon features) -> per-tag emission scores; CRF loss and Viterbi decoding on top."""

    def __init__(
        self,
        config: TaggerConfig,
        allowed_transitions: list[tuple[int, int]] | None = None,
        allowed_starts: list[int] | None = None,
        allowed_ends: list[int] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        bert_config = BertConfig(
            vocab_size=config.vocab_size,
            hidden_size=config.hidden_size,
            num_hidden_layers=config.num_layers,
            num_attention_heads=config.num_heads,
            intermediate_size=config.intermediate_size,
            max_position_embeddings=config.max_positions,
            hidden_dropout_prob=config.dropout,
            attention_probs_dropout_prob=config.dropout,
            type_vocab_size=1,
            pad_token_id=0,
            attn_implementation=ATTENTION_IMPLEMENTATION,
        )
        self.encoder = BertModel(bert_config, add_pooling_layer=False)
        self.lexicon_proj = (
            nn.Linear(config.num_lexicon_features, config.hidden_size) if config.num_lexicon_features else None
        )
        self.lstm = (
            nn.LSTM(config.hidden_size, config.lstm_hidden, batch_first=True, bidirectional=True)
            if config.lstm_hidden
            else None
        )
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(
            2 * config.lstm_hidden if config.lstm_hidden else config.hidden_size, config.num_tags
        )
        self.crf = ConstrainedCRF(config.num_tags, allowed_transitions, allowed_starts, allowed_ends)
        if not config.use_crf:
            # Kept for the constraints only: decoding stays legal, the learned scores stay 0.
            for raw in self.crf.parametrizations.values():
                nn.init.zeros_(raw.original)
                raw.original.requires_grad_(False)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor,
        lexicon: Tensor | None = None,
        output_hidden: bool = False,
        output_attentions: bool = False,
    ) -> TaggerOutput:
        """``input_ids``/``attention_mask`` [B, L] (right-padded), ``lexicon`` [B, L, F] (any numeric dtype)."""
        encoded = self.encoder(
            inputs_embeds=self.input_embeddings(input_ids, lexicon),
            attention_mask=attention_mask,
            output_hidden_states=output_hidden,
            output_attentions=output_attentions,
        )
        return TaggerOutput(
            emissions=self.emissions_from_states(encoded.last_hidden_state, attention_mask),
            hidden_states=tuple(encoded.hidden_states) if output_hidden else None,
            attentions=tuple(encoded.attentions) if output_attentions else None,
        )

    def input_embeddings(self, input_ids: Tensor, lexicon: Tensor | None) -> Tensor:
        """Word embeddings plus projected lexicon features: BERT's ``inputs_embeds``."""
        embeds = self.encoder.embeddings.word_embeddings(input_ids)
        if self.lexicon_proj is None:
            return embeds
        if lexicon is None:
            raise ValueError("this model was built with lexicon features; pass `lexicon`")
        return embeds + self.lexicon_proj(lexicon.to(embeds.dtype))

    def emissions_from_states(self, states: Tensor, attention_mask: Tensor, pack: bool = True) -> Tensor:
        """Encoder states [B, L, H] -> emissions [B, L, T].

        The BiLSTM runs on packed sequences, so its backward direction starts at
        each sequence's last real character and padding never reaches real
        positions. ``pack=False`` runs it on the padded tensor instead: only for
        the ONNX export, which restores the same behaviour with the LSTM op's
        ``sequence_lens`` input.
        """
        if self.lstm is not None:
            if pack:
                lengths = attention_mask.sum(dim=1).clamp_min(1).to(device="cpu", dtype=torch.int64)
                packed = pack_padded_sequence(states, lengths, batch_first=True, enforce_sorted=False)
                out, _ = self.lstm(packed)
                states, _ = pad_packed_sequence(out, batch_first=True, total_length=states.size(1))
            else:
                states, _ = self.lstm(states)
        return self.classifier(self.dropout(states))

    def loss(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Mean per-sequence CRF negative log-likelihood; token cross-entropy when ``use_crf`` is off."""
        mask = mask.bool()
        if self.config.use_crf:
            return -self.crf(emissions, tags, mask=mask, reduction="mean")
        return nn.functional.cross_entropy(emissions[mask], tags[mask])

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        """Best legal tag path per sequence (real positions only).

        Without the CRF the learned transitions are 0, so Viterbi on the raw
        emissions is the argmax under the scheme's constraints (the per-position
        softmax normaliser is the same for every tag and cannot change the path).
        """
        return self.crf.decode(emissions, mask=mask.bool())

    def transition_matrix(self) -> np.ndarray:
        """[T, T] effective transition scores (from row tag to column tag), penalties included."""
        return self.crf.transitions.detach().cpu().numpy().copy()

    def start_transitions(self) -> np.ndarray:
        return self.crf.start_transitions.detach().cpu().numpy().copy()

    def end_transitions(self) -> np.ndarray:
        return self.crf.end_transitions.detach().cpu().numpy().copy()

    def parameter_count(self, trainable_only: bool = True) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def resize_token_embeddings(self, new_vocab_size: int) -> None:
        """Grow or shrink the character vocabulary; existing rows keep their trained values."""
        self.encoder.resize_token_embeddings(new_vocab_size)
        self.config = replace(self.config, vocab_size=new_vocab_size)
