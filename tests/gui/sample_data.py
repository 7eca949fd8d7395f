"""Sample records for the GUI tests, made by the tests themselves."""

from __future__ import annotations

from pathlib import Path

from tcm_desktop.domain import Record, Span
from tcm_desktop.store import Database


def spans_for(text: str, *marks: tuple[str, str]) -> tuple[Span, ...]:
    """Spans for (substring, label) pairs, each found after the previous one."""
    spans, at = [], 0
    for piece, label in marks:
        start = text.index(piece, at)
        spans.append(Span(start, start + len(piece), label, piece))
        at = start + len(piece)
    return tuple(spans)


GASTRO_TEXT = "腹泻每日5~8次，伴黏液脓血便。舌淡红，苔薄白，脉细。"
RESPIRATORY_TEXT = "咳嗽3天，咳黄痰，无发热。舌红，苔黄腻，脉滑数。"
ORTHO_TEXT = "跌倒致右腕关节肿痛2小时，VAS评分6分。"
ANORECTAL_TEXT = "便血色鲜红，便后肛内肿物脱出。"


def sample_records() -> list[Record]:
    return [
        Record(
            "R001",
            "gastro",
            GASTRO_TEXT,
            spans=spans_for(
                GASTRO_TEXT,
                ("腹泻", "SYM"),
                ("每日5~8次", "FREQUENCY"),
                ("黏液脓血便", "SYM"),
                ("舌淡红", "TONGUE_BODY"),
                ("苔薄白", "TONGUE_COAT"),
                ("脉细", "PULSE"),
            ),
            form={
                "diarrhea_frequency": "每日>6次",
                "mucus_pus_blood_stool": "有",
                "tongue_color": "淡红",
                "herbs": [{"herb": "党参", "dose": "15g"}, {"herb": "炒白术", "dose": "10g"}],
            },
        ),
        Record(
            "R002",
            "respiratory",
            RESPIRATORY_TEXT,
            spans=spans_for(
                RESPIRATORY_TEXT, ("咳嗽", "SYM"), ("3天", "TIME"), ("黄", "COLOR"), ("无", "NEGATION"), ("发热", "SYM")
            ),
            form={"sputum_color": "黄", "fever": "无", "syndromes": ["痰热壅肺"]},
        ),
        Record(
            "R003",
            "orthopedics",
            ORTHO_TEXT,
            spans=spans_for(
                ORTHO_TEXT, ("右腕关节", "BODY_PART"), ("肿痛", "SYM"), ("VAS评分", "EXAM"), ("6分", "MEASURE")
            ),
            form={"vas_score": 6},
        ),
        Record("R004", "anorectal", ANORECTAL_TEXT),
    ]


def write_png(path: Path, width: int = 240, height: int = 160) -> Path:
    """A small PNG made with QImage (needs a QApplication)."""
    from PySide6.QtGui import QColor, QImage

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#d98c8c"))
    assert image.save(str(path), "PNG")
    return path


def fill(database: Database, photo: Path | None = None) -> Database:
    for record in sample_records():
        database.records.add(record, image_source=photo if record.id == "R001" else None)
    return database
