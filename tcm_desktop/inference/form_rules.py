"""The field rules of form filling, one small function per field family (SCHEMA.md's normalisation rules).

Every family turns a record into :class:`Mention` s (a value, where it was
stated, the spans it came from, whether it was said of the past);
:func:`latest` then applies "the latest value wins" and "刻下 beats history".
Families are looked up (:data:`tcm_desktop.inference.form_filling.FAMILIES`)
by the ``rule`` name a field has in ``resources/schema/form_rules.yaml``, so
adding a field of a known kind is a data change. The tongue family lives in
:mod:`.form_tongue`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tcm_desktop.domain.schema import FormField
from tcm_desktop.inference.form_context import FormContext, after_last_change, parse_numbers
from tcm_desktop.inference.form_vocab import FieldRule, ValueWords, WordSet, has_any

HISTORY = "history"
FINDINGS = frozenset({"SYM", "SIGN"})
COLOUR_GAP = 8  # most characters between a finding and its colour: 大便带血1周，血色鲜红


@dataclass(frozen=True)
class Mention:
    """One statement of a field's value: where (``at``), what, from which spans, and whether of the past."""

    at: int
    value: Any
    evidence: tuple[int, ...]
    past: bool = False
    weak: bool = False


def latest(mentions: Sequence[Mention], when_past: str = "ignore") -> Mention | None:
    """The value that holds now: the last current statement.

    A statement of the past never fills the field unless ``when_past`` is
    "fallback" (a measurement nothing later repeats); a weak statement (a
    normal temperature) counts only when nothing else was said.
    """
    tiers = [[m for m in mentions if not m.past and not m.weak]]
    if when_past == "fallback":
        tiers.append([m for m in mentions if m.past and not m.weak])
    tiers.append([m for m in mentions if m.weak and not m.past])
    for tier in tiers:
        if tier:
            return max(tier, key=lambda m: m.at)
    return None


def first_value(text: str, rules: Sequence[ValueWords]) -> str | None:
    for rule in rules:
        if has_any(text, rule.words):
            return rule.value
    return None


def anchors(ctx: FormContext, words: WordSet) -> list[int]:
    """Spans that speak of the field, outside the past-history sections."""
    return [
        i
        for i in ctx.order
        if words.matches(ctx.spans[i].label, ctx.spans[i].text) and ctx.kind_at(ctx.spans[i].start) != HISTORY
    ]


def _absence(ctx: FormContext, i: int, words: WordSet) -> int | None:
    """The span that says finding ``i`` is absent: a negation cue, a change word like 已止, or ``i`` itself
    when the cue sits inside it (干咳无痰 tagged as one span)."""
    cue = ctx.negation_cue(i)
    if cue is None:
        cue = ctx.resolved_by(i)
    if cue is None and ctx.negated_inside(i, words.words):
        cue = i
    return cue


# ---- presence: 有/无, 是/否 ------------------------------------------------------------------------


def presence(ctx: FormContext, rule: FieldRule, form_field: FormField) -> list[Mention]:
    """Present and not negated gives ``present``; negated or resolved (发热已退) gives ``absent``."""
    out = []
    for i in anchors(ctx, rule.anchor):
        span = ctx.spans[i]
        against = _absence(ctx, i, rule.anchor)
        value = rule.present if against is None else rule.absent
        evidence = tuple(sorted({i} if against is None else {i, against}))
        out.append(Mention(span.start, value, evidence, past=ctx.is_past(span.start)))
    if rule.temperature_units and rule.fever_from is not None:
        out += _temperatures(ctx, rule)
    return out


def _temperatures(ctx: FormContext, rule: FieldRule) -> list[Mention]:
    """A body temperature: at or above ``fever_from`` is a fever; a normal one is weak evidence against."""
    out = []
    for i in ctx.indices({"MEASURE"}):
        span = ctx.spans[i]
        if not has_any(span.text, rule.temperature_units) or ctx.kind_at(span.start) == HISTORY:
            continue
        low, high = rule.temperature_range
        values = [n.value for n in parse_numbers(span.text) if low <= n.value <= high]
        if not values:
            continue
        hot = max(values) >= float(rule.fever_from or 0)
        value = rule.present if hot else rule.absent
        out.append(Mention(span.start, value, (i,), past=ctx.is_past(span.start), weak=not hot))
    return out


# ---- colour of a discharge: 便血色鲜红, 咳黄痰 --------------------------------------------------------


def _first_colour(ctx: FormContext, i: int) -> int | None:
    """The COLOR span right before finding ``i`` (黄痰) or later in its sentence (便血，色鲜红)."""
    before = ctx.previous(i)
    if before is not None and ctx.spans[before].label == "COLOR" and ctx.spans[before].end == ctx.spans[i].start:
        return before
    end = ctx.spans[i].end
    j = ctx.following(i)
    while j is not None:
        span = ctx.spans[j]
        if span.start - end > COLOUR_GAP or not ctx.same_sentence(end, span.start) or span.label in FINDINGS:
            return None
        if span.label == "COLOR":
            return j
        j = ctx.following(j)
    return None


def attached_colours(ctx: FormContext, i: int) -> list[int]:
    """The COLOR spans that describe finding ``i``, in text order.

    Colours that follow the first one in the same clause say how the finding
    changed (痰色由黄转白: 黄, then 白).
    """
    first = _first_colour(ctx, i)
    if first is None:
        return []
    found = [first]
    j = ctx.following(first if ctx.spans[first].start > ctx.spans[i].start else i)
    while j is not None and ctx.spans[j].label not in FINDINGS:
        if ctx.clause_break(ctx.spans[found[-1]].end, ctx.spans[j].start):
            break
        if ctx.spans[j].label == "COLOR":
            found.append(j)
        j = ctx.following(j)
    return found


def colour(ctx: FormContext, rule: FieldRule, form_field: FormField) -> list[Mention]:
    """The colour given to the finding; a negated or resolved finding gives ``absent``.

    Mixed colours are their own value (黄白相间); a qualifier keeps the base
    colour (淡黄 -> 黄); 黄绿色 -> 绿 (the rules are ordered in the YAML).
    """
    out = []
    for i in anchors(ctx, rule.anchor):
        span = ctx.spans[i]
        against = _absence(ctx, i, rule.anchor)
        if against is not None:
            out.append(Mention(span.start, rule.absent, tuple(sorted({i, against})), past=ctx.is_past(span.start)))
            continue
        for c in attached_colours(ctx, i) or [i]:  # no COLOR span: the colour may sit inside (痰黄而黏)
            value = first_value(ctx.spans[c].text, rule.colors)
            if value is not None:
                at = ctx.spans[c].start
                out.append(Mention(at, value, tuple(sorted({i, c})), past=ctx.is_past(at)))
    return out


# ---- a score: VAS评分6分 ---------------------------------------------------------------------------


def score_value(ctx: FormContext, text: str, rule: FieldRule, form_field: FormField) -> int | None:
    """6分 -> 6, 七分 -> 7, 6/10 -> 6, 5～6分 -> 6 (a range takes its upper bound), 8分→4分 -> 4."""
    text = after_last_change(text, ctx.book.change_marks)
    numbers = parse_numbers(text, ctx.book.more_marks)
    if not numbers:
        return None
    value = numbers[0].value if has_any(text, rule.out_of) else max(n.value for n in numbers)
    if not float(value).is_integer() or form_field.check(int(value)) is not None:
        return None
    return int(value)


def score(ctx: FormContext, rule: FieldRule, form_field: FormField) -> list[Mention]:
    """Each MEASURE after a score's EXAM span in its sentence (VAS评分由7分降至3分: 7, then 3)."""
    found: dict[int, set[int]] = {}
    for i in anchors(ctx, rule.anchor):
        j = ctx.following(i)
        while j is not None and ctx.same_sentence(ctx.spans[i].end, ctx.spans[j].start):
            span = ctx.spans[j]
            if span.label == "EXAM" and not rule.anchor.matches(span.label, span.text):
                break
            if span.label == "MEASURE":
                found.setdefault(j, set()).add(i)
            j = ctx.following(j)
    out = []
    for j, owners in found.items():
        value = score_value(ctx, ctx.spans[j].text, rule, form_field)
        if value is not None:
            at = ctx.spans[j].start
            out.append(Mention(at, value, tuple(sorted({j, *owners})), past=ctx.is_past(at)))
    return out


# ---- a length on one side: 健侧腕关节周径18.5cm --------------------------------------------------------


def length_cm(text: str, units: Mapping[str, float], fallback_unit: str = "") -> float | None:
    """18.5cm -> 18.5, 175mm -> 17.5; a bare number takes the unit of ``fallback_unit`` (17.3/19.8cm)."""
    numbers = parse_numbers(text)
    if not numbers:
        return None
    unit = next((u for u in sorted(units, key=len, reverse=True) if u in text), None)
    unit = unit or next((u for u in sorted(units, key=len, reverse=True) if u in fallback_unit), None)
    return numbers[0].value * (units[unit] if unit else 1.0)


def _side(rule: FieldRule, text: str) -> str | None:
    if has_any(text, rule.wanted_side):
        return "wanted"
    if has_any(text, rule.other_side):
        return "other"
    return None


def circumference(ctx: FormContext, rule: FieldRule, form_field: FormField) -> list[Mention]:
    """A length measured on the wanted side (健侧), not the other side and not a difference (较健侧增粗2cm).

    A value takes the side written in brackets after it (左17.2cm（健侧）), the
    matching side of a slash pair (健侧/患侧：17.3/19.8cm), or else the nearest
    site written before it in its sentence.
    """
    out: list[Mention] = []
    done: set[int] = set()
    for anchor in anchors(ctx, rule.anchor):
        start = ctx.sentence_start(ctx.spans[anchor].start)
        if start in done:
            continue
        done.add(start)
        stop = ctx.sentence_end(ctx.spans[anchor].start)
        members = [k for k in ctx.order if start <= ctx.spans[k].start < stop]
        out += _sentence_lengths(ctx, rule, form_field, anchor, members)
    return out


def _slash_pair(ctx: FormContext, q: int) -> tuple[int, int] | None:
    """The two MEASURE spans of a pair written 17.3/19.8cm, when ``q`` is one of them."""
    for a, b in ((ctx.previous(q), q), (q, ctx.following(q))):
        if a is None or b is None or ctx.spans[a].label != "MEASURE" or ctx.spans[b].label != "MEASURE":
            continue
        if ctx.between(ctx.spans[a].end, ctx.spans[b].start) == "/":
            return a, b
    return None


def _bracket_site(ctx: FormContext, rule: FieldRule, q: int) -> int | None:
    """The site written in brackets right after a value: 左17.2cm（健侧）."""
    after = ctx.following(q)
    if after is None or ctx.spans[after].label not in rule.side_labels:
        return None
    return after if ctx.between(ctx.spans[q].end, ctx.spans[after].start) in ("（", "(") else None


def _site_of(
    ctx: FormContext, rule: FieldRule, q: int, sites: list[int], slash_sites: list[tuple[int, int]]
) -> int | None:
    """The site a length belongs to, or None (no site, or a difference such as 较健侧增粗2cm)."""
    spans = ctx.spans
    site = _bracket_site(ctx, rule, q)
    pair = _slash_pair(ctx, q)
    if site is None and pair is not None and slash_sites:
        site = slash_sites[0][pair.index(q)]
    if site is None:
        earlier = [k for k in sites if spans[k].end <= spans[q].start]
        site = earlier[-1] if earlier else None
        if site is not None and has_any(ctx.between(spans[site].start - 1, spans[site].start), rule.comparison):
            return None
    return site


def _sentence_lengths(
    ctx: FormContext, rule: FieldRule, form_field: FormField, anchor: int, members: list[int]
) -> list[Mention]:
    spans = ctx.spans
    sites = [k for k in members if spans[k].label in rule.side_labels]
    slash_sites = [
        (a, b) for a, b in zip(sites, sites[1:], strict=False) if ctx.between(spans[a].end, spans[b].start) == "/"
    ]
    out = []
    for q in (k for k in members if spans[k].label == "MEASURE"):
        pair = _slash_pair(ctx, q)
        text, unit_source = spans[q].text, spans[pair[1]].text if pair else ""
        if "/" in text and slash_sites:  # 健侧/患侧：17.3/19.8cm with the pair tagged as one span
            parts = text.split("/")
            sides = [_side(rule, spans[k].text) for k in slash_sites[0]]
            if "wanted" not in sides or len(parts) != len(sides):
                continue
            site, text, unit_source = slash_sites[0][sides.index("wanted")], parts[sides.index("wanted")], parts[-1]
        else:
            site = _site_of(ctx, rule, q, sites, slash_sites)
        if site is None or _side(rule, spans[site].text) != "wanted":
            continue
        value = length_cm(text, rule.units, unit_source)
        if value is None:
            continue
        value = round(value, form_field.decimals if form_field.decimals is not None else 1)
        if form_field.check(value) is None:
            at = spans[q].start
            out.append(Mention(at, value, tuple(sorted({anchor, site, q})), past=ctx.is_past(at)))
    return out


# ---- a count per day, bucketed: 腹泻每日5~8次 -> 每日>6次 ------------------------------------------------


def per_day(ctx: FormContext, text: str) -> float | None:
    """The most times a day ``text`` says (ranges take the upper bound; 十余次 is more than ten)."""
    book = ctx.book
    text = after_last_change(text, book.change_marks)
    if has_any(text, book.other_period_words) or not has_any(text, book.day_words):
        return None
    counts = [
        n.value + (1 if n.more else 0)
        for n in parse_numbers(text, book.more_marks)
        if not any(text.startswith(w, n.end) for w in book.day_words)  # 一日七八行: 一 is the period
    ]
    return max(counts) if counts else None


def bucket(rule: FieldRule, count: float) -> str | None:
    for b in rule.buckets:
        if b.up_to is None or count <= b.up_to:
            return b.value
    return None


def _count_owner(ctx: FormContext, rule: FieldRule, f: int) -> int | None:
    """The finding a FREQUENCY span counts: the last stool finding before it in its sentence."""
    j = ctx.previous(f)
    gap_start = ctx.spans[j].end if j is not None else 0
    inside = ctx.spans[f].text
    if has_any(ctx.clause_tail(gap_start, ctx.spans[f].start) + inside, rule.subject_words):
        return f  # 大便日行5~8次: the subject has no span of its own
    if has_any(inside, rule.anchor.words):
        return f  # 腹泻每日3次 tagged as one FREQUENCY span
    while j is not None and ctx.same_sentence(ctx.spans[j].start, ctx.spans[f].start):
        span = ctx.spans[j]
        if rule.anchor.matches(span.label, span.text) or (
            rule.carriers and rule.carriers.matches(span.label, span.text)
        ):
            return j
        if span.label in FINDINGS:
            return None
        j = ctx.previous(j)
    return None


def frequency(ctx: FormContext, rule: FieldRule, form_field: FormField) -> list[Mention]:
    """Counts of a stool finding per day, bucketed; a negated or resolved finding gives ``absent``."""
    out = []
    for i in anchors(ctx, rule.anchor):
        against = _absence(ctx, i, rule.anchor)
        if against is not None:
            at = ctx.spans[i].start
            out.append(Mention(at, rule.absent, tuple(sorted({i, against})), past=ctx.is_past(at)))
    for f in ctx.indices({"FREQUENCY"}):
        span = ctx.spans[f]
        if ctx.kind_at(span.start) == HISTORY:
            continue
        owner = _count_owner(ctx, rule, f)
        count = per_day(ctx, span.text) if owner is not None else None
        value = bucket(rule, count) if count is not None else None
        if value is not None and owner is not None:
            out.append(Mention(span.start, value, tuple(sorted({owner, f})), past=ctx.is_past(span.start)))
    return out


FieldFamily = Callable[[FormContext, FieldRule, FormField], list[Mention]]
