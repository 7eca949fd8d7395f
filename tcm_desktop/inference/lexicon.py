"""Lexicon features: which characters of a text fall inside a known TCM term.

The lexicon is a TSV of ``term<TAB>type`` lines under a commented header
(``# types: ...``, ``# version: ...``), built by
``scripts/build_tcm_lexicon.py``. ``Lexicon.features`` finds every occurrence
of every term with one Aho-Corasick pass and marks each character of a match
as B (first), M (middle), E (last) or S (a one-character term) of the term's
type. Overlapping matches all contribute, so the result is multi-hot.

Used by the model in training and by the ONNX runtime: no torch, no Qt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import ahocorasick
import numpy as np

from tcm_desktop.inference.errors import LexiconError
from tcm_desktop.resources import resource_path

# The shipped type set, in feature order. A lexicon file names its own types
# in its header, so a model trained on one file never depends on this constant.
DEFAULT_TYPES: tuple[str, ...] = (
    "HERB",
    "FORMULA",
    "SYNDROME",
    "DISEASE",
    "SYMPTOM",
    "TONGUE",
    "PULSE",
    "TREATMENT",
    "DRUG",
    "EXAM",
    "BODY",
    "CUE",
)
POSITIONS: tuple[str, ...] = ("B", "M", "E", "S")
_B, _M, _E, _S = range(4)

# Case-fold ASCII only: str.lower() may change the length of some non-ASCII
# strings, which would shift every offset after them.
_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_EMPTY = np.zeros(0, dtype=np.int64)

Match = tuple[int, int, str, str]  # start, end (exclusive), type, term


def content_version(entries: Iterable[tuple[str, str]], types: Sequence[str]) -> str:
    """First 12 hex digits of the sha256 of the types line and the sorted entries.

    The types are part of it because their order is the feature layout.
    """
    digest = hashlib.sha256(("types\t" + "\t".join(types) + "\n").encode("utf-8"))
    for term, kind in sorted(set(entries)):
        digest.update(f"{term}\t{kind}\n".encode())
    return digest.hexdigest()[:12]


def format_lexicon(entries: Iterable[tuple[str, str]], types: Sequence[str], comment: Sequence[str] = ()) -> str:
    """The TSV text of a lexicon: header comments, then entries sorted by type order and term."""
    unique = set(entries)
    order = {kind: i for i, kind in enumerate(types)}
    unknown = sorted({kind for _, kind in unique} - set(order))
    if unknown:
        raise LexiconError(f"entries use types not in the type list: {unknown}")
    rows = sorted(unique, key=lambda e: (order[e[1]], e[0]))
    header = [f"# {line}" for line in comment]
    header += [f"# types: {' '.join(types)}", f"# version: {content_version(unique, types)}", f"# entries: {len(rows)}"]
    return "\n".join(header + [f"{term}\t{kind}" for term, kind in rows]) + "\n"


def _is_ascii_word(term: str) -> bool:
    return term.isascii() and term.isalpha()


class Lexicon:
    """A typed term list with an Aho-Corasick automaton built once.

    ``types`` fixes the feature layout: feature ``4 * i + p`` is position
    ``p`` (B, M, E, S) of type ``types[i]``. Pure-ASCII-letter terms (WBC,
    bid) match case-insensitively and only between non-letters, so ``tid``
    is not found inside another word.
    """

    def __init__(self, entries: Iterable[tuple[str, str]], types: Sequence[str] | None = None) -> None:
        unique = sorted(set(entries))
        if types is None:
            types = tuple(sorted({kind for _, kind in unique}))
        self.types: tuple[str, ...] = tuple(types)
        if len(set(self.types)) != len(self.types):
            raise LexiconError(f"duplicate lexicon types in {self.types}")
        type_index = {kind: i for i, kind in enumerate(self.types)}
        unknown = sorted({kind for _, kind in unique} - set(type_index))
        if unknown:
            raise LexiconError(f"entries use types not in the type list: {unknown}")
        if any(not term for term, _ in unique):
            raise LexiconError("a lexicon term is empty")
        self.entries: tuple[tuple[str, str], ...] = tuple(unique)
        self.version = content_version(unique, self.types)
        self.feature_names: tuple[str, ...] = tuple(f"{p}-{kind}" for kind in self.types for p in POSITIONS)
        self._build(type_index)

    def _build(self, type_index: dict[str, int]) -> None:
        # Terms that differ only in ASCII case share one key and all their types.
        by_key: dict[str, tuple[str, set[int]]] = {}
        for term, kind in self.entries:
            key = term.translate(_ASCII_FOLD)
            by_key.setdefault(key, (term, set()))[1].add(type_index[kind])
        keys = sorted(by_key)
        self._terms = [by_key[k][0] for k in keys]
        self._term_length = np.array([len(k) for k in keys], dtype=np.int64)
        self._ascii_word = np.array([_is_ascii_word(k) for k in keys], dtype=bool)
        # CSR layout: the types of term i are _entry_type[_offset[i]:_offset[i + 1]].
        type_lists = [sorted(by_key[k][1]) for k in keys]
        self._offset = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum([len(t) for t in type_lists], out=self._offset[1:])
        self._entry_type = np.array([t for ts in type_lists for t in ts], dtype=np.int64)
        self._single_type = bool(np.all(np.diff(self._offset) == 1))
        self._automaton = ahocorasick.Automaton()
        for i, key in enumerate(keys):
            self._automaton.add_word(key, i)
        if keys:
            self._automaton.make_automaton()

    @classmethod
    def load(cls, path: Path | None = None) -> Lexicon:
        """Read a lexicon TSV; the shipped one when ``path`` is None."""
        path = path or resource_path("lexicon", "tcm_lexicon.tsv")
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except OSError as exc:
            raise LexiconError(f"cannot read the lexicon {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise LexiconError(f"the lexicon {path} is not UTF-8 text") from exc
        types: tuple[str, ...] | None = None
        entries: list[tuple[str, str]] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            if line.startswith("#"):
                name, _, value = line[1:].partition(":")
                if name.strip() == "types":
                    types = tuple(value.split())
                continue
            term, tab, kind = line.partition("\t")
            term, kind = term.strip(), kind.strip()
            if not tab or not term or not kind or "\t" in kind:
                raise LexiconError(f"{path}:{number}: expected 'term<TAB>type', got {line!r}")
            if types is not None and kind not in types:
                raise LexiconError(f"{path}:{number}: type {kind!r} is not in the header's types {list(types)}")
            entries.append((term, kind))
        return cls(entries, types)

    @property
    def n_features(self) -> int:
        return 4 * len(self.types)

    def __len__(self) -> int:
        return len(self.entries)

    def __getstate__(self) -> dict[str, Any]:
        # Rebuild the automaton on unpickling (data-loader workers) rather than ship it.
        return {"entries": self.entries, "types": self.types}

    def __setstate__(self, state: dict[str, Any]) -> None:
        Lexicon.__init__(self, state["entries"], state["types"])

    def _found(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, type indices) of every match, one row per matched type."""
        if not text or not self._terms:
            return _EMPTY, _EMPTY, _EMPTY
        folded = text.translate(_ASCII_FOLD)
        flat = np.fromiter((v for hit in self._automaton.iter(folded) for v in hit), dtype=np.int64)
        if not flat.size:
            return _EMPTY, _EMPTY, _EMPTY
        ends = flat[0::2] + 1
        ids = flat[1::2]
        starts = ends - self._term_length[ids]
        if self._ascii_word[ids].any():
            keep = np.ones(len(ids), dtype=bool)
            for row in np.flatnonzero(self._ascii_word[ids]):
                before = folded[starts[row] - 1] if starts[row] > 0 else " "
                after = folded[ends[row]] if ends[row] < len(folded) else " "
                keep[row] = not (_is_ascii_word(before) or _is_ascii_word(after))
            starts, ends, ids = starts[keep], ends[keep], ids[keep]
        if self._single_type:
            return starts, ends, self._entry_type[self._offset[ids]]
        counts = self._offset[ids + 1] - self._offset[ids]
        rows = np.repeat(np.arange(len(ids)), counts)
        within = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
        return starts[rows], ends[rows], self._entry_type[self._offset[ids][rows] + within]

    def matches(self, text: str) -> list[Match]:
        """Every (start, end, type, term) occurrence, sorted by start, end, type order."""
        starts, ends, kinds = self._found(text)
        folded = text.translate(_ASCII_FOLD)
        found = [
            (int(s), int(e), int(k), self._terms[self._automaton.get(folded[s:e])])
            for s, e, k in zip(starts, ends, kinds, strict=True)
        ]
        found.sort(key=lambda m: m[:3])
        return [(s, e, self.types[k], term) for s, e, k, term in found]

    def features(self, text: str, drop_rate: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
        """A ``[len(text), n_features]`` uint8 multi-hot matrix of B/M/E/S marks per type.

        ``drop_rate`` leaves out each match (one occurrence of one type) with
        that probability, drawn from ``rng``, so a model in training does not
        lean on the lexicon alone.
        """
        if not 0.0 <= drop_rate <= 1.0:
            raise ValueError(f"drop_rate must be between 0 and 1, got {drop_rate}")
        out = np.zeros((len(text), self.n_features), dtype=np.uint8)
        starts, ends, kinds = self._found(text)
        if drop_rate > 0.0 and starts.size:
            keep = (rng or np.random.default_rng()).random(starts.size) >= drop_rate
            starts, ends, kinds = starts[keep], ends[keep], kinds[keep]
        if not starts.size:
            return out
        column = 4 * kinds
        single = ends - starts == 1
        out[starts[single], column[single] + _S] = 1
        multi = ~single
        starts, ends, column = starts[multi], ends[multi], column[multi]
        out[starts, column + _B] = 1
        out[ends - 1, column + _E] = 1
        inner = ends - starts - 2
        if inner.any():
            total = int(inner.sum())
            offsets = np.arange(total) - np.repeat(np.cumsum(inner) - inner, inner)
            out[np.repeat(starts + 1, inner) + offsets, np.repeat(column + _M, inner)] = 1
        return out
