"""Fuzzing the importers through ``import_records``: every input gives a report, never a crash or a half record.

After every input: ``integrity_check`` is ok; every item read is either
imported or skipped with an issue; every record stored reads back valid with
one import audit entry; every image file is referenced and whole; every
message prints (no lone surrogate escapes into a report).
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcm_desktop.files import sha256_of
from tcm_desktop.store import Database, ImportReport, StoreError, import_records
from tcm_desktop.store.rows import MAX_TEXT_CHARS, store_problems

from .fuzz_data import ENCODINGS, dump_line, encode, hostile_text, interchange_records, place_images
from .stats import count_fuzz, fuzz_examples


def fuzz(examples: int) -> settings:
    """Seeded (the same inputs every run) and scaled by TCM_FUZZ_SCALE for the report."""
    return settings(
        max_examples=fuzz_examples(examples),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
        derandomize=True,
    )


def assert_consistent(db: Database, report: ImportReport) -> None:
    """The invariants of the module docstring."""
    conn = db.conn
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert report.imported + report.skipped == report.total
    records = conn.execute("SELECT count(*) FROM records").fetchone()[0]
    audits = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'import'").fetchone()[0]
    assert records == report.imported == audits
    for record_id in db.records.ids():
        stored = db.records.get(record_id)
        assert store_problems(stored.record) == [], record_id
        if stored.image_path is not None:
            assert sha256_of(stored.image_path) == stored.image_sha256
    referenced = {r[0] for r in conn.execute("SELECT image_file FROM records WHERE image_file IS NOT NULL")}
    on_disk = {p.name for p in db.images_dir.iterdir()} if db.images_dir.is_dir() else set()
    assert on_disk == referenced, "an image file without its record (or the reverse)"
    str(report).encode("utf-8")  # every message can be printed and shown


def import_and_check(path: Path, target: str) -> ImportReport:
    with Database.open(path.parent / "fuzz.db") as db:
        report = import_records(path, db)
        assert_consistent(db, report)
    count_fuzz(target, "error" if report.issues else "ok")
    return report


@pytest.fixture
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fuzz-import-") as name:
        yield Path(name)


def fresh(folder: Path) -> Path:
    work = Path(tempfile.mkdtemp(dir=folder))
    return work


@fuzz(150)
@given(
    records=st.lists(interchange_records(), max_size=6),
    encoding=st.one_of(st.just("utf-8"), st.sampled_from(ENCODINGS)),
    layout=st.sampled_from(["jsonl", "jsonl_crlf", "json_list", "json_object", "csv"]),
    cut=st.one_of(st.none(), st.none(), st.none(), st.integers(0, 4000)),
    blank_lines=st.booleans(),
)
def test_fuzzed_records_in_every_format(
    folder: Path, records: list, encoding: str, layout: str, cut: int | None, blank_lines: bool
) -> None:
    work = fresh(folder)
    raws = [place_images(raw, work, n) for n, raw in enumerate(records)]
    if layout.startswith("jsonl"):
        sep = "\r\n" if layout == "jsonl_crlf" else "\n"
        text = sep.join(dump_line(r) + (sep if blank_lines else "") for r in raws)
        name = "in.jsonl"
    elif layout == "json_list":
        text, name = json.dumps(raws, ensure_ascii=True), "in.json"
    elif layout == "json_object":
        text, name = json.dumps({"records": raws}, ensure_ascii=True), "in.json"
    else:
        text, name = _csv(raws), "in.csv"
    data = encode(text, encoding)
    if cut is not None:
        data = data[:cut]  # a file cut short (a copy that did not finish)
    (work / name).write_bytes(data)
    import_and_check(work / name, f"importers: {layout}")


def _csv(raws: list) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "text", "specialty", "image", "spans", "form"])
    for raw in raws:
        if not isinstance(raw, dict):
            writer.writerow([dump_line(raw)])
            continue
        cells = [raw.get("id"), raw.get("text"), raw.get("specialty"), raw.get("image")]
        cells = ["" if c is None else str(c) for c in cells]
        cells += [dump_line(raw[k]) if k in raw else "" for k in ("spans", "form")]
        writer.writerow(cells)
    return out.getvalue()


@fuzz(60)
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".jsonl", ".json", ".csv", ".txt", ".bio", ".ndjson"]))
def test_random_bytes_in_any_format(folder: Path, data: bytes, suffix: str) -> None:
    work = fresh(folder)
    (work / f"in{suffix}").write_bytes(data)
    import_and_check(work / f"in{suffix}", "importers: random bytes")


@fuzz(60)
@given(
    lines=st.lists(
        st.one_of(
            st.tuples(
                st.sampled_from("腹泻舌红 ,\t#"), st.sampled_from(["O", "B-SYM", "I-SYM", "B-XX", "I-", "b-sym"])
            ),
            hostile_text,
        ),
        max_size=40,
    ),
    encoding=st.sampled_from(ENCODINGS),
)
def test_fuzzed_bio_files(folder: Path, lines: list, encoding: str) -> None:
    work = fresh(folder)
    body = "\n".join(f"{item[0]} {item[1]}" if isinstance(item, tuple) else item for item in lines)
    (work / "in.bio").write_bytes(encode(body, encoding))
    import_and_check(work / "in.bio", "importers: BIO")


@fuzz(60)
@given(
    files=st.lists(st.tuples(st.text("abcR0123", min_size=1, max_size=6), st.binary(max_size=400)), max_size=5),
    photo=st.sampled_from(["none", "valid", "empty", "garbage"]),
)
def test_fuzzed_text_folders(folder: Path, files: list, photo: str) -> None:
    from .fuzz_data import png_bytes

    work = fresh(folder) / "notes"
    (work / "gastro").mkdir(parents=True)
    for n, (stem, data) in enumerate(files):
        (work / ("gastro" if n % 2 else "") / f"{stem}{n}.txt").write_bytes(data)
        pictures = {"valid": png_bytes(seed=n), "empty": b"", "garbage": b"\xff\xd8\xff" + data}
        if photo in pictures:
            (work / ("gastro" if n % 2 else "") / f"{stem}{n}.png").write_bytes(pictures[photo])
    import_and_check(work, "importers: text folder")


# --- the big and the empty, one at a time ------------------------------------------------------------


def test_a_10_mb_line_is_refused_with_a_message(folder: Path) -> None:
    huge = json.dumps({"id": "BIG", "specialty": "gastro", "text": "腹泻" * 5_000_000}, ensure_ascii=False)
    assert len(huge.encode("utf-8")) > 10_000_000
    junk = "x" * 10_500_000  # a 10 MB line that is not JSON at all
    (folder / "big.jsonl").write_text(huge + "\n" + junk + "\n", encoding="utf-8")
    report = import_and_check(folder / "big.jsonl", "importers: 10 MB line")
    assert report.imported == 0 and report.skipped == 2
    reasons = [issue.why for issue in report.issues]
    assert f"at most {MAX_TEXT_CHARS:,} are allowed" in reasons[0] and "not valid JSON" in reasons[1]
    assert all(len(str(issue)) < 500 for issue in report.issues), "a message quotes the whole line"


def test_a_10_mb_csv_field_is_refused_with_a_message(folder: Path) -> None:
    (folder / "big.csv").write_text("id,text\nA1,ok\nBIG," + "腹" * 10_000_000 + "\n", encoding="utf-8")
    report = import_and_check(folder / "big.csv", "importers: 10 MB line")
    assert report.imported == 1 and "not valid CSV" in report.issues[0].why


def test_a_100000_character_record_is_stored_whole(folder: Path) -> None:
    text = ("腹泻每日5~8次，伴黏液脓血便。舌淡红，苔薄白，脉细。\n" * 4000)[:100_000]
    (folder / "long.jsonl").write_text(json.dumps({"id": "LONG", "text": text}, ensure_ascii=False), encoding="utf-8")
    report = import_and_check(folder / "long.jsonl", "importers: 100,000-character record")
    assert report.imported == 1
    with Database.open(folder / "fuzz.db") as db:
        assert db.records.get("LONG").record.text == text


@pytest.mark.parametrize("name", ["e.jsonl", "e.json", "e.csv", "e.txt", "e.bio"])
@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n", b"\xef\xbb\xbf", b"\x00\x00\x00"])
def test_empty_files_give_a_report(folder: Path, name: str, content: bytes) -> None:
    (folder / name).write_bytes(content)
    report = import_and_check(folder / name, "importers: empty files")
    assert report.imported == 0


def test_empty_records_unknown_labels_and_bad_offsets_are_reported_per_record(folder: Path) -> None:
    lines = [
        {"id": "E1", "text": ""},
        {"id": "E2", "text": "   \n\t"},
        {"id": "E3", "text": "腹泻", "spans": [{"start": 0, "end": 2, "label": "NOT_A_LABEL"}]},
        {"id": "E4", "text": "腹泻", "spans": [{"start": 1, "end": 9, "label": "SYM"}]},
        {"id": "E5", "text": "腹泻", "spans": [{"start": 2, "end": 1, "label": "SYM"}]},
        {"id": "E6", "text": "腹泻\x00\x1b[0m\u202e", "specialty": "gastro"},
    ]
    (folder / "e.jsonl").write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    report = import_and_check(folder / "e.jsonl", "importers: empty records, unknown labels")
    assert report.imported == 1  # E6: control characters are text like any other
    why = {issue.what: issue.why for issue in report.issues}
    assert "no text" in why["E1"] and "no text" in why["E2"]
    assert "unknown label 'NOT_A_LABEL'" in why["E3"] and "outside the text" in why["E4"]
    assert "outside the text" in why["E5"]


def test_a_path_that_cannot_be_read_raises_a_store_error(folder: Path) -> None:
    with Database.open(folder / "fuzz.db") as db, pytest.raises(StoreError, match="does not exist"):
        import_records(folder / "nothing.jsonl", db)


# --- the crashes fuzzing found, kept as plain regression tests ----------------------------------------


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('{"id": "S1", "text": "腹泻\\ud800"}', "not valid Unicode"),
        ('{"id": "\\udc00", "text": "腹泻"}', "not valid Unicode"),
        ('{"id": "S2", "text": "腹泻", "form": {"\\ud800": 1}}', "not valid Unicode"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"id": "S3", "text": "腹泻", "spans": [{"start": ' + "1" * 5000 + ', "end": 2, "label": "SYM"}]}', "digits"),
        ('{"id": "S4", "text": "腹泻", "image": "a\\u0000.png"}', "not a valid file name"),
        (
            '{"id": "S5", "text": "腹泻", "spans": [{"start": 0, "end": 2, "label": "SYM", "confidence": NaN}]}',
            "number",
        ),
        ('{"id": "S6", "text": "\\u0000\\u0000 \\u200b"}', "no text"),
    ],
)
def test_inputs_that_used_to_crash_the_import_are_reported(folder: Path, line: str, why: str) -> None:
    (folder / "x.jsonl").write_text(line + "\n", encoding="utf-8")
    report = import_and_check(folder / "x.jsonl", "importers: regressions")
    assert report.imported == 0 and why in report.issues[0].why
