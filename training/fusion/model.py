"""Gated cross-modal attention between the tagger's encoder and its BiLSTM.

Text token states ``h`` [B, T, d] (the BERT encoder's output) attend to the
image tokens ``x`` [B, N, C] (the tongue classifier's last feature map, one
token per spatial cell, see :mod:`training.fusion.features`)::

    x' = LayerNorm(x) + position[cell]           # which part of the tongue a cell shows
    a  = MultiHead(q = h Wq, k = x' Wk, v = x' Wv) Wo
    g  = sigmoid(w . [h; a] + b) * image_mask    # one scalar per token, in (0, 1); 0 without a photo
    h' = h + g * a                               # -AG (gate=False): h' = h + image_mask * a

and ``h'`` goes on to the BiLSTM and CRF as in :class:`training.model.Tagger`.

Design choices, and why:

* The attention works in its own width ``attention_dim`` (default 192), not
  the text width: the shipped text model is 256 wide, which 12 heads do not
  divide, and a fixed width keeps the heads 4/8/12 ablation at equal
  parameters (only the split into heads changes).
* ``Wo`` starts at zero and the gate's bias at -2 (g ~ 0.12): the fused model
  starts exactly as the text-only model it is fine-tuned from, with and
  without the gate, so the ablation compares what training learns.
* ``image_mask`` [B] (1 = the record has a photo) multiplies the gate, so a
  record without a photo gets exactly the text-only states, whatever the
  image tokens hold.
* The attention is written out (matmuls and a softmax) rather than
  ``nn.MultiheadAttention``, whose fused kernel needs equal query and key
  widths divisible by the heads and exports less predictably to ONNX.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import Tensor, nn

from training.model import Tagger, TaggerConfig

GATE_BIAS = -2.0


@dataclass(frozen=True)
class FusionConfig:
    """The fusion's shape; saved in fused checkpoints."""

    image_channels: int
    image_cells: int
    heads: int = 8
    attention_dim: int = 192
    gate: bool = True
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.heads < 1 or self.attention_dim % self.heads:
            raise ValueError(f"attention_dim {self.attention_dim} is not a positive multiple of heads {self.heads}")
        if self.image_channels < 1 or self.image_cells < 1:
            raise ValueError("image_channels and image_cells must be positive")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FusionConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class GatedCrossModalAttention(nn.Module):
    """Text states attend to image tokens; a per-token gate decides how much of the result to add."""

    def __init__(self, text_dim: int, config: FusionConfig) -> None:
        super().__init__()
        self.config = config
        self.heads = config.heads
        self.head_dim = config.attention_dim // config.heads
        self.image_norm = nn.LayerNorm(config.image_channels)
        self.position = nn.Parameter(torch.zeros(config.image_cells, config.image_channels))
        self.query = nn.Linear(text_dim, config.attention_dim)
        self.key = nn.Linear(config.image_channels, config.attention_dim)
        self.value = nn.Linear(config.image_channels, config.attention_dim)
        self.out = nn.Linear(config.attention_dim, text_dim)
        self.dropout = nn.Dropout(config.dropout)
        nn.init.normal_(self.position, std=0.02)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.gate = nn.Linear(2 * text_dim, 1) if config.gate else None
        if self.gate is not None:
            nn.init.normal_(self.gate.weight, std=0.02)
            nn.init.constant_(self.gate.bias, GATE_BIAS)

    def _split(self, x: Tensor) -> Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.heads, self.head_dim).transpose(1, 2)

    def attend(self, states: Tensor, image_tokens: Tensor) -> Tensor:
        """The attended image evidence ``a`` [B, T, d] for each text state."""
        tokens = self.image_norm(image_tokens) + self.position
        q, k, v = self._split(self.query(states)), self._split(self.key(tokens)), self._split(self.value(tokens))
        weights = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim), dim=-1)
        mixed = torch.matmul(self.dropout(weights), v).transpose(1, 2).flatten(2)
        return self.dropout(self.out(mixed))

    def forward(self, states: Tensor, image_tokens: Tensor, image_mask: Tensor) -> tuple[Tensor, Tensor]:
        """``states`` [B, T, d], ``image_tokens`` [B, N, C], ``image_mask`` [B] -> (fused states, gate [B, T]).

        Without the gate (-AG) the returned "gate" is ``image_mask`` broadcast: 1 with a photo, 0 without.
        """
        attended = self.attend(states, image_tokens.to(states.dtype))
        present = image_mask.to(states.dtype).view(-1, 1, 1)
        if self.gate is None:
            gate = present.expand(states.shape[0], states.shape[1], 1)
        else:
            gate = torch.sigmoid(self.gate(torch.cat([states, attended], dim=-1))) * present
        return states + gate * attended, gate.squeeze(-1)


@dataclass
class FusedOutput:
    emissions: Tensor  # [B, L, T]
    gate: Tensor | None  # [B, L], None for the text-only model


class FusedTagger(nn.Module):
    """A :class:`Tagger` with :class:`GatedCrossModalAttention` between its encoder and its BiLSTM.

    ``fusion=None`` is the text-only model fine-tuned the same way (the fair
    baseline): the same code path without the fusion.
    """

    def __init__(self, tagger: Tagger, fusion: FusionConfig | None) -> None:
        super().__init__()
        self.tagger = tagger
        self.fusion_config = fusion
        self.fusion = GatedCrossModalAttention(tagger.config.hidden_size, fusion) if fusion else None

    @property
    def config(self) -> TaggerConfig:
        return self.tagger.config

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor,
        lexicon: Tensor | None,
        image_tokens: Tensor | None = None,
        image_mask: Tensor | None = None,
        pack: bool = True,
    ) -> FusedOutput:
        embeds = self.tagger.input_embeddings(input_ids, lexicon)
        states = self.tagger.encoder(inputs_embeds=embeds, attention_mask=attention_mask).last_hidden_state
        gate = None
        if self.fusion is not None:
            if image_tokens is None or image_mask is None:
                batch = input_ids.shape[0]
                image_tokens = states.new_zeros(
                    batch, self.fusion.config.image_cells, self.fusion.config.image_channels
                )
                image_mask = states.new_zeros(batch)
            states, gate = self.fusion(states, image_tokens, image_mask)
        return FusedOutput(self.tagger.emissions_from_states(states, attention_mask, pack=pack), gate)

    def loss(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        return self.tagger.loss(emissions, tags, mask)

    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        return self.tagger.decode(emissions, mask)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def fusion_parameter_count(self) -> int:
        return 0 if self.fusion is None else sum(p.numel() for p in self.fusion.parameters())
