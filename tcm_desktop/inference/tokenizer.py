"""Character tokenizer of the text model: exactly one id per character.

The vocabulary is a UTF-8 text file with one token per line (line ``i`` is
id ``i``), the special tokens first (``training.vocab.SPECIAL_TOKENS``).
Every code point of a text becomes one id, so span offsets computed on the
ids are offsets into the original text:

* whitespace of any kind (space, tab, newline, U+3000, ...) -> ``[SPACE]``
  (``[UNK]`` in a vocabulary without ``[SPACE]``);
* any other character is normalised on its own by :func:`normalise_char`
  and looked up; a character not in the vocabulary -> ``[UNK]``.

No torch and no transformers here: this runs inside the GUI with ONNX
Runtime. ``training.vocab.encode_text`` uses the same :func:`char_token`,
so training and inference cannot drift apart.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from tcm_desktop.domain.errors import TcmError

PAD, UNK, CLS, SEP, MASK, SPACE = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[SPACE]"
REQUIRED_TOKENS: tuple[str, ...] = (PAD, UNK, CLS, SEP)


class TokenizerError(TcmError):
    """The vocabulary file is missing or malformed."""


def normalise_char(ch: str) -> str:
    """The form of one character that the vocabulary holds.

    Whitespace becomes ``" "``. Otherwise the NFKC form of the character is
    used when it is still one character (full-width ``，`` -> ``,``, ``５`` ->
    ``5``, ``Ａ`` -> ``A``, compatibility ideographs -> unified ones), and the
    result is lower-cased when that keeps it one character. A character whose
    NFKC form is longer (``℃`` -> ``°C``, ``™``) stays as it is, so a text
    never changes length.
    """
    if ch.isspace():
        return " "
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) != 1:
        folded = ch
    if folded.isspace():  # e.g. a compatibility form of a space
        return " "
    lower = folded.lower()
    return lower if len(lower) == 1 else folded


def char_token(ch: str) -> str:
    """The vocabulary token for one character: ``[SPACE]`` for whitespace, else the normalised character."""
    normal = normalise_char(ch)
    return SPACE if normal == " " else normal


def vocab_version(tokens: Iterable[str]) -> str:
    """First 12 hex digits of the sha256 of the vocabulary file's content (tokens in order)."""
    digest = hashlib.sha256()
    for token in tokens:
        digest.update(token.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()[:12]


def check_tokens(tokens: Sequence[str], where: str = "vocabulary") -> None:
    """Raise TokenizerError unless ``tokens`` can be a vocabulary file."""
    missing = [t for t in REQUIRED_TOKENS if t not in tokens]
    if missing:
        raise TokenizerError(f"{where} lacks the special token(s) {', '.join(missing)}")
    seen: set[str] = set()
    for i, token in enumerate(tokens):
        if not token or "\n" in token or "\r" in token:
            raise TokenizerError(f"{where}: token {i} ({token!r}) is empty or holds a line break")
        if token in seen:
            raise TokenizerError(f"{where}: token {token!r} appears twice (second time as id {i})")
        seen.add(token)


def read_vocab_file(path: Path) -> list[str]:
    """The tokens of a vocabulary file, in id order (a UTF-8 BOM is ignored)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise TokenizerError(f"cannot read the vocabulary {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise TokenizerError(f"the vocabulary {path} is not UTF-8 text") from exc
    # split on "\n" only: splitlines() would also split at U+2028, U+0085, ...
    tokens = [line.removesuffix("\r") for line in text.split("\n")]
    if tokens and tokens[-1] == "":
        tokens.pop()
    check_tokens(tokens, str(path))
    return tokens


class _IdCache(dict[str, int]):
    """Raw character -> id, filled on first sight (normalisation is the slow part)."""

    def __init__(self, vocab: dict[str, int], unk_id: int) -> None:
        super().__init__()
        self._vocab = vocab
        self._unk_id = unk_id

    def __missing__(self, ch: str) -> int:
        found = self._vocab.get(char_token(ch), self._unk_id)
        self[ch] = found
        return found


class CharTokenizer:
    """Text -> int64 ids, one per character, from a vocabulary file.

    ``version`` is :func:`vocab_version` of the tokens, the value a model
    bundle's manifest records.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens: tuple[str, ...] = tuple(tokens)
        check_tokens(self.tokens)
        self.vocab: dict[str, int] = {token: i for i, token in enumerate(self.tokens)}
        self.version = vocab_version(self.tokens)
        self.pad_id = self.vocab[PAD]
        self.unk_id = self.vocab[UNK]
        self.cls_id = self.vocab[CLS]
        self.sep_id = self.vocab[SEP]
        self.mask_id: int | None = self.vocab.get(MASK)
        self.space_id = self.vocab.get(SPACE, self.unk_id)
        self._ids = _IdCache(self.vocab, self.unk_id)

    @classmethod
    def from_vocab_file(cls, path: Path) -> CharTokenizer:
        return cls(read_vocab_file(path))

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> np.ndarray:
        """``int64[len(text)]``: the id of each character; no [CLS]/[SEP] are added."""
        ids = self._ids
        return np.fromiter((ids[ch] for ch in text), dtype=np.int64, count=len(text))

    def token_of(self, token_id: int) -> str:
        return self.tokens[token_id]
