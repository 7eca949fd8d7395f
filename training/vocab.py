"""The character vocabulary of the text model, and its transformers tokenizer.

Special tokens (ids 0..5, in this order)::

    [PAD] [UNK] [CLS] [SEP] [MASK] [SPACE]

``[SPACE]`` stands for every whitespace character (space, tab, newline,
U+3000), so a record's line breaks keep a position of their own. There is
no ``[NUM]``: each digit is a character of its own (offsets stay one id per
character) and ten digits cost nothing.

After the specials come the normalised characters
(:func:`tcm_desktop.inference.tokenizer.normalise_char`), most frequent
first, ties by code point, so the same texts always give the same file and
the same :func:`vocab_version`.

The one rule that maps a character to an id lives in
``tcm_desktop.inference.tokenizer`` (it runs in the GUI without torch);
:func:`encode_text` here uses it through the transformers tokenizer, and
the tests check both sides give the same ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tcm_desktop.inference.tokenizer import (
    CLS,
    MASK,
    PAD,
    SEP,
    SPACE,
    UNK,
    TokenizerError,
    char_token,
    check_tokens,
    normalise_char,
    read_vocab_file,
    vocab_version,
)
from tcm_desktop.resources import resource_path

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, CLS, SEP, MASK, SPACE)

__all__ = [
    "SPECIAL_TOKENS",
    "TokenizerError",
    "base_characters",
    "build_vocab",
    "encode_text",
    "load_vocab",
    "make_hf_tokenizer",
    "make_tokenizer_from_tokens",
    "normalise_char",
    "save_vocab",
    "vocab_version",
]


def base_characters() -> list[str]:
    """Characters every vocabulary gets whatever the training data: printable ASCII,
    GB2312 (the common simplified set) and every character of the shipped lexicon.

    A fixed base keeps vocabularies of different runs nearly identical and
    lets a model met with new data (retraining from corrections) still know
    the characters its first training set lacked.
    """
    chars = {chr(c) for c in range(0x21, 0x7F)}
    for high in range(0xB0, 0xF8):  # GB2312 hanzi rows
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    lexicon = resource_path("lexicon", "tcm_lexicon.tsv")
    if lexicon.is_file():
        chars.update(
            ch
            for line in lexicon.read_text(encoding="utf-8").splitlines()
            if not line.startswith("#")
            for ch in line.split("\t", 1)[0]
        )
    return sorted(chars)


def build_vocab(texts: Iterable[str], min_count: int = 1, extra: Iterable[str] = ()) -> list[str]:
    """Specials, then every normalised character seen at least ``min_count`` times.

    Every character of every string in ``extra`` (lexicon terms, say) is
    included whatever its count. Characters are ordered by count (highest
    first), then code point. Whitespace is never a token of its own.
    """
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(text)
    normal: Counter[str] = Counter()
    for ch, n in counts.items():
        normal[char_token(ch)] += n
    keep = {token for token, n in normal.items() if n >= min_count}
    keep.update(char_token(ch) for term in extra for ch in term)
    keep.difference_update(SPECIAL_TOKENS)
    return [*SPECIAL_TOKENS, *sorted(keep, key=lambda t: (-normal[t], ord(t)))]


def save_vocab(tokens: Sequence[str], path: Path) -> str:
    """Write one token per line (UTF-8, ``\\n``); returns :func:`vocab_version`."""
    check_tokens(tokens, str(path))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{t}\n" for t in tokens), encoding="utf-8", newline="\n")
    return vocab_version(tokens)


def load_vocab(path: Path) -> list[str]:
    """The tokens of a vocabulary file in id order; TokenizerError if it is unusable."""
    return read_vocab_file(Path(path))


def make_hf_tokenizer(vocab_path: Path) -> PreTrainedTokenizerFast:
    """A ``BertTokenizerFast`` over the project's vocabulary (ids = line numbers).

    It holds the vocabulary and the special tokens and round-trips through
    ``save_pretrained``/``from_pretrained``. Turn text into ids with
    :func:`encode_text`, not by calling the tokenizer: its normaliser drops
    control characters and its pre-tokenizer drops whitespace, which would
    shift offsets.
    """
    return make_tokenizer_from_tokens(load_vocab(vocab_path))


def make_tokenizer_from_tokens(tokens: Sequence[str]) -> PreTrainedTokenizerFast:
    """:func:`make_hf_tokenizer` from tokens in memory (a checkpoint's vocabulary)."""
    from transformers import BertTokenizerFast

    check_tokens(tokens)
    vocab = {token: i for i, token in enumerate(tokens)}
    extra = [SPACE] if SPACE in vocab else []
    tokenizer = BertTokenizerFast(
        vocab=vocab,
        do_lower_case=False,
        strip_accents=False,
        tokenize_chinese_chars=True,
        unk_token=UNK,
        sep_token=SEP,
        pad_token=PAD,
        cls_token=CLS,
        mask_token=MASK,
        extra_special_tokens=extra,
    )
    tokenizer.init_kwargs["vocab_version"] = vocab_version(tokens)
    return tokenizer


def encode_text(tokenizer: PreTrainedTokenizerFast, text: str) -> list[int]:
    """Exactly one id per character of ``text``; no [CLS]/[SEP].

    The same ids as ``CharTokenizer.encode`` for the same vocabulary file.
    """
    ids = tokenizer.convert_tokens_to_ids([char_token(ch) for ch in text])
    unk = tokenizer.unk_token_id
    return [unk if i is None else int(i) for i in ids]
