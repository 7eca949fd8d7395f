"""The character vocabulary: deterministic, versioned, one id per character through transformers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tcm_desktop.inference.tokenizer import CharTokenizer, TokenizerError, char_token
from training.vocab import (
    SPECIAL_TOKENS,
    build_vocab,
    encode_text,
    load_vocab,
    make_hf_tokenizer,
    make_tokenizer_from_tokens,
    save_vocab,
    vocab_version,
)

TEXTS = ["舌淡红，苔薄白，脉细。", "腹痛３天，ＶＡＳ评分６分。", "党参15g 白术10g\n"]


def test_specials_first_then_characters_by_count_then_code_point() -> None:
    tokens = build_vocab(TEXTS)
    assert tuple(tokens[: len(SPECIAL_TOKENS)]) == SPECIAL_TOKENS == (
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[SPACE]",
    )  # fmt: skip
    chars = tokens[len(SPECIAL_TOKENS) :]
    assert chars[0] == ","  # ， three times: the most frequent normalised character
    assert "，" not in chars and "Ｖ" not in chars and "v" in chars and "６" not in chars
    assert " " not in chars and "\n" not in chars  # whitespace is [SPACE]
    assert len(chars) == len(set(chars))
    counts = Counter(char_token(c) for c in "".join(TEXTS))
    assert chars == sorted(chars, key=lambda t: (-counts[t], ord(t)))


def test_vocab_is_deterministic_and_versioned(tmp_path: Path) -> None:
    tokens = build_vocab(TEXTS)
    assert build_vocab(list(reversed(TEXTS))) == tokens
    version = save_vocab(tokens, tmp_path / "vocab.txt")
    assert version == vocab_version(tokens) == vocab_version(load_vocab(tmp_path / "vocab.txt"))
    assert len(version) == 12 and int(version, 16) >= 0
    assert load_vocab(tmp_path / "vocab.txt") == tokens
    assert vocab_version(build_vocab(TEXTS + ["新"])) != version
    assert CharTokenizer.from_vocab_file(tmp_path / "vocab.txt").version == version


def test_min_count_and_extra_characters() -> None:
    tokens = build_vocab(["痛痛痛", "咳"], min_count=2, extra=["党参"])
    assert tokens[len(SPECIAL_TOKENS) :] == ["痛", "党", "参"]
    with pytest.raises(ValueError):
        build_vocab([], min_count=0)


def test_a_broken_vocabulary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\n[UNK]\n[CLS]\n", encoding="utf-8")
    with pytest.raises(TokenizerError, match=r"\[SEP\]"):
        load_vocab(path)
    path.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n痛\n痛\n", encoding="utf-8")
    with pytest.raises(TokenizerError, match="twice"):
        load_vocab(path)


def test_hf_tokenizer_gives_one_id_per_character_and_survives_save_pretrained(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    save_vocab(build_vocab(TEXTS), tmp_path / "vocab.txt")
    tokenizer = make_hf_tokenizer(tmp_path / "vocab.txt")
    text = "舌淡红,苔薄白\n\tＶＡＳ６分 😀龘"
    ids = encode_text(tokenizer, text)
    assert len(ids) == len(text)
    tokens = tokenizer.convert_ids_to_tokens(ids)
    assert tokens[3] == "," and tokens[7] == tokens[8] == tokens[14] == "[SPACE]"
    assert tokens[9:13] == ["v", "a", "s", "6"] and tokens[-2:] == ["[UNK]", "[UNK]"]
    assert tokenizer.pad_token_id == 0 and tokenizer.unk_token_id == 1
    tokenizer.save_pretrained(tmp_path / "hf")
    again = AutoTokenizer.from_pretrained(tmp_path / "hf")
    assert encode_text(again, text) == ids
    assert encode_text(make_tokenizer_from_tokens(load_vocab(tmp_path / "vocab.txt")), text) == ids
