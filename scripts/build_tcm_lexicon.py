"""Build resources/lexicon/tcm_lexicon.tsv, the typed term list behind the lexicon features.

Sources (all in this repository):
- resources/vocab/terms_*.json: every term, synonym and formula variant, typed by its label;
- resources/vocab/phrasing_tongue_pulse.json: the tongue and pulse span texts;
- resources/vocab/phrasing_misc.json: negation cues, severity, frequency, usage and
  colour words (type CUE), and the negation look-alikes (无苔, 未见明显异常, 无力 ...)
  under their own label so the model sees them as terms, not as a cue plus a word;
- resources/lexicon/herbiv_herbs.txt, herbiv_formulas.txt: HerbiV names (MIT).

Left out: terms shorter than 2 characters (except CUE words such as 无), ASCII
terms of 2 letters or fewer (T, P, R, BP, qd: unsafe for substring matching),
and pattern entries with an ellipsis (无…史). The output is sorted and carries
its content hash, so running this twice gives the same file. Run from anywhere:

    python scripts/build_tcm_lexicon.py [--out PATH] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tcm_desktop.inference.lexicon import DEFAULT_TYPES, Lexicon, format_lexicon  # noqa: E402

VOCAB = ROOT / "resources" / "vocab"
LEXICON = ROOT / "resources" / "lexicon"
OUT = LEXICON / "tcm_lexicon.tsv"

# Schema label -> lexicon type (SCHEMA.md codes; DOSE, TIME and MEASURE are
# number patterns, not terms, and have no lexicon type).
TYPE_OF_LABEL: Mapping[str, str] = {
    "HERB": "HERB",
    "FORMULA": "FORMULA",
    "SYNDROME": "SYNDROME",
    "TCM_DISEASE": "DISEASE",
    "WM_DISEASE": "DISEASE",
    "SYM": "SYMPTOM",
    "SIGN": "SYMPTOM",
    "TONGUE_BODY": "TONGUE",
    "TONGUE_COAT": "TONGUE",
    "PULSE": "PULSE",
    "TREATMENT": "TREATMENT",
    "WM_DRUG": "DRUG",
    "EXAM": "EXAM",
    "EXAM_RESULT": "EXAM",
    "BODY_PART": "BODY",
    "NEGATION": "CUE",
    "SEVERITY": "CUE",
    "FREQUENCY": "CUE",
    "USAGE": "CUE",
    "COLOR": "CUE",
}
TERM_FILES = ("terms_symptoms.json", "terms_diagnoses.json", "terms_treatment.json", "terms_exam.json")
CUE_SECTIONS = {"negation": "cue", "severity": "term", "frequency": "term", "usage": "term", "color": "term"}
COMMENT = (
    "TCM lexicon: term<TAB>type, for the lexicon features of the entity model.",
    "Built by scripts/build_tcm_lexicon.py from resources/vocab/*.json (project data) and the HerbiV",
    "herb and formula names (MIT, Copyright (c) 2023 Lab-Li-Bioinformatics-NJUCM, see HerbiV_LICENSE).",
    "Do not edit by hand; the version is the sha256 (first 12 hex digits) of the types and entries.",
)


def _read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def keep(term: str, kind: str) -> bool:
    """Whether a term is safe to match as a plain substring."""
    if not term or any(ch.isspace() for ch in term) or "…" in term:
        return False
    if term.isascii() and len(term) <= 2:
        return False
    return len(term) >= 2 or kind == "CUE"


def from_terms(entries: Iterable[Mapping[str, Any]]) -> Iterator[tuple[str, str]]:
    for entry in entries:
        kind = TYPE_OF_LABEL.get(entry["label"])
        if kind is None:
            continue
        for term in [entry["term"], *entry.get("synonyms", ()), *entry.get("variants", ())]:
            yield term, kind


def from_spans(items: Iterable[Mapping[str, Any]], labels: set[str]) -> Iterator[tuple[str, str]]:
    for item in items:
        for span in item.get("spans", ()):
            if span["label"] in labels:
                yield span["text"], TYPE_OF_LABEL[span["label"]]


def from_tongue_pulse(data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    labels = {"TONGUE_BODY", "TONGUE_COAT", "PULSE"}
    for section in ("tongue", "pulse", "tongue_pulse_combined"):
        yield from from_spans(data[section], labels)
    for part in ("body", "coat"):
        for component in data["tongue_components"][part]:
            yield component["text"], "TONGUE"


def from_misc(data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for section, key in CUE_SECTIONS.items():
        for item in data[section]:
            yield item[key], "CUE"
    for item in data["not_negation"]:
        for label in item["label"].split("/"):  # "SYM/PULSE"; "none" has no type
            if label in TYPE_OF_LABEL:
                yield item["text"], TYPE_OF_LABEL[label]


def from_herbiv(path: Path, kind: str) -> Iterator[tuple[str, str]]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield line.strip(), kind


def collect(vocab: Path = VOCAB, lexicon: Path = LEXICON) -> set[tuple[str, str]]:
    raw: list[tuple[str, str]] = []
    for name in TERM_FILES:
        raw += from_terms(_read_json(vocab / name))
    raw += from_tongue_pulse(_read_json(vocab / "phrasing_tongue_pulse.json"))
    raw += from_misc(_read_json(vocab / "phrasing_misc.json"))
    raw += from_herbiv(lexicon / "herbiv_herbs.txt", "HERB")
    raw += from_herbiv(lexicon / "herbiv_formulas.txt", "FORMULA")
    return {(term.strip(), kind) for term, kind in raw if keep(term.strip(), kind)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="fail if the file on disk is not what would be built")
    args = parser.parse_args(argv)
    text = format_lexicon(collect(), DEFAULT_TYPES, COMMENT)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; run scripts/build_tcm_lexicon.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    lexicon = Lexicon.load(args.out)
    counts = {kind: sum(1 for _, k in lexicon.entries if k == kind) for kind in lexicon.types}
    print(f"{len(lexicon)} entries, version {lexicon.version} -> {args.out}")
    print(", ".join(f"{kind} {n}" for kind, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
