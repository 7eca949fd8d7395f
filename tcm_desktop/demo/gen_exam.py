"""Examination sentences, western-drug regimens and progress-note sentences.

Physical and specialty examinations: vital signs with and without labels, 查体 lists,
lung/heart/abdomen findings as the vocabulary labels them, a site written before a sign
(左腕部 | 肿胀), tests with their results (直腿抬高试验 | 阳性), acupoints and 截石位
positions as BODY_PART, and negated findings. Drugs: several regimen layouts; how often
a drug is taken is USAGE (SCHEMA). Progress notes: time points and change words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tcm_desktop.demo.gen_case import surface
from tcm_desktop.demo.gen_phrases import change_word, modified, negated_exam, negated_symptoms, result, time
from tcm_desktop.demo.gen_vocab import RESERVED_FRAGMENTS

if TYPE_CHECKING:
    from tcm_desktop.demo.gen_sections import Writer

FREQ_WORDS = {
    "qd": ("每日1次", "日1次", "一日一次", "1次/日", "每天1次"),
    "bid": ("每日2次", "日2次", "一日两次", "2次/日", "每天2次"),
    "tid": ("每日3次", "日3次", "一日三次", "3次/日", "每天3次"),
    "qid": ("每日4次", "日4次", "一日四次"),
    "qn": ("每晚1次", "睡前1次", "每晚睡前"),
    "q8h": ("每8小时1次",),
    "q12h": ("每12小时1次",),
    "qod": ("隔日1次",),
    "qw": ("每周1次",),
    "q2w": ("每2周1次",),
    "q8w": ("每8周1次",),
    "prn": ("必要时",),
    "st": ("立即",),
}
ROUTE_ABBR = {"口服": ("po",), "静滴": ("ivgtt", "静脉滴注"), "静推": ("iv", "静脉注射"), "皮下注射": ("ih",)}
BARE_SIGNS = {
    "orthopedics": tuple(["肿胀", "压痛", "叩击痛", "瘀斑", "畸形", "活动受限", "皮温升高", "肌肉萎缩"]),
    "gastro": ("压痛", "反跳痛", "肌紧张"),
    "anorectal": ("肿物", "水肿", "压痛"),
    "respiratory": ("充血",),
    "general": ("压痛", "水肿", "浮肿"),
}
SIGN_SITES = {
    "orthopedics": (
        "左腕部",
        "右腕部",
        "左腕关节",
        "右腕关节",
        "腕背侧",
        "桡骨远端",
        "腰部",
        "腰骶部",
        "L4椎体",
        "L5椎体",
        "颈部",
        "肩关节",
        "膝关节",
        "双膝关节",
        "踝关节",
        "足跟",
        "前臂",
        "手掌",
        "患侧腕关节",
        "患处",
    ),
    "gastro": ("左下腹", "右下腹", "上腹部", "剑突下", "脐周", "中上腹", "下腹部", "肝区", "右上腹"),
    "anorectal": ("肛缘", "肛周", "截石位3点", "截石位7点", "截石位11点", "截石位5点钟", "骶尾部"),
    "respiratory": ("咽部", "咽后壁"),
    "general": ("双下肢", "四肢", "上腹部", "颈部"),
}


def _measure(w: Writer, exam: str, lo: float | None = None, hi: float | None = None) -> str:
    m = w.v.by_term[exam]["measure"]
    a, b = m.get("normal") or m["range"]
    dec = int(m.get("decimals", 0))
    value = w.number(w.rng.uniform(lo if lo is not None else a, hi if hi is not None else b), dec)
    return value + w.rng.choice([m["unit"], m["unit"], *m.get("unit_variants", ())[:1]])


def vitals(w: Writer, fever_state: Any) -> None:
    """T/P/R/BP (sometimes HR, SpO2), labelled in full, abbreviated, or values only."""
    rng, tb = w.rng, w.tb
    parts: list[tuple[str, str]] = []
    if not (w.case.specialty == "respiratory" and fever_state is None):
        hot = fever_state == "有"
        parts.append(("体温", _measure(w, "体温", 37.5 if hot else 36.1, 39.5 if hot else 37.0).replace("度", "℃")))
    parts += [("脉搏", _measure(w, "脉搏")), ("呼吸", _measure(w, "呼吸"))]
    parts.append(("血压", f"{rng.randint(100, 150)}/{rng.randint(60, 90)}mmHg"))
    if rng.random() < 0.3:
        parts.append(("血氧饱和度", f"{rng.randint(94, 99)}%"))
    layout = rng.choice(("full", "abbr", "abbr", "values"))
    if layout == "values":
        tb.raw(rng.choice(("生命体征：", "T、P、R、BP：", "生命体征")))
    sep = rng.choice((" ", "，", "  ", "、"))
    for i, (name, value) in enumerate(parts):
        if i:
            tb.raw(tb.style.p(sep) if sep in "，、" else sep)
        if layout != "values":
            entry = w.v.by_term[name]
            abbr = [s for s in entry.get("synonyms", ()) if s.isascii()]
            tb.ent(abbr[0] if layout == "abbr" and abbr else name, "EXAM")
            tb.raw(rng.choice(("", " ", tb.style.p("："))))
        tb.ent(value, "MEASURE")
    w.sep()


def systemic(w: Writer) -> None:
    """Heart, lungs and abdomen in a 查体 list, normal or (for the specialty) abnormal."""
    rng = w.rng
    parts = [lambda: _lungs(w)]
    if rng.random() < 0.5:
        parts.append(lambda: _heart(w))
    if rng.random() < 0.6:
        parts.append(lambda: _abdomen(w))
    if rng.random() < 0.4:
        parts.append(lambda: _bowel_sounds(w))
    for i, part in enumerate(parts):
        if i:
            w.sep()
        part()


def _lungs(w: Writer) -> None:
    rng, tb = w.rng, w.tb
    if w.case.specialty == "respiratory" and rng.random() < 0.6:
        tb.ent(rng.choice(("双肺呼吸音粗", "呼吸音粗", "双肺呼吸音清", "呼吸音减弱")), "EXAM_RESULT")
        tb.p("，")
        if rng.random() < 0.6:
            tb.ent(rng.choice(("双肺底", "双肺", "右肺下叶", "左肺下叶", "两下肺", "右肺")), "BODY_PART")
            tb.raw(rng.choice(("可闻及", "闻及", "可闻")))
            tb.ent(rng.choice(("湿啰音", "细湿啰音", "干啰音", "哮鸣音", "散在哮鸣音", "干湿啰音")), "EXAM_RESULT")
        else:
            negated_exam(w)
    elif rng.random() < 0.5:
        result(w, rng.choice(("双肺呼吸音清", "双肺未闻及干湿啰音", "未闻及干湿啰音", "呼吸音清")))
    else:
        tb.ent(rng.choice(("心肺", "双肺", "心肺")), "BODY_PART")
        tb.ent(rng.choice(("未见明显异常", "未见异常", "无明显异常")), "EXAM_RESULT")


def _heart(w: Writer) -> None:
    rng, tb = w.rng, w.tb
    tb.ent("心率", "EXAM")
    tb.ent(_measure(w, "心率", 62, 96), "MEASURE")
    tb.p("，")
    tb.ent(rng.choice(("心律齐", "窦性心律")), "EXAM_RESULT") if rng.random() < 0.7 else tb.raw("律齐")


def _abdomen(w: Writer) -> None:
    rng, tb = w.rng, w.tb
    tb.ent("腹平软", "EXAM_RESULT")
    tb.p("，")
    if w.case.specialty == "gastro" and w.case.signs and rng.random() < 0.5:
        site_sign(w)
    else:
        negated_exam(w)


def _bowel_sounds(w: Writer) -> None:
    rng, tb = w.rng, w.tb
    roll = rng.random()
    if roll < 0.5:
        tb.ent("肠鸣音", "EXAM")
        tb.ent(_measure(w, "肠鸣音"), "MEASURE")
    elif roll < 0.8 or w.case.specialty != "gastro":
        tb.ent("肠鸣音正常", "EXAM_RESULT")  # one term in the vocabulary
    else:
        tb.ent(rng.choice(("肠鸣音亢进", "肠鸣音活跃", "肠鸣音减弱")), "SIGN")


def site_sign(w: Writer) -> None:
    """A site written before a sign, each its own span (左腕部 | 肿胀), with a degree word sometimes."""
    rng, tb = w.rng, w.tb
    spec = w.case.specialty
    site = rng.choice(SIGN_SITES[spec])
    if site.startswith("截石位"):
        tb.ent(site, "BODY_PART")
        tb.raw(rng.choice(("可见", "见", "处", "")))
        pool = [s["term"] for s in w.v.symptom_pool("SIGN", "anorectal") if not s["term"].startswith("肛")]
        modified(w, lambda: tb.ent(rng.choice(pool or ["肿物"]), "SIGN"), "", "SIGN")
        return
    tb.ent(site, "BODY_PART")
    sign = rng.choice(BARE_SIGNS[spec])
    modified(w, lambda: tb.ent(sign, "SIGN"), sign, "SIGN")


def tests(w: Writer) -> None:
    """Physical tests with their results: 直腿抬高试验阳性, 肛门指诊：未触及明显肿物."""
    rng, tb = w.rng, w.tb
    spec = w.case.specialty
    names = _test_names(w)
    for i, name in enumerate(rng.sample(names, min(len(names), rng.randint(1, 2)))):
        if i:
            w.sep()
        entry = w.v.by_term[name]
        tb.ent(surface(rng, entry, 0.3), "EXAM")
        tb.raw(rng.choice(("", "：", " ")))
        banned = ("血", *RESERVED_FRAGMENTS.get(spec, ()))
        picks = [r for r in entry["results"] if not any(b in r for b in banned)]
        result(w, rng.choice(picks or ["未见明显异常"]))


def _test_names(w: Writer) -> list[str]:
    exams = w.v.terms("EXAM", w.case.specialty)
    names = [e["term"] for e in exams if e.get("kind") == "physical" and e.get("results")]
    return [n for n in names if n not in ("肠鸣音", "周径", "关节活动度")]


def acupoint_signs(w: Writer) -> None:
    rng, tb = w.rng, w.tb
    points = [b["term"] for b in w.v.terms("BODY_PART", w.case.specialty, "acupoint")]
    if points:
        tb.join(rng.sample(points, min(len(points), rng.randint(1, 2))), lambda p: tb.ent(p, "BODY_PART"), "、")
        tb.ent("压痛", "SIGN")
        if rng.random() < 0.4:
            tb.ent(rng.choice(("明显", "不明显")), "SEVERITY")


def exam_extras(w: Writer) -> None:
    """A few more examination sentences for the 专科检查 section."""
    rng = w.rng
    steps = [lambda: site_sign(w), lambda: negated_exam(w)]
    if _test_names(w):
        steps.append(lambda: tests(w))
    if w.case.specialty in ("orthopedics", "gastro", "anorectal") and rng.random() < 0.3:
        steps.append(lambda: acupoint_signs(w))
    rng.shuffle(steps)
    for i, step in enumerate(steps[: rng.randint(1, len(steps))]):
        if i:
            w.sep()
        step()


# ---- drugs ------------------------------------------------------------------------------


def regimen(w: Writer, drug: dict[str, Any], lead: bool = True) -> None:
    """One drug with its regimen in one of several layouts; frequency and route are USAGE."""
    rng, tb = w.rng, w.tb
    reg = rng.choice(drug["regimens"])
    name = surface(rng, drug, 0.3)
    abbr = tb.style.abbreviations or rng.random() < 0.3
    freq = (
        reg["frequency"]
        if abbr and reg["frequency"] not in ("qw", "q2w", "q8w")
        else rng.choice(FREQ_WORDS.get(reg["frequency"], (reg["frequency"],)))
    )
    route = reg["route"]
    if abbr and route in ROUTE_ABBR and rng.random() < 0.5:
        route = rng.choice(ROUTE_ABBR[route])
    gap = rng.choice((" ", " ", ""))
    layout = rng.randint(0, 5)
    if layout == 0:  # 美沙拉嗪 1g 口服 每日4次
        for i, (text, label) in enumerate(
            ((name, "WM_DRUG"), (reg["dose"], "DOSE"), (route, "USAGE"), (freq, "USAGE"))
        ):
            tb.raw(" " if i else "")
            tb.ent(text, label)
    elif layout == 1:  # 予美沙拉嗪口服
        tb.raw(rng.choice(("予", "给予", "加用", "继予")) if lead else "")
        tb.ent(name, "WM_DRUG")
        tb.ent(route, "USAGE")
    elif layout == 2:  # 美沙拉嗪 1g qid
        tb.ent(name, "WM_DRUG")
        tb.raw(gap or " ")
        tb.ent(reg["dose"], "DOSE")
        tb.raw(" ")
        tb.ent(freq, "USAGE")
    elif layout == 3:  # 静滴头孢曲松2g，每日1次
        tb.raw(rng.choice(("予", "")) if lead else "")
        tb.ent(route, "USAGE")
        tb.ent(name, "WM_DRUG")
        tb.ent(reg["dose"], "DOSE")
        tb.p("，")
        tb.ent(freq, "USAGE")
    elif layout == 4:  # 美沙拉嗪（1g，tid，口服）
        tb.ent(name, "WM_DRUG")
        tb.p("（")
        tb.ent(reg["dose"], "DOSE")
        tb.p("，")
        tb.ent(freq, "USAGE")
        tb.p("，")
        tb.ent(route, "USAGE")
        tb.p("）")
    else:  # 美沙拉嗪 每次1g 每日3次 口服
        tb.ent(name, "WM_DRUG")
        tb.raw(rng.choice(("每次", " 每次", "，每次")))
        tb.ent(reg["dose"], "DOSE")
        tb.raw(gap)
        tb.ent(freq, "USAGE")
        tb.raw(gap)
        tb.ent(route, "USAGE")


def drug_history(w: Writer) -> None:
    """Earlier treatment in the present illness: 外院予XX口服，症状未见好转."""
    rng, tb = w.rng, w.tb
    drugs = w.case.wm_drugs
    tb.raw(rng.choice(("曾于外院就诊，予", "外院予", "自行服用", "当地医院给予")))
    if rng.random() < 0.5:
        tb.join(drugs, lambda d: tb.ent(surface(rng, d, 0.4), "WM_DRUG"), "、")
        tb.raw(
            rng.choice(("治疗", "口服", "等治疗", "抗感染治疗" if w.case.specialty == "respiratory" else "对症治疗"))
        )
    else:
        regimen(w, drugs[0], lead=False)
    tb.p("，")
    if rng.random() < 0.3:
        time(w, ("point",), include=("{N}周后", "{N}天后", "{N}月后", "剂后"))
    tb.raw("症状")
    roll = rng.random()
    if roll < 0.6:
        tb.ent(change_word(w.v, rng, ("better",)), "SEVERITY")
    elif roll < 0.8:
        tb.ent("未见", "NEGATION")
        tb.ent(rng.choice(("好转", "缓解", "减轻")), "SEVERITY")
    else:
        tb.raw("未见好转")


# ---- progress notes ---------------------------------------------------------------------


def progress(w: Writer, day: int, field_writers: list[Any]) -> None:
    """A 日常病程记录 complaint: time point, change words, time-of-day findings, negations."""
    rng, tb = w.rng, w.tb
    case = w.case
    lead = rng.random()
    if lead < 0.3:
        tb.ent(rng.choice((f"入院第{day + 1}天", f"住院第{day + 1}天", "今日", "今晨", "入院后")), "TIME")
        tb.p("，")
    elif lead < 0.45 and case.procedures:
        tb.ent(rng.choice((f"术后第{day}天", f"术后{day}天", "术后")), "TIME")
        tb.p("，")
    elif lead < 0.6:
        tb.ent(rng.choice((f"服药{min(day, 14)}剂后", f"服上方{rng.choice((3, 5, 7))}剂后")), "TIME")
        tb.p("，")
    tb.raw(rng.choice(("患者", "患者诉", "今日查房，患者诉", "患者自诉", "")))
    items = case.symptoms[: rng.randint(1, 2)]
    for i, item in enumerate(items):
        if i:
            tb.p("，")
        term = surface(rng, item, 0.2)
        tb.ent(term, item["label"])
        kinds = ("better", "better", "resolved", "worse") if day > 1 else ("better", "worse")
        roll = rng.random()
        if roll < 0.12:
            tb.ent("未见", "NEGATION")
            tb.ent(rng.choice(("好转", "明显好转", "缓解")), "SEVERITY")
        else:
            tb.ent(change_word(w.v, rng, kinds), "SEVERITY")
    if rng.random() < 0.4:
        tb.p("，")
        tb.ent(rng.choice(("夜间", "晨起", "午后", "昨晚", "昨夜", "今晨", "傍晚")), "TIME")
        item = rng.choice(case.symptoms)
        tb.ent(surface(rng, item, 0.2), item["label"])
        tb.ent(rng.choice(("明显", "较明显", "较甚", "尤甚", "较轻")), "SEVERITY")
    if rng.random() < 0.25:
        tb.p("，")
        tb.raw("诸症")
        tb.ent(rng.choice(("大减", "减轻", "好转", "改善")), "SEVERITY")
    for write in field_writers:
        w.sep()
        write()
    if case.negatives and rng.random() < 0.5:
        w.sep()
        negated_symptoms(w, case.negatives[: rng.randint(1, 2)])
    w.sep()
    w.filler(rng.randint(1, 2))
    w.end()
