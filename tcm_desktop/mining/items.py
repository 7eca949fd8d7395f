"""Items and transactions: what one record contributes to association mining.

A transaction is the set of items one record asserts: its normalised
syndromes, the symptoms and signs it says the patient has now, its tongue and
pulse findings and its herbs. Which spans count as asserted (not negated, not
past history) is the structuring layer's call; this module takes its answer
as :class:`Findings` and turns it into items. Pure Python: no Qt, no store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tcm_desktop.domain import NOT_MENTIONED, Schema, default_schema

# The 28 classical pulse qualities plus 大 (脉大); a pulse text gives one item per quality it
# names (右关脉弦滑 -> 弦, 滑), so position words and strength words (无力) do not split counts.
PULSE_QUALITIES = "浮沉迟数滑涩虚实长短洪微紧缓弦芤革牢濡弱散细伏动促结代疾大"
# Enum fields of the tongue that give an item "<field name>:<value>" unless 未提及.
TONGUE_ENUMS = ("tongue_color", "coat_color", "coat_thickness")
# Ternary tongue fields that give an item "<field name>" when the answer is 有.
TONGUE_PRESENT = ("fissure", "tooth_marks")
PRESENT = "有"

Normaliser = Callable[[str, str], str]  # (entity label, surface text) -> curated term


def same_text(label: str, text: str) -> str:
    """The identity normaliser: every surface form is its own term."""
    return text


class ItemKind(StrEnum):
    """The type of an item; rule filters name these."""

    SYNDROME = "syndrome"
    SYMPTOM = "symptom"
    SIGN = "sign"
    TONGUE = "tongue"
    PULSE = "pulse"
    HERB = "herb"

    @property
    def zh(self) -> str:
        return KIND_ZH[self]


KIND_ZH: Mapping[ItemKind, str] = {
    ItemKind.SYNDROME: "证候",
    ItemKind.SYMPTOM: "症状",
    ItemKind.SIGN: "体征",
    ItemKind.TONGUE: "舌象",
    ItemKind.PULSE: "脉象",
    ItemKind.HERB: "中药",
}


@dataclass(frozen=True, order=True)
class Item:
    kind: ItemKind
    value: str

    @property
    def key(self) -> str:
        """A stable text form, ``kind=value`` (what the miners see and JSON shows)."""
        return f"{self.kind.value}={self.value}"

    @classmethod
    def from_key(cls, key: str) -> Item:
        kind, sep, value = key.partition("=")
        if not sep or not value:
            raise ValueError(f"not an item key: {key!r}")
        return cls(ItemKind(kind), value)

    def __str__(self) -> str:
        return f"{self.kind.zh}:{self.value}"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind.value, "value": self.value}


@dataclass(frozen=True)
class Transaction:
    record_id: str
    items: frozenset[Item]

    def keys(self) -> frozenset[str]:
        return frozenset(item.key for item in self.items)


@dataclass(frozen=True)
class Findings:
    """What structuring established about one record, before it becomes items.

    ``form`` is the record's structured form (syndromes, tongue, pulse, herbs
    are read from it); ``symptoms`` and ``signs`` are the SYM and SIGN texts
    the record asserts for the present visit: negated and past-history
    mentions are already left out by whoever built this.
    """

    record_id: str
    form: Mapping[str, Any]
    symptoms: Sequence[str] = ()
    signs: Sequence[str] = ()


def pulse_qualities(text: str) -> list[str]:
    """The pulse qualities a pulse text names, in order, each once."""
    out: list[str] = []
    for ch in text:
        if ch in PULSE_QUALITIES and ch not in out:
            out.append(ch)
    return out


def _tongue_items(form: Mapping[str, Any], schema: Schema) -> list[Item]:
    items: list[Item] = []
    for name in TONGUE_ENUMS:
        value = form.get(name)
        if isinstance(value, str) and value and value != NOT_MENTIONED:
            items.append(Item(ItemKind.TONGUE, f"{schema.field(name).zh}:{value}"))
    for name in TONGUE_PRESENT:
        if form.get(name) == PRESENT:
            items.append(Item(ItemKind.TONGUE, schema.field(name).zh))
    return items


def _texts(values: Any) -> list[str]:
    return [v.strip() for v in values if isinstance(v, str) and v.strip()] if isinstance(values, list) else []


def transaction_from_findings(
    findings: Findings, normalise: Normaliser = same_text, schema: Schema | None = None
) -> Transaction:
    """The items of one record: syndromes, symptoms, signs, tongue, pulse qualities, herbs."""
    schema = schema or default_schema()
    form = findings.form
    items: set[Item] = set()
    items.update(Item(ItemKind.SYNDROME, normalise("SYNDROME", s)) for s in _texts(form.get("syndromes")))
    items.update(Item(ItemKind.SYMPTOM, normalise("SYM", s)) for s in findings.symptoms if s.strip())
    items.update(Item(ItemKind.SIGN, normalise("SIGN", s)) for s in findings.signs if s.strip())
    items.update(_tongue_items(form, schema))
    pulse = form.get("pulse")
    if isinstance(pulse, str):
        items.update(Item(ItemKind.PULSE, q) for q in pulse_qualities(pulse))
    herbs = form.get("herbs")
    if isinstance(herbs, list):
        for entry in herbs:
            name = entry.get("herb") if isinstance(entry, Mapping) else None
            if isinstance(name, str) and name.strip():
                items.add(Item(ItemKind.HERB, normalise("HERB", name.strip())))
    return Transaction(findings.record_id, frozenset(items))


def restrict(transactions: Iterable[Transaction], kinds: Iterable[ItemKind]) -> list[Transaction]:
    """The transactions with only items of ``kinds`` (a transaction left empty is kept: it still counts)."""
    wanted = frozenset(kinds)
    return [Transaction(t.record_id, frozenset(i for i in t.items if i.kind in wanted)) for t in transactions]
