"""Text assembly with gold spans, punctuation style and number spelling.

``TextBuilder`` appends pieces and records spans as it goes, so offsets are right
by construction; ``Style`` holds one record's writing habits (punctuation width,
numerals, abbreviations) so a record is internally consistent while records differ.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tcm_desktop.domain import Span

DIGITS = "零一二三四五六七八九"


def chinese_number(n: int, *, liang: bool = False) -> str:
    """1..99 in Chinese numerals; ``liang`` writes 2 as 两."""
    if n == 2 and liang:
        return "两"
    if n < 10:
        return DIGITS[n]
    if n >= 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else DIGITS[tens]
    return head + "十" + (DIGITS[ones] if ones else "")


@dataclass
class Style:
    """One record's writing habits."""

    rng: random.Random
    full_width: bool = True
    chinese_numerals: float = 0.15
    abbreviations: bool = False
    range_mark: str = "~"
    gram: str = "g"
    typo_rate: float = 0.0

    @classmethod
    def draw(cls, rng: random.Random) -> Style:
        return cls(
            rng=rng,
            full_width=rng.random() < 0.8,
            chinese_numerals=rng.choice((0.0, 0.1, 0.3)),
            abbreviations=rng.random() < 0.5,
            range_mark=rng.choice(("~", "～", "-", "~")),
            gram=rng.choice(("g", "g", "g", "克", "G")),
            typo_rate=rng.choice((0.0, 0.0, 0.02, 0.05)),
        )

    def p(self, mark: str) -> str:
        """A punctuation mark in this record's width (，。：；（）)."""
        if self.full_width or self.rng.random() < 0.15:
            return mark
        return {"，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "。": "."}.get(mark, mark)

    def number(self, n: int) -> str:
        if 0 < n < 100 and self.rng.random() < self.chinese_numerals:
            return chinese_number(n, liang=self.rng.random() < 0.5)
        return str(n)


@dataclass
class TextBuilder:
    """Text plus gold spans; every ``add`` appends at the end."""

    style: Style
    parts: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    length: int = 0
    sites: Sequence[str] = ()

    @property
    def rng(self) -> random.Random:
        return self.style.rng

    def text(self) -> str:
        return "".join(self.parts)

    def raw(self, text: str) -> TextBuilder:
        """Unlabelled text (filler, headers, punctuation)."""
        if text:
            self.parts.append(text)
            self.length += len(text)
        return self

    def p(self, mark: str) -> TextBuilder:
        return self.raw(self.style.p(mark))

    def ent(self, text: str, label: str) -> Span:
        """One entity; site-before-symptom words are split (SCHEMA: 肛门坠胀 -> 肛门 | 坠胀)."""
        if label in ("SYM", "SIGN"):
            for site in self.sites:
                if text.startswith(site) and len(text) - len(site) >= 2:
                    self.ent(site, "BODY_PART")
                    return self.ent(text[len(site) :], label)
        span = Span(self.length, self.length + len(text), label, text)
        self.spans.append(span)
        self.raw(text)
        return span

    def phrase(self, text: str, spans: Sequence[dict[str, Any]]) -> list[Span]:
        """A vocabulary phrasing with its relative spans."""
        out: list[Span] = []
        cursor = 0
        for s in sorted(spans, key=lambda s: s["start"]):
            self.raw(self.punct(text[cursor : s["start"]]))
            out.append(self.ent(s["text"], s["label"]))
            cursor = s["end"]
        self.raw(self.punct(text[cursor:]))
        return out

    def punct(self, text: str) -> str:
        if self.style.full_width:
            return text
        return "".join(self.style.p(ch) if ch in "，：；（）。" else ch for ch in text)

    def join(self, items: Sequence[Any], add_one: Any, sep: str = "、") -> None:
        """Call ``add_one(item)`` for each item with a separator between them."""
        for i, item in enumerate(items):
            if i:
                self.raw(self.style.p(sep) if sep in "，；" else sep)
            add_one(item)

    def extend(self, other: TextBuilder) -> None:
        shift = self.length
        self.spans.extend(Span(s.start + shift, s.end + shift, s.label, s.text) for s in other.spans)
        self.parts.extend(other.parts)
        self.length += other.length
