"""The curated vocabulary as the generator needs it: terms by label and specialty, cross links, phrasings.

Everything is read once from ``resources/vocab`` (never from the shared data folder,
which does not ship) and kept in one immutable-by-convention ``Vocab`` object.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tcm_desktop.resources import resource_path

SPECIALTIES = ("anorectal", "orthopedics", "respiratory", "gastro", "general")

# Words that a specialty's own form field reads; the generic symptom pool of that
# specialty leaves them out so only the field writer mentions them (clean gold).
RESERVED_FRAGMENTS: dict[str, tuple[str, ...]] = {
    "anorectal": ("血", "脱出"),
    "respiratory": ("痰", "热"),
    "gastro": ("泻", "溏", "脓", "黏液", "稀", "便次", "次数", "痢", "利", "不成形", "赤白"),
    "orthopedics": ("VAS",),
    "general": (),
}

EXTRA_SITES = ("腕部", "左腕部", "右腕部")


def _load(name: str) -> Any:
    with resource_path("vocab", name).open(encoding="utf-8") as fh:
        return json.load(fh)


@dataclass
class Vocab:
    """Indexed view of the vocabulary files; build with ``vocab()``."""

    by_label: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    by_term: dict[str, dict[str, Any]] = field(default_factory=dict)
    canonical: dict[str, str] = field(default_factory=dict)  # surface form -> term
    sites: tuple[str, ...] = ()
    results_for_exam: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    tongue: list[dict[str, Any]] = field(default_factory=list)
    pulse: list[dict[str, Any]] = field(default_factory=list)
    body_parts: list[dict[str, Any]] = field(default_factory=list)
    coat_parts: list[dict[str, Any]] = field(default_factory=list)
    values: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    misc: dict[str, Any] = field(default_factory=dict)
    typos: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def terms(self, label: str, specialty: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        out = self.by_label.get(label, [])
        if specialty is not None:
            out = [t for t in out if specialty in t.get("specialties", ())]
        if kind is not None:
            out = [t for t in out if t.get("kind") == kind]
        return out

    def symptom_pool(self, label: str, specialty: str) -> list[dict[str, Any]]:
        """SYM or SIGN terms of ``specialty`` that its own form fields do not read."""
        banned = RESERVED_FRAGMENTS.get(specialty, ())
        pool = []
        for entry in self.terms(label, specialty):
            forms = [entry["term"], *entry.get("synonyms", ())]
            if any(b in f for f in forms for b in banned):
                continue
            pool.append(entry)
        return pool

    def clean_list(self, key: str, *, skip_ambiguous: bool = True) -> list[dict[str, Any]]:
        return [x for x in self.misc.get(key, []) if not (skip_ambiguous and x.get("ambiguous"))]


def _index(v: Vocab) -> None:
    for name in ("terms_symptoms.json", "terms_diagnoses.json", "terms_treatment.json", "terms_exam.json"):
        for entry in _load(name):
            v.by_label[entry["label"]].append(entry)
            v.by_term.setdefault(entry["term"], entry)
            v.canonical.setdefault(entry["term"], entry["term"])
            for syn in entry.get("synonyms", ()):
                v.canonical.setdefault(syn, entry["term"])
            for variant in entry.get("variants", ()):
                v.canonical.setdefault(variant, entry["term"])
    for result in v.by_label["EXAM_RESULT"]:
        for exam in result.get("exams", ()):
            v.results_for_exam[exam].append(result["term"])
    sites = {e["term"] for e in v.by_label["BODY_PART"] if e.get("kind") == "anatomy"}
    sites |= {s for e in v.by_label["BODY_PART"] if e.get("kind") == "anatomy" for s in e.get("synonyms", ())}
    sites |= set(EXTRA_SITES)
    v.sites = tuple(sorted((s for s in sites if len(s) >= 2), key=len, reverse=True))


@lru_cache(maxsize=1)
def vocab() -> Vocab:
    """The vocabulary, loaded once per process."""
    v = Vocab()
    _index(v)
    tp = _load("phrasing_tongue_pulse.json")
    v.tongue = [t for t in tp["tongue"] if not t["ambiguous"]]
    v.pulse = [p for p in tp["pulse"] if not p["ambiguous"]]
    v.body_parts = [b for b in tp["tongue_components"]["body"] if not b["ambiguous"]]
    v.coat_parts = [c for c in tp["tongue_components"]["coat"] if not c["ambiguous"]]
    values = _load("phrasing_values.json")["fields"]
    v.values = {name: [it for it in spec["items"] if not it["ambiguous"]] for name, spec in values.items()}
    v.misc = _load("phrasing_misc.json")
    for typo in v.misc.get("typos", ()):
        if typo["label"] in ("SYM", "SIGN", "EXAM_RESULT", "WM_DISEASE", "BODY_PART", "TREATMENT"):
            v.typos[typo["correct"]].append(typo["wrong"])
    return v
