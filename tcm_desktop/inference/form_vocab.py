"""The words the form-filling rules look for, read from ``resources/schema/form_rules.yaml``.

Kept as data so a clinic can add a spelling (a header, a colour word, a
negation cue) without touching the rules; the loader checks the shape and
says which key is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from tcm_desktop.domain.errors import SchemaError
from tcm_desktop.resources import resource_path

RULES_FILE = "form_rules.yaml"


@dataclass(frozen=True)
class WordSet:
    """Spans with one of ``labels`` whose text holds one of ``words`` and none of ``not_words``."""

    labels: frozenset[str]
    words: tuple[str, ...]
    not_words: tuple[str, ...] = ()

    def matches(self, label: str, text: str) -> bool:
        return label in self.labels and has_any(text, self.words) and not has_any(text, self.not_words)


@dataclass(frozen=True)
class ValueWords:
    """One value and the words that give it (first matching rule wins)."""

    value: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Bucket:
    """Counts up to ``up_to`` (None: any) fall into ``value``."""

    value: str
    up_to: float | None


@dataclass(frozen=True)
class FieldRule:
    """How one specialty field is read: its rule family and that family's words."""

    name: str
    rule: str
    anchor: WordSet = WordSet(frozenset(), ())
    aspect: str = ""
    when_past: str = "ignore"
    present: str | None = None
    absent: str | None = None
    colors: tuple[ValueWords, ...] = ()
    carriers: WordSet | None = None
    subject_words: tuple[str, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    out_of: tuple[str, ...] = ()
    side_labels: frozenset[str] = frozenset()
    wanted_side: tuple[str, ...] = ()
    other_side: tuple[str, ...] = ()
    comparison: tuple[str, ...] = ()
    units: Mapping[str, float] = field(default_factory=dict)
    temperature_units: tuple[str, ...] = ()
    fever_from: float | None = None
    temperature_range: tuple[float, float] = (34.0, 43.0)


@dataclass(frozen=True)
class TongueWords:
    body_prefixes: tuple[str, ...]
    body_qualifiers: tuple[str, ...]
    body_colors: tuple[tuple[str, str], ...]  # (word, value), longest word first
    fissure_words: tuple[str, ...]
    tooth_mark_words: tuple[str, ...]
    coat_marks: tuple[str, ...]
    coat_colors: tuple[ValueWords, ...]
    coat_thickness: tuple[ValueWords, ...]


@dataclass(frozen=True)
class RuleBook:
    headers: tuple[tuple[str, str], ...]  # (header word, section kind), longest first
    text_sections: Mapping[str, str]
    list_exclude: Mapping[str, frozenset[str]]
    list_joiners: frozenset[str]
    reach_over: frozenset[str]
    event_words: tuple[str, ...]
    post_cues: tuple[str, ...]
    inline_cues: tuple[str, ...]
    post_gap: frozenset[str]
    resolved_words: tuple[str, ...]
    past_cues: tuple[str, ...]
    current_cues: tuple[str, ...]
    more_marks: tuple[str, ...]
    day_words: tuple[str, ...]
    other_period_words: tuple[str, ...]
    change_marks: tuple[str, ...]
    tongue: TongueWords
    fields: Mapping[str, FieldRule]

    def excluded_sections(self, field_name: str) -> frozenset[str]:
        return self.list_exclude.get(field_name, self.list_exclude.get("default", frozenset()))


def has_any(text: str, words: Sequence[str]) -> bool:
    return any(w in text for w in words)


def _words(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(w, str | int | float) for w in raw):
        raise SchemaError(f"{where}: expected a list of words")
    return tuple(str(w) for w in raw)


def _word_set(raw: Any, where: str) -> WordSet:
    if not isinstance(raw, Mapping):
        raise SchemaError(f"{where}: expected {{labels, words}}")
    return WordSet(
        frozenset(_words(raw.get("labels"), f"{where}.labels")),
        _words(raw.get("words"), f"{where}.words"),
        _words(raw.get("not_words"), f"{where}.not_words"),
    )


def _value_words(raw: Any, where: str) -> tuple[ValueWords, ...]:
    if not isinstance(raw, list):
        raise SchemaError(f"{where}: expected a list of {{value, words}}")
    return tuple(ValueWords(str(r["value"]), _words(r.get("words"), f"{where}[{i}]")) for i, r in enumerate(raw))


def _range(raw: Any, where: str) -> tuple[float, float]:
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise SchemaError(f"{where}: expected [low, high]")
    return float(raw[0]), float(raw[1])


def _field_rule(name: str, raw: Mapping[str, Any], where: str) -> FieldRule:
    temperature = raw.get("temperature") or {}
    return FieldRule(
        name=name,
        rule=str(raw["rule"]),
        anchor=_word_set(raw["anchor"], f"{where}.anchor") if "anchor" in raw else WordSet(frozenset(), ()),
        aspect=str(raw.get("aspect", "")),
        when_past=str(raw.get("when_past", "ignore")),
        present=raw.get("present"),
        absent=raw.get("absent"),
        colors=_value_words(raw.get("colors", []), f"{where}.colors"),
        carriers=_word_set(raw["carriers"], f"{where}.carriers") if "carriers" in raw else None,
        subject_words=_words(raw.get("subject_words"), f"{where}.subject_words"),
        buckets=tuple(Bucket(str(b["value"]), b.get("up_to")) for b in raw.get("buckets", [])),
        out_of=_words(raw.get("out_of"), f"{where}.out_of"),
        side_labels=frozenset(_words(raw.get("side_labels"), f"{where}.side_labels")),
        wanted_side=_words(raw.get("wanted_side"), f"{where}.wanted_side"),
        other_side=_words(raw.get("other_side"), f"{where}.other_side"),
        comparison=_words(raw.get("comparison"), f"{where}.comparison"),
        units={str(k): float(v) for k, v in (raw.get("units") or {}).items()},
        temperature_units=_words(temperature.get("units"), f"{where}.temperature.units"),
        fever_from=temperature.get("fever_from"),
        temperature_range=_range(temperature.get("body_range", (34.0, 43.0)), f"{where}.temperature.body_range"),
    )


def _by_length(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(pairs, key=lambda p: len(p[0]), reverse=True))


def parse_rule_book(raw: Any, where: str = RULES_FILE) -> RuleBook:
    """Build a :class:`RuleBook` from the YAML's data; raises SchemaError naming the bad key."""
    if not isinstance(raw, Mapping):
        raise SchemaError(f"{where}: expected a mapping at the top")
    try:
        headers = [(str(word), kind) for kind, words in raw["sections"].items() for word in words]
        negation = raw["negation"]
        numbers = raw["numbers"]
        tongue = raw["tongue"]
        exclude = raw.get("list_exclude_sections") or {}
        return RuleBook(
            headers=_by_length(headers),
            text_sections={str(k): str(v) for k, v in (raw.get("text_sections") or {}).items()},
            list_exclude={str(k): frozenset(_words(v, f"{where}.list_exclude_sections")) for k, v in exclude.items()},
            list_joiners=frozenset(str(negation["list_joiners"])),
            reach_over=frozenset(_words(negation["reach_over"], f"{where}.negation.reach_over")),
            event_words=tuple(sorted(_words(negation.get("event_words"), "event_words"), key=len, reverse=True)),
            post_cues=_words(negation["post_cues"], f"{where}.negation.post_cues"),
            inline_cues=_words(negation.get("inline_cues"), f"{where}.negation.inline_cues"),
            post_gap=frozenset(str(negation.get("post_gap", ""))),
            resolved_words=_words(raw["resolved_words"], f"{where}.resolved_words"),
            past_cues=_words(raw["past_cues"], f"{where}.past_cues"),
            current_cues=_words(raw["current_cues"], f"{where}.current_cues"),
            more_marks=_words(numbers["more_marks"], f"{where}.numbers.more_marks"),
            day_words=_words(numbers["day_words"], f"{where}.numbers.day_words"),
            other_period_words=_words(numbers["other_period_words"], f"{where}.numbers.other_period_words"),
            change_marks=_words(numbers.get("change_marks"), f"{where}.numbers.change_marks"),
            tongue=TongueWords(
                body_prefixes=tuple(sorted(_words(tongue["body_prefixes"], "body_prefixes"), key=len, reverse=True)),
                body_qualifiers=_words(tongue["body_qualifiers"], f"{where}.tongue.body_qualifiers"),
                body_colors=_by_length([(str(k), str(v)) for k, v in tongue["body_colors"].items()]),
                fissure_words=_words(tongue["fissure_words"], f"{where}.tongue.fissure_words"),
                tooth_mark_words=_words(tongue["tooth_mark_words"], f"{where}.tongue.tooth_mark_words"),
                coat_marks=_words(tongue.get("coat_marks", ["苔"]), f"{where}.tongue.coat_marks"),
                coat_colors=_value_words(tongue["coat_colors"], f"{where}.tongue.coat_colors"),
                coat_thickness=_value_words(tongue["coat_thickness"], f"{where}.tongue.coat_thickness"),
            ),
            fields={
                str(name): _field_rule(str(name), spec, f"{where}.fields.{name}")
                for name, spec in (raw.get("fields") or {}).items()
            },
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise SchemaError(f"{where}: missing or malformed key {exc}") from exc


def load_rule_book(path: Path | None = None) -> RuleBook:
    path = path or resource_path("schema", RULES_FILE)
    try:
        with path.open(encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except OSError as exc:
        raise SchemaError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SchemaError(f"{path} is not valid YAML: {exc}") from exc
    return parse_rule_book(raw, str(path))


@lru_cache(maxsize=1)
def default_rule_book() -> RuleBook:
    """The shipped rule vocabulary, loaded once per process."""
    return load_rule_book()


@lru_cache(maxsize=1)
def default_term_index() -> Mapping[tuple[str, str], str]:
    """(label, surface form) -> the curated term, from ``resources/vocab/terms_*.json``.

    List fields are normalised with it (肝气郁结证 -> 肝郁气滞证, 柴胡疏肝散加减 ->
    柴胡疏肝散), so the same diagnosis written two ways counts once.
    """
    index: dict[tuple[str, str], str] = {}
    for path in sorted(resource_path("vocab").glob("terms_*.json")):
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SchemaError(f"cannot read the term list {path}: {exc}") from exc
        for entry in entries:
            label, term = entry.get("label"), entry.get("term")
            if not isinstance(label, str) or not isinstance(term, str):
                continue
            for surface in (term, *entry.get("synonyms", ()), *entry.get("variants", ())):
                index.setdefault((label, str(surface)), term)
    return index


@lru_cache(maxsize=1)
def default_surfaces() -> Mapping[str, frozenset[str]]:
    """Label -> every surface form of the curated terms (to split terms written together)."""
    by_label: dict[str, set[str]] = {}
    for label, surface in default_term_index():
        by_label.setdefault(label, set()).add(surface)
    return {label: frozenset(surfaces) for label, surfaces in by_label.items()}


def split_known(text: str, label: str, min_length: int = 2) -> list[str]:
    """Known terms written together, split (祛风散寒除湿通络 -> 祛风散寒, 除湿通络).

    Only when the whole text is not a term itself and it splits entirely into
    known terms of ``label`` (the fewest pieces win); otherwise ``[text]``.
    """
    surfaces = default_surfaces().get(label, frozenset())
    if text in surfaces or len(text) < 2 * min_length:
        return [text]
    best: dict[int, list[str]] = {0: []}
    for start in range(len(text)):
        if start not in best:
            continue
        for end in range(start + min_length, len(text) + 1):
            piece = text[start:end]
            if piece in surfaces and (end not in best or len(best[end]) > len(best[start]) + 1):
                best[end] = [*best[start], piece]
    pieces = best.get(len(text), [])
    return pieces if len(pieces) >= 2 else [text]
