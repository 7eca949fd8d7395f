"""Loading training examples (BIO, JSONL, the app database), windows, splits, label maps."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tcm_desktop.domain import Record, Span
from tcm_desktop.store import Database
from training.data import (
    DataError,
    Example,
    label_set,
    load_examples,
    map_labels,
    split,
    windows,
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- BIO -------------------------------------------------------------------------

BIO = "\n".join(
    [
        "腹,B-SYM",
        "痛,I-SYM",
        ",,O",  # the character is a comma
        "便,B-SYM[@",  # stray tag
        "血,Person",  # stray tag
        "",
        "",  # two blank lines make no empty sentence
        "党 B-HER",
        "参\tI-HER",
        "▁ O",  # the project's placeholder for a space
        "  O",  # a literal space as the character, space separator
        "丸,B-PRE",
        "",
        "坏",  # malformed: no tag
        "行,O",
        "",
        "好,O",
    ]
)


def test_bio_file_with_commas_stray_tags_and_a_malformed_line(tmp_path: Path) -> None:
    examples, report = load_examples(write(tmp_path / "train.txt", BIO))
    assert [e.text for e in examples] == ["腹痛,便血", "党参  丸", "好"]
    assert examples[0].spans == ((0, 2, "SYM"),)
    assert examples[1].spans == ((0, 2, "HER"), (4, 5, "PRE"))
    assert [e.id for e in examples] == ["train-1", "train-2", "train-4"]  # ids stay stable past a skip
    assert examples[1].source == "train.txt:8"
    assert report.cleaned_tags == {"B-SYM[@": 1, "Person": 1}
    assert report.examples == 3 and report.characters == 5 + 5 + 1
    assert report.spans == {"SYM": 1, "HER": 1, "PRE": 1}
    assert len(report.skipped) == 1
    assert report.skipped[0].where == "train.txt:14"
    assert "malformed" in report.skipped[0].why
    assert "train.txt:14" in str(report) and "B-SYM[@" in str(report)
    assert report.to_dict()["cleaned_tags"] == {"B-SYM[@": 1, "Person": 1}


def test_bio_labels_outside_the_expected_set_are_cleaned(tmp_path: Path) -> None:
    path = write(tmp_path / "test.bio", "茸,B-Person\n珠,I-Person\n痛,B-SYM\n")
    examples, report = load_examples(path, labels={"SYM"})
    assert examples[0].spans == ((2, 3, "SYM"),)
    assert report.cleaned_tags == {"B-Person": 1, "I-Person": 1}


def test_bio_reads_gb18030_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes("咳,B-SYM\r\n嗽,I-SYM\r\n".encode("gb18030"))
    examples, _ = load_examples(path)
    assert examples == [Example("gbk-1", "咳嗽", ((0, 2, "SYM"),), "gbk.txt:1")]


# --- JSONL -----------------------------------------------------------------------


def test_jsonl_keeps_a_foreign_label_set_and_skips_untaggable_records(tmp_path: Path) -> None:
    lines = [
        {"id": "a", "text": "头痛三天", "spans": [{"start": 0, "end": 2, "label": "Symptom"}]},
        {"id": "b", "text": "服桂枝汤", "specialty": "gastro", "spans": [{"start": 1, "end": 4, "label": "Formula_X"}]},
        {"id": "c", "text": "发热", "spans": [{"start": 0, "end": 2, "label": "S", "text": "咳嗽"}]},
        {
            "id": "d",
            "text": "发热恶寒",
            "spans": [{"start": 0, "end": 3, "label": "S"}, {"start": 2, "end": 4, "label": "S"}],
        },
    ]
    body = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n{not json\n"
    examples, report = load_examples(write(tmp_path / "foreign.jsonl", body))
    assert [(e.id, e.spans) for e in examples] == [("a", ((0, 2, "Symptom"),)), ("b", ((1, 4, "Formula_X"),))]
    assert examples[1].specialty == "gastro" and examples[1].source == "foreign.jsonl:2"
    assert label_set(examples) == ["Formula_X", "Symptom"]
    assert [s.where for s in report.skipped] == ["foreign.jsonl:3", "foreign.jsonl:4", "foreign.jsonl:5"]
    assert "does not match" in report.skipped[0].why or "says" in report.skipped[0].why
    assert "overlaps" in report.skipped[1].why


# --- database ----------------------------------------------------------------------


def test_database_gives_only_corrected_and_verified_records_with_current_spans(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    with Database.open(path) as db:
        for rid, text in [("R1", "腹痛三天"), ("R2", "便血色鲜红"), ("R3", "咳嗽"), ("R4", "舌淡红")]:
            gold = (Span(0, 2, "SYM", text[:2]),) if rid == "R1" else ()
            db.records.add(Record(rid, "general", text, spans=gold))
        db.annotations.save("R1", [Span(0, 2, "SYM", "腹痛"), Span(2, 4, "TIME", "三天")], {}, who="dr", verify=True)
        db.annotations.save("R2", [Span(0, 2, "SYM", "便血")], {}, who="dr")
        db.annotations.save("R4", [Span(0, 3, "TONGUE_BODY", "舌淡红")], {}, who="dr")
        db.records.set_status("R4", "predicted", who="dr")  # back in the queue: not training data
    examples, report = load_examples(path)
    assert [(e.id, e.spans) for e in examples] == [
        ("R1", ((0, 2, "SYM"), (2, 4, "TIME"))),
        ("R2", ((0, 2, "SYM"),)),
    ]
    assert examples[0].source == "clinic.db:R1" and examples[0].specialty == "general"
    assert report.kind == "database" and report.examples == 2
    verified, _ = load_examples(path, statuses=("verified",))
    assert [e.id for e in verified] == ["R1"]
    with pytest.raises(DataError, match="status"):
        load_examples(path, statuses=("approved",))


def test_missing_or_unknown_sources_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_examples(tmp_path / "nope.db")
    with pytest.raises(DataError, match="cannot load"):
        load_examples(write(tmp_path / "notes.csv", "id,text\n"))


# --- windows -------------------------------------------------------------------------


def check_windows(example: Example, max_chars: int) -> list:
    parts = windows(example, max_chars)
    assert "".join(w.text for w in parts) == example.text  # every character exactly once
    assert [w.offset for w in parts] == [sum(len(p.text) for p in parts[:i]) for i in range(len(parts))]
    assert all(0 < len(w.text) <= max_chars for w in parts)
    for w in parts:
        for start, end, label in w.spans:
            assert 0 <= start < end <= len(w.text)
            assert (start + w.offset, end + w.offset, label) in example.spans or w.clipped
            original = next(s for s in example.spans if s[0] <= start + w.offset and end + w.offset <= s[1])
            assert w.text[start:end] == example.text[start + w.offset : end + w.offset]
            assert original[2] == label
    return parts


def test_a_short_example_is_one_window() -> None:
    example = Example("e", "舌淡红，苔薄白。", ((0, 3, "TONGUE_BODY"),))
    assert windows(example, 8) == [windows(example, 100)[0]]
    assert windows(example, 8)[0].text == example.text and windows(example, 8)[0].offset == 0


def test_windows_prefer_sentence_ends_and_never_cut_a_span() -> None:
    text = "患者腹痛三天，便血色鲜红。舌淡红，苔薄白，脉细。予参苓白术散加减。"
    spans = ((2, 4, "SYM"), (4, 6, "TIME"), (7, 9, "SYM"), (10, 12, "COLOR"), (13, 16, "TONGUE_BODY"),
             (17, 20, "TONGUE_COAT"), (21, 23, "PULSE"), (25, 32, "FORMULA"))  # fmt: skip
    example = Example("e", text, spans)
    assert [text[s:e] for s, e, _ in spans][-1] == "参苓白术散加减"
    parts = check_windows(example, 16)
    assert parts[0].text == "患者腹痛三天，便血色鲜红。"  # the sentence end, not the 16th character
    assert all(not w.clipped for w in parts)
    # with no sentence end in reach it falls back to a comma, then to any cut outside a span
    parts = check_windows(
        Example("f", "腹痛三天便血色鲜红，舌淡红苔薄白", ((0, 2, "SYM"), (13, 16, "TONGUE_COAT"))), 14
    )
    assert parts[0].text == "腹痛三天便血色鲜红，"
    parts = check_windows(Example("g", "党参白术茯苓甘草", ((0, 2, "HERB"), (2, 4, "HERB"), (4, 6, "HERB"))), 5)
    assert parts[0].text == "党参白术"


def test_a_span_longer_than_the_window_is_cut_and_reported() -> None:
    example = Example("e", "无" + "肛内肿物脱出伴疼痛" + "。", ((1, 10, "SIGN"),))
    parts = check_windows(example, 4)
    assert parts[0].text == "无"  # the cut moves back before the span first
    assert [w.text for w in parts][1:] == ["肛内肿物", "脱出伴疼", "痛。"]
    assert parts[1].clipped == ((0, 4, "SIGN"),) and parts[3].clipped == ((0, 1, "SIGN"),)


def test_windows_hold_on_random_texts() -> None:
    rng = random.Random(7)
    alphabet = "腹痛便血舌淡红苔薄白脉细，、。！\n12ab "
    for _ in range(300):
        n = rng.randint(1, 120)
        text = "".join(rng.choice(alphabet) for _ in range(n))
        spans, pos = [], 0
        while pos < n:
            start = pos + rng.randint(0, 6)
            end = start + rng.randint(1, 12)
            if end > n:
                break
            spans.append((start, end, rng.choice("XY")))
            pos = end + rng.randint(0, 2)
        check_windows(Example("r", text, tuple(spans)), rng.randint(1, 40))


# --- splitting and label maps --------------------------------------------------------


def make_examples(n: int) -> list[Example]:
    return [Example(f"e{i}", f"文本{i}", ()) for i in range(n)]


def test_split_is_deterministic_and_keeps_duplicates_together() -> None:
    examples = make_examples(200) + [Example(f"dup{i}", "同一句话", ()) for i in range(5)]
    train, dev = split(examples, 0.2, seed=3)
    assert (train, dev) == split(examples, 0.2, seed=3)
    assert len(dev) >= 41 and len(train) + len(dev) == len(examples)
    assert {e.id for e in train}.isdisjoint(e.id for e in dev)
    sides = {("dev" if e in dev else "train") for e in examples if e.text == "同一句话"}
    assert len(sides) == 1
    shuffled = list(reversed(examples))
    assert {e.id for e in split(shuffled, 0.2, seed=3)[1]} == {e.id for e in dev}  # input order does not matter
    assert {e.id for e in split(examples, 0.2, seed=4)[1]} != {e.id for e in dev}
    assert split(examples, 0.0, seed=1) == (examples, [])


def test_map_labels_renames_and_drops() -> None:
    examples = [Example("a", "头痛因风寒党参", ((0, 2, "SYM"), (3, 5, "CAU"), (5, 7, "HER"), (2, 3, "EFF")))]
    mapped = map_labels(examples, {"SYM": "SYM", "HER": "HERB", "CAU": None})
    assert mapped[0].spans == ((0, 2, "SYM"), (5, 7, "HERB"), (2, 3, "EFF"))
    assert examples[0].spans[1] == (3, 5, "CAU")  # the input is not changed
