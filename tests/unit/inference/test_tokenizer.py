"""The GUI's character tokenizer: one id per character, the same ids as training, no torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tcm_desktop.inference.tokenizer import CharTokenizer, char_token, normalise_char

MIXED = "患者腹痛３天，ＶＡＳ评分6分。\n舌淡红　苔薄白 (T 38.2℃)\t😀 𠀀龘！"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("，", ","), ("５", "5"), ("Ａ", "a"), ("B", "b"), ("！", "!"), ("\u3000", " "), ("\n", " "),
     ("℃", "℃"), ("™", "™"), ("痛", "痛"), ("😀", "😀"), ("\uf900", "豈"), ("İ", "İ")],
)  # fmt: skip
def test_normalise_char_keeps_one_character(raw: str, normal: str) -> None:
    assert normalise_char(raw) == normal
    assert len(normalise_char(raw)) == 1


def test_whitespace_is_the_space_token() -> None:
    assert {char_token(c) for c in " \t\n\r\u3000\u00a0"} == {"[SPACE]"}


def test_training_and_inference_agree_on_a_mixed_text(tmp_path: Path) -> None:
    from training.vocab import build_vocab, encode_text, make_hf_tokenizer, save_vocab

    vocab_file = tmp_path / "vocab.txt"
    # 𠀀 (U+20000, a rare character) and 😀 stay out of the vocabulary: both sides give [UNK]
    save_vocab(build_vocab(["患者腹痛3天，VAS评分6分。舌淡红苔薄白(T 38.2℃)！龘"]), vocab_file)
    char_tokenizer = CharTokenizer.from_vocab_file(vocab_file)
    ids = char_tokenizer.encode(MIXED)
    assert ids.dtype == np.int64 and ids.shape == (len(MIXED),)
    assert ids.tolist() == encode_text(make_hf_tokenizer(vocab_file), MIXED)
    unk = char_tokenizer.unk_id
    assert ids[MIXED.index("😀")] == unk and ids[MIXED.index("𠀀")] == unk and ids[MIXED.index("龘")] != unk
    assert ids[MIXED.index("\n")] == ids[MIXED.index("　")] == ids[MIXED.index("\t")] == char_tokenizer.space_id
    assert ids[MIXED.index("３")] == char_tokenizer.vocab["3"] and ids[MIXED.index("Ａ")] == char_tokenizer.vocab["a"]
    assert char_tokenizer.encode("").shape == (0,)
    assert (char_tokenizer.pad_id, char_tokenizer.unk_id, char_tokenizer.cls_id, char_tokenizer.sep_id) == (0, 1, 2, 3)


def test_the_tokenizer_imports_without_torch_or_transformers() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'transformers'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import tcm_desktop.inference.tokenizer as t\n"
        "print(t.CharTokenizer(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '痛']).encode('痛x').tolist())\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[4, 1]"
