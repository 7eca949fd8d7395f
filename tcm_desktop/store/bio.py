"""Character-level BIO tags <-> spans, and the whitespace placeholders of BIO files.

A BIO file has one ``char TAG`` (or ``char,TAG``) line per character and a
blank line between records. Characters that cannot stand on such a line
are written as placeholders and read back to the same character:

* a space is ``▁`` (U+2581), the usual convention;
* any other whitespace or control character (newline, tab, ideographic
  space U+3000, ...) and a literal ``▁`` are written ``U+XXXX``
  (its code point in hex, 4 to 6 digits).

A record may be preceded by a comment line ``# {"id": ..., "specialty": ...}``
(JSON) that the exporter writes so ids and specialties survive a round trip.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tcm_desktop.domain import Span

SPACE_PLACEHOLDER = "\u2581"
_CODE_POINT = re.compile(r"^U\+([0-9A-Fa-f]{4,6})$")
_TAG = re.compile(r"^(?:O|[BIES]-\S+)$")


def char_token(ch: str) -> str:
    """How ``ch`` is written on a BIO line."""
    if ch == " ":
        return SPACE_PLACEHOLDER
    if ch.isspace() or ch == SPACE_PLACEHOLDER or not ch.isprintable():
        return f"U+{ord(ch):04X}"
    return ch


def token_char(token: str) -> str | None:
    """The character a BIO token stands for, or None if it is not one character or placeholder."""
    if token == SPACE_PLACEHOLDER:
        return " "
    if len(token) == 1:
        return token
    match = _CODE_POINT.match(token)
    if match:
        code = int(match.group(1), 16)
        if code <= 0x10FFFF:
            return chr(code)
    return None


def is_tag(tag: str) -> bool:
    return bool(_TAG.match(tag))


def spans_to_tags(text: str, spans: Sequence[Span]) -> list[str]:
    """One BIO tag per character of ``text`` (spans must not overlap)."""
    tags = ["O"] * len(text)
    for span in sorted(spans):
        tags[span.start] = f"B-{span.label}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{span.label}"
    return tags


def tags_to_spans(text: str, tags: Sequence[str]) -> list[Span]:
    """Spans from BIO (or BIOES) tags. An ``I-`` that does not continue a span of
    its label starts one; ``E-`` ends, ``S-`` is a one-character span."""
    spans: list[Span] = []
    start, label = -1, ""

    def close(end: int) -> None:
        nonlocal start, label
        if start >= 0:
            spans.append(Span(start, end, label, text[start:end]))
        start, label = -1, ""

    for i, tag in enumerate(tags):
        prefix, _, kind = tag.partition("-")
        if prefix == "O":
            close(i)
        elif prefix == "B" or prefix == "S" or kind != label or start < 0:
            close(i)
            start, label = i, kind
        if prefix in ("S", "E"):
            close(i + 1)
    close(len(tags))
    return spans
