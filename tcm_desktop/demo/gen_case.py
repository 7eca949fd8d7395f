"""One patient's clinical facts, drawn by walking the vocabulary's cross links.

中医病名 -> 证候 -> 治法 -> 方剂 -> 药物+剂量, and the specialty's western diagnosis,
drugs, examinations and procedures, so a record is clinically coherent.

By default the complaints are drawn from the specialty's symptom pool whatever
the syndrome. With ``linked_symptoms`` each syndrome also has up to
:data:`LINKS_PER_SYNDROME` characteristic symptoms (:func:`symptom_links`, from
the keyword table :data:`SYMPTOM_CUES`), each present with probability
:data:`LINK_PROBABILITY`: the known syndrome -> symptom associations that the
mining benchmark scores rules against. The default corpus is unchanged by it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from tcm_desktop.demo.gen_vocab import RESERVED_FRAGMENTS, Vocab


@dataclass(frozen=True)
class Herb:
    name: str  # as written
    dose: str  # as written, with unit
    note: str | None  # 先煎, 后下 ... written after the dose


COMBINED_FORMULA_RATE = 0.15


@dataclass
class Case:
    specialty: str
    sex: str
    age: int
    tcm_disease: str  # as written
    syndromes: list[str]
    treatments: list[str]
    formula: str
    herbs: list[Herb]
    wm_diseases: list[str]
    wm_drugs: list[dict[str, Any]]
    procedures: list[str]
    acupoints: list[str]
    symptoms: list[dict[str, Any]]
    signs: list[dict[str, Any]]
    negatives: list[str]
    history_diseases: list[str]
    exams: list[str]
    onset: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    # a second formula prescribed with the first (合方: "参苓白术散合香连丸加减", two FORMULA spans); "" when none
    formula_partner: str = ""


# Syndrome keyword -> symptoms it is known for (textbook 辨证 signs), most specific keywords
# first; only the terms the record's specialty may write (its symptom pools) are used.
SYMPTOM_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("湿热", ("肛门灼热", "大便黏滞", "里急后重", "口苦", "口黏", "小便短赤", "关节肿痛", "身热不扬")),
    ("热毒", ("肛门肿痛", "跳痛", "咽喉肿痛", "发热", "口渴")),
    ("阴虚", ("盗汗", "手足心热", "潮热", "口干", "咽干", "大便干结")),
    ("燥", ("大便干结", "便秘", "咽干", "鼻干", "口干", "刺激性咳嗽")),
    ("瘀", ("刺痛", "痛有定处", "静息痛", "胸痛", "肛门疼痛")),
    ("风寒", ("恶寒", "无汗", "流清涕", "鼻塞", "头身疼痛", "冷痛")),
    ("风热", ("咽痛", "流浊涕", "发热", "口渴", "咽喉肿痛")),
    ("痰", ("咳声重浊", "胸闷", "头重如裹", "肢体困重", "恶心")),
    ("寒", ("腹部冷痛", "冷痛", "畏寒肢冷", "腰膝冷痛", "肢体发凉", "腹部喜温喜按", "畏寒")),
    ("滞", ("胀痛", "腹胀", "胁肋胀痛", "嗳气", "肛门坠胀", "窜痛", "善太息")),
    ("郁", ("胁肋胀痛", "善太息", "情志抑郁", "嗳气", "胸胁胀满")),
    ("肝", ("胁肋胀痛", "急躁易怒", "口苦", "头晕")),
    ("肾", ("腰膝酸软", "腰酸", "耳鸣", "夜尿频多", "腰痛")),
    ("脾", ("纳差", "腹胀", "倦怠", "口淡", "排便无力", "乏力")),
    ("肺", ("咳嗽", "气短", "胸闷", "自汗")),
    ("胃", ("胃脘痛", "嗳气", "反酸", "恶心")),
    ("虚", ("乏力", "神疲乏力", "气短", "少气懒言", "排便无力", "四肢乏力", "自汗")),
    ("湿", ("肢体困重", "口黏", "大便黏滞", "肛门潮湿", "渴不欲饮", "头重如裹")),
    ("热", ("发热", "口渴", "心烦", "口苦", "小便短赤", "怕热")),
    ("风", ("肛门瘙痒", "恶风", "皮肤瘙痒", "咽痒", "窜痛")),
)
LINKS_PER_SYNDROME = 3
LINK_PROBABILITY = 0.65


def symptom_links(v: Vocab, syndrome: str, specialty: str) -> tuple[str, ...]:
    """The characteristic symptoms (curated terms) of ``syndrome`` in ``specialty``'s records.

    The first :data:`LINKS_PER_SYNDROME` terms of every :data:`SYMPTOM_CUES` entry whose
    keyword is in the syndrome's curated term, in table order, that the specialty's
    symptom pools hold.
    """
    allowed = {e["term"] for e in symptom_pools(v, specialty)}
    found: list[str] = []
    for key, terms in SYMPTOM_CUES:
        if key in syndrome:
            found += [t for t in terms if t in allowed and t not in found]
    return tuple(found[:LINKS_PER_SYNDROME])


def symptom_pools(v: Vocab, specialty: str) -> list[dict[str, Any]]:
    """The specialty's own SYM pool followed by the general pool without its reserved words."""
    banned = RESERVED_FRAGMENTS.get(specialty, ())
    general_pool = [
        s
        for s in v.symptom_pool("SYM", "general")
        if not any(b in f for f in (s["term"], *s.get("synonyms", ())) for b in banned)
    ]
    return v.symptom_pool("SYM", specialty) + general_pool


def _linked_symptoms(
    rng: random.Random, v: Vocab, specialty: str, syndrome: str, sym_pool: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each characteristic symptom with probability LINK_PROBABILITY, plus 0-2 unrelated ones, shuffled."""
    linked = [v.by_term[t] for t in symptom_links(v, syndrome, specialty)]
    chosen = [e for e in linked if rng.random() < LINK_PROBABILITY]
    rest = [e for e in sym_pool if e not in linked]
    chosen += rng.sample(rest, min(len(rest), rng.randint(0 if chosen else 1, 2)))
    rng.shuffle(chosen)
    return chosen


def surface(rng: random.Random, entry: dict[str, Any], p_syn: float = 0.3) -> str:
    """The term or, sometimes, one of its synonyms."""
    syns = [s for s in entry.get("synonyms", ()) if len(s) > 2 or not s.isascii()]
    if syns and rng.random() < p_syn:
        return rng.choice(syns)
    return str(entry["term"])


def _dose(rng: random.Random, v: Vocab, herb: str, gram: str) -> tuple[str, str | None]:
    entry = v.by_term.get(herb, {})
    lo, hi = entry.get("dose_g") or (6, 15)
    grams = rng.choice([g for g in (3, 5, 6, 9, 10, 12, 15, 18, 20, 24, 30, 45, 60) if lo <= g <= hi] or [lo])
    if lo < 3 and rng.random() < 0.5:
        grams_text = f"{rng.choice([x for x in (0.5, 1, 1.5, 2, 3) if lo <= x <= hi] or [lo]):g}"
    else:
        grams_text = str(grams)
    note = entry.get("note")
    usage = None
    if note:
        for word in ("先煎", "后下", "包煎", "烊化", "另煎", "冲服"):
            if word in note:
                usage = word
                break
    if rng.random() < 0.05 and grams % 3 == 0 and grams <= 30:
        return f"{grams // 3}钱", usage
    return f"{grams_text}{gram}", usage


def draw_case(rng: random.Random, v: Vocab, specialty: str, gram: str, linked_symptoms: bool = False) -> Case:
    diseases = v.terms("TCM_DISEASE", specialty) or v.terms("TCM_DISEASE")
    disease = rng.choice(diseases)
    syndrome_names = [s for s in disease.get("syndromes", ()) if s in v.by_term] or [
        rng.choice(v.terms("SYNDROME", specialty))["term"]
    ]
    syndrome = v.by_term[rng.choice(syndrome_names)]
    syndromes = [surface(rng, syndrome, 0.35)]
    if rng.random() < 0.12:
        other = v.by_term.get(rng.choice(syndrome_names))
        if other and other["term"] != syndrome["term"]:
            syndromes.append(surface(rng, other, 0.35))
    treat_names = list(syndrome.get("treatments", ())) or ["健脾益气"]
    rng.shuffle(treat_names)
    chosen = treat_names[: rng.choice((1, 2, 2))]
    treatments = [surface(rng, v.by_term[t], 0.2) if t in v.by_term else t for t in chosen]
    formula_names = [f for f in syndrome.get("formulas", ()) if f in v.by_term] or [
        rng.choice(v.terms("FORMULA", specialty) or v.terms("FORMULA"))["term"]
    ]
    formula_entry = v.by_term[rng.choice(formula_names)]
    formula = formula_entry["term"]
    if rng.random() < 0.35 and formula_entry.get("variants"):
        formula = rng.choice(formula_entry["variants"])
    herb_names = [h for h in formula_entry.get("herbs", ()) if h in v.by_term]
    extra = [h["term"] for h in rng.sample(v.terms("HERB"), 4)]
    herb_names += [h for h in extra[: rng.choice((0, 1, 2, 3))] if h not in herb_names]
    herbs: list[Herb] = []
    for name in herb_names[:16]:
        dose, note = _dose(rng, v, name, gram)
        shown = name
        syns = [s for s in v.by_term[name].get("synonyms", ()) if 2 <= len(s) <= 4]
        if syns and rng.random() < 0.08:
            shown = rng.choice(syns)
        herbs.append(Herb(shown, dose, note))
    wm_names = [w for w in disease.get("wm_diseases", ()) if w in v.by_term]
    wm = [surface(rng, v.by_term[rng.choice(wm_names)], 0.25)] if wm_names else []
    if rng.random() < 0.25:
        wm.append(surface(rng, rng.choice(v.terms("WM_DISEASE", specialty) or v.terms("WM_DISEASE")), 0.2))
    wm = list(dict.fromkeys(wm))
    drugs = [d for d in v.terms("WM_DRUG", specialty) if d.get("regimens")]
    wm_drugs = rng.sample(drugs, min(len(drugs), rng.choice((0, 0, 1, 1, 2))))
    procedures = [t["term"] for t in v.terms("TREATMENT", specialty, "procedure")]
    acupoints = [b["term"] for b in v.terms("BODY_PART", None, "acupoint")]
    sym_pool = v.symptom_pool("SYM", specialty)
    sign_pool = v.symptom_pool("SIGN", specialty)
    banned = RESERVED_FRAGMENTS.get(specialty, ())
    general_pool = [
        s
        for s in v.symptom_pool("SYM", "general")
        if not any(b in f for f in (s["term"], *s.get("synonyms", ())) for b in banned)
    ]
    if linked_symptoms:
        symptoms = _linked_symptoms(rng, v, specialty, syndrome["term"], sym_pool + general_pool)
    else:
        symptoms = rng.sample(sym_pool, min(len(sym_pool), rng.randint(1, 4)))
        symptoms += rng.sample(general_pool, rng.randint(0, 2))
    neg_pool = [s["term"] for s in sym_pool + general_pool if s not in symptoms]
    others = [d["term"] for d in v.terms("WM_DISEASE", "general")]
    exam_pool = [e["term"] for e in v.terms("EXAM", specialty) if e["term"] not in ("周径", "VAS评分", "体温")]
    case = Case(
        specialty=specialty,
        sex=rng.choice(("男", "女")),
        age=rng.randint(18, 86),
        tcm_disease=surface(rng, disease, 0.15),
        syndromes=list(dict.fromkeys(syndromes)),
        treatments=list(dict.fromkeys(treatments)),
        formula=formula,
        herbs=herbs,
        wm_diseases=wm,
        wm_drugs=wm_drugs,
        procedures=rng.sample(procedures, min(len(procedures), rng.choice((0, 0, 1, 2)))),
        acupoints=rng.sample(acupoints, rng.randint(2, 5)),
        symptoms=symptoms,
        signs=rng.sample(sign_pool, min(len(sign_pool), rng.randint(0, 3))),
        negatives=rng.sample(neg_pool, min(len(neg_pool), rng.randint(1, 3))),
        history_diseases=rng.sample(others, min(len(others), rng.choice((0, 0, 1, 2)))) if others else [],
        exams=rng.sample(exam_pool, min(len(exam_pool), rng.randint(1, 4))),
    )
    if rng.random() < COMBINED_FORMULA_RATE:  # drawn last: the rest of the case is what it was without it
        pool = [f for f in formula_names if f != formula_entry["term"]] or [
            f["term"] for f in v.terms("FORMULA", specialty) or v.terms("FORMULA") if f["term"] != formula_entry["term"]
        ]
        partner = v.by_term[rng.choice(pool)]
        written = rng.choice(partner["variants"]) if partner.get("variants") and rng.random() < 0.5 else partner["term"]
        case.formula = formula_entry["term"]  # the first of a pair is written plain: "A合B加减"
        case.formula_partner = written
    return case
