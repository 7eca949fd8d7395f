"""The whole structuring step on the shipped bundle: text and tongue photos side by side, flags, stopping."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tcm_desktop.cli import EXIT_OK, main
from tcm_desktop.domain import Prediction, Record
from tcm_desktop.inference.bundle import ModelBundle
from tcm_desktop.inference.errors import PipelineError, PredictionCancelled
from tcm_desktop.inference.structuring import Structurer

SHIPPED = Path(__file__).resolve().parents[3] / "models" / "tcm-text"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Record], Path]:
    out = tmp_path_factory.mktemp("structuring") / "in.jsonl"
    assert main(["demo", "--n", "12", "--out", str(out), "--seed", "23"]) == EXIT_OK
    records = [Record.from_dict(json.loads(line)) for line in out.read_text(encoding="utf-8").splitlines()]
    assert all(r.image for r in records)
    (out.parent / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    records[3] = dataclasses.replace(records[3], image="missing.jpg")
    records[7] = dataclasses.replace(records[7], image="broken.jpg")
    return records, out.parent


def _view(p: Prediction) -> tuple:
    tongue = {k: {v: round(q, 4) for v, q in probs.items()} for k, probs in p.tongue.items()}
    return p.record_id, [(s.start, s.end, s.label) for s in p.spans], p.form, tongue, p.flags


@pytest.mark.skipif(not (SHIPPED / "manifest.json").is_file(), reason="no shipped bundle")
def test_photos_beside_the_text_give_what_one_thread_gives(corpus: tuple[list[Record], Path]) -> None:
    records, folder = corpus
    one = Structurer(ModelBundle.load(SHIPPED, threads=1), threads=1)
    two = Structurer(ModelBundle.load(SHIPPED, threads=2), threads=2)
    assert one.has_image_model and two.text.plan.workers == 2
    alone = one.structure(records, base_dir=folder)
    together = two.structure(records, base_dir=folder)
    assert [_view(p) for p in together] == [_view(p) for p in alone]
    assert [p.record_id for p in together] == [r.id for r in records]
    assert any("image:" in f and "missing.jpg" in f for f in together[3].flags)
    assert any(f.startswith("image:") for f in together[7].flags)
    assert sum(1 for p in together if p.tongue) >= 8  # the readable photos were read


@pytest.mark.skipif(not (SHIPPED / "manifest.json").is_file(), reason="no shipped bundle")
def test_a_stop_or_a_failure_ends_text_and_photos_together(corpus: tuple[list[Record], Path]) -> None:
    records, folder = corpus
    structurer = Structurer.load(SHIPPED, threads=2)
    with pytest.raises(PredictionCancelled):
        structurer.structure(records, base_dir=folder, should_stop=lambda: True)
    bad = [*records[:2], dataclasses.replace(records[2], text=None)]  # type: ignore[arg-type]
    with pytest.raises(PipelineError, match="text 2"):
        structurer.structure(bad, base_dir=folder)
    assert len(structurer.structure(records[:2], base_dir=folder)) == 2  # still usable afterwards
