"""Data the store tests build for themselves: records, pictures, row counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tcm_desktop.domain import Record, Span
from tcm_desktop.store import Database

GASTRO_TEXT = "腹泻3天，每日5~8次，舌淡红，苔薄白，脉细。"


def span(text: str, piece: str, label: str, after: int = 0) -> Span:
    start = text.index(piece, after)
    return Span(start, start + len(piece), label, piece)


def gastro_record(record_id: str = "R0001", **changes: Any) -> Record:
    text = GASTRO_TEXT
    spans = (
        span(text, "腹泻", "SYM"),
        span(text, "3天", "TIME"),
        span(text, "每日5~8次", "FREQUENCY"),
        span(text, "舌淡红", "TONGUE_BODY"),
        span(text, "苔薄白", "TONGUE_COAT"),
        span(text, "脉细", "PULSE"),
    )
    fields: dict[str, Any] = {
        "id": record_id,
        "specialty": "gastro",
        "text": text,
        "spans": spans,
        "form": {"diarrhea_frequency": "每日>6次", "tongue_color": "淡红", "herbs": [{"herb": "党参", "dose": "15g"}]},
        "form_evidence": {"diarrhea_frequency": (0, 2), "tongue_color": (3,)},
    }
    fields.update(changes)
    return Record(**fields)


def write_image(path: Path, fmt: str = "jpg", seed: int = 0, size: tuple[int, int] = (24, 32)) -> Path:
    """A small real picture (cv2-encoded) whose content depends on ``seed``."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, size=(*size, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(f".{fmt}", pixels)
    assert ok
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.tobytes())
    return path


def image_files(db: Database) -> list[Path]:
    return sorted(db.images_dir.glob("*")) if db.images_dir.exists() else []


def table_counts(db: Database) -> dict[str, int]:
    tables = [
        "records",
        "annotations",
        "annotation_spans",
        "annotation_form",
        "predictions",
        "corrections",
        "audit_log",
    ]
    return {t: db.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
