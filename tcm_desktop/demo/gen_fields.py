"""The specialty form fields: what each record says about them, and over time.

A field has a trajectory of states (one per time point: admission, each progress
note, discharge; one for an outpatient visit). ``None`` means the point says
nothing. The form value is the last stated one (SCHEMA: the latest value wins).
"""

from __future__ import annotations

import random
from typing import Any

from tcm_desktop.demo.gen_text import TextBuilder, chinese_number
from tcm_desktop.demo.gen_vocab import Vocab
from tcm_desktop.domain import NOT_MENTIONED

FIELDS: dict[str, tuple[str, ...]] = {
    "anorectal": ("stool_blood_color", "prolapse_after_defecation"),
    "orthopedics": ("vas_score", "healthy_wrist_circumference_cm"),
    "respiratory": ("sputum_color", "fever"),
    "gastro": ("diarrhea_frequency", "mucus_pus_blood_stool"),
    "general": (),
}

DIARRHEA_BUCKETS = ("每日<4次", "每日4~6次", "每日>6次")


def empty(name: str) -> Any:
    return None if name in ("vas_score", "healthy_wrist_circumference_cm") else NOT_MENTIONED


def vocab_items(v: Vocab, name: str, temporality: str) -> list[dict[str, Any]]:
    return [it for it in v.values[name] if it["temporality"] == temporality]


def write_item(tb: TextBuilder, item: dict[str, Any]) -> None:
    tb.phrase(item["text"], item["spans"])


# ---- trajectories for long notes -------------------------------------------------------


def trajectory(rng: random.Random, name: str, points: int) -> list[Any]:
    """States over ``points`` time points, improving with treatment; None = not stated."""
    if name == "stool_blood_color":
        first = rng.choice(("鲜红", "鲜红", "暗红", "淡红"))
        path = (
            [first]
            + [rng.choice((first, "淡红", "无便血")) for _ in range(points - 2)]
            + [rng.choice(("无便血", "无便血", "淡红"))]
        )
    elif name == "prolapse_after_defecation":
        path = ["是"] + [rng.choice(("是", None)) for _ in range(points - 2)] + [rng.choice(("否", "否", "是"))]
    elif name == "vas_score":
        start = rng.randint(5, 9)
        path = [max(0, start - i * rng.randint(0, 2)) for i in range(points)]
    elif name == "healthy_wrist_circumference_cm":
        value = round(rng.uniform(14.5, 19.5), 1)
        path = [value] + [None] * (points - 1)
    elif name == "sputum_color":
        first = rng.choice(("黄", "黄", "白", "绿", "黄白相间"))
        path = [first] + [rng.choice((first, "白", None)) for _ in range(points - 2)] + [rng.choice(("白", "无痰"))]
    elif name == "fever":
        path = [rng.choice(("有", "有", "无"))] + [rng.choice(("有", "无", None)) for _ in range(points - 2)] + ["无"]
    elif name == "diarrhea_frequency":
        path = (
            [rng.choice(("每日>6次", "每日4~6次"))]
            + [rng.choice(("每日4~6次", "每日<4次", None)) for _ in range(points - 2)]
            + [rng.choice(("每日<4次", "无腹泻"))]
        )
    else:  # mucus_pus_blood_stool
        path = ["有"] + [rng.choice(("有", "无", None)) for _ in range(points - 2)] + [rng.choice(("无", "无", "有"))]
    for i in range(1, points - 1):
        if rng.random() < 0.3:
            path[i] = None
    return path[:points]


def final_value(name: str, path: list[Any]) -> Any:
    stated = [x for x in path if x is not None]
    return stated[-1] if stated else empty(name)


def _num(tb: TextBuilder, n: int) -> str:
    return tb.style.number(n)


def _freq_text(rng: random.Random, tb: TextBuilder, bucket: str) -> str:
    if bucket == "每日<4次":
        hi = rng.randint(1, 3)
    elif bucket == "每日4~6次":
        hi = rng.randint(4, 6)
    else:
        hi = rng.randint(7, 12)
    if bucket == "每日>6次" and rng.random() < 0.2:
        return rng.choice(("每日十余次", "日行十余次", "每日10余次", "每日十次以上"))
    lo = max(1, hi - rng.randint(1, 3))
    mark = tb.style.range_mark
    if lo >= hi:
        return f"每日{_num(tb, hi)}次"
    if rng.random() < 0.2 and hi - lo == 1 and hi < 10:
        head = rng.choice(("每日", "日", "一日", "每天"))
        return head + chinese_number(lo) + chinese_number(hi) + rng.choice(("次", "行"))
    if rng.random() < 0.15:
        return f"每日{chinese_number(lo, liang=True)}到{chinese_number(hi)}次"
    if rng.random() < 0.3:
        return f"每日{_num(tb, hi)}次"
    span = f"{lo}{mark}{hi}"
    return rng.choice((f"每日{span}次", f"日行{span}次", f"{span}次/日", f"每天{span}次"))


def write_state(tb: TextBuilder, name: str, value: Any) -> None:
    """One phrase stating ``value`` for the field (value is never 'not mentioned')."""
    rng = tb.rng
    if name == "stool_blood_color":
        if value == "无便血":
            _neg(tb, rng.choice(("无", "未再", "未见")), "便血") if rng.random() < 0.7 else _resolved(tb, "便血")
        else:
            tb.ent(rng.choice(("便血", "便血", "大便带血", "手纸带血")), "SYM")
            tb.raw(rng.choice(("，色", "色", "，血色", "，颜色")))
            tb.ent(value + rng.choice(("", "", "色")), "COLOR")
    elif name == "prolapse_after_defecation":
        if value == "是":
            tb.raw(rng.choice(("便后", "便时", "")))
            tb.ent(rng.choice(("肛内肿物脱出", "肿物脱出", "肛内肿物脱出")), "SIGN")
            tb.raw(rng.choice(("", "，可自行回纳", "，需手托回纳")))
        else:
            tb.raw(rng.choice(("便后", "")))
            _neg(tb, rng.choice(("无", "未见", "未再")), rng.choice(("肛内肿物脱出", "肿物脱出")))
    elif name == "vas_score":
        tb.ent(rng.choice(("VAS评分", "VAS评分", "VAS", "疼痛VAS评分")), "EXAM")
        tb.raw(rng.choice(("", "", tb.style.p("："), "为", "约")))
        n = int(value)
        tb.ent((_num(tb, n) if n else "0") + "分", "MEASURE")
    elif name == "healthy_wrist_circumference_cm":
        tb.ent(rng.choice(("健侧腕关节", "健侧腕关节", "健侧")), "BODY_PART")
        tb.ent(rng.choice(("周径", "周径", "周长")), "EXAM")
        tb.raw(rng.choice(("", "约", "为")))
        tb.ent(f"{value:.1f}" + rng.choice(("cm", "cm", "厘米", " cm")), "MEASURE")
    elif name == "sputum_color":
        if value == "无痰":
            if rng.random() < 0.5:
                tb.ent("干咳", "SYM")
                _neg(tb, "无", "痰")
            else:
                _neg(tb, rng.choice(("无", "未诉", "不伴")), "咳痰")
        else:
            color = {"绿": "黄绿色", "黄白相间": "黄白相间"}.get(value, value)
            if rng.random() < 0.5:
                tb.ent(rng.choice(("咳", "咯")), "SYM")
                tb.ent(color, "COLOR")
                tb.ent(rng.choice(("痰", "黏痰")) if value in ("白", "黄") else "痰", "SYM")
            else:
                tb.ent("痰", "SYM")
                tb.raw(rng.choice(("色", "", "呈")))
                tb.ent(color, "COLOR")
    elif name == "fever":
        if value == "有":
            if rng.random() < 0.5:
                tb.ent(rng.choice(("发热", "低热", "发热")), "SYM")
                tb.p("，")
            tb.ent(rng.choice(("体温", "T")), "EXAM")
            tb.raw(rng.choice(("", " ", tb.style.p("："), "最高")))
            tb.ent(f"{rng.uniform(37.5, 39.6):.1f}" + rng.choice(("℃", "℃", "°C")), "MEASURE")
        else:
            _neg(tb, rng.choice(("无", "未再", "否认", "未诉", "无")), "发热") if rng.random() < 0.8 else _resolved(
                tb, "发热", ("已退", "消退")
            )
    elif name == "diarrhea_frequency":
        if value == "无腹泻":
            _neg(tb, rng.choice(("无", "未再")), "腹泻") if rng.random() < 0.7 else _resolved(tb, "腹泻")
        else:
            tb.ent(rng.choice(("腹泻", "腹泻", "泄泻", "大便稀溏", "便溏")), "SYM")
            tb.raw(rng.choice(("", "，", "")))
            tb.ent(_freq_text(rng, tb, value), "FREQUENCY")
    elif name == "mucus_pus_blood_stool":
        if value == "有":
            tb.ent(rng.choice(("黏液脓血便", "脓血便", "黏液血便", "黏液脓血便")), "SYM")
        else:
            _neg(tb, rng.choice(("无", "未见", "无")), rng.choice(("黏液脓血便", "黏液脓血", "脓血")))


def _neg(tb: TextBuilder, cue: str, word: str) -> None:
    tb.ent(cue, "NEGATION")
    tb.ent(word, "SIGN" if "脱出" in word else "SYM")


def _resolved(tb: TextBuilder, word: str, cues: tuple[str, ...] = ("已止", "消失")) -> None:
    tb.ent(word, "SYM")
    tb.ent(tb.rng.choice(cues), "SEVERITY")


def diarrhea_bucket_of(upper: int) -> str:
    if upper < 4:
        return DIARRHEA_BUCKETS[0]
    return DIARRHEA_BUCKETS[1] if upper <= 6 else DIARRHEA_BUCKETS[2]
