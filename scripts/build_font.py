"""Build the bundled CJK font: a subset of Noto Sans CJK SC Regular (SIL OFL 1.1).

The subset keeps ASCII, Latin-1, general and CJK punctuation, full-width
forms, every GB2312 character, and every character that occurs in the
shipped schema, vocabulary, lexicon, UI sources and translations, so the interface and
typical records render where no CJK font is installed. Needs fonttools
(``pip install fonttools``) and the Debian package fonts-noto-cjk.

    python scripts/build_font.py [--source /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "fonts"
SC_INDEX_NAME = "Noto Sans CJK SC"
RANGES = [
    (0x20, 0x7E),
    (0xA0, 0xFF),
    (0x2000, 0x206F),
    (0x2100, 0x218F),
    (0x2190, 0x21FF),
    (0x2460, 0x24FF),
    (0x2500, 0x257F),
    (0x25A0, 0x25FF),
    (0x3000, 0x303F),
    (0xFF00, 0xFFEF),
]


def gb2312_characters() -> set[str]:
    chars = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def project_characters() -> set[str]:
    chars: set[str] = set()
    patterns = [
        "resources/schema/*.yaml",
        "resources/vocab/*.json",
        "resources/lexicon/*.txt",
        "resources/translations/*.ts",
        "tcm_desktop/**/*.py",
    ]
    for pattern in patterns:
        for path in ROOT.glob(pattern):
            chars.update(path.read_text(encoding="utf-8"))
    return {c for c in chars if ord(c) >= 0x20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"))
    args = parser.parse_args()
    collection = TTCollection(str(args.source))
    font = next(f for f in collection.fonts if f["name"].getDebugName(4) == SC_INDEX_NAME)
    chars = gb2312_characters() | project_characters()
    for lo, hi in RANGES:
        chars.update(chr(c) for c in range(lo, hi + 1))
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_languages = ["*"]
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in chars))
    subsetter.subset(font)
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / "NotoSansSC-Subset.otf"
    font.save(str(target))
    print(f"{len(chars)} characters, {target.stat().st_size / 1e6:.2f} MB -> {target}")


if __name__ == "__main__":
    main()
