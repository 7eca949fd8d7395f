"""Fuzzing the inference pipeline (Structurer with the shipped bundle models/tcm-text).

Any text -- empty, blanks, control characters, characters the vocabulary
never saw, lone surrogates, mixed scripts -- gives one prediction per record
whose spans lie inside the text, match it, do not overlap and use known
labels, with an uncertainty in [0, 1] and a form the schema accepts. A
100,000-character record is structured in bounded memory (measured in a
child process: peak RSS grows no more for it than for a 10,000-character one
plus a margin).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcm_desktop.domain import Record, default_schema, span_problems
from tcm_desktop.inference.errors import PipelineError
from tcm_desktop.inference.structuring import Structurer

from .fuzz_data import CLINICAL, CONTROL, SPECIALTIES, hostile_char, hostile_text
from .kill_harness import BUNDLE, _driver_env
from .stats import count_fuzz, fuzz_examples
from .stats import record as record_figures

SCHEMA = default_schema()
LONG_CHARS = 100_000


@pytest.fixture(scope="module")
def structurer() -> Structurer:
    return Structurer.load(BUNDLE, threads=1, use_image=False)


def check_predictions(structurer: Structurer, records: list[Record], target: str) -> None:
    try:
        predictions = structurer.structure(records, use_image=False)
    except PipelineError:
        count_fuzz(target, "error")
        return
    assert [p.record_id for p in predictions] == [r.id for r in records]
    for record, prediction in zip(records, predictions, strict=True):
        assert span_problems(record.text, prediction.spans, SCHEMA.label_codes) == [], record.text[:80]
        assert 0.0 <= prediction.uncertainty <= 1.0
        specialty = record.specialty if record.specialty in SCHEMA.specialty_codes else "general"
        form = {v.field: v.value for v in prediction.form}
        assert SCHEMA.form_problems(specialty, form) == []
        assert all(0 <= i < len(prediction.spans) for v in prediction.form for i in v.evidence)
        if not record.text.strip():
            assert prediction.spans == () and prediction.uncertainty == 0.0
    count_fuzz(target, "ok")


mixed_text = st.one_of(
    hostile_text,
    st.lists(st.one_of(hostile_char, st.sampled_from(CLINICAL)), max_size=400).map("".join),
    st.lists(st.sampled_from([CLINICAL, *CONTROL, " ", "\n", "🙂", "ꙮ", "\U00020000"]), max_size=30).map("".join),
)


@settings(max_examples=fuzz_examples(50), deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(mixed_text, min_size=1, max_size=4), specialty=st.sampled_from(SPECIALTIES))
def test_fuzzed_texts_give_valid_predictions(structurer: Structurer, texts: list[str], specialty: str) -> None:
    records = [Record(f"F{i}", specialty or "general", text) for i, text in enumerate(texts)]
    check_predictions(structurer, records, "pipeline: fuzzed texts")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\n\n\t",
        "\x00",
        "\x00\x01\x02\x1b[31m",
        "\u202e\u200b\ufeff",
        "。，、；：",
        "🙂" * 50,
        "\ud800腹泻\udfff",
    ],
)
def test_empty_blank_and_control_texts(structurer: Structurer, text: str) -> None:
    check_predictions(structurer, [Record("E", "gastro", text)], "pipeline: empty and control texts")


MEMORY_PROBE = textwrap.dedent(
    """
    import json, resource, sys
    from tcm_desktop.domain import Record
    from tcm_desktop.inference.structuring import Structurer

    def peak_mb():
        # VmHWM starts afresh at exec; ru_maxrss keeps the parent's peak on Linux
        try:
            with open("/proc/self/status") as fh:
                return next(int(l.split()[1]) / 1024 for l in fh if l.startswith("VmHWM:"))
        except (OSError, StopIteration):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    s = Structurer.load(sys.argv[1], threads=1, use_image=False)
    base = "腹泻每日5~8次，伴黏液脓血便。舌淡红，苔薄白，脉细。咳嗽3天，咳黄痰。"
    s.structure([Record("warm", "gastro", base * 10)], use_image=False)
    after_load = peak_mb()
    s.structure([Record("ten", "gastro", (base * 400)[:10000])], use_image=False)
    ten_k = peak_mb()
    (p,) = s.structure([Record("long", "gastro", (base * 4000)[:int(sys.argv[2])])], use_image=False)
    print(json.dumps({"after_load": after_load, "ten_k": ten_k, "long": peak_mb(), "spans": len(p.spans)}))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="ru_maxrss is POSIX")
def test_a_100000_character_record_is_structured_in_bounded_memory(tmp_path: Path) -> None:
    script = tmp_path / "probe.py"
    script.write_text(MEMORY_PROBE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(BUNDLE), str(LONG_CHARS)],
        capture_output=True,
        text=True,
        env=_driver_env(),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    peaks = json.loads(done.stdout.strip().splitlines()[-1])
    growth_long = peaks["long"] - peaks["after_load"]
    growth_ten = peaks["ten_k"] - peaks["after_load"]
    record_figures("pipeline_memory", {"chars": LONG_CHARS, **peaks, "growth_mb": round(growth_long, 1)})
    count_fuzz("pipeline: 100,000-character record", "ok")
    assert peaks["spans"] > 1000
    # windows are batched under the memory budget: ten times the text is not ten times the memory
    assert growth_long < growth_ten + 100, peaks
    assert growth_long < 400, peaks
