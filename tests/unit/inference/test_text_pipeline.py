"""The text pipeline on the shipped bundle: spans a clinician expects, long records, odd input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcm_desktop.inference.bundle import ModelBundle
from tcm_desktop.inference.errors import PipelineError, PredictionCancelled
from tcm_desktop.inference.text_pipeline import TextPipeline, TextResult
from tcm_desktop.inference.windows import plan_windows

SHIPPED = Path(__file__).resolve().parents[3] / "models" / "tcm-text"
SHIPPED_VERSION = f"tcm-text@{json.loads((SHIPPED / 'manifest.json').read_text(encoding='utf-8'))['version']}"
SHORT = "患者腹痛3天，舌淡红，苔薄白，脉细。处方：党参15g 白术10g"
OTHER = "主诉：反复咳嗽咳痰2周，加重伴发热1天。舌红，苔黄腻，脉滑数。诊断：咳嗽（痰热壅肺证）。"


@pytest.fixture(scope="module")
def bundle() -> ModelBundle:
    return ModelBundle.load(SHIPPED, threads=2)


@pytest.fixture(scope="module")
def pipeline(bundle: ModelBundle) -> TextPipeline:
    return TextPipeline(bundle, threads=2)


def triples(result: TextResult, shift: int = 0) -> list[tuple[int, int, str]]:
    return [(s.start - shift, s.end - shift, s.label) for s in result.spans]


def test_a_short_record_gives_the_tongue_and_the_herb(pipeline: TextPipeline) -> None:
    (result,) = pipeline.predict([SHORT])
    found = {(s.text, s.label) for s in result.spans}
    assert ("舌淡红", "TONGUE_BODY") in found
    assert ("党参", "HERB") in found
    for span in result.spans:
        assert SHORT[span.start : span.end] == span.text
        assert span.confidence is not None and 0.0 < span.confidence <= 1.0
    assert 0.0 <= result.uncertainty <= 1.0
    assert result.model_version == SHIPPED_VERSION
    assert result.to_prediction("R1").spans == result.spans


def test_a_20000_character_record_repeats_the_short_spans_across_window_seams(pipeline: TextPipeline) -> None:
    unit = SHORT + "。\n"
    expected = triples(pipeline.predict([unit])[0])
    repeats = 20_000 // len(unit) + 1
    text = unit * repeats
    (result,) = pipeline.predict([text])
    per_unit: dict[int, list[tuple[int, int, str]]] = {}
    for start, end, label in triples(result):
        k = start // len(unit)
        per_unit.setdefault(k, []).append((start - k * len(unit), end - k * len(unit), label))
    assert [k for k in range(repeats) if per_unit.get(k) != expected] == []
    # the test means something only if window edges do cut through spans
    spans = [(k * len(unit) + s, k * len(unit) + e) for k in range(repeats) for s, e, _ in expected]
    edges = {w.start for w in plan_windows(len(text), pipeline.window, pipeline.overlap)}
    assert any(s < edge < e for s, e in spans for edge in edges)


def test_empty_whitespace_and_control_characters(pipeline: TextPipeline) -> None:
    results = pipeline.predict(["", "   \n\t\u3000", "\x00\x07\x1b\u202e\ud800\ufeff", "舌淡红\x00党参\x07"])
    assert results[0].spans == () and results[0].uncertainty == 0.0
    assert results[1].spans == ()
    for result in results[2:]:
        assert all(s.confidence is not None and 0 < s.confidence <= 1 for s in result.spans)
        assert 0.0 <= result.uncertainty <= 1.0
    assert pipeline.predict([]) == []


def test_results_keep_input_order_and_do_not_depend_on_the_batching(bundle: ModelBundle) -> None:
    texts = [SHORT, "", OTHER, SHORT * 12, OTHER[:9]]
    roomy = TextPipeline(bundle, memory_budget_mb=512).predict(texts)
    tight = TextPipeline(bundle, memory_budget_mb=1, chunk_windows=2).predict(texts)  # one window a batch
    one_by_one = [TextPipeline(bundle).predict([t])[0] for t in texts]
    assert [triples(r) for r in roomy] == [triples(r) for r in tight] == [triples(r) for r in one_by_one]
    assert triples(roomy[4]) == triples(TextPipeline(bundle).predict([OTHER[:9]])[0])


def test_progress_reaches_the_total_and_stop_cancels(pipeline: TextPipeline) -> None:
    seen: list[tuple[int, int]] = []
    pipeline.predict([SHORT, OTHER * 10], on_progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1] > 0
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    with pytest.raises(PredictionCancelled):
        pipeline.predict([SHORT], should_stop=lambda: True)


def test_a_non_string_is_refused(pipeline: TextPipeline) -> None:
    with pytest.raises(PipelineError, match="text 1"):
        pipeline.predict([SHORT, None])  # type: ignore[list-item]


def test_batches_side_by_side_give_what_one_thread_gives_within_the_same_budget(bundle: ModelBundle) -> None:
    texts = [SHORT, OTHER * 3, "", SHORT * 40, OTHER[:20]] * 4
    one = TextPipeline(bundle, threads=1, memory_budget_mb=2)
    two = TextPipeline(bundle, threads=2, memory_budget_mb=2)
    assert (one.plan.workers, two.plan.workers) == (1, 2)
    assert two.batcher.budget_bytes == pytest.approx(one.batcher.budget_bytes / 2)  # type: ignore[union-attr]
    seen: list[tuple[int, int]] = []
    together = two.predict(texts, on_progress=lambda done, total: seen.append((done, total)))
    alone = one.predict(texts)
    assert [triples(r) for r in together] == [triples(r) for r in alone]
    for a, b in zip(together, alone, strict=True):
        assert a.uncertainty == pytest.approx(b.uncertainty, abs=1e-6)
    assert len(seen) >= 2 and seen == sorted(seen) and seen[-1][0] == seen[-1][1]
