"""Write a demo corpus: JSONL in the interchange format plus one tongue photo per record."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tcm_desktop.demo.generator import generate_records
from tcm_desktop.demo.raster import encode_jpeg
from tcm_desktop.demo.tongue_image import render_tongue

LONG_CHARS = 5000


@dataclass(frozen=True)
class DemoSummary:
    records: int
    jsonl: Path
    images: Path
    labels: dict[str, int] = field(default_factory=dict)
    specialties: dict[str, int] = field(default_factory=dict)
    min_chars: int = 0
    max_chars: int = 0
    mean_chars: float = 0.0
    over_5000: int = 0

    def __str__(self) -> str:
        specialties = ", ".join(f"{k} {v}" for k, v in sorted(self.specialties.items()))
        return (
            f"wrote {self.records} records to {self.jsonl} and their photos to {self.images}/\n"
            f"specialties: {specialties}\n"
            f"length: {self.min_chars}-{self.max_chars} characters (mean {self.mean_chars:.0f}), "
            f"{self.over_5000} over 5,000\n"
            f"categories: {len(self.labels)}, spans: {sum(self.labels.values())}"
        )


def image_seed(seed: int, index: int) -> int:
    """The photo's seed for record ``index``: deterministic, distinct per record and corpus seed."""
    return (seed * 1_000_003 + index) % (2**31)


def write_demo_corpus(
    n: int,
    out: Path,
    seed: int = 0,
    on_progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Write ``n`` generated records to ``out`` and their photos to ``<out stem>_images/``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    image_dir = out.parent / f"{out.stem}_images"
    image_dir.mkdir(parents=True, exist_ok=True)
    labels: Counter[str] = Counter()
    specialties: Counter[str] = Counter()
    lengths: list[int] = []
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        for index, generated in enumerate(generate_records(n, seed)):
            record = generated.record
            name = f"{record.id}.jpg"
            photo = render_tongue(generated.tongue, image_seed(seed, index))
            (image_dir / name).write_bytes(encode_jpeg(photo[..., ::-1], 90))  # the renderer draws BGR
            line = record.to_dict()
            line["image"] = f"{image_dir.name}/{name}"
            line["tongue_truth"] = generated.tongue.to_dict()
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            labels.update(s.label for s in record.spans)
            specialties[record.specialty] += 1
            lengths.append(len(record.text))
            if on_progress is not None:
                on_progress(index + 1, n)
    return DemoSummary(
        records=len(lengths),
        jsonl=out,
        images=image_dir,
        labels=dict(sorted(labels.items())),
        specialties=dict(sorted(specialties.items())),
        min_chars=min(lengths, default=0),
        max_chars=max(lengths, default=0),
        mean_chars=sum(lengths) / len(lengths) if lengths else 0.0,
        over_5000=sum(1 for x in lengths if x > LONG_CHARS),
    )
