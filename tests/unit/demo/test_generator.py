"""The demo corpus generator: valid spans, complete forms that agree with the text, variety, determinism."""

from __future__ import annotations

import json
import random
import re

import pytest

from tcm_desktop.demo.corpus import write_demo_corpus
from tcm_desktop.demo.gen_fields import write_state
from tcm_desktop.demo.gen_text import Style, TextBuilder
from tcm_desktop.demo.generator import GeneratedRecord, generate_records
from tcm_desktop.domain import NOT_MENTIONED, default_schema, record_problems
from tcm_desktop.domain.form_text import findings_as_written

CN = {"零": 0, "一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@pytest.fixture(scope="module")
def corpus() -> list[GeneratedRecord]:
    return list(generate_records(300, seed=0))


def _numbers(text: str) -> list[int]:
    """Every count in ``text``, Arabic or Chinese (十余 -> 11, 七八 -> 7 and 8)."""
    out = [int(x) for x in re.findall(r"\d+", text)]
    for run in re.findall(r"[零一两二三四五六七八九十]+", text):
        if "十" in run:
            head, _, tail = run.partition("十")
            out.append((CN[head] if head else 1) * 10 + (CN[tail[0]] if tail else 0) + ("余" in text))
        else:
            out.extend(CN[c] for c in run)
    return out


def _bucket(freq: str) -> str:
    upper = max(_numbers(freq))
    if "以上" in freq or "余" in freq:
        upper += 1
    return "每日<4次" if upper < 4 else "每日4~6次" if upper <= 6 else "每日>6次"


@pytest.mark.parametrize("seed,n", [(0, 300), (1, 150), (7, 150)])
def test_every_record_passes_the_schema(seed: int, n: int) -> None:
    schema = default_schema()
    for generated in generate_records(n, seed):
        record = generated.record
        assert record_problems(record, schema) == [], record.id
        for span in record.spans:
            assert record.text[span.start : span.end] == span.text
        ends = sorted((s.start, s.end) for s in record.spans)
        assert all(a[1] <= b[0] for a, b in zip(ends, ends[1:], strict=False))


def test_all_categories_and_specialties_occur(corpus: list[GeneratedRecord]) -> None:
    labels = {s.label for g in corpus for s in g.record.spans}
    assert labels == set(default_schema().label_codes)
    assert {g.record.specialty for g in corpus} == set(default_schema().specialty_codes)


def test_forms_are_complete(corpus: list[GeneratedRecord]) -> None:
    schema = default_schema()
    for g in corpus:
        names = {f.name for f in schema.fields_for(g.record.specialty)}
        assert set(g.record.form) == names
        assert g.record.image is None


def test_lengths_cover_short_notes_and_long_admissions(corpus: list[GeneratedRecord]) -> None:
    lengths = [len(g.record.text) for g in corpus]
    assert min(lengths) >= 80
    assert max(lengths) <= 8000
    assert sum(x > 5000 for x in lengths) >= 0.02 * len(lengths)
    assert sorted(lengths)[len(lengths) // 2] < 1500  # outpatient notes are the bulk


def test_deterministic_by_seed() -> None:
    first = [g.record.to_dict() for g in generate_records(40, seed=5)]
    again = [g.record.to_dict() for g in generate_records(40, seed=5)]
    other = [g.record.to_dict() for g in generate_records(40, seed=6)]
    assert first == again
    assert first != other
    assert first[0]["id"] == "DEMO-00001"


def test_tongue_form_agrees_with_the_truth_and_the_spans(corpus: list[GeneratedRecord]) -> None:
    described = 0
    for g in corpus:
        form, truth = g.record.form, g.tongue.to_dict()
        for name in ("tongue_color", "coat_color", "coat_thickness"):
            assert form[name] in (NOT_MENTIONED, truth[name]), (g.record.id, name)
        for name in ("fissure", "tooth_marks"):
            expected = "有" if truth[name] in (True, "有", "true", "True") else "无"
            assert form[name] in (NOT_MENTIONED, expected), (g.record.id, name)
        written = [s.text for s in g.record.spans if s.label in ("TONGUE_BODY", "TONGUE_COAT")]
        as_written = findings_as_written(g.record.text, g.record.spans, ("TONGUE_BODY", "TONGUE_COAT"))
        assert form["tongue"] == "，".join(as_written)
        assert [w[-len(s) :] for w, s in zip(as_written, written, strict=True)] == written
        pulses = [s.text for s in g.record.spans if s.label == "PULSE"]
        assert form["pulse"] == "，".join(pulses)
        described += bool(written)
    assert 0.7 * len(corpus) < described < len(corpus)  # some notes do not describe the tongue


def test_herbs_are_the_prescription_pairs(corpus: list[GeneratedRecord]) -> None:
    for g in corpus:
        spans = g.record.spans
        pairs = [
            {"herb": a.text, "dose": b.text}
            for a, b in zip(spans, spans[1:], strict=False)
            if a.label == "HERB" and b.label == "DOSE"
        ]
        assert g.record.form["herbs"] == pairs
        assert pairs


@pytest.mark.parametrize("bucket", ["每日<4次", "每日4~6次", "每日>6次"])
def test_diarrhoea_ranges_take_the_upper_bound(bucket: str) -> None:
    for i in range(200):
        tb = TextBuilder(Style.draw(random.Random(i)))
        write_state(tb, "diarrhea_frequency", bucket)
        freq = [s.text for s in tb.spans if s.label == "FREQUENCY"]
        assert len(freq) == 1
        assert _bucket(freq[0]) == bucket, freq[0]


def test_gastro_records_with_a_range_get_the_upper_bucket(corpus: list[GeneratedRecord]) -> None:
    checked = 0
    for g in corpus:
        r = g.record
        if r.specialty != "gastro" or "既往" in r.text or len(r.text) > 5000:
            continue
        ranged = re.compile(r"[~～\-到]|[一二三四五六七八九]{2}")
        # the frequency written after a diarrhoea symptom (not, say, 黏液脓血便每日6~8次 at admission)
        pairs = zip(r.spans, r.spans[1:], strict=False)
        mucus = ("脓", "血", "黏液")
        freqs = [
            b.text
            for a, b in pairs
            if b.label == "FREQUENCY" and ranged.search(b.text) and not any(m in a.text for m in mucus)
        ]
        freqs = [f for f in freqs if re.search(r"[日天]", f)]
        if len(freqs) == 1 and r.form["diarrhea_frequency"] not in ("无腹泻", NOT_MENTIONED):
            assert r.form["diarrhea_frequency"] == _bucket(freqs[0]), r.id
            checked += 1
    assert checked >= 3


def test_negated_fever_gives_no(corpus: list[GeneratedRecord]) -> None:
    seen = 0
    for g in corpus:
        r = g.record
        if r.specialty != "respiratory" or r.form["fever"] != "无":
            continue
        spans = r.spans
        negated = any(
            a.label == "NEGATION" and any(b.label == "SYM" and "热" in b.text for b in spans[i + 1 : i + 3])
            for i, a in enumerate(spans)
        )
        resolved = any(a.text == "发热" and b.label == "SEVERITY" for a, b in zip(spans, spans[1:], strict=False))
        assert negated or resolved, r.id
        seen += 1
    assert seen >= 3


def test_latest_vas_wins_in_long_orthopedic_notes() -> None:
    seen = 0
    for g in generate_records(400, seed=3):
        r = g.record
        if r.specialty != "orthopedics" or len(r.text) < 3000 or r.form["vas_score"] is None:
            continue
        spans = r.spans
        scores = [b.text for a, b in zip(spans, spans[1:], strict=False) if a.text.startswith("VAS") or "VAS" in a.text]
        assert scores and _numbers(scores[-1])[-1] == r.form["vas_score"], r.id
        seen += 1
    assert seen >= 1


def test_hard_cases_are_present(corpus: list[GeneratedRecord]) -> None:
    texts = "\n".join(g.record.text for g in corpus)
    assert re.search(r"\d+\.\d(cm|厘米| cm)", texts)  # decimals with units
    assert re.search(r"\d{2}\.\d(℃|°C)", texts)
    assert "×10^9/L" in texts or "×10⁹/L" in texts
    assert "，" in texts and "," in texts and "：" in texts and ":" in texts
    assert re.search(r"每日[一二两三四五六七八九十]+", texts)  # Chinese numerals
    assert "先煎" in texts or "后下" in texts
    coats = {s.text for g in corpus for s in g.record.spans if s.label == "TONGUE_COAT"}
    pulses = {s.text for g in corpus for s in g.record.spans if s.label == "PULSE"}
    assert len(coats) > 40 and len(pulses) > 40


def test_write_demo_corpus_writes_jsonl_and_images(tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "d.jsonl"
    progress: list[tuple[int, int]] = []
    summary = write_demo_corpus(6, out, seed=2, on_progress=lambda d, n: progress.append((d, n)))
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 6 and summary.records == 6 and progress[-1] == (6, 6)
    assert lines[0]["image"] == "d_images/DEMO-00001.jpg"
    assert (tmp_path / lines[0]["image"]).read_bytes()[:2] == b"\xff\xd8"
    assert set(lines[0]["tongue_truth"]) == {"tongue_color", "coat_color", "coat_thickness", "fissure", "tooth_marks"}
    assert sum(summary.specialties.values()) == 6
    again = tmp_path / "e.jsonl"
    write_demo_corpus(6, again, seed=2)
    assert [json.loads(x)["text"] for x in again.read_text(encoding="utf-8").splitlines()] == [x["text"] for x in lines]


def _texts(corpus: list[GeneratedRecord], label: str) -> set[str]:
    return {s.text for g in corpus for s in g.record.spans if s.label == label}


def test_negation_cues_are_varied_and_post_posed_ones_occur(corpus: list[GeneratedRecord]) -> None:
    cues = _texts(corpus, "NEGATION")
    assert len(cues) >= 10, sorted(cues)
    assert {"未闻及", "未触及", "不伴", "否认", "未诉"} <= cues
    post = 0
    for g in corpus:
        spans = g.record.spans
        for a, b in zip(spans, spans[1:], strict=False):
            if b.label == "NEGATION" and b.text in ("均无", "未引出", "否") and a.label in ("SYM", "SIGN"):
                post += 1
    assert post >= 10


def test_time_expressions_are_varied(corpus: list[GeneratedRecord]) -> None:
    times = _texts(corpus, "TIME")
    # shapes with the numbers taken out, so dates do not count many times (was 45 before the widening)
    shapes = {re.sub(r"\d+", "N", re.sub(r"[零一两二三四五六七八九十]+", "N", t)) for t in times}
    assert len(times) >= 1450 and len(shapes) >= 130, len(shapes)  # about 1,500 distinct in 300 records
    assert {"刻下", "目前", "当时"} <= times
    assert "现" not in times  # SCHEMA: bare 现 carries no span


def test_examination_and_modifier_words_are_varied(corpus: list[GeneratedRecord]) -> None:
    assert len(_texts(corpus, "SEVERITY")) >= 50
    assert len(_texts(corpus, "FREQUENCY")) >= 90
    assert len(_texts(corpus, "WM_DRUG")) >= 140
    assert any(t.startswith("截石位") for t in _texts(corpus, "BODY_PART"))
    assert {"腹平软", "双肺呼吸音粗"} <= _texts(corpus, "EXAM_RESULT")
    usages = _texts(corpus, "USAGE")
    assert {"bid", "每日2次"} & usages and {"口服", "静滴"} <= usages


def test_combined_formulas_are_two_spans_joined_by_he_and_both_reach_the_form(corpus: list[GeneratedRecord]) -> None:
    paired = [g for g in corpus if g.case is not None and g.case.formula_partner]
    assert 0.05 * len(corpus) < len(paired) < 0.3 * len(corpus)
    for generated in paired:
        record, case = generated.record, generated.case
        assert case is not None
        spans = [s for s in record.spans if s.label == "FORMULA"]
        joined = [
            (a, b)
            for a, b in zip(spans, spans[1:], strict=False)
            if b.start == a.end + 1 and record.text[a.end] == "合"
        ]
        assert joined, record.text
        a, b = joined[0]
        assert (a.text, b.text) == (case.formula, case.formula_partner)
        assert len(record.form["formula"]) >= 2, record.form["formula"]
