"""TinyBERT-style distillation loss (Jiao et al. 2020) from a frozen teacher ``Tagger`` into a student.

Components, each masked to real characters:

- embedding: MSE(student embedding output @ W_e, teacher embedding output)
- hidden: mean over student layers m of MSE(student layer m @ W_h, teacher layer g(m))
- attention: mean over student layers of MSE between raw attention scores
  (QK^T/sqrt(d), before mask and softmax) of student layer m and teacher layer
  g(m), per head; over query and key positions that are both real characters
- prediction: soft cross-entropy of student emissions against the teacher's at
  a temperature (no T^2 factor, as in TinyBERT)
- gold: the student's own CRF loss, computed by the caller

``g(m) = floor(m * Lt / Ls)`` (``layer_mapping``), the uniform strategy of the
paper; with Ls | Lt it is exactly ``m * Lt / Ls``. W_e and W_h are learnable
(so the optimiser must include this module's parameters); they exist even when
the widths match, as in the paper.

If the head counts differ, attention scores are averaged over heads on both
sides and the averages compared (a weaker signal; the presets both have 12).

TinyBERT's two stages are weight settings: intermediate-layer distillation
(prediction = gold = 0), then prediction-layer distillation (embedding =
hidden = attention = 0). A component with weight 0 is not computed, so the
caller need not ask the models for attentions or hidden states it won't use.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from training.model import TaggerConfig, TaggerOutput


@dataclass(frozen=True)
class DistillWeights:
    embedding: float = 1.0
    hidden: float = 1.0
    attention: float = 1.0
    prediction: float = 1.0
    gold: float = 1.0
    temperature: float = 1.0

    @property
    def needs_hidden(self) -> bool:
        return bool(self.embedding or self.hidden)

    @property
    def needs_attentions(self) -> bool:
        return bool(self.attention)


def layer_mapping(student_layers: int, teacher_layers: int) -> list[int]:
    """Teacher layer (1-based) each student layer 1..Ls learns from: ``floor(m * Lt / Ls)``.

    The last student layer always maps to the last teacher layer; index 0 (the
    embeddings) maps to 0 and is not listed.
    """
    if student_layers < 1 or teacher_layers < 1:
        raise ValueError("both models need at least one layer")
    return [m * teacher_layers // student_layers for m in range(1, student_layers + 1)]


def _masked_mse(student: Tensor, teacher: Tensor, mask: Tensor) -> Tensor:
    """MSE over the positions where ``mask`` [B, L] is true, averaged over feature size too."""
    weight = mask.to(student.dtype).unsqueeze(-1)
    squared = (student - teacher).pow(2) * weight
    return squared.sum() / (weight.sum() * student.size(-1)).clamp_min(1.0)


class DistillationLoss(nn.Module):
    def __init__(self, student: TaggerConfig, teacher: TaggerConfig, weights: DistillWeights) -> None:
        super().__init__()
        if student.num_tags != teacher.num_tags:
            raise ValueError(f"student has {student.num_tags} tags, teacher {teacher.num_tags}")
        if weights.temperature <= 0:
            raise ValueError("temperature must be positive")
        self.weights = weights
        self.mapping = layer_mapping(student.num_layers, teacher.num_layers)
        self.same_heads = student.num_heads == teacher.num_heads
        self.embedding_proj = nn.Linear(student.hidden_size, teacher.hidden_size)
        self.hidden_proj = nn.Linear(student.hidden_size, teacher.hidden_size)

    def forward(
        self, student_out: TaggerOutput, teacher_out: TaggerOutput, mask: Tensor, gold_loss: Tensor
    ) -> tuple[Tensor, dict[str, float]]:
        """Weighted total and the unweighted components (plus ``total``) as floats for logging.

        ``mask`` [B, L]: true (or 1) at real characters. The teacher's outputs
        are detached here, so the teacher may be run with or without no_grad.
        """
        mask = mask.bool()
        w = self.weights
        parts: dict[str, Tensor] = {}
        if w.embedding:
            s, t = self._hidden_pair(student_out, teacher_out, 0, 0)
            parts["embedding"] = _masked_mse(self.embedding_proj(s), t, mask)
        if w.hidden:
            pairs = [self._hidden_pair(student_out, teacher_out, m, g) for m, g in enumerate(self.mapping, start=1)]
            parts["hidden"] = torch.stack([_masked_mse(self.hidden_proj(s), t, mask) for s, t in pairs]).mean()
        if w.attention:
            parts["attention"] = self._attention_loss(student_out, teacher_out, mask)
        if w.prediction:
            parts["prediction"] = self._prediction_loss(student_out.emissions, teacher_out.emissions.detach(), mask)
        if w.gold:
            parts["gold"] = gold_loss
        total = sum((getattr(w, name) * value for name, value in parts.items()), start=gold_loss.new_zeros(()))
        components = {name: float(value.detach()) for name, value in parts.items()}
        components["total"] = float(total.detach())
        return total, components

    @staticmethod
    def _hidden_pair(student: TaggerOutput, teacher: TaggerOutput, m: int, g: int) -> tuple[Tensor, Tensor]:
        if student.hidden_states is None or teacher.hidden_states is None:
            raise ValueError("embedding/hidden distillation needs both models run with output_hidden=True")
        return student.hidden_states[m], teacher.hidden_states[g].detach()

    def _attention_loss(self, student: TaggerOutput, teacher: TaggerOutput, mask: Tensor) -> Tensor:
        if student.attentions is None or teacher.attentions is None:
            raise ValueError("attention distillation needs both models run with output_attentions=True")
        pair_mask = (mask.unsqueeze(2) & mask.unsqueeze(1)).unsqueeze(1)  # [B, 1, Lq, Lk]
        losses = []
        for m, g in enumerate(self.mapping):
            s, t = student.attentions[m], teacher.attentions[g - 1].detach()
            if not self.same_heads:
                s, t = s.mean(dim=1, keepdim=True), t.mean(dim=1, keepdim=True)
            weight = pair_mask.to(s.dtype).expand_as(s)
            losses.append(((s - t).pow(2) * weight).sum() / weight.sum().clamp_min(1.0))
        return torch.stack(losses).mean()

    def _prediction_loss(self, student: Tensor, teacher: Tensor, mask: Tensor) -> Tensor:
        temperature = self.weights.temperature
        target = torch.softmax(teacher[mask] / temperature, dim=-1)
        log_probs = torch.log_softmax(student[mask] / temperature, dim=-1)
        return -(target * log_probs).sum(dim=-1).mean()
