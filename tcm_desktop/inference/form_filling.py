"""Form filling: the structured form of a record, derived from its text and its entity spans.

``fill_form`` walks the record's fields as the schema lists them (general
block, then the specialty's block) and fills each one, with the indices of the
spans it came from as evidence:

- a field named under ``fields:`` in ``resources/schema/form_rules.yaml`` is
  read by its rule family (:data:`FAMILIES`: presence, colour, score,
  circumference, frequency in :mod:`.form_rules`, tongue in :mod:`.form_tongue`),
  and "the latest value wins, 刻下 beats history" picks among what it found;
- a text field named under ``text_sections:`` takes that section's text
  (主诉); any other text field joins its spans as written (舌象, 脉象);
- a list field takes its spans, normalised to the curated term and without
  repeats, leaving out negated ones and those in past-history sections;
- the prescription pairs each HERB with the DOSE written after it.

Fields the record says nothing about get the schema's empty value. Pure
Python: no Qt, no model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tcm_desktop.domain.form_text import joined_findings
from tcm_desktop.domain.records import FormValue, SetBy, Span
from tcm_desktop.domain.schema import FieldType, FormField, Schema, default_schema
from tcm_desktop.inference import form_rules
from tcm_desktop.inference.form_context import FormContext
from tcm_desktop.inference.form_rules import FieldFamily, latest
from tcm_desktop.inference.form_tongue import tongue
from tcm_desktop.inference.form_vocab import RuleBook, default_rule_book, default_term_index, split_known
from tcm_desktop.inference.tongue_fusion import merge_tongue_attributes

__all__ = ["fill_form", "merge_tongue_attributes"]

TRAILING = " \t\r\n\u3000。；;，,"

# Rule families by the ``rule`` name a field has in form_rules.yaml.
FAMILIES: dict[str, FieldFamily] = {
    "presence": form_rules.presence,
    "colour": form_rules.colour,
    "score": form_rules.score,
    "circumference": form_rules.circumference,
    "frequency": form_rules.frequency,
    "tongue": tongue,
}

Filled = tuple[Any, tuple[int, ...]]


def fill_form(text: str, spans: Sequence[Span], specialty: str, schema: Schema | None = None) -> tuple[FormValue, ...]:
    """One FormValue per field of ``specialty``'s form, in schema order, set by the model.

    Raises KeyError for a specialty the schema does not know.
    """
    schema = schema or default_schema()
    context = FormContext(text, spans, default_rule_book())
    out = []
    for form_field in schema.fields_for(specialty):
        value, evidence = fill_field(context, form_field)
        if form_field.check(value) is not None:  # a rule word outside the field's values: say nothing
            value, evidence = form_field.empty_value(), ()
        out.append(FormValue(form_field.name, value, evidence, SetBy.MODEL))
    return tuple(out)


def fill_field(ctx: FormContext, form_field: FormField) -> Filled:
    """The value of one field and its evidence span indices."""
    rule = ctx.book.fields.get(form_field.name)
    if rule is not None and rule.rule in FAMILIES:
        found = latest(FAMILIES[rule.rule](ctx, rule, form_field), rule.when_past)
        return (found.value, found.evidence) if found else (form_field.empty_value(), ())
    if form_field.name in ctx.book.text_sections:
        return section_text(ctx, ctx.book.text_sections[form_field.name])
    by_type = BY_TYPE.get(form_field.type)
    return by_type(ctx, form_field) if by_type else (form_field.empty_value(), ())


def section_text(ctx: FormContext, kind: str) -> Filled:
    """The text of the first section of ``kind`` as written (主诉), without trailing punctuation."""
    sections = ctx.sections_of(kind)
    if not sections:
        return "", ()
    section = sections[0]
    body = ctx.text[section.body_start : section.end].strip(TRAILING)
    inside = tuple(i for i in ctx.order if section.body_start <= ctx.spans[i].start < section.end)
    return body, inside


def _evidence_with_cues(ctx: FormContext, indices: Sequence[int]) -> tuple[int, ...]:
    cues = {c for i in indices if (c := ctx.negation_cue(i)) is not None}
    return tuple(sorted({*indices, *cues}))


def written_text(ctx: FormContext, form_field: FormField) -> Filled:
    """The field's spans as written, joined (舌淡红，苔薄白; a negated one keeps its cue: 无齿痕)."""
    labels = form_field.from_labels
    if not labels:
        return "", ()
    indices = ctx.indices(labels)
    return joined_findings(ctx.text, ctx.spans, labels), _evidence_with_cues(ctx, indices)


def _list_members(ctx: FormContext, form_field: FormField) -> list[int]:
    excluded = ctx.book.excluded_sections(form_field.name)
    return [
        i for i in ctx.indices(form_field.from_labels) if not ctx.in_kinds(i, excluded) and ctx.negation_cue(i) is None
    ]


def term_list(ctx: FormContext, form_field: FormField) -> Filled:
    """Distinct terms of the field's spans, each normalised to the curated term (肝气郁结证 -> 肝郁气滞证).

    Known terms written as one phrase count one by one (祛风散寒除湿通络 -> 祛风散寒, 除湿通络).
    """
    index = default_term_index()
    values: list[str] = []
    evidence: list[int] = []
    for i in _list_members(ctx, form_field):
        span = ctx.spans[i]
        for piece in split_known(span.text, span.label):
            term = index.get((span.label, piece), piece)
            if term not in values:
                values.append(term)
        evidence.append(i)
    return values, tuple(evidence)


def herb_list(ctx: FormContext, form_field: FormField) -> Filled:
    """Each HERB as written with the DOSE written right after it (党参15g); None when no dose follows."""
    herbs: list[dict[str, str | None]] = []
    evidence: list[int] = []
    for i in _list_members(ctx, form_field):
        span = ctx.spans[i]
        if span.label != "HERB":
            continue
        dose = ctx.following(i)
        if dose is not None and (
            ctx.spans[dose].label != "DOSE" or ctx.between(span.end, ctx.spans[dose].start).strip(" \u3000：:")
        ):
            dose = None
        herbs.append({"herb": span.text, "dose": ctx.spans[dose].text if dose is not None else None})
        evidence += [i] if dose is None else [i, dose]
    return herbs, tuple(evidence)


BY_TYPE: dict[FieldType, Callable[[FormContext, FormField], Filled]] = {
    FieldType.TEXT: written_text,
    FieldType.LIST: term_list,
    FieldType.HERB_LIST: herb_list,
}


def context(text: str, spans: Sequence[Span], book: RuleBook | None = None) -> FormContext:
    """A :class:`FormContext` for tests and tools that want to ask it questions directly."""
    return FormContext(text, spans, book or default_rule_book())
