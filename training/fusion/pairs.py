"""Text-image pairs for the fusion: each tongue photo with generated records whose tongue agrees with it.

There are no real records with photos, so the text is generated (``tcm demo``'s
generator) and paired with a real photo: every generated record carries the
tongue truth its text describes (``GeneratedRecord.tongue``), and a photo is
paired only with records whose truth equals the photo's manual labels,
mapped to form values by ``resources/schema/tongue_labels.yaml`` (body colour
light -> 淡白, regular -> 淡红, dark -> 暗红/紫暗; coat white -> 白,
light_yellow -> 黄白相间, yellow -> 黄). An attribute the photo has no label
for (NA) constrains nothing; a photo with no colour label at all pairs with
any record (the image is real, it just says nothing checked).

The generator is not steered: records are drawn from a pool (one seed per
split, records of at most ``max_record_chars`` characters so no long
inpatient notes) and matched greedily, most constrained photos first, each
record used once. Photos follow the tongue classifier's split by image id
(seed 13, :func:`training.tongue.data.make_split`): train photos pair with
records from the train pool, val photos with the dev pool, test photos with
the test pool, so no photo and no record is in two splits.

    python -m training.fusion.pairs --data ../shared/data/tongue --out /work/runs/fusion/pairs
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tcm_desktop.demo.generator import GeneratedRecord, generate_record
from training.tongue.data import SPLITS, TongueItem, make_split, scan
from training.tongue.labels import ATTRIBUTES, load_label_map

# The two attributes both the photo labels and the record's tongue truth have (form field names).
PAIRED = ("tongue_color", "coat_color")
POOL_SEEDS = {"train": 9101, "val": 9102, "test": 9103}


@dataclass(frozen=True)
class PhotoFindings:
    """A photo's id and its form value per paired attribute (None where the photo is unlabelled)."""

    sid: str
    values: tuple[str | None, ...]  # PAIRED order

    @property
    def labelled(self) -> int:
        return sum(v is not None for v in self.values)


def photo_findings(items: Sequence[TongueItem], label_map: Mapping[str, Mapping[str, str]]) -> list[PhotoFindings]:
    """Each photo's paired attributes as form values."""
    columns = {a.name: (i, a) for i, a in enumerate(ATTRIBUTES)}
    out = []
    for item in items:
        values: list[str | None] = []
        for name in PAIRED:
            index, attribute = columns[name]
            label = item.labels[index]
            values.append(None if label < 0 else label_map[name][attribute.classes[label]])
        out.append(PhotoFindings(item.sid, tuple(values)))
    return out


def truth_values(generated: GeneratedRecord) -> tuple[str, ...]:
    """The record's tongue truth for the paired attributes (what its text may state)."""
    return tuple(str(getattr(generated.tongue, name)) for name in PAIRED)


def agrees(photo: PhotoFindings, truth: Sequence[str]) -> bool:
    return all(p is None or p == t for p, t in zip(photo.values, truth, strict=True))


def _pool(seed: int, max_record_chars: int) -> Iterator[GeneratedRecord]:
    index = 0
    while True:
        generated = generate_record(seed, index)
        index += 1
        if len(generated.record.text) <= max_record_chars:
            yield generated


def pair_photos(
    photos: Sequence[PhotoFindings],
    per_photo: int,
    seed: int,
    max_record_chars: int = 1200,
    max_pool: int = 200_000,
) -> list[tuple[PhotoFindings, GeneratedRecord]]:
    """``per_photo`` distinct agreeing records for every photo, drawn from the pool of ``seed``.

    Greedy, most constrained photos first; the pool grows until every photo
    has its records (``max_pool`` records drawn at most).
    """
    order = sorted(photos, key=lambda p: (-p.labelled, p.sid))
    waiting: dict[tuple[str, ...], list[GeneratedRecord]] = defaultdict(list)
    pool = _pool(seed, max_record_chars)
    drawn = 0
    pairs = []
    for photo in order:
        for _ in range(per_photo):
            match = _take(waiting, photo)
            while match is None:
                if drawn >= max_pool:
                    raise RuntimeError(f"no record agrees with photo {photo.sid} {photo.values} in {drawn} drawn")
                generated = next(pool)
                drawn += 1
                if agrees(photo, truth_values(generated)):
                    match = generated
                else:
                    waiting[truth_values(generated)].append(generated)
            pairs.append((photo, match))
    return pairs


def _take(waiting: dict[tuple[str, ...], list[GeneratedRecord]], photo: PhotoFindings) -> GeneratedRecord | None:
    for truth in sorted(waiting):
        if waiting[truth] and agrees(photo, truth):
            return waiting[truth].pop(0)
    return None


def pair_record(photo: PhotoFindings, generated: GeneratedRecord, split: str) -> dict[str, Any]:
    """One JSONL line: the record in the interchange format plus the photo id and both sides' findings."""
    record = generated.record
    return {
        "id": f"{split}-{photo.sid}-{record.id}",
        "specialty": record.specialty,
        "text": record.text,
        "image": photo.sid,
        "spans": [{"start": s.start, "end": s.end, "label": s.label, "text": s.text} for s in record.spans],
        "photo": dict(zip(PAIRED, photo.values, strict=True)),
        "truth": dict(zip(PAIRED, truth_values(generated), strict=True)),
    }


def build(
    data_dir: Path, out: Path, per_photo: Mapping[str, int], split_seed: int = 13, max_record_chars: int = 1200
) -> dict[str, Any]:
    """Write ``out/{train,val,test}.jsonl`` and ``out/pairs.json`` (what was paired, how)."""
    items = scan(data_dir)
    split = make_split([i.sid for i in items], split_seed)
    findings = {p.sid: p for p in photo_findings(items, load_label_map())}
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"split_seed": split_seed, "pool_seeds": POOL_SEEDS, "max_record_chars": max_record_chars}
    for name in SPLITS:
        photos = [findings[sid] for sid in split[name]]
        pairs = pair_photos(photos, per_photo[name], POOL_SEEDS[name], max_record_chars)
        random.Random(split_seed).shuffle(pairs)
        lines = [json.dumps(pair_record(p, g, name), ensure_ascii=False) for p, g in pairs]
        (out / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        summary[name] = {
            "photos": len(photos),
            "records": len(pairs),
            "per_photo": per_photo[name],
            "photos_with_label": {a: sum(p.values[i] is not None for p in photos) for i, a in enumerate(PAIRED)},
        }
    (out / "pairs.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Pair tongue photos with generated records that agree with them.")
    parser.add_argument("--data", type=Path, default=Path("../shared/data/tongue"))
    parser.add_argument("--out", type=Path, default=Path("/work/runs/fusion/pairs"))
    parser.add_argument("--per-photo", default="train=2,val=1,test=3", help="records per photo, per split")
    parser.add_argument("--max-record-chars", type=int, default=1200)
    args = parser.parse_args(argv)
    per_photo = {k: int(v) for k, v in (part.split("=") for part in args.per_photo.split(","))}
    print(json.dumps(build(args.data, args.out, per_photo, max_record_chars=args.max_record_chars), indent=1))


if __name__ == "__main__":
    main()
