"""Cue phrases from ``phrasing_misc.json``: TIME patterns, NEGATION cues, SEVERITY and FREQUENCY words.

Every pattern and cue list is read from the vocabulary, so the generator uses all of
them: times of every kind (durations, N天前, 近N月, 刻下, 入院第N天, dates, clock
times, times of day, seasons), pre- and post-posed negation cues (无, 否认, 不伴, 未诉 ...,
均无, 否), and modifiers attached before or after a symptom (明显, 较前减轻, 偶有, 时作).
Ambiguous vocabulary entries are skipped so the gold stays clean.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tcm_desktop.demo.gen_text import TextBuilder, chinese_number
from tcm_desktop.demo.gen_vocab import Vocab

if TYPE_CHECKING:
    from tcm_desktop.demo.gen_sections import Writer

# Symptoms that read naturally after the bare verbal cues 不 / 未 (不发热, 未咳嗽).
VERBAL = ("咳嗽", "恶心", "呕吐", "头痛", "头晕", "腹胀", "腹痛", "心慌", "胸闷", "气喘", "出汗", "口渴")
TIME_OF_DAY = ("晨起", "清晨", "黎明", "凌晨", "上午", "中午", "下午", "午后", "傍晚", "晚上", "夜间", "半夜", "入夜")
# post-posed degree words (SYM + word) and pre-posed ones (word + SYM), from the severity kinds
POST_DEGREE = ("明显", "较明显", "不明显", "较重", "较轻", "剧", "难忍", "难以忍受", "甚", "较甚")
PRE_DEGREE = tuple(
    [
        "轻度",
        "中度",
        "重度",
        "轻中度",
        "轻微",
        "稍",
        "略",
        "微",
        "稍有",
        "明显",
        "显著",
        "严重",
        "剧烈",
        "非常",
        "十分",
        "极度",
    ]
)
PAIN = ("疼痛", "腹痛", "头痛", "胸痛", "胀痛", "刺痛", "隐痛", "酸痛", "肿痛", "胃痛", "腰痛")
POST_FREQ = ("时作", "时作时止", "时发时止", "反复发作", "屡发", "频作", "昼夜不停")
PRE_FREQ = tuple(
    [
        "偶有",
        "偶尔",
        "偶",
        "偶发",
        "时有",
        "不时",
        "间断",
        "间歇性",
        "阵发性",
        "反复",
        "经常",
        "常",
        "频繁",
        "频频",
        "多次",
        "持续",
        "持续性",
        "终日",
        "常年",
        "每晚",
        "每夜",
        "每日晨起",
        "每年冬季",
    ]
)
COUNT_FREQ = ("每周2~3次", "每月1~2次", "一日数次", "一天两三次", "1次/周", "3~5天发作1次", "每周数次")


def _alternatives(pattern: str) -> list[str]:
    return [p for p in pattern.split("|") if p]


def time_patterns(v: Vocab) -> dict[str, list[str]]:
    """Unambiguous TIME patterns by kind, alternatives split."""
    cache = getattr(v, "_time_by_kind", None)
    if cache is None:
        cache = {}
        for entry in v.misc.get("time", ()):
            if entry.get("ambiguous"):
                continue
            cache.setdefault(entry["kind"], []).extend(_alternatives(entry["pattern"]))
        v._time_by_kind = cache  # type: ignore[attr-defined]
    return cache


def _n(rng: random.Random, tb: TextBuilder, pattern: str, arabic: bool) -> str:
    if "岁" in pattern:
        n = rng.randint(8, 70)
    elif "小时" in pattern or pattern.endswith("h") or "h内" in pattern:
        n = rng.choice((1, 2, 3, 4, 6, 8, 12, 24, 48))
    elif "分钟" in pattern:
        n = rng.choice((5, 10, 15, 20, 30, 40))
    elif "余" in pattern and "年" in pattern:
        n = rng.choice((2, 3, 5, 10, 20, 30))
    else:
        n = rng.randint(1, 12)
    return str(n) if arabic else tb.style.number(n)


def fill_time(rng: random.Random, tb: TextBuilder, pattern: str) -> str:
    """One concrete text for a TIME pattern ({N}, {M}, {Y}, {Mo}, {D}, {h}, {mi})."""
    arabic = bool(re.search(r"\{N\}(d|h|\+|~|-|～)", pattern)) or "{M}" in pattern
    out = pattern
    if "{N}" in out:
        n = _n(rng, tb, pattern, arabic)
        if "{M}" in out:
            lo = int(n) if n.isdigit() else rng.randint(1, 5)
            n = str(min(lo, 9))
            m = int(n) + rng.randint(1, 3) if "年{M}" not in pattern else rng.randint(1, 11)
            out = out.replace("{M}", str(m))
        out = out.replace("{N}", n)
    year, month, day = rng.randint(2005, 2025), rng.randint(1, 12), rng.randint(1, 28)
    two = rng.random() < 0.3 and "." in pattern
    out = out.replace("{Y}", str(year))
    out = out.replace("{Mo}", f"{month:02d}" if two or "-" in pattern else str(month))
    out = out.replace("{D}", f"{day:02d}" if two or "-" in pattern else str(day))
    out = out.replace("{h}", str(rng.randint(0, 23)) if "时" not in pattern else str(rng.randint(1, 23)))
    out = out.replace("{mi}", rng.choice(("00", "05", "10", "15", "20", "30", "40", "45", "50")))
    return out


def time_text(w: Writer, kinds: Sequence[str], exclude: Sequence[str] = (), include: Sequence[str] = ()) -> str:
    """A TIME text from the vocabulary patterns of ``kinds`` (filtered by substrings)."""
    rng = w.rng
    table = time_patterns(w.v)
    pool = [p for k in kinds for p in table.get(k, ()) if not any(x in p for x in exclude)]
    pool = [p for p in pool if not include or any(x in p for x in include)]
    return fill_time(rng, w.tb, rng.choice(pool))


def time(w: Writer, kinds: Sequence[str], exclude: Sequence[str] = (), include: Sequence[str] = ()) -> str:
    text = time_text(w, kinds, exclude, include)
    w.tb.ent(text, "TIME")
    return text


# ---- negation ---------------------------------------------------------------------------


def _cues(v: Vocab) -> dict[str, list[str]]:
    cache = getattr(v, "_neg_cues", None)
    if cache is None:
        cache = {"sym": [], "exam": [], "post": []}
        for entry in v.misc.get("negation", ()):
            cue = entry["cue"]
            if entry.get("ambiguous") or "…" in cue or cue in ("无明显", "未见明显", "排除"):
                continue
            labels = [s["label"] for s in entry["example"]["spans"]]
            if entry["position"] == "post":
                cache["post"].append(cue)
            elif labels[0] == "BODY_PART":
                cache["exam"].append(cue)
            elif cue not in ("不", "未"):
                cache["sym"].append(cue)
        v._neg_cues = cache  # type: ignore[attr-defined]
    return cache


def negated_symptoms(w: Writer, items: Sequence[str]) -> None:
    """A negated list of SYM terms in one of many layouts (none of them fills a form field as present)."""
    rng, tb = w.rng, w.tb
    items = list(items)
    roll = rng.random()
    sep = rng.choice(("、", "、", "，", "及"))
    if roll < 0.12 and len(items) >= 2:  # post-posed over a list: 恶心、呕吐均无
        tb.join(items, lambda t: tb.ent(t, "SYM"), "、")
        tb.ent("均无", "NEGATION")
    elif roll < 0.2:  # checkbox template: 发热：否
        tb.join(items, lambda t: (tb.ent(t, "SYM"), tb.p("："), tb.ent("否", "NEGATION")), "，")
    elif roll < 0.3:  # 无明显 X: 无 NEGATION + 明显 SEVERITY
        tb.ent(rng.choice(("无", "未见", "未诉")), "NEGATION")
        tb.ent("明显", "SEVERITY")
        tb.join(items, lambda t: tb.ent(t, "SYM"), sep)
    elif roll < 0.4 and len(items) >= 2:  # one cue per clause: 无X，不伴Y
        cues = rng.sample(_cues(w.v)["sym"], len(items))
        for i, (cue, item) in enumerate(zip(cues, items, strict=True)):
            if i:
                tb.p("，")
            tb.ent(cue, "NEGATION")
            tb.ent(item, "SYM")
    elif roll < 0.48 and items[0] in VERBAL:
        tb.ent(rng.choice(("不", "未")), "NEGATION")
        tb.ent(items[0], "SYM")
    else:  # 无发热、恶寒及汗出
        tb.ent(rng.choice(_cues(w.v)["sym"] + ["无", "无", "否认", "不伴"]), "NEGATION")
        if len(items) >= 3 and rng.random() < 0.5:
            tb.join(items[:-1], lambda t: tb.ent(t, "SYM"), "、")
            tb.raw(rng.choice(("及", "和", "、")))
            tb.ent(items[-1], "SYM")
        else:
            tb.join(items, lambda t: tb.ent(t, "SYM"), sep)


# Negated examination findings: (site or None, cue, [(finding, label)]) built per specialty.
EXAM_NEGATIVES: dict[str, tuple[tuple[str | None, str, tuple[str, ...], str], ...]] = {
    "gastro": (
        ("腹部", "未触及", ("包块",), "SIGN"),
        ("全腹", "无", ("压痛", "反跳痛"), "SIGN"),
        ("腹部", "无", ("压痛", "反跳痛", "腹肌紧张"), "SIGN"),
        (None, "未见", ("胃肠型",), "SIGN"),
        (None, "无", ("移动性浊音",), "SIGN"),
    ),
    "respiratory": (
        ("双肺", "未闻及", ("干湿啰音",), "EXAM_RESULT"),
        ("双肺", "未闻及", ("干啰音", "湿啰音"), "EXAM_RESULT"),
        ("两肺", "未闻及", ("哮鸣音",), "EXAM_RESULT"),
        ("咽部", "无", ("充血",), "SIGN"),
        (None, "无", ("三凹征",), "SIGN"),
        ("双下肢", "无", ("水肿",), "SIGN"),
    ),
    "orthopedics": (
        (None, "无", ("异常活动",), "SIGN"),
        (None, "未及", ("骨擦音", "骨擦感"), "SIGN"),
        ("患侧", "未见", ("瘀斑",), "SIGN"),
        (None, "未见明显", ("畸形",), "SIGN"),
    ),
    "anorectal": (
        ("肛内", "未及", ("肿物",), "SIGN"),
        ("肛周", "未触及", ("肿块",), "SIGN"),
        ("肛缘", "无", ("水肿",), "SIGN"),
        (None, "未见", ("肛缘皮赘",), "SIGN"),
    ),
    "general": (
        ("颈部", "未扪及", ("肿大淋巴结",), "SIGN"),
        ("双下肢", "无", ("水肿",), "SIGN"),
        ("腹部", "未触及", ("包块",), "SIGN"),
        (None, "无", ("皮疹",), "SIGN"),
    ),
}
POST_SIGNS = {"orthopedics": ("骨擦音", "骨擦感", "异常活动", "纵轴叩击痛"), "gastro": ("反跳痛", "移动性浊音")}


def negated_exam(w: Writer) -> None:
    """One negated examination finding: 腹部未触及包块, 双肺未闻及干湿啰音, 骨擦音未引出 ..."""
    rng, tb = w.rng, w.tb
    spec = w.case.specialty
    post = POST_SIGNS.get(spec, ())
    if post and rng.random() < 0.25:
        tb.join(rng.sample(post, rng.randint(1, 2)), lambda t: tb.ent(t, "SIGN"), "、")
        tb.ent("未引出", "NEGATION")
        return
    if rng.random() < 0.1:
        tb.ent("巴氏征", "SIGN")  # the vocabulary's own example of a post-posed cue
        tb.ent("未引出", "NEGATION")
        return
    site, cue, findings, label = rng.choice(EXAM_NEGATIVES[spec] + EXAM_NEGATIVES["general"][:2])
    if site:
        tb.ent(site, "BODY_PART")
    if cue.endswith("明显"):
        tb.ent(cue[:-2], "NEGATION")
        tb.ent("明显", "SEVERITY")
    else:
        tb.ent(cue, "NEGATION")
    tb.join(findings, lambda t: tb.ent(t, label), rng.choice(("、", "及")))


def result(w: Writer, text: str) -> None:
    """An EXAM_RESULT; an auscultation negation (未闻及干湿啰音) is split like the cue list says."""
    tb = w.tb
    for prefix in ("双肺", "两肺"):
        if text.startswith(prefix + "未闻及"):
            tb.ent(prefix, "BODY_PART")
            text = text[len(prefix) :]
    if text.startswith("未闻及"):
        tb.ent("未闻及", "NEGATION")
        text = text[3:]
    tb.ent(text, "EXAM_RESULT")


# ---- modifiers around a symptom --------------------------------------------------------


def modified(w: Writer, write_term: Callable[[], Any], term: str, label: str = "SYM", post: bool = True) -> None:
    """``write_term`` with, sometimes, a SEVERITY / FREQUENCY / TIME word before or after it."""
    rng, tb = w.rng, w.tb
    roll = rng.random()
    if label != "SYM":  # a sign: a degree word before or after it (轻度压痛, 肿胀较明显)
        if roll < 0.15:
            tb.ent(rng.choice(("轻度", "中度", "重度", "明显", "显著", "轻微")), "SEVERITY")
        write_term()
        if 0.15 <= roll < 0.3 and post:
            tb.ent(rng.choice(("明显", "较明显", "不明显", "较重", "较轻")), "SEVERITY")
        return
    if not post and roll >= 0.3:
        roll = 1.0
    female = w.case.sex == "女"
    after: tuple[str, str] | None = None
    if roll < 0.1:
        tb.ent(rng.choice(PRE_DEGREE), "SEVERITY")
    elif roll < 0.2:
        tb.ent(rng.choice(PRE_FREQ + (("每逢经期",) if female else ())), "FREQUENCY")
    elif roll < 0.27:
        tb.ent(rng.choice(TIME_OF_DAY + (("经期", "经前") if female else ()) + ("冬季", "换季时")), "TIME")
    elif roll < 0.3 and term in ("疼痛", "作痛"):
        tb.ent(rng.choice(("隐隐", "剧烈")), "SEVERITY")
    elif roll < 0.38:
        after = ("SEVERITY", rng.choice(POST_DEGREE if term in PAIN or rng.random() < 0.7 else ("加重", "减轻")))
    elif roll < 0.44:
        after = ("FREQUENCY", rng.choice(POST_FREQ))
    elif roll < 0.47 and w.case.specialty != "gastro":
        after = ("FREQUENCY", rng.choice(COUNT_FREQ))
    write_term()
    if after:
        tb.ent(after[1], after[0])
    elif rng.random() < 0.04:
        tb.raw("，以")
        tb.ent(rng.choice(TIME_OF_DAY), "TIME")
        tb.ent(rng.choice(("为甚", "尤甚")), "SEVERITY")


CONTEXT_WORDS = ("增多", "增大", "已退", "减少", "改善", "大减")  # fit only particular findings


def change_word(v: Vocab, rng: random.Random, kinds: Sequence[str]) -> str:
    """A change word (SEVERITY) of the given kinds: worse, better, resolved ..."""
    words = [
        s["term"]
        for s in v.misc.get("severity", ())
        if s["kind"] in kinds and not s.get("ambiguous") and s["term"] not in CONTEXT_WORDS
    ]
    return rng.choice(words)


def number_word(tb: TextBuilder, n: int) -> str:
    return chinese_number(n) if tb.rng.random() < 0.2 else str(n)
