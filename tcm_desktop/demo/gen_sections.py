"""Section writers: each writes one part of a note into a TextBuilder and notes what the form needs."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from typing import Any

from tcm_desktop.demo import gen_exam
from tcm_desktop.demo.gen_case import Case, surface
from tcm_desktop.demo.gen_fields import write_state
from tcm_desktop.demo.gen_phrases import modified, negated_symptoms, result, time
from tcm_desktop.demo.gen_text import TextBuilder, chinese_number
from tcm_desktop.demo.gen_tongue import TongueText, write_pulse, write_tongue
from tcm_desktop.demo.gen_vocab import Vocab
from tcm_desktop.demo.tongue_image import TongueState

FILLER = (
    "神志清楚",
    "精神可",
    "精神尚可",
    "神清",
    "饮食可",
    "纳可",
    "纳眠可",
    "睡眠可",
    "夜寐安",
    "小便调",
    "面色如常",
    "形体适中",
    "语声清晰",
    "步入诊室",
    "发育正常",
    "营养中等",
    "查体合作",
)
SITE_WORDS = ("疼痛", "肿痛", "胀痛", "酸痛", "麻木", "不适")
VITALS = (("体温", "T", "℃", (36.1, 37.0), 1), ("脉搏", "P", "次/分", (62, 96), 0), ("呼吸", "R", "次/分", (16, 20), 0))


@dataclass
class Notes:
    """What the form needs, collected while writing (in text order)."""

    chief_complaint: str = ""
    lists: dict[str, list[str]] = field(default_factory=dict)
    herbs: list[dict[str, str]] = field(default_factory=list)
    tongue: TongueText | None = None
    pulse: list[str] = field(default_factory=list)
    fields: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, key: str, value: str) -> None:
        items = self.lists.setdefault(key, [])
        if value not in items:
            items.append(value)

    def state(self, name: str, value: Any) -> None:
        self.fields.setdefault(name, []).append(value)


@dataclass
class Writer:
    """Writes sections of one record; holds the case, the vocabulary and the notes."""

    tb: TextBuilder
    v: Vocab
    case: Case
    truth: TongueState
    notes: Notes
    numbering: int = 0
    in_complaint: bool = False
    decoration: str = "{h}："
    base: datetime.date | None = None

    @property
    def rng(self) -> random.Random:
        return self.tb.rng

    # ---- layout helpers -----------------------------------------------------------
    def header(self, spec: dict[str, Any]) -> None:
        rng = self.rng
        name = spec["header"]
        if spec.get("alternatives") and rng.random() < 0.3:
            name = rng.choice(spec["alternatives"])
        deco = self.decoration if rng.random() < 0.85 else rng.choice(self.v.misc["header_decorations"])
        self.numbering += 1
        n = self.numbering
        deco = deco.replace("一、", chinese_number(n) + "、").replace("1.", f"{n}.")
        deco = deco.replace("（一）", f"（{chinese_number(n)}）")
        text = deco.replace("{h}", name)
        self.tb.raw(self.tb.punct(text) if "：" in text else text)

    def filler(self, k: int) -> None:
        words = self.rng.sample(FILLER, k)
        self.tb.raw(self.tb.style.p("，").join(words))

    def sep(self) -> None:
        self.tb.p(self.rng.choice(("，", "，", "；", "。")))

    def end(self) -> None:
        self.tb.raw(self.tb.style.p("。") if self.rng.random() < 0.85 else "")

    def number(self, value: float, decimals: int) -> str:
        # a leading hyphen is punctuation at a span edge; clinical notes also write the minus sign
        return f"{value:.{decimals}f}".replace("-", "\u2212")

    def time_span(self, kind: str = "duration") -> None:
        rng = self.rng
        if rng.random() < 0.45:  # any vocabulary pattern of the kind (3d, 1年半, 约2月, 数年, 10余年前 ...)
            kinds = ("ago",) if kind == "ago" else ("duration",)
            short = ("小时", "天", "日", "h", "d", "周") if kind == "long" else ()
            time(self, kinds, exclude=("入院前", "内", "分钟", *short))
            return
        n = rng.randint(1, 12)
        unit = rng.choice(("天", "周", "月", "年", "个月"))
        text = rng.choice(
            (
                f"{self.tb.style.number(n)}{unit}",
                f"{n}{unit}余" if unit in ("月", "年") else f"{n}{unit}",
                rng.choice(("半年", "半年余", "半月", "数月", "1周余", "10余天", "3+年")),
            )
        )
        if kind == "ago":
            text = text.rstrip("余") + "前"
        self.tb.ent(text, "TIME")

    def date(self, label: bool = True, offset: int = 0) -> str:
        """A date ``offset`` days after this record's first visit."""
        rng = self.rng
        if self.base is None:
            self.base = datetime.date(rng.randint(2019, 2025), rng.randint(1, 12), rng.randint(1, 28))
        day = self.base + datetime.timedelta(days=offset)
        y, m, d = day.year, day.month, day.day
        text = rng.choice((f"{y}-{m:02d}-{d:02d}", f"{y}年{m}月{d}日", f"{y}.{m}.{d}", f"{y}/{m}/{d}"))
        if rng.random() < 0.3:
            text += f" {rng.randint(7, 20)}:{rng.choice(('00', '15', '30', '45'))}"
        if label:
            self.tb.ent(text, "TIME")
        else:
            self.tb.raw(text)
        return text

    # ---- entities -------------------------------------------------------------------
    def symptom(self, entry: dict[str, Any]) -> None:
        rng = self.rng
        text = surface(rng, entry, 0.25)
        typos = self.v.typos.get(text)
        if typos and rng.random() < self.tb.style.typo_rate * 5:
            text = rng.choice(typos)
        modified(self, lambda: self.tb.ent(text, entry["label"]), text, entry["label"], post=not self.in_complaint)

    def site_symptom(self) -> None:
        rng = self.rng
        sites = [b["term"] for b in self.v.terms("BODY_PART", self.case.specialty, "anatomy")]
        words = [w for w in SITE_WORDS if w in self.v.by_term]
        if not sites or not words:
            return
        self.tb.ent(rng.choice(sites), "BODY_PART")
        self.tb.ent(rng.choice(words), "SYM")

    def symptoms(self, items: list[dict[str, Any]]) -> None:
        self.tb.join(items, self.symptom, self.rng.choice(("、", "，", "，")))

    def negatives(self) -> None:
        negated_symptoms(self, self.case.negatives)

    # ---- sections ---------------------------------------------------------------
    def chief_complaint(self) -> None:
        rng = self.rng
        start = self.tb.length
        self.in_complaint = True
        lead = self.case.extras.get("lead")
        if lead:
            write_state(self.tb, *lead)
            if rng.random() < 0.5:
                self.tb.raw("伴")
            else:
                self.tb.p("、")
        self.symptoms(self.case.symptoms[:2])
        self.time_span()
        if rng.random() < 0.4:
            self.tb.p("，")
            if rng.random() < 0.8:
                self.tb.ent(rng.choice(("加重", "加剧", "再发", "复发", "明显加重")), "SEVERITY")
            self.time_span()
        self.in_complaint = False
        self.notes.chief_complaint = self.tb.text()[start:]

    def present_illness(self, field_writers: list[Any]) -> None:
        rng = self.rng
        tb = self.tb
        tb.raw(rng.choice(("患者", "患者", "缘患者", "")))
        if rng.random() < 0.2:
            tb.raw("于")
            time(self, ("date", "life_stage"), exclude=("{h}",))
            tb.raw(rng.choice(("起", "")))
        else:
            self.time_span("ago")
        tb.raw(rng.choice(("无明显诱因", "因饮食不节", "受凉后", "劳累后", "因外伤", "")))
        tb.raw(rng.choice(("出现", "始见", "开始出现")))
        self.symptoms(self.case.symptoms[:2])
        self.sep()
        if rng.random() < 0.3:
            tb.ent(rng.choice(("当时", "初起", "起病时", "病初")), "TIME")
            tb.raw(rng.choice(("未予重视", "症状较轻", "未予特殊处理")))
            self.sep()
        if self.case.wm_drugs and rng.random() < 0.5:
            gen_exam.drug_history(self)
            self.sep()
        elif rng.random() < 0.7:
            tb.raw(rng.choice(("未予重视", "未系统治疗", "未予特殊处理")))
            self.sep()
        roll = rng.random()
        if roll < 0.35:
            self.time_span()
            tb.raw(rng.choice(("来", "来症状", "来上述症状")))
            tb.ent(rng.choice(("加重", "明显加重", "反复加重", "逐渐加重", "进行性加重", "较前加重")), "SEVERITY")
            self.sep()
        elif roll < 0.7:
            time(self, ("recent", "duration_since", "period", "season"))
            tb.raw(rng.choice(("", "，", "上述症状", "症状")))
            tb.ent(rng.choice(("加重", "明显加重", "加剧", "反复加重")), "SEVERITY")
            self.sep()
        if rng.random() < 0.35:
            time(self, ("ago", "point"), include=("今", "昨", "前日", "前天", "天后", "周后", "日前", "次日", "当晚"))
            tb.raw(rng.choice(("症状", "上述症状", "")))
            tb.ent(rng.choice(("加重", "再发", "加剧")), "SEVERITY")
            self.sep()
        tb.raw(rng.choice(("为求中医治疗", "为求进一步诊治", "今为求系统治疗", "遂")))
        tb.raw(rng.choice(("来我院就诊", "来诊", "就诊于我科", "前来就诊")))
        tb.p("。")
        if rng.random() < 0.7:
            tb.ent(rng.choice(("刻下", "刻下", "目前", "现在", "当前")), "TIME")
        else:
            tb.raw(rng.choice(("现", "症见", "现症见")))  # bare 现 carries no span
        tb.p(rng.choice(("：", "，")))
        self.symptoms(self.case.symptoms[2:] or self.case.symptoms[:1])
        for writer in field_writers:
            self.sep()
            writer()
        if rng.random() < 0.6:
            self.sep()
            self.site_symptom()
        self.sep()
        self.negatives()
        self.sep()
        self.filler(rng.randint(1, 3))
        self.end()

    def past_history(self, history_writer: Any = None) -> None:
        rng = self.rng
        if self.case.history_diseases and rng.random() < 0.7:
            self.tb.raw(rng.choice(("有", "既往有", "患")))
            self.tb.ent(self.case.history_diseases[0], "WM_DISEASE")
            self.tb.raw("病史")
            self.time_span("long")
            drugs = [d for d in self.v.terms("WM_DRUG", "general") if d.get("regimens")]
            if rng.random() < 0.5:
                self.tb.p("，")
                self.tb.raw(rng.choice(("规律口服", "长期服用", "平素服用")))
                gen_exam.regimen(self, rng.choice(drugs), lead=False)
            self.sep()
        else:
            self.tb.ent("否认", "NEGATION")
            others = self.rng.sample(self.v.terms("WM_DISEASE", "general"), 2)
            self.tb.join(others, lambda e: self.tb.ent(e["term"], "WM_DISEASE"), "、")
            self.tb.raw("等慢性病史")
            self.sep()
        if history_writer is not None:
            history_writer()
            self.sep()
        self.tb.raw(rng.choice(("否认药物过敏史", "否认食物及药物过敏史", "无药物过敏史", "对青霉素过敏")))
        self.end()

    def vitals(self, fever_state: Any) -> None:
        gen_exam.vitals(self, fever_state)

    def physical(self, fever_state: Any) -> None:
        if self.rng.random() < 0.3:
            self.tb.raw(self.rng.choice(("查体：", "PE：", "查体")))
        self.vitals(fever_state)
        self.filler(self.rng.randint(1, 3))
        self.sep()
        gen_exam.systemic(self)
        self.end()

    def special_exam(self, field_writers: list[Any]) -> None:
        rng = self.rng
        if self.case.specialty == "anorectal" and rng.random() < 0.7:
            self.tb.raw(rng.choice(("截石位", "膝胸位", "侧卧位")))
            self.tb.raw("：")
            self.tb.ent(rng.choice(("截石位3点", "截石位7点", "截石位11点", "截石位5点")), "BODY_PART")
            self.tb.raw("可见")
        signs = self.case.signs or self.v.symptom_pool("SIGN", self.case.specialty)[:1]
        if rng.random() < 0.5:
            self.site_symptom()
            self.sep()
        self.tb.join(signs, self.symptom, rng.choice(("，", "、")))
        self.sep()
        gen_exam.exam_extras(self)
        for writer in field_writers:
            self.sep()
            writer()
        self.end()

    def tongue_pulse(self) -> None:
        rng = self.rng
        if rng.random() < 0.1:  # some notes do not describe the tongue at all
            self.notes.pulse = write_pulse(self.tb, self.v, self.case.syndromes[0])
            self.end()
            return
        self.notes.tongue = write_tongue(self.tb, self.v, self.truth)
        if rng.random() < 0.92:
            self.tb.p(rng.choice(("，", "，", "；", "。")))
            self.notes.pulse = write_pulse(self.tb, self.v, self.case.syndromes[0])
        self.end()

    def aux_exams(self) -> None:
        rng = self.rng
        for i, name in enumerate(self.case.exams):
            if i:
                self.tb.p(rng.choice(("；", "，", "。")))
            entry = self.v.by_term[name]
            self.tb.ent(surface(rng, entry, 0.4 if self.tb.style.abbreviations else 0.1), "EXAM")
            measure = entry.get("measure")
            results = self.v.results_for_exam.get(name) or entry.get("results") or []
            if measure and measure.get("range") and "format" not in measure:
                lo, hi = measure["range"]
                dec = int(measure.get("decimals", 0))
                value = self.number(rng.uniform(lo, hi), dec)
                unit = rng.choice([measure.get("unit", ""), *measure.get("unit_variants", ())[:1]])
                self.tb.raw(rng.choice(("", "：", " ", "为")))
                self.tb.ent(value + unit if unit or dec else value, "MEASURE")
                if results and rng.random() < 0.3:
                    self.tb.raw("，")
                    result(self, rng.choice(results))
            else:
                self.tb.raw(rng.choice(("示", "提示", "：", "检查示")))
                result(self, rng.choice(results or ["未见明显异常"]))
        self.end()

    def diagnosis(self, which: str = "both") -> None:
        rng = self.rng
        case = self.case
        if which in ("both", "tcm"):
            self.tb.ent(case.tcm_disease, "TCM_DISEASE")
            self.notes.add("tcm_diseases", self.v.canonical.get(case.tcm_disease, case.tcm_disease))
            left, right = rng.choice((("（", "）"), (" ", ""), ("-", ""), ("，", "")))
            self.tb.raw(self.tb.punct(left))
            self.tb.join(case.syndromes, self._syndrome, "、")
            self.tb.raw(self.tb.punct(right))
        if which == "both":
            self.tb.raw(rng.choice(("\n", "；", " ", "\n西医诊断：")))
        if which in ("both", "wm"):
            self.tb.join(
                case.wm_diseases or [rng.choice(self.v.terms("WM_DISEASE", case.specialty))["term"]],
                self._wm,
                rng.choice(("、", "；", "，")),
            )

    def _syndrome(self, text: str) -> None:
        self.tb.ent(text, "SYNDROME")
        self.notes.add("syndromes", self.v.canonical.get(text, text))

    def _wm(self, text: str) -> None:
        self.tb.ent(text, "WM_DISEASE")
        self.notes.add("wm_diseases", self.v.canonical.get(text, text))

    def treatment(self) -> None:
        self.tb.join(self.case.treatments, self._treat, self.rng.choice(("，", "、", "")))
        self.end()

    def _treat(self, text: str) -> None:
        self.tb.ent(text, "TREATMENT")
        self.notes.add("treatments", self.v.canonical.get(text, text))

    def formulas(self, in_form: bool = True) -> None:
        """The case's formula, or its pair joined by 合 (two spans; both in the form when ``in_form``)."""
        for i, formula in enumerate(f for f in (self.case.formula, self.case.formula_partner) if f):
            if i:
                self.tb.raw("合")
            self.tb.ent(formula, "FORMULA")
            if in_form:
                self.notes.add("formula", self.v.canonical.get(formula, formula))

    def prescription(self) -> None:
        rng = self.rng
        case = self.case
        self.tb.raw(rng.choice(("予", "方用", "拟", "")))
        self.formulas()
        self.tb.raw(rng.choice(("：", "：\n", "，药用：", "\n", "。处方如下：\n")))
        per_line = rng.choice((0, 2, 3, 4, 99))
        for i, herb in enumerate(case.herbs):
            if i:
                if per_line and i % per_line == 0:
                    self.tb.raw("\n")
                else:
                    self.tb.raw(rng.choice(("  ", " ", self.tb.style.p("，"), "、")) if per_line != 99 else " ")
            self.tb.ent(herb.name, "HERB")
            self.tb.raw(rng.choice(("", "", " ")))
            dose = self.tb.ent(herb.dose, "DOSE")
            if herb.note and rng.random() < 0.8:
                left = self.tb.punct(rng.choice(("（", "(", " ")))
                self.tb.raw(left)
                self.tb.ent(herb.note, "USAGE")
                self.tb.raw({"（": "）", "(": ")"}.get(left, ""))
            self.notes.herbs.append({"herb": herb.name, "dose": dose.text})
        self.tb.raw(rng.choice(("\n", "。", "，", "\n用法：")))
        self.tb.ent(rng.choice(("7剂", "14剂", "5剂", "3付", "7付")), "USAGE")
        self.tb.p("，")
        self.tb.ent(rng.choice(("水煎服", "水煎服", "煎服", "水煎")), "USAGE")
        self.tb.p("，")
        self.tb.ent(rng.choice(("日一剂", "每日1剂", "1剂/日", "一日一剂")), "USAGE")
        if rng.random() < 0.6:
            self.tb.p("，")
            self.tb.ent(rng.choice(("早晚分服", "早晚温服", "分2次温服", "饭后服")), "USAGE")
        self.end()

    def orders(self) -> None:
        rng = self.rng
        case = self.case
        for drug in case.wm_drugs:
            gen_exam.regimen(self, drug)
            self.sep()
        for proc in case.procedures:
            self.tb.raw(rng.choice(("予", "行", "配合", "")))
            self._treat(proc)
            self.sep()
        if rng.random() < 0.4:
            self.tb.raw(rng.choice(("配合", "并予", "")))
            self._treat(rng.choice(("针刺", "电针", "艾灸", "温针灸")))
            self.tb.raw(rng.choice(("", "取穴", "：")))
            self.tb.join(case.acupoints, lambda a: self.tb.ent(a, "BODY_PART"), "、")
            self.sep()
        self.tb.raw(rng.choice(("嘱清淡饮食，忌辛辣", "避风寒，调情志", "注意休息，不适随诊", "1周后复诊", "定期复查")))
        self.end()
