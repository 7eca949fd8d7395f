"""Tongue and pulse: draw the tongue truth from the syndrome, then describe some or all of it.

The truth is a full ``TongueState`` (what the photo shows); the text states a subset
of it and the form's tongue fields are exactly what the text states.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from tcm_desktop.demo.gen_text import TextBuilder
from tcm_desktop.demo.gen_vocab import Vocab
from tcm_desktop.demo.tongue_image import TongueState
from tcm_desktop.domain import NOT_MENTIONED

TONGUE_COLORS = ("淡白", "淡红", "红", "绛", "暗红/紫暗")
COAT_COLORS = ("白", "黄", "黄白相间", "灰黑")
COAT_THICKNESS = ("薄", "厚", "腻", "少苔/无苔")
TONGUE_FIELDS = ("tongue_color", "coat_color", "coat_thickness", "fissure", "tooth_marks")

# Syndrome keyword -> (tongue colours, coat colours, thickness, pulse qualities) it favours.
CUES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("湿热", ("红", "淡红"), ("黄",), ("腻", "厚"), ("滑", "数", "濡")),
    ("热", ("红", "绛"), ("黄",), ("薄", "厚"), ("数", "洪", "浮")),
    ("阴虚", ("红", "绛"), ("白", "黄"), ("少苔/无苔",), ("细", "数")),
    ("瘀", ("暗红/紫暗",), ("白", "黄"), ("薄",), ("涩", "弦")),
    ("湿", ("淡白", "淡红"), ("白",), ("腻", "厚"), ("濡", "滑", "缓")),
    ("痰", ("淡红", "淡白"), ("白", "黄白相间"), ("腻",), ("滑",)),
    ("虚", ("淡白", "淡红"), ("白",), ("薄",), ("细", "弱", "沉")),
    ("寒", ("淡白",), ("白", "灰黑"), ("薄", "厚"), ("紧", "迟", "沉")),
    ("气滞", ("淡红", "暗红/紫暗"), ("白",), ("薄",), ("弦",)),
    ("肝", ("红", "淡红"), ("白", "黄"), ("薄",), ("弦",)),
)


@dataclass
class TongueText:
    form: dict[str, str] = field(default_factory=lambda: dict.fromkeys(TONGUE_FIELDS, NOT_MENTIONED))
    spans: list[str] = field(default_factory=list)  # TONGUE_BODY/COAT span texts as written


def _cue(syndrome: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None:
    for key, colors, coats, thick, pulses in CUES:
        if key in syndrome:
            return colors, coats, thick, pulses
    return None


def draw_truth(rng: random.Random, syndrome: str) -> TongueState:
    cue = _cue(syndrome) if rng.random() < 0.8 else None
    colors, coats, thick = (cue[0], cue[1], cue[2]) if cue else (TONGUE_COLORS, COAT_COLORS, COAT_THICKNESS)
    coat_color = rng.choice(coats)
    if rng.random() < 0.06:
        coat_color = rng.choice(("黄白相间", "灰黑"))
    return TongueState(
        tongue_color=rng.choice(colors),
        coat_color=coat_color,
        coat_thickness=rng.choice(thick),
        fissure=rng.random() < (0.35 if "阴虚" in syndrome else 0.12),
        tooth_marks=rng.random() < (0.45 if "虚" in syndrome or "湿" in syndrome else 0.12),
    )


def _truth_value(truth: TongueState, name: str) -> str:
    value = getattr(truth, name)
    if isinstance(value, bool):
        return "有" if value else "无"
    return str(value)


def _compatible(form: dict[str, str], truth: TongueState) -> bool:
    return all(form.get(k, NOT_MENTIONED) in (NOT_MENTIONED, _truth_value(truth, k)) for k in TONGUE_FIELDS)


def _fits(part: dict[str, Any], truth: TongueState, keys: tuple[str, ...]) -> bool:
    return all(part.get(k, NOT_MENTIONED) in (NOT_MENTIONED, _truth_value(truth, k)) for k in keys)


def write_tongue(tb: TextBuilder, v: Vocab, truth: TongueState) -> TongueText:
    """Write one tongue description that agrees with ``truth``; return its form values."""
    rng = tb.rng
    out = TongueText()
    whole = [t for t in v.tongue if _compatible(t["form"], truth)]
    if whole and rng.random() < 0.45:
        item = rng.choice(whole)
        for span in tb.phrase(item["text"], item["spans"]):
            if span.label in ("TONGUE_BODY", "TONGUE_COAT"):
                out.spans.append(span.text)
        out.form.update({k: item["form"][k] for k in TONGUE_FIELDS})
        _maybe_negated_features(tb, truth, out)
        return out
    _compose(tb, v, truth, out)
    return out


def _compose(tb: TextBuilder, v: Vocab, truth: TongueState, out: TongueText) -> None:
    rng = tb.rng
    headed = rng.random() < 0.15
    body_color = [
        b
        for b in v.body_parts
        if b["tongue_color"] == truth.tongue_color
        and b["fissure"] == b["tooth_marks"] == NOT_MENTIONED
        and (not headed or not b["text"].startswith(("舌", "质")))
        and (headed or b["text"].startswith(("舌", "质")))
    ]
    pieces: list[tuple[str, str, dict[str, Any]]] = []
    if body_color and rng.random() < 0.92:
        pieces.append(("TONGUE_BODY", "body", rng.choice(body_color)))
    if not headed and truth.tooth_marks and rng.random() < 0.7:
        teeth = [b for b in v.body_parts if b["tooth_marks"] == "有" and b["tongue_color"] == NOT_MENTIONED]
        pieces.append(("TONGUE_BODY", "teeth", rng.choice(teeth)))
    if not headed and truth.fissure and rng.random() < 0.7:
        cracks = [b for b in v.body_parts if b["fissure"] == "有" and b["tongue_color"] == NOT_MENTIONED]
        pieces.append(("TONGUE_BODY", "crack", rng.choice(cracks)))
    coats = [
        c
        for c in v.coat_parts
        if _fits(c, truth, ("coat_color", "coat_thickness"))
        and (c["coat_color"], c["coat_thickness"]) != (NOT_MENTIONED, NOT_MENTIONED)
        and (headed != c["text"].startswith(("苔", "舌苔", "舌根", "少苔", "无苔", "剥苔")))
    ]
    if coats and rng.random() < 0.93:
        coat = ("TONGUE_COAT", "coat", rng.choice(coats))
        pieces.insert(rng.randrange(len(pieces) + 1) if rng.random() < 0.1 and not headed else len(pieces), coat)
    if not pieces:
        return
    sep = rng.choice(("，", "，", "，", ""))
    for i, (label, kind, part) in enumerate(pieces):
        if headed:
            if i:
                tb.p("，")
            tb.raw(("舌质" if label == "TONGUE_BODY" else "舌苔") + tb.style.p("："))
        elif i:
            tb.raw(tb.style.p(sep) if sep else "")
        out.spans.append(tb.ent(part["text"], label).text)
        if kind == "body":
            out.form["tongue_color"] = part["tongue_color"]
        elif kind == "teeth":
            out.form["tooth_marks"] = "有"
        elif kind == "crack":
            out.form["fissure"] = "有"
        else:
            for key in ("coat_color", "coat_thickness"):
                if part[key] != NOT_MENTIONED:
                    out.form[key] = part[key]
    if not headed:
        _maybe_negated_features(tb, truth, out)


def _maybe_negated_features(tb: TextBuilder, truth: TongueState, out: TongueText) -> None:
    rng = tb.rng
    missing = [
        (name, word)
        for name, word in (("tooth_marks", "齿痕"), ("fissure", "裂纹"))
        if out.form[name] == NOT_MENTIONED and not getattr(truth, name) and rng.random() < 0.2
    ]
    if not missing:
        return
    tb.p("，")
    tb.ent("无", "NEGATION")
    for i, (name, word) in enumerate(missing):
        if i:
            tb.raw(rng.choice(("及", "、")))
        out.spans.append(tb.ent(word, "TONGUE_BODY").text)
        out.form[name] = "无"


def write_pulse(tb: TextBuilder, v: Vocab, syndrome: str) -> list[str]:
    """Write one pulse description fitting the syndrome; return its PULSE span texts."""
    rng = tb.rng
    cue = _cue(syndrome)
    pool = v.pulse
    if cue and rng.random() < 0.8:
        fitting = [p for p in v.pulse if set(p.get("qualities") or ()) & set(cue[3])]
        pool = fitting or pool
    item = rng.choice(pool)
    return [s.text for s in tb.phrase(item["text"], item["spans"]) if s.label == "PULSE"]
