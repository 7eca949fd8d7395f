"""Tag schemes: spans <-> tag ids, lenient decoding, CRF constraints, self-description."""

from __future__ import annotations

import pytest

from training.tags import TagScheme, tags_to_spans

LABELS = ("SYM", "HERB")


@pytest.mark.parametrize("name", ["BIO", "BIOES"])
def test_round_trip_with_single_char_and_adjacent_spans_of_one_label(name: str) -> None:
    scheme = TagScheme(name, LABELS)
    # 便血 | 血 (adjacent SYM spans), a one-character HERB span, a span at the very end
    spans = [(0, 2, "SYM"), (2, 3, "SYM"), (4, 5, "HERB"), (6, 9, "HERB")]
    ids = scheme.encode(9, spans)
    assert len(ids) == 9
    assert scheme.decode(ids) == spans


def test_tag_layout() -> None:
    assert TagScheme("BIO", LABELS).tags == ("O", "B-SYM", "I-SYM", "B-HERB", "I-HERB")
    bioes = TagScheme("bioes", LABELS)
    assert bioes.name == "BIOES"
    assert bioes.tags[:5] == ("O", "B-SYM", "I-SYM", "E-SYM", "S-SYM")
    assert [bioes.tags[i] for i in bioes.encode(4, [(0, 1, "SYM"), (1, 4, "HERB")])] == [
        "S-SYM",
        "B-HERB",
        "I-HERB",
        "E-HERB",
    ]


@pytest.mark.parametrize(
    ("tags", "spans"),
    [
        (["I-SYM", "I-SYM", "O"], [(0, 2, "SYM")]),  # I- without B- starts a span
        (["B-SYM", "I-HERB"], [(0, 1, "SYM"), (1, 2, "HERB")]),  # label change starts a new span
        (["B-SYM", "O", "I-SYM"], [(0, 1, "SYM"), (2, 3, "SYM")]),
        (["B-SYM", "B-SYM"], [(0, 1, "SYM"), (1, 2, "SYM")]),
        (["B-SYM", "I-SYM"], [(0, 2, "SYM")]),  # BIOES without its E-: still one span
        (["E-SYM", "S-HERB", "I-SYM", "E-SYM"], [(0, 1, "SYM"), (1, 2, "HERB"), (2, 4, "SYM")]),
        (["B-SYM", "S-SYM", "E-HERB"], [(0, 1, "SYM"), (1, 2, "SYM"), (2, 3, "HERB")]),
        (["B-SYM", "SYM[@", "X-Y"], [(0, 1, "SYM")]),  # junk reads as O
    ],
)
def test_lenient_decoding_of_broken_sequences(tags: list[str], spans: list[tuple[int, int, str]]) -> None:
    assert tags_to_spans(tags) == spans
    scheme = TagScheme("BIOES", LABELS)
    if all(t in scheme.tags for t in tags):
        assert scheme.decode([scheme.tag_id(t) for t in tags]) == spans


def test_encode_refuses_spans_it_cannot_tag() -> None:
    scheme = TagScheme("BIO", LABELS)
    with pytest.raises(ValueError, match="not in this scheme"):
        scheme.encode(3, [(0, 1, "CAU")])
    with pytest.raises(ValueError, match="outside"):
        scheme.encode(3, [(1, 4, "SYM")])
    with pytest.raises(ValueError, match="overlaps"):
        scheme.encode(5, [(0, 3, "SYM"), (2, 4, "HERB")])
    with pytest.raises(ValueError, match="not in 0"):
        scheme.decode([0, 99])


def test_bio_transitions() -> None:
    scheme = TagScheme("BIO", ["X", "Y"])
    allowed = {(scheme.tags[i], scheme.tags[j]) for i, j in scheme.allowed_transitions()}
    assert ("O", "I-X") not in allowed
    assert ("B-Y", "I-X") not in allowed
    assert ("B-X", "I-X") in allowed and ("I-X", "I-X") in allowed
    assert ("I-X", "B-X") in allowed and ("I-X", "O") in allowed and ("O", "B-Y") in allowed
    assert len(allowed) == 5 * 5 - 2 * 3  # each I- is reachable from its own B- and I- only
    assert [scheme.tags[i] for i in scheme.allowed_starts()] == ["O", "B-X", "B-Y"]
    assert scheme.allowed_ends() == list(range(5))


def test_bioes_transitions() -> None:
    scheme = TagScheme("BIOES", ["X"])
    allowed = {(scheme.tags[i], scheme.tags[j]) for i, j in scheme.allowed_transitions()}
    assert allowed == {
        ("O", "O"), ("O", "B-X"), ("O", "S-X"),
        ("B-X", "I-X"), ("B-X", "E-X"), ("I-X", "I-X"), ("I-X", "E-X"),
        ("E-X", "O"), ("E-X", "B-X"), ("E-X", "S-X"),
        ("S-X", "O"), ("S-X", "B-X"), ("S-X", "S-X"),
    }  # fmt: skip
    assert [scheme.tags[i] for i in scheme.allowed_starts()] == ["O", "B-X", "S-X"]
    assert [scheme.tags[i] for i in scheme.allowed_ends()] == ["O", "E-X", "S-X"]


@pytest.mark.parametrize("name", ["BIO", "BIOES"])
def test_encoded_sequences_only_use_allowed_transitions(name: str) -> None:
    scheme = TagScheme(name, LABELS)
    ids = scheme.encode(10, [(0, 1, "SYM"), (1, 3, "SYM"), (3, 6, "HERB"), (8, 10, "HERB")])
    allowed = set(scheme.allowed_transitions())
    assert all(pair in allowed for pair in zip(ids, ids[1:], strict=False))
    assert ids[0] in scheme.allowed_starts() and ids[-1] in scheme.allowed_ends()


def test_scheme_describes_itself() -> None:
    scheme = TagScheme("BIOES", ["SYM", "HER", "PRE"])
    again = TagScheme.from_dict(scheme.to_dict())
    assert again == scheme and again.tags == scheme.tags
    with pytest.raises(ValueError, match="do not match"):
        TagScheme.from_dict({**scheme.to_dict(), "tags": ["O"]})
    with pytest.raises(ValueError):
        TagScheme("IOB2", LABELS)
    with pytest.raises(ValueError, match="duplicate"):
        TagScheme("BIO", ["SYM", "SYM"])
