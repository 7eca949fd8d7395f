"""One kind of work in an endless loop, to be killed with SIGKILL at a random moment.

    python tests/reliability/kill_driver.py KIND WORKDIR SEED

KIND is ``annotation`` (saves through AnnotationRepository.save), ``import``
(JSONL files with new photos through import_records), ``structure`` (``tcm
structure`` into a JSONL output, resumed run after run) or ``retrain``
(RetrainLedger plan -> bundle files -> register -> activate). WORKDIR holds
what :mod:`kill_harness` prepared. The driver prints ``ready`` once its
imports and set-up are done and then works until it is killed; it never
stops by itself (a finished structure output is checked and started again).

Standalone on purpose (only ``tcm_desktop`` imports): the parent runs it with
the same interpreter as a plain script.
"""

from __future__ import annotations

import json
import random
import sys
import zlib
from pathlib import Path
from typing import Any

KINDS = ("annotation", "import", "structure", "retrain")
DB_NAME = "clinic.db"
WHO = "kill-driver"


def _ready() -> None:
    print("ready", flush=True)


def png_bytes(rng: random.Random, width: int = 48, height: int = 32) -> bytes:
    """A small valid PNG whose pixels come from ``rng`` (new content, so a new image file each time)."""
    raw = b"".join(b"\x00" + bytes(rng.getrandbits(8) for _ in range(width * 3)) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


# --- annotation ----------------------------------------------------------------------


def annotation_variant(text: str, spans: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    """A random subset of the gold spans with a matching form: what one save writes."""
    chosen = sorted((s for s in spans if rng.random() < 0.6), key=lambda s: s["start"])
    form: dict[str, Any] = {"tongue_color": rng.choice(["淡红", "红", "淡白"])}
    if rng.random() < 0.5:
        form["herbs"] = [{"herb": "党参", "dose": f"{rng.randint(5, 30)}g"}]
    evidence = {"tongue_color": [i for i, s in enumerate(chosen) if s["label"] == "TONGUE_BODY"]}
    return {"spans": chosen, "form": form, "form_evidence": {k: v for k, v in evidence.items() if v}}


def run_annotation(workdir: Path, rng: random.Random) -> None:
    from tcm_desktop.domain import Span
    from tcm_desktop.store import Database

    with Database.open(workdir / DB_NAME) as db:
        ids = db.records.ids()
        gold = {rid: db.records.gold(rid) for rid in ids}
        _ready()
        while True:
            rid = rng.choice(ids)
            record = gold[rid]
            assert record is not None
            variant = annotation_variant(record.text, [s.to_dict() for s in record.spans], rng)
            spans = [Span.from_dict(s) for s in variant["spans"]]
            evidence = variant["form_evidence"]
            db.annotations.save(rid, spans, variant["form"], WHO, form_evidence=evidence, verify=rng.random() < 0.5)


# --- import ------------------------------------------------------------------------------


def write_import_file(folder: Path, prefix: str, rng: random.Random, count: int, shared: Path) -> Path:
    """``count`` interchange records with ids ``<prefix>-<n>``; most with a new photo, some sharing one."""
    folder.mkdir(parents=True, exist_ok=True)
    text = "腹泻3天，每日5~8次，舌淡红，苔薄白，脉细。"
    lines = []
    for n in range(count):
        record: dict[str, Any] = {"id": f"{prefix}-{n}", "specialty": "gastro", "text": text}
        roll = rng.random()
        if roll < 0.6:
            photo = folder / f"{prefix}-{n}.png"
            photo.write_bytes(png_bytes(rng))
            record["image"] = photo.name
        elif roll < 0.8:
            record["image"] = str(shared)
        if rng.random() < 0.5:
            record["spans"] = [{"start": 0, "end": 2, "label": "SYM", "text": "腹泻"}]
            record["form"] = {"tongue_color": "淡红"}
        lines.append(json.dumps(record, ensure_ascii=False))
    path = folder / f"{prefix}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_import(workdir: Path, rng: random.Random) -> None:
    import os

    from tcm_desktop.store import Database, import_records

    incoming = workdir / "incoming"
    shared = workdir / "shared.png"
    with Database.open(workdir / DB_NAME) as db:
        _ready()
        batch = 0
        while True:
            batch += 1
            prefix = f"p{os.getpid()}-{batch}"
            source = write_import_file(incoming / prefix, prefix, rng, 8, shared)
            import_records(source, db, who=WHO)


# --- structure -----------------------------------------------------------------------------


def run_structure(workdir: Path, rng: random.Random) -> None:
    from tcm_desktop.batch_structure import done_ids
    from tcm_desktop.cli import main as tcm

    source, out = workdir / "structure_in.jsonl", workdir / "structure_out.jsonl"
    expected = sum(1 for line in source.read_text(encoding="utf-8").splitlines() if line.strip())
    _ready()
    while True:
        code = tcm(["structure", "--in", str(source), "--out", str(out), "--no-image", "--threads", "1"])
        if code != 0 or len(done_ids(out)) != expected:
            print(f"structure run ended with {code}", file=sys.stderr)
            sys.exit(1)
        out.unlink()  # complete and checked: start over so the next kill lands in a run


# --- retrain -----------------------------------------------------------------------------------


def run_retrain(workdir: Path, rng: random.Random) -> None:
    from tcm_desktop.domain.retraining import DoneEvent, RetrainOptions
    from tcm_desktop.store import Database, RetrainLedger

    with Database.open(workdir / DB_NAME) as db:
        ledger = RetrainLedger(db, workdir / "models", WHO)
        _ready()
        while True:
            job, run_id = ledger.plan(None, RetrainOptions(epochs=1))
            bundle = job.bundle_dir
            bundle.mkdir(parents=True, exist_ok=True)
            with (bundle / "text.onnx").open("wb") as fh:  # what the child writes, in pieces
                for _ in range(8):
                    fh.write(rng.randbytes(16 * 1024))
            manifest = {"name": job.name, "version": job.version, "labels": ["SYM"]}
            (bundle / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
            job.checkpoint.write_bytes(rng.randbytes(4096))
            done = DoneEvent(bundle, job.checkpoint, job.model_version, 5, 2)
            metrics = {"new": {"micro": {"f1": rng.random()}}}
            model = ledger.register(job, run_id, done, metrics, None)
            if rng.random() < 0.5:
                db.models.activate(model.version, WHO)


RUNNERS = {"annotation": run_annotation, "import": run_import, "structure": run_structure, "retrain": run_retrain}


def main(argv: list[str]) -> int:
    kind, workdir, seed = argv[0], Path(argv[1]), int(argv[2])
    RUNNERS[kind](workdir, random.Random(seed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
