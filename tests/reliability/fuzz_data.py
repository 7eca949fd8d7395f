"""Hypothesis strategies and small builders for the fuzz tests: hostile text, records, files and pictures."""

from __future__ import annotations

import io
import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st
from PIL import Image

from tcm_desktop.domain import default_schema

SCHEMA = default_schema()
LABELS = [*SCHEMA.label_codes, "UNKNOWN", "", "sym", "B-SYM", "标签"]
FIELDS = [f.name for f in SCHEMA.fields_for("gastro")] + ["no_such_field", ""]
SPECIALTIES = [*SCHEMA.specialty_codes, "unknown", ""]
CONTROL = [chr(c) for c in (*range(0, 32), 127, 0x85, 0x200B, 0x200E, 0x202E, 0x2028, 0x2029, 0xFEFF, 0xFFFE)]
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "big5", "shift_jis", "latin-1", "cp1252"]
CLINICAL = "腹泻3天，每日5~8次，舌淡红，苔薄白，脉细。咳嗽咳黄痰无发热"

# Any code point, including lone surrogates (JSON can carry them as \ud800 escapes) and controls.
hostile_char = st.one_of(
    st.characters(),
    st.sampled_from(CONTROL),
    st.characters(categories=["Cs"]),
    st.sampled_from(CLINICAL),
)
# st.text() quietly drops lone surrogates; a list of characters keeps them.
hostile_text = st.lists(hostile_char, max_size=60).map("".join)
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    hostile_text,
    st.sampled_from(["有", "无", "红"]),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)),
    max_leaves=12,
)
offset = st.one_of(st.integers(-3, 40), st.integers(), st.sampled_from([2**63, -(2**63) - 1, 10**30]))


@st.composite
def spans(draw: st.DrawFn) -> Any:
    span: dict[str, Any] = {"start": draw(offset), "end": draw(offset), "label": draw(st.sampled_from(LABELS))}
    if draw(st.booleans()):
        span["text"] = draw(st.one_of(hostile_text, json_value))
    if draw(st.booleans()):
        span["confidence"] = draw(json_scalar)
    return span if draw(st.integers(0, 9)) else draw(json_value)


IMAGE_KINDS = [
    "none",
    "missing",
    "valid_png",
    "valid_jpg",
    "truncated",
    "corrupt",
    "empty",
    "folder",
    "absolute",
    "odd",
]
MUTATIONS = [
    "id", "text", "text_append", "text_type", "specialty", "spans", "span_label", "span_offsets",
    "form", "form_value", "evidence", "drop_id", "drop_text",
]  # fmt: skip


def _valid_record(record_id: str) -> dict[str, Any]:
    text = CLINICAL
    spans = [{"start": 0, "end": 2, "label": "SYM", "text": "腹泻"}, {"start": 12, "end": 15, "label": "TONGUE_BODY"}]
    return {
        "id": record_id,
        "specialty": "gastro",
        "text": text,
        "spans": spans,
        "form": {"tongue_color": "淡红"},
        "form_evidence": {"tongue_color": [1]},
    }


def _first_span(record: dict[str, Any]) -> dict[str, Any] | None:
    spans = record.get("spans")
    return spans[0] if isinstance(spans, list) and spans and isinstance(spans[0], dict) else None


@st.composite
def interchange_records(draw: st.DrawFn) -> Any:
    """A valid interchange object with one or two parts broken (or, rarely, not an object at all)."""
    if not draw(st.integers(0, 19)):
        return draw(json_value)
    record = _valid_record(draw(st.text("R0123456789", min_size=1, max_size=6)))
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=2)):
        if mutation == "id":
            record["id"] = draw(st.one_of(hostile_text, st.integers(), json_value))
        elif mutation == "text":
            record["text"] = draw(hostile_text)
        elif mutation == "text_append":  # the spans stay valid: only the characters are hostile
            record["text"] = str(record.get("text", "")) + "".join(draw(st.lists(hostile_char, min_size=1, max_size=8)))
        elif mutation == "text_type":
            record["text"] = draw(json_scalar)
        elif mutation == "specialty":
            record["specialty"] = draw(st.one_of(st.sampled_from(SPECIALTIES), json_scalar))
        elif mutation == "spans":
            record["spans"] = draw(st.one_of(st.lists(spans(), max_size=5), json_value))
        elif mutation == "span_label" and _first_span(record) is not None:
            record["spans"][0] = {**record["spans"][0], "label": draw(st.sampled_from(LABELS))}
        elif mutation == "span_offsets" and _first_span(record) is not None:
            record["spans"][0] = {**record["spans"][0], "start": draw(offset), "end": draw(offset)}
        elif mutation == "form":
            record["form"] = draw(
                st.one_of(st.dictionaries(st.sampled_from(FIELDS), json_value, max_size=4), json_value)
            )
        elif mutation == "form_value":
            record["form"] = {draw(st.sampled_from(FIELDS)): draw(st.one_of(hostile_text, json_value))}
        elif mutation == "evidence":
            record["form_evidence"] = draw(st.one_of(st.dictionaries(st.sampled_from(FIELDS), json_value), json_value))
        elif mutation == "drop_id":
            record.pop("id", None)
        elif mutation == "drop_text":
            record.pop("text", None)
    # resolved to a file by place_images; half have none, so the other faults decide the outcome
    record["image"] = draw(st.one_of(st.just("none"), st.sampled_from(IMAGE_KINDS)))
    return record


def png_bytes(width: int = 24, height: int = 16, seed: int = 0) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, size=(height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(width: int = 24, height: int = 16, seed: int = 0) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, size=(height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def damaged(data: bytes, how: str, at: int) -> bytes:
    """``data`` cut short, with a flipped byte, a chunk's CRC broken, or nothing after the header."""
    at = at % max(1, len(data))
    if how == "truncated":
        return data[:at]
    if how == "flipped":
        return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    if how == "header_only":
        return data[:16]
    if how == "zlib":  # a PNG whose pixel data is not zlib at all
        return data[:33] + b"\x00\x00\x00\x10IDAT" + b"garbage-garbage!" + zlib.crc32(b"x").to_bytes(4, "big")
    return data


def place_images(raw: Any, folder: Path, n: int) -> Any:
    """Turn a record's symbolic ``image`` kind into a real (good or bad) file beside the JSONL."""
    if not isinstance(raw, dict) or "image" not in raw:
        return raw
    kind = raw.pop("image")
    name = f"img{n}"
    if kind == "none":
        return raw
    if kind == "missing":
        raw["image"] = f"{name}.png"
    elif kind == "valid_png":
        (folder / f"{name}.png").write_bytes(png_bytes(seed=n))
        raw["image"] = f"{name}.png"
    elif kind == "valid_jpg":
        (folder / f"{name}.jpg").write_bytes(jpeg_bytes(seed=n))
        raw["image"] = f"{name}.jpg"
    elif kind == "truncated":
        (folder / f"{name}.jpg").write_bytes(jpeg_bytes(seed=n)[: 40 + n])
        raw["image"] = f"{name}.jpg"
    elif kind == "corrupt":
        (folder / f"{name}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
        raw["image"] = f"{name}.png"
    elif kind == "empty":
        (folder / f"{name}.png").write_bytes(b"")
        raw["image"] = f"{name}.png"
    elif kind == "folder":
        (folder / name).mkdir(exist_ok=True)
        raw["image"] = name
    elif kind == "absolute":
        raw["image"] = "/nonexistent/dir/x.png"
    else:
        raw["image"] = "..\\" + name + "\x00.png" if n % 2 else "\udcff" + name
    return raw


def dump_line(raw: Any) -> str:
    # ensure_ascii keeps lone surrogates as \ud800 escapes, which is how they reach a JSON reader
    return json.dumps(raw, ensure_ascii=True, allow_nan=True)


def encode(text: str, encoding: str) -> bytes:
    """``text`` in ``encoding`` (characters it cannot hold become '?'), lone surrogates passed through."""
    if encoding.startswith("utf-8") or encoding.startswith("utf-16"):
        return text.encode(encoding, "surrogatepass")
    return text.encode(encoding, "replace")
