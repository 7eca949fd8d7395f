"""What the form rules need to know about a record: its sections, span order, negation, time and numbers.

:class:`FormContext` wraps one text and its spans once, so every field rule
asks the same questions the same way (is this span negated, is it in the past
history, what was said earlier in its sentence) instead of re-reading the text.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from tcm_desktop.domain.records import Span
from tcm_desktop.inference.form_vocab import RuleBook, has_any

NEGATION = "NEGATION"
SENTENCE_MARKS = frozenset("。；;！!？?\n\r")
CLAUSE_MARKS = SENTENCE_MARKS | frozenset("，,：:")
LEFT_MARKS = frozenset("\n\r \t\u3000【[■")  # a header starts after one of these (or at the start)
STRONG_LEFT = frozenset("【[■")  # after these a header needs no delimiter after it
RIGHT_MARKS = frozenset("：:】] \n\r\t\u3000—")
NOTE_LENGTH = 12
BRACKETS = frozenset("（(")  # a header may carry a bracketed note: 专科检查（截石位）, 西医诊断(病名)
CHINESE_DIGITS = {ch: n for n, ch in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
CHINESE_UNITS = {"十": 10, "百": 100}
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９．", "0123456789.")


@dataclass(frozen=True)
class Section:
    """One headed part of a record: ``start`` is where its header (with numbering) begins."""

    kind: str
    header: str
    start: int
    body_start: int
    end: int


def _numbering_length(text: str, at: int) -> int:
    """Length of a list numbering at ``at`` (一、 1. 12、 （三） (3)), 0 when there is none."""
    if at < len(text) and text[at] in "（(":
        close = at + 1
        while close < len(text) and (
            text[close] in CHINESE_DIGITS or text[close] in CHINESE_UNITS or _digit(text[close])
        ):
            close += 1
        return close - at + 1 if close > at + 1 and close < len(text) and text[close] in "）)" else 0
    end = at
    while end < len(text) and (text[end] in CHINESE_DIGITS or text[end] in CHINESE_UNITS or _digit(text[end])):
        end += 1
    if end > at and end < len(text) and text[end] in "、.．":
        return end - at + 1
    return 0


def _digit(ch: str) -> bool:
    return "0" <= ch <= "9"


@functools.lru_cache(maxsize=8)
def _by_first_char(headers: tuple[tuple[str, str], ...]) -> dict[str, tuple[tuple[str, str], ...]]:
    """The header words grouped by their first character, longest first in each group (a record has
    thousands of line starts and the book hundreds of headers: compare only those that can match)."""
    index: dict[str, list[tuple[str, str]]] = {}
    for word, kind in headers:
        index.setdefault(word[:1], []).append((word, kind))
    return {first: tuple(words) for first, words in index.items()}


def _header_at(
    text: str, at: int, by_first: dict[str, tuple[tuple[str, str], ...]], strong: bool
) -> tuple[str, str] | None:
    for word, kind in by_first.get(text[at : at + 1], ()):  # longest first
        if text.startswith(word, at):
            end = at + len(word)
            if strong or end == len(text) or text[end] in RIGHT_MARKS or text[end] in BRACKETS:
                return word, kind
    return None


def find_sections(text: str, headers: Sequence[tuple[str, str]]) -> tuple[Section, ...]:
    """The record's sections, from header words at the start of a line or after a bracket or numbering."""
    found: list[tuple[str, str, int, int]] = []  # kind, header, start, header end
    by_first = _by_first_char(tuple(headers))  # once per record: hashing the key costs a pass over the headers
    at = 0
    while at < len(text):
        if at == 0 or text[at - 1] in LEFT_MARKS:
            start = at - 1 if at and text[at - 1] in STRONG_LEFT else at
            numbering = _numbering_length(text, at)
            hit = _header_at(text, at + numbering, by_first, strong=bool(numbering) or start < at)
            if hit is not None:
                word, kind = hit
                end = at + numbering + len(word)
                found.append((kind, word, start, end))
                at = end
                continue
        at += 1
    sections = []
    for k, (kind, word, start, end) in enumerate(found):
        body = end
        if body < len(text) and text[body] in BRACKETS:  # skip the note: 专科检查（截石位）：
            close = min((i for i in (text.find(c, body, body + NOTE_LENGTH) for c in "）)") if i >= 0), default=-1)
            body = close + 1 if close >= 0 else body
        while body < len(text) and text[body] in RIGHT_MARKS:
            body += 1
        stop = found[k + 1][2] if k + 1 < len(found) else len(text)
        sections.append(Section(kind, word, start, min(body, stop), stop))
    return tuple(sections)


def _is_sentence_end(text: str, k: int) -> bool:
    ch = text[k]
    if ch in SENTENCE_MARKS:
        return True
    # a half-width full stop ends a sentence, a decimal point does not
    return ch == "." and not (0 < k < len(text) - 1 and _digit(text[k - 1]) and _digit(text[k + 1]))


def _is_clause_end(text: str, k: int) -> bool:
    return text[k] in CLAUSE_MARKS or _is_sentence_end(text, k)


class FormContext:
    """One record's text and spans, with the questions every field rule asks about them."""

    def __init__(self, text: str, spans: Sequence[Span], book: RuleBook) -> None:
        self.text = text
        self.spans = tuple(spans)
        self.book = book
        self.order = tuple(sorted(range(len(self.spans)), key=lambda i: (self.spans[i].start, self.spans[i].end)))
        self._rank = {index: rank for rank, index in enumerate(self.order)}
        self.sections = find_sections(text, book.headers)
        self._section_starts = [s.start for s in self.sections]
        self.memo: dict[str, Any] = {}  # results a family computes once and others reuse

    # ---- sections -----------------------------------------------------------------
    def section_at(self, offset: int) -> Section | None:
        k = bisect.bisect_right(self._section_starts, offset) - 1
        return self.sections[k] if k >= 0 else None

    def kind_at(self, offset: int) -> str | None:
        section = self.section_at(offset)
        return section.kind if section else None

    def in_kinds(self, i: int, kinds: Collection[str]) -> bool:
        return self.kind_at(self.spans[i].start) in kinds

    def sections_of(self, kind: str) -> list[Section]:
        return [s for s in self.sections if s.kind == kind]

    # ---- span order -----------------------------------------------------------------
    def indices(self, labels: Collection[str] | None = None) -> list[int]:
        """Span indices in text order, limited to ``labels`` when given."""
        return [i for i in self.order if labels is None or self.spans[i].label in labels]

    def previous(self, i: int) -> int | None:
        rank = self._rank[i]
        return self.order[rank - 1] if rank > 0 else None

    def following(self, i: int) -> int | None:
        rank = self._rank[i]
        return self.order[rank + 1] if rank + 1 < len(self.order) else None

    def between(self, end: int, start: int) -> str:
        return self.text[end:start] if start > end else ""

    # ---- negation and resolution ---------------------------------------------------------
    def negation_cue(self, i: int) -> int | None:
        """The NEGATION span that negates span ``i``, or None.

        Before it: 无便血, 无明显便血, 无恶寒、发热 (the cue reaches over a list
        and over degree words). After it: 发热：否, 恶心、呕吐均无.
        """
        book = self.book
        joiners = book.list_joiners
        cursor, j = self.spans[i].start, self.previous(i)
        while j is not None:
            span = self.spans[j]
            if not self._only_joiners(self.between(span.end, cursor)):
                break
            if span.label == NEGATION:
                if span.text not in book.post_cues:
                    return j
                break
            if span.label not in book.reach_over:
                break
            cursor, j = span.start, self.previous(j)
        cursor, j = self.spans[i].end, self.following(i)
        while j is not None:
            span = self.spans[j]
            gap = set(self.between(cursor, span.start))
            if span.label == NEGATION:
                return j if span.text in book.post_cues and gap <= book.post_gap | joiners else None
            if span.label != self.spans[i].label or not gap <= joiners:
                return None
            cursor, j = span.end, self.following(j)
        return None

    def negated_inside(self, i: int, words: Sequence[str]) -> bool:
        """Whether span ``i`` itself holds a negation cue before the first of ``words`` (干咳无痰 as one span)."""
        text = self.spans[i].text
        found = [k for w in words if (k := text.find(w)) >= 0]
        return bool(found) and has_any(text[: min(found)], self.book.inline_cues)

    def _only_joiners(self, gap: str) -> bool:
        """Whether a gap holds only list joiners and event words (便后), which a negation cue reaches over."""
        for word in self.book.event_words:
            gap = gap.replace(word, "")
        return set(gap) <= self.book.list_joiners

    def resolved_by(self, i: int) -> int | None:
        """A change word right after span ``i`` that says the finding is gone (便血已止, 发热已退)."""
        j = self.following(i)
        if j is None:
            return None
        span = self.spans[j]
        gap = self.between(self.spans[i].end, span.start)
        resolves = span.label == "SEVERITY" and has_any(span.text, self.book.resolved_words)
        return j if resolves and len(gap) <= 2 and not any(ch in CLAUSE_MARKS for ch in gap) else None

    # ---- sentences and time ---------------------------------------------------------------
    def sentence_start(self, offset: int) -> int:
        section = self.section_at(offset)
        floor = section.body_start if section and section.body_start <= offset else 0
        k = offset - 1
        while k >= floor and not _is_sentence_end(self.text, k):
            k -= 1
        return max(k + 1, floor)

    def sentence_end(self, offset: int) -> int:
        section = self.section_at(offset)
        ceiling = section.end if section else len(self.text)
        k = offset
        while k < ceiling and not _is_sentence_end(self.text, k):
            k += 1
        return k

    def same_sentence(self, a: int, b: int) -> bool:
        """Whether offsets ``a`` <= ``b`` lie in one sentence."""
        return self.sentence_end(a) >= b

    def clause_break(self, start: int, end: int) -> bool:
        """Whether the text between ``start`` and ``end`` holds clause punctuation."""
        return any(_is_clause_end(self.text, k) for k in range(start, end))

    def clause_tail(self, start: int, end: int) -> str:
        """The text between ``start`` and ``end`` after its last clause punctuation."""
        k = end - 1
        while k >= start and not _is_clause_end(self.text, k):
            k -= 1
        return self.text[k + 1 : end]

    def is_past(self, offset: int) -> bool:
        """Whether the nearest time cue before ``offset`` in its sentence points to the past.

        "2年前曾有便血，色鲜红" is past; "入院时腹泻每日8~10次，目前每日2~3次" has a
        past value and a current one; "3天前受凉后出现发热" is an onset, not past.
        """
        before = self.text[self.sentence_start(offset) : offset]
        last_past = max((before.rfind(cue) for cue in self.book.past_cues), default=-1)
        last_current = max((before.rfind(cue) for cue in self.book.current_cues), default=-1)
        return last_past > last_current


# ---- numbers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """A number written in a text; ``more`` when followed by 余/以上 (十余次: more than ten)."""

    value: float
    start: int
    end: int
    more: bool = False


def after_last_change(text: str, marks: Sequence[str]) -> str:
    """The part of ``text`` after its last change mark (8分→4分 -> 4分); all of it when there is none."""
    cut = max((text.rfind(m) + len(m) for m in marks if m in text), default=0)
    return text[cut:]


def _chinese_value(run: str) -> int:
    """二十 -> 20, 十二 -> 12, 十 -> 10, 一百零五 -> 105."""
    total, digit = 0, 0
    for ch in run:
        if ch in CHINESE_UNITS:
            total += (digit or 1) * CHINESE_UNITS[ch]
            digit = 0
        else:
            digit = CHINESE_DIGITS[ch]
    return total + digit


def parse_numbers(text: str, more_marks: Sequence[str] = ()) -> list[Number]:
    """Every number in ``text``, Arabic or Chinese.

    A run of Chinese digits without 十/百 is a range of single digits
    (两三 -> 2, 3; 七八 -> 7, 8), the way counts are written in notes.
    """
    text = text.translate(FULL_WIDTH_DIGITS)
    found: list[tuple[float, int, int]] = []
    k = 0
    while k < len(text):
        ch = text[k]
        if _digit(ch):
            end = k
            while end < len(text) and (
                _digit(text[end]) or text[end] == "." and end + 1 < len(text) and _digit(text[end + 1])
            ):
                end += 1
            found.append((float(text[k:end]), k, end))
            k = end
        elif ch in CHINESE_DIGITS or ch in CHINESE_UNITS:
            end = k
            while end < len(text) and (text[end] in CHINESE_DIGITS or text[end] in CHINESE_UNITS):
                end += 1
            run = text[k:end]
            if any(c in CHINESE_UNITS for c in run):
                found.append((float(_chinese_value(run)), k, end))
            else:
                found.extend((float(CHINESE_DIGITS[c]), k + n, k + n + 1) for n, c in enumerate(run))
            k = end
        else:
            k += 1
    return [Number(value, start, end, any(text.startswith(m, end) for m in more_marks)) for value, start, end in found]
