"""Masked-language-model pretraining of the tagger's encoder on unlabelled record text.

No pretrained Chinese weights can be downloaded here, so the encoder can
first learn the characters of the domain from raw text (generated records,
the text of a training corpus, imported notes): BERT's MLM objective (15% of
characters chosen; 80% [MASK], 10% a random character, 10% kept), the
output layer tied to the input embeddings. The result is a checkpoint with
no labels; ``tcm train --init-from`` starts from its encoder, lexicon
projection and vocabulary.

    tcm pretrain --text FILE [--text FILE2] --out RUN [--epochs 3]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tcm_desktop.domain import TcmError
from tcm_desktop.inference.lexicon import Lexicon
from training.batches import encode_windows, iterate_batches
from training.checkpoint import Checkpoint
from training.data import Example, load_examples, windows
from training.model import Tagger
from training.tags import TagScheme
from training.trainer import PRESETS, seed_everything
from training.vocab import base_characters, build_vocab, make_tokenizer_from_tokens, vocab_version

IGNORE = -100


@dataclass
class PretrainConfig:
    text: list[str]
    out: str
    preset: str = "student"
    model_overrides: dict[str, Any] = field(default_factory=dict)
    use_lexicon: bool = True
    max_chars: int = 256
    batch_size: int = 16
    lr: float = 5e-4
    epochs: int = 3
    mask_rate: float = 0.15
    seed: int = 13
    threads: int = 2
    max_windows: int | None = None


class MlmHead(nn.Module):
    """BERT's prediction head with the decoder tied to the word embeddings."""

    def __init__(self, embeddings: nn.Embedding) -> None:
        super().__init__()
        hidden = embeddings.embedding_dim
        self.transform = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.LayerNorm(hidden))
        self.embeddings = embeddings
        self.bias = nn.Parameter(torch.zeros(embeddings.num_embeddings))

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return self.transform(states) @ self.embeddings.weight.T + self.bias


def mask_tokens(
    ids: torch.Tensor,
    attention: torch.Tensor,
    rate: float,
    mask_id: int,
    first_regular: int,
    vocab: int,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(masked ids, labels): labels are the original ids at chosen positions, IGNORE elsewhere."""
    chosen = (torch.rand(ids.shape, generator=generator) < rate) & attention.bool() & (ids >= first_regular)
    labels = torch.where(chosen, ids, torch.full_like(ids, IGNORE))
    roll = torch.rand(ids.shape, generator=generator)
    masked = torch.where(chosen & (roll < 0.8), torch.full_like(ids, mask_id), ids)
    random_ids = torch.randint(first_regular, vocab, ids.shape, generator=generator)
    masked = torch.where(chosen & (roll >= 0.8) & (roll < 0.9), random_ids, masked)
    return masked, labels


def _texts(paths: Sequence[str]) -> list[Example]:
    examples: list[Example] = []
    for path in paths:
        source = Path(path)
        if source.suffix == ".txt" and not _looks_like_bio(source):
            lines = source.read_text(encoding="utf-8").splitlines()
            examples += [Example(f"{source.stem}-{i}", line, ()) for i, line in enumerate(lines) if line.strip()]
        else:
            examples += load_examples(source)[0]
    return examples


def _looks_like_bio(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as fh:
        first = next((line for line in fh if line.strip()), "")
    return len(first.rstrip("\n")) <= 12 and any(sep in first for sep in (",", " ", "\t"))


def pretrain(config: PretrainConfig, log: Any = None) -> Path:
    log = log or (lambda message: print(message, file=sys.stderr))
    torch.set_num_threads(config.threads)
    seed_everything(config.seed)
    examples = _texts(config.text)
    vocab = build_vocab((e.text for e in examples), extra=base_characters())
    tokenizer = make_tokenizer_from_tokens(vocab)
    lexicon = Lexicon.load() if config.use_lexicon else None
    scheme = TagScheme("BIO", [])
    items = encode_windows([w for e in examples for w in windows(e, config.max_chars)], tokenizer, scheme)
    if config.max_windows:
        items = items[: config.max_windows]
    model_config = PRESETS[config.preset](
        vocab_size=len(vocab),
        num_tags=1,
        num_lexicon_features=lexicon.n_features if lexicon else 0,
        **config.model_overrides,
    )
    model = Tagger(model_config, scheme.allowed_transitions(), scheme.allowed_starts(), scheme.allowed_ends())
    head = MlmHead(model.encoder.embeddings.word_embeddings)
    params = list(model.encoder.parameters()) + list(head.transform.parameters()) + [head.bias]
    if model.lexicon_proj is not None:
        params += list(model.lexicon_proj.parameters())
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.01)
    mask_id, first_regular = vocab.index("[MASK]"), vocab.index("[SPACE]") + 1
    generator = torch.Generator().manual_seed(config.seed)
    pad_id = vocab.index("[PAD]")
    history = []
    for epoch in range(1, config.epochs + 1):
        started, total, count = time.monotonic(), 0.0, 0
        batches = math.ceil(len(items) / config.batch_size)
        for i, batch in enumerate(
            iterate_batches(items, config.batch_size, lexicon, pad_id, seed=config.seed + epoch, shuffle=True), start=1
        ):
            ids, labels = mask_tokens(
                batch.input_ids, batch.attention_mask, config.mask_rate, mask_id, first_regular, len(vocab), generator
            )
            states = model.encoder(
                inputs_embeds=model.input_embeddings(ids, batch.lexicon), attention_mask=batch.attention_mask
            ).last_hidden_state
            logits = head(states)
            loss = nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=IGNORE)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            optimizer.step()
            total, count = total + float(loss.detach()), count + 1
            if i % 100 == 0:
                log(f"mlm epoch {epoch}: batch {i}/{batches} loss {total / count:.3f}")
        history.append({"epoch": epoch, "loss": total / max(1, count), "seconds": round(time.monotonic() - started)})
        log(f"mlm epoch {epoch}: loss {history[-1]['loss']:.3f} ({history[-1]['seconds']} s)")
    out = Path(config.out) / "mlm.pt"
    Checkpoint(
        model_config=model_config,
        scheme=scheme,
        vocab=vocab,
        vocab_version=vocab_version(vocab),
        lexicon_version=lexicon.version if lexicon else None,
        lexicon_types=list(lexicon.types) if lexicon else [],
        state_dict={k: v.detach().clone() for k, v in model.state_dict().items()},
        train_config=asdict(config),
        data={"texts": config.text, "windows": len(items), "characters": int(sum(len(i.ids) for i in items))},
        metrics={"mlm_history": history, "final_loss": history[-1]["loss"] if history else None},
    ).save(out)
    return out


def pretrain_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tcm pretrain", description="MLM-pretrain the encoder on unlabelled text.")
    parser.add_argument(
        "--text",
        action="append",
        required=True,
        help="unlabelled text: plain .txt (a record a line), JSONL records, BIO files (repeatable)",
    )
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="student")
    parser.add_argument("--no-lexicon", action="store_true")
    parser.add_argument("--max-windows", type=int)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    config = PretrainConfig(
        text=args.text,
        out=args.out,
        epochs=args.epochs,
        preset=args.preset,
        use_lexicon=not args.no_lexicon,
        max_windows=args.max_windows,
        threads=args.threads,
    )
    try:
        out = pretrain(config)
    except (TcmError, ValueError, OSError) as exc:
        print(f"tcm pretrain: {exc}", file=sys.stderr)
        return 2
    print(f"pretrained encoder -> {out}; use it with tcm train --init-from {out}")
    return 0
