"""How far a dictionary of the training entities gets on tcm_ner: the yardstick for the learned tagger (issue 3a).

    python bench/tcm_ner_dictionary.py --data ../shared/data/tcm_ner

The dictionary holds every entity string of ``train.txt`` with its most frequent
type, kept when the string is annotated as an entity in at least a share ``r``
of its occurrences in the training text. Test sentences are tagged by greedy
longest match, left to right. ``r`` is chosen on a held-out tenth of
``train.txt`` (dictionary from the other nine tenths), never on test; the
final dictionary is then built from all of ``train.txt``. Also reported: the
share of test entities whose exact string and type occur in training.
Writes the ``text-tcm-ner-dictionary`` section of docs/benchmarks.md. No torch.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import DOC, update_section  # noqa: E402
from training.data import Example, as_records, load_examples, split  # noqa: E402
from training.evaluation import EvaluationReport, evaluate  # noqa: E402

LABELS = ("SYM", "HER", "PRE", "CAU", "EFF")
SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
SECTION = "text-tcm-ner-dictionary"


class EntityDictionary:
    """Entity strings of the training examples with their most frequent type, tagged by longest match."""

    def __init__(self, examples: Sequence[Example], min_share: float) -> None:
        types: dict[str, Counter[str]] = defaultdict(Counter)
        for example in examples:
            for start, end, label in example.spans:
                types[example.text[start:end]][label] += 1
        corpus = "\n".join(example.text for example in examples)
        self.terms = {
            term: counts.most_common(1)[0][0]
            for term, counts in types.items()
            if sum(counts.values()) >= min_share * corpus.count(term)
        }
        self.longest = max(map(len, self.terms), default=0)

    def tag(self, text: str) -> list[tuple[int, int, str]]:
        found, i = [], 0
        while i < len(text):
            for length in range(min(self.longest, len(text) - i), 0, -1):
                label = self.terms.get(text[i : i + length])
                if label is not None:
                    found.append((i, i + length, label))
                    i += length
                    break
            else:
                i += 1
        return found


def score(dictionary: EntityDictionary, examples: Sequence[Example]) -> EvaluationReport:
    tagged = {x.id: dictionary.tag(x.text) for x in examples}
    return evaluate(as_records(examples), as_records(examples, tagged), labels=list(LABELS))


def choose_share(train: Sequence[Example], seed: int = 13) -> tuple[float, dict[float, float]]:
    """The annotation share r with the best micro F1 on a held-out tenth of ``train`` (dictionary from the
    rest), and the F1 of every r tried."""
    fit, dev = split(train, 0.1, seed)
    on_dev = {share: score(EntityDictionary(fit, share), dev).micro.f1 for share in SHARES}
    return max(SHARES, key=lambda s: on_dev[s]), on_dev


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/tcm_ner")
    parser.add_argument("--doc", type=Path, default=DOC, help="benchmark page to update")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    train, _ = load_examples(args.data / "train.txt", labels=set(LABELS))
    test, _ = load_examples(args.data / "test.txt", labels=set(LABELS))
    share, on_dev = choose_share(train, args.seed)
    report = score(EntityDictionary(train, share), test)
    known = Counter((label, x.text[s:e]) for x in train for s, e, label in x.spans)
    test_entities = [(label, x.text[s:e]) for x in test for s, e, label in x.spans]
    seen = sum(1 for entity in test_entities if entity in known) / max(len(test_entities), 1)
    m = report.micro
    per_label = " | ".join(f"{label} {s.f1 * 100:.2f}" for label, s in report.per_label.items())
    tried = ", ".join(f"{s:.1f}: {f * 100:.1f}" for s, f in on_dev.items())
    body = (
        "## A dictionary of the training entities on tcm_ner (issue 3a, yardstick)\n\n"
        "Every entity string of `train.txt` with its most frequent type, kept when annotated in at least a share r "
        "of its occurrences in the training text; test sentences tagged by greedy longest match. r chosen on a "
        f"held-out tenth of `train.txt` (micro F1 by r: {tried}), then the dictionary rebuilt from all of it. "
        "No learning beyond counting.\n\n"
        "| method | micro F1 | P | R |\n|---|---:|---:|---:|\n"
        f"| dictionary of training entities, longest match, r = {share:.1f} | {m.f1 * 100:.2f} | "
        f"{m.precision * 100:.2f} | {m.recall * 100:.2f} |\n\n"
        f"Per type F1: {per_label}. {seen * 100:.1f} % of the {len(test_entities):,} test entities occur with the "
        "same string and type in `train.txt`."
    )
    update_section(SECTION, body, args.doc)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
