"""The tongue fields of the form: colour, coating colour and thickness, fissures, tooth marks.

A tongue description is a run of TONGUE_BODY / TONGUE_COAT spans in one
sentence (舌淡胖，边有齿痕，苔白腻). Each field is read from every description
and the latest description wins; within one description the coating thickness
follows SCHEMA.md's precedence (少苔/无苔 > 腻 > 厚 > 薄).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tcm_desktop.domain.schema import FormField
from tcm_desktop.inference.form_context import NEGATION, FormContext
from tcm_desktop.inference.form_rules import Mention, first_value
from tcm_desktop.inference.form_vocab import FieldRule, has_any

TONGUE_LABELS = frozenset({"TONGUE_BODY", "TONGUE_COAT"})
PRESENT, ABSENT = "<present>", "<absent>"


def body_colour(ctx: FormContext, text: str) -> tuple[str, int] | None:
    """The base colour of a tongue-body text and where its colour word ends.

    舌淡胖 -> 淡白, 淡红偏暗 -> 淡红, 舌偏红 -> 红: after the prefix (舌, 舌质) and
    qualifiers (偏, 略), the first colour word decides; what follows it does not.
    """
    words = ctx.book.tongue
    at = len(next((p for p in words.body_prefixes if text.startswith(p)), ""))
    qualifier = next((q for q in words.body_qualifiers if text.startswith(q, at)), None)
    while qualifier:
        at += len(qualifier)
        qualifier = next((q for q in words.body_qualifiers if text.startswith(q, at)), None)
    return next(((value, at + len(word)) for word, value in words.body_colors if text.startswith(word, at)), None)


@dataclass(frozen=True)
class TonguePart:
    """One tongue span read as body and coating: one phrase may hold both (舌红苔黄腻, 舌光红无苔)."""

    index: int
    body: str
    coat: str


def tongue_part(ctx: FormContext, i: int) -> TonguePart:
    text, words = ctx.spans[i].text, ctx.book.tongue
    if ctx.spans[i].label == "TONGUE_COAT":
        starts_as_body = any(text.startswith(p) for p in words.body_prefixes)
        return TonguePart(i, text if starts_as_body else "", text)
    colour = body_colour(ctx, text)
    rest = text[colour[1] :] if colour else text
    return TonguePart(i, text, rest if has_any(rest, words.coat_marks) else "")


def tongue_runs(ctx: FormContext) -> list[list[TonguePart]]:
    """Tongue descriptions: runs of tongue spans (and their negation cues) within one sentence."""
    cached: list[list[TonguePart]] | None = ctx.memo.get("tongue_runs")
    if cached is not None:
        return cached
    runs: list[list[int]] = [[]]
    for i in ctx.order:
        span = ctx.spans[i]
        if span.label not in TONGUE_LABELS and span.label != NEGATION:
            runs.append([])
            continue
        if runs[-1] and not ctx.same_sentence(ctx.spans[runs[-1][-1]].end, span.start):
            runs.append([])
        runs[-1].append(i)
    parts = [[tongue_part(ctx, i) for i in run if ctx.spans[i].label in TONGUE_LABELS] for run in runs]
    ctx.memo["tongue_runs"] = found = [run for run in parts if run]
    return found


Found = tuple[str, tuple[int, ...]]


def _body_color(ctx: FormContext, run: list[TonguePart]) -> Found | None:
    found = [(c[0], p.index) for p in run if p.body and (c := body_colour(ctx, p.body))]
    return (found[0][0], (found[0][1],)) if found else None


def _coat_color(ctx: FormContext, run: list[TonguePart]) -> Found | None:
    found = [(v, p.index) for p in run if p.coat and (v := first_value(p.coat, ctx.book.tongue.coat_colors))]
    return (found[0][0], (found[0][1],)) if found else None


def _coat_thickness(ctx: FormContext, run: list[TonguePart]) -> Found | None:
    """Precedence within one description: 少苔/无苔 > 腻 > 厚 > 薄 (the YAML's order)."""
    for rule in ctx.book.tongue.coat_thickness:
        hits = tuple(p.index for p in run if p.coat and has_any(p.coat, rule.words))
        if hits:
            return rule.value, hits
    return None


def _feature(
    words_of: Callable[[FormContext], Sequence[str]],
) -> Callable[[FormContext, list[TonguePart]], Found | None]:
    """A tongue feature (裂纹, 齿痕): present, or absent when negated (无齿痕)."""

    def read(ctx: FormContext, run: list[TonguePart]) -> Found | None:
        found = [p.index for p in run if has_any(ctx.spans[p.index].text, words_of(ctx))]
        if not found:
            return None
        cue = ctx.negation_cue(found[-1])
        return (PRESENT, (found[-1],)) if cue is None else (ABSENT, tuple(sorted((cue, found[-1]))))

    return read


TONGUE_ASPECTS: dict[str, Callable[[FormContext, list[TonguePart]], Found | None]] = {
    "body_color": _body_color,
    "coat_color": _coat_color,
    "coat_thickness": _coat_thickness,
    "fissure": _feature(lambda ctx: ctx.book.tongue.fissure_words),
    "tooth_marks": _feature(lambda ctx: ctx.book.tongue.tooth_mark_words),
}


def tongue(ctx: FormContext, rule: FieldRule, form_field: FormField) -> list[Mention]:
    """One tongue field from each tongue description (the latest description wins)."""
    read = TONGUE_ASPECTS[rule.aspect]
    out = []
    for run in tongue_runs(ctx):
        found = read(ctx, run)
        if found is not None:
            value, evidence = found
            if value in (PRESENT, ABSENT):  # a ternary: its first value says present, its second absent
                value = form_field.values[0 if value == PRESENT else 1]
            out.append(Mention(ctx.spans[run[0].index].start, value, evidence))
    return out
