"""Tag schemes for character tagging: spans <-> one tag id per character.

The interchange format stays span-based (SCHEMA.md); a tag scheme is how a
sequence model sees the spans. ``BIO`` tags are ``O, B-X, I-X``; ``BIOES``
adds ``E-X`` (last character of a longer span) and ``S-X`` (a one-character
span). Tag 0 is always ``O``; then, per label in the given order, ``B-, I-``
(``B-, I-, E-, S-`` for BIOES). A scheme describes itself
(:meth:`TagScheme.to_dict`) so a checkpoint or a model bundle never depends
on a label list elsewhere in the code. Pure Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SpanTuple = tuple[int, int, str]  # start, end (exclusive), label

OUTSIDE = "O"
_PREFIXES: Mapping[str, tuple[str, ...]] = {"BIO": ("B", "I"), "BIOES": ("B", "I", "E", "S")}
SCHEMES: tuple[str, ...] = tuple(_PREFIXES)


def tags_to_spans(tags: Sequence[str]) -> list[SpanTuple]:
    """Spans from tag strings, leniently.

    ``O`` (or anything without a ``-``) closes the open span. ``B-X`` and
    ``S-X`` always start a span. ``I-X`` continues an open ``X`` span, else
    it starts one. ``E-X`` ends an open ``X`` span, else it is a span of its
    own. ``S-X`` and ``E-X`` close the span after their character. So a
    broken BIOES sequence (``B-X O``, ``I-X I-X``, ``B-X S-X``) still gives
    the spans a reader would see.
    """
    spans: list[SpanTuple] = []
    start, label = -1, ""
    for i, tag in enumerate(tags):
        prefix, dash, kind = tag.partition("-")
        if not dash or prefix not in ("B", "I", "E", "S") or not kind:
            if start >= 0:
                spans.append((start, i, label))
            start = -1
            continue
        continues = start >= 0 and kind == label and prefix in ("I", "E")
        if not continues:
            if start >= 0:
                spans.append((start, i, label))
            start, label = i, kind
        if prefix in ("E", "S"):
            spans.append((start, i + 1, label))
            start = -1
    if start >= 0:
        spans.append((start, len(tags), label))
    return spans


class TagScheme:
    """``BIO`` or ``BIOES`` over an ordered label list."""

    def __init__(self, name: str, labels: Sequence[str]) -> None:
        name = name.upper()
        if name not in _PREFIXES:
            raise ValueError(f"unknown tag scheme {name!r} (use one of {', '.join(SCHEMES)})")
        labels = tuple(labels)
        bad = [label for label in labels if not isinstance(label, str) or not label or label != label.strip()]
        if bad or any(c.isspace() for label in labels for c in label):
            raise ValueError(f"labels must be non-empty strings without whitespace, got {bad or list(labels)}")
        if len(set(labels)) != len(labels):
            raise ValueError(f"duplicate labels in {list(labels)}")
        self.name: str = name
        self.labels: tuple[str, ...] = labels
        self.prefixes: tuple[str, ...] = _PREFIXES[name]
        self.tags: tuple[str, ...] = (OUTSIDE, *(f"{p}-{label}" for label in labels for p in self.prefixes))
        self._id = {tag: i for i, tag in enumerate(self.tags)}

    def __repr__(self) -> str:
        return f"TagScheme({self.name!r}, {list(self.labels)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TagScheme) and (self.name, self.labels) == (other.name, other.labels)

    def __hash__(self) -> int:
        return hash((self.name, self.labels))

    def __len__(self) -> int:
        return len(self.tags)

    @property
    def num_tags(self) -> int:
        return len(self.tags)

    def tag_id(self, tag: str) -> int:
        """The id of a tag string; KeyError if the scheme has no such tag."""
        return self._id[tag]

    # --- spans <-> ids ---------------------------------------------------------

    def encode_tags(self, length: int, spans: Iterable[SpanTuple]) -> list[str]:
        """One tag string per character; ValueError for a span out of range, empty, overlapping or unknown."""
        tags = [OUTSIDE] * length
        previous_end = 0
        for start, end, label in sorted(spans):
            if label not in self.labels:
                raise ValueError(f"label {label!r} of span {start}..{end} is not in this scheme's labels")
            if not 0 <= start < end <= length:
                raise ValueError(f"span {start}..{end} ({label}) is empty or outside a text of length {length}")
            if start < previous_end:
                raise ValueError(f"span {start}..{end} ({label}) overlaps the span before it")
            previous_end = end
            if self.name == "BIOES" and end - start == 1:
                tags[start] = f"S-{label}"
                continue
            tags[start] = f"B-{label}"
            for i in range(start + 1, end):
                tags[i] = f"I-{label}"
            if self.name == "BIOES":
                tags[end - 1] = f"E-{label}"
        return tags

    def encode(self, length: int, spans: Iterable[SpanTuple]) -> list[int]:
        """Tag ids per character (see :meth:`encode_tags` for the errors)."""
        return [self._id[tag] for tag in self.encode_tags(length, spans)]

    def decode(self, tag_ids: Sequence[int]) -> list[SpanTuple]:
        """Spans from tag ids, leniently (see :func:`tags_to_spans`)."""
        count = len(self.tags)
        tags: list[str] = []
        for i, tag_id in enumerate(tag_ids):
            index = int(tag_id)
            if not 0 <= index < count:
                raise ValueError(f"tag id {index} at position {i} is not in 0..{count - 1}")
            tags.append(self.tags[index])
        return tags_to_spans(tags)

    # --- constraints for a CRF ------------------------------------------------

    def _may_follow(self, before: str, after: str) -> bool:
        b_prefix, _, b_label = before.partition("-")
        a_prefix, _, a_label = after.partition("-")
        # I- and E- only continue a span of the same label that is still open
        if a_prefix in ("I", "E"):
            return b_prefix in ("B", "I") and b_label == a_label
        # O, B-, S- start fresh: fine after O, S-, E-, and in BIO after anything
        return self.name == "BIO" or b_prefix in (OUTSIDE, "E", "S")

    def allowed_transitions(self) -> list[tuple[int, int]]:
        """Every (from id, to id) pair a well-formed sequence may contain."""
        return [
            (i, j)
            for i, before in enumerate(self.tags)
            for j, after in enumerate(self.tags)
            if self._may_follow(before, after)
        ]

    def allowed_starts(self) -> list[int]:
        """Tag ids a sequence may start with (O, B-, S-)."""
        return [i for i, tag in enumerate(self.tags) if tag[0] in (OUTSIDE, "B", "S")]

    def allowed_ends(self) -> list[int]:
        """Tag ids a sequence may end with: any in BIO; O, E-, S- in BIOES."""
        ends = ("O", "B", "I") if self.name == "BIO" else (OUTSIDE, "E", "S")
        return [i for i, tag in enumerate(self.tags) if tag[0] in ends]

    # --- self-description -----------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "labels": list(self.labels), "tags": list(self.tags)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TagScheme:
        """The scheme :meth:`to_dict` wrote; ValueError if its tag list does not match."""
        try:
            scheme = cls(str(d["name"]), [str(label) for label in d["labels"]])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"a tag scheme needs 'name' and 'labels', got {dict(d)!r}") from exc
        if "tags" in d and tuple(d["tags"]) != scheme.tags:
            raise ValueError(f"stored tags {list(d['tags'])} do not match the {scheme.name} tags of {scheme.labels}")
        return scheme
