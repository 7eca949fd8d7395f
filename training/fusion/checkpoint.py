"""Fused-tagger checkpoints: the text tagger's own checkpoint inside, plus the fusion's config and weights.

The text part is a complete :class:`training.checkpoint.Checkpoint` payload
(labels, scheme, vocabulary, lexicon, config, tagger weights), so the file
describes itself; the fusion adds its :class:`FusionConfig` (None for the
text-only baseline), its weights and the image-token source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.checkpoint import Checkpoint, CheckpointError, load_payload, save_payload
from training.fusion.model import FusedTagger, FusionConfig

FORMAT = "tcm-fused-tagger"
FORMAT_VERSION = 1


@dataclass
class FusedCheckpoint:
    text: Checkpoint  # its state_dict holds the tagger's weights
    fusion_config: FusionConfig | None
    fusion_state: dict[str, Any]
    image: dict[str, Any] = field(default_factory=dict)  # where the image tokens come from
    run: dict[str, Any] = field(default_factory=dict)  # the run's config and data description
    metrics: dict[str, Any] = field(default_factory=dict)
    progress: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, model: FusedTagger, base: Checkpoint, **extra: Any) -> FusedCheckpoint:
        """A checkpoint of ``model``, whose tagger was built from ``base``."""
        text = Checkpoint(
            model_config=model.tagger.config,
            scheme=base.scheme,
            vocab=base.vocab,
            vocab_version=base.vocab_version,
            lexicon_version=base.lexicon_version,
            lexicon_types=base.lexicon_types,
            state_dict={k: v.detach().clone() for k, v in model.tagger.state_dict().items()},
            train_config=base.train_config,
            data=base.data,
        )
        fusion = {} if model.fusion is None else {k: v.detach().clone() for k, v in model.fusion.state_dict().items()}
        return cls(text, model.fusion_config, fusion, **extra)

    def build_model(self) -> FusedTagger:
        model = FusedTagger(self.text.build_model(), self.fusion_config)
        if model.fusion is not None:
            model.fusion.load_state_dict(self.fusion_state)
        return model

    def save(self, path: Path) -> None:
        payload = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "text": self.text.payload(),
            "fusion_config": self.fusion_config.to_dict() if self.fusion_config else None,
            "fusion_state": self.fusion_state,
            "image": self.image,
            "run": self.run,
            "metrics": self.metrics,
            "progress": self.progress,
        }
        save_payload(payload, path)

    @classmethod
    def load(cls, path: Path) -> FusedCheckpoint:
        raw = load_payload(path)
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise CheckpointError(f"{path} is not a {FORMAT} file")
        if int(raw.get("format_version", 0)) > FORMAT_VERSION:
            raise CheckpointError(f"{path} was written by a newer version (format {raw['format_version']})")
        config = raw.get("fusion_config")
        return cls(
            text=Checkpoint.from_payload(raw["text"], path),
            fusion_config=FusionConfig.from_dict(config) if config else None,
            fusion_state=dict(raw.get("fusion_state", {})),
            image=dict(raw.get("image", {})),
            run=dict(raw.get("run", {})),
            metrics=dict(raw.get("metrics", {})),
            progress=dict(raw.get("progress", {})),
        )
