"""Self-describing checkpoints: everything needed to rebuild, resume and export a tagger.

A checkpoint is one ``torch.save`` file holding the weights together with
the labels, the tag scheme, the vocabulary (tokens, not a path), the lexicon
version and types, the model and training configuration, the data it was
trained on and the metrics so far. Loading never depends on a constant
elsewhere in the code; unknown keys from newer versions are ignored and
missing ones take defaults (``TaggerConfig.from_dict``).
"""

from __future__ import annotations

import datetime
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from tcm_desktop.domain import TcmError
from tcm_desktop.inference.lexicon import Lexicon
from training.model import Tagger, TaggerConfig
from training.tags import TagScheme

FORMAT = "tcm-tagger-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(TcmError):
    """A checkpoint file is missing, unreadable or not a tagger checkpoint."""


def code_commit() -> str:
    """The git commit of the training code, or "unknown" outside a checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


@dataclass
class Checkpoint:
    model_config: TaggerConfig
    scheme: TagScheme
    vocab: list[str]
    vocab_version: str
    lexicon_version: str | None
    lexicon_types: list[str]
    state_dict: dict[str, Any]
    train_config: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    progress: dict[str, Any] = field(default_factory=dict)  # epoch, step, best score, optimiser state, rng
    created: str = field(default_factory=lambda: datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"))
    commit: str = field(default_factory=code_commit)
    # the (term, type) entries of a lexicon other than the shipped one (``tcm train --lexicon``); None: shipped
    lexicon_entries: list[tuple[str, str]] | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        return self.scheme.labels

    def lexicon(self) -> Lexicon | None:
        """The lexicon the model reads (None without lexicon features): its own entries, else the shipped one,
        which must be the version the model was trained with (CheckpointError otherwise)."""
        if not self.model_config.num_lexicon_features:
            return None
        if self.lexicon_entries is not None:
            return Lexicon([(term, kind) for term, kind in self.lexicon_entries], self.lexicon_types)
        shipped = Lexicon.load()
        if self.lexicon_version and shipped.version != self.lexicon_version:
            raise CheckpointError(
                f"the shipped lexicon ({shipped.version}) is not the one the model was trained with "
                f"({self.lexicon_version})"
            )
        return shipped

    def build_model(self) -> Tagger:
        scheme = self.scheme
        model = Tagger(self.model_config, scheme.allowed_transitions(), scheme.allowed_starts(), scheme.allowed_ends())
        model.load_state_dict(self.state_dict)
        return model

    def describe(self) -> dict[str, Any]:
        """Everything but the tensors: for model cards, manifests and ONNX metadata."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "labels": list(self.labels),
            "tag_scheme": self.scheme.to_dict(),
            "vocab_version": self.vocab_version,
            "vocab_size": len(self.vocab),
            "lexicon_version": self.lexicon_version,
            "lexicon_types": list(self.lexicon_types),
            "model_config": self.model_config.to_dict(),
            "train_config": self.train_config,
            "data": self.data,
            "metrics": self.metrics,
            "created": self.created,
            "commit": self.commit,
        }

    def payload(self) -> dict[str, Any]:
        """What :meth:`save` writes: :meth:`describe` plus the vocabulary, the tensors and the progress."""
        return (
            self.describe()
            | {
                "tag_scheme": self.scheme.to_dict(),
                "vocab": list(self.vocab),
                "state_dict": self.state_dict,
                "progress": self.progress,
            }
            | ({"lexicon_entries": [list(e) for e in self.lexicon_entries]} if self.lexicon_entries is not None else {})
        )

    def save(self, path: Path) -> None:
        """Write atomically: a crash mid-save never leaves a truncated checkpoint."""
        save_payload(self.payload(), path)

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        return cls.from_payload(load_payload(path), path)

    @classmethod
    def from_payload(cls, raw: Any, path: Path | str = "checkpoint") -> Checkpoint:
        """The checkpoint in ``raw`` (what :meth:`payload` returns; ``path`` names it in errors)."""
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise CheckpointError(f"{path} is not a {FORMAT} file")
        if int(raw.get("format_version", 0)) > FORMAT_VERSION:
            raise CheckpointError(f"{path} was written by a newer version (format {raw['format_version']})")
        try:
            return cls(
                model_config=TaggerConfig.from_dict(raw["model_config"]),
                scheme=TagScheme.from_dict(raw["tag_scheme"]),
                vocab=list(raw["vocab"]),
                vocab_version=str(raw["vocab_version"]),
                lexicon_version=raw.get("lexicon_version"),
                lexicon_types=list(raw.get("lexicon_types", [])),
                state_dict=raw["state_dict"],
                train_config=dict(raw.get("train_config", {})),
                data=dict(raw.get("data", {})),
                metrics=dict(raw.get("metrics", {})),
                progress=dict(raw.get("progress", {})),
                created=str(raw.get("created", "")),
                commit=str(raw.get("commit", "unknown")),
                lexicon_entries=[(str(t), str(k)) for t, k in raw["lexicon_entries"]]
                if raw.get("lexicon_entries") is not None
                else None,
            )
        except KeyError as exc:
            raise CheckpointError(f"{path} lacks {exc.args[0]!r}") from exc


def save_payload(payload: Mapping[str, Any], path: Path) -> None:
    """``torch.save`` to a partial file, then renamed: a crash mid-save never leaves a truncated checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(dict(payload), partial)
    os.replace(partial, path)


def load_payload(path: Path) -> Any:
    """What :func:`save_payload` wrote; :class:`CheckpointError` naming the file when it cannot be read."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError as exc:
        raise CheckpointError(f"no checkpoint at {path}") from exc
    except Exception as exc:  # torch raises many types for a corrupt file
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
