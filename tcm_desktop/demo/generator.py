"""Generated demo records with gold spans, gold forms and the tongue truth behind the photo.

``generate_records(n, seed)`` is deterministic: record i draws everything from its own
``random.Random`` seeded by (seed, i). Each record is composed from many independent
choices (sections, header spelling and framing, phrasings, numerals, punctuation
width, prescription layout ...) over the curated vocabulary in ``resources/vocab``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tcm_desktop.demo.gen_case import Case, draw_case
from tcm_desktop.demo.gen_fields import FIELDS, empty, final_value, trajectory, vocab_items, write_item, write_state
from tcm_desktop.demo.gen_sections import Notes, Writer
from tcm_desktop.demo.gen_text import Style, TextBuilder
from tcm_desktop.demo.gen_tongue import TONGUE_FIELDS, draw_truth
from tcm_desktop.demo.gen_vocab import vocab
from tcm_desktop.demo.tongue_image import TongueState
from tcm_desktop.domain import NOT_MENTIONED, Record, default_schema
from tcm_desktop.domain.form_text import joined_findings

SPECIALTY_WEIGHTS = (("anorectal", 22), ("orthopedics", 22), ("respiratory", 22), ("gastro", 22), ("general", 12))
LONG_SHARE = 0.08
MAX_CHARS = 8000


@dataclass(frozen=True)
class GeneratedRecord:
    record: Record
    tongue: TongueState
    case: Case | None = field(default=None, compare=False)  # the patient's facts behind the text


def _record_rng(seed: int, index: int) -> random.Random:
    return random.Random(f"tcm-demo:{seed}:{index}")


DEPARTMENTS = {
    "anorectal": ("肛肠科", "肛肠外科", "中医肛肠科"),
    "orthopedics": ("骨伤科", "骨科", "中医骨伤科"),
    "respiratory": ("肺病科", "呼吸内科", "呼吸科"),
    "gastro": ("脾胃病科", "消化内科", "脾胃科"),
    "general": ("中医内科", "中医科", "综合内科"),
}


def _pick_specialty(rng: random.Random) -> str:
    names = [s for s, _ in SPECIALTY_WEIGHTS]
    return rng.choices(names, weights=[w for _, w in SPECIALTY_WEIGHTS])[0]


class _Record:
    """State for one record while its sections are written."""

    def __init__(self, rng: random.Random, specialty: str, linked_symptoms: bool = False) -> None:
        self.rng = rng
        self.v = vocab()
        self.style = Style.draw(rng)
        self.case = draw_case(rng, self.v, specialty, self.style.gram, linked_symptoms)
        self.truth = draw_truth(rng, self.case.syndromes[0])
        self.notes = Notes()
        self.section_sep = rng.choice(("\n", "\n", "\n", "\n\n", " "))
        self.decoration = rng.choice(self.v.misc["header_decorations"][:6] + ["{h}："] * 4)

    def builder(self) -> TextBuilder:
        return TextBuilder(self.style, sites=self.v.sites)

    def writer(self, tb: TextBuilder) -> Writer:
        return Writer(tb, self.v, self.case, self.truth, self.notes, decoration=self.decoration)

    # ---- field statements ---------------------------------------------------------
    def state_writer(self, tb: TextBuilder, name: str, value: Any) -> Callable[[], None]:
        def write() -> None:
            write_state(tb, name, value)
            self.notes.state(name, value)

        return write

    def item_writer(self, tb: TextBuilder, name: str, item: dict[str, Any]) -> Callable[[], None]:
        def write() -> None:
            write_item(tb, item)
            value = item["value"]
            self.notes.state(name, None if value in (None, NOT_MENTIONED) else value)

        return write

    def outpatient_fields(
        self, tb: TextBuilder
    ) -> tuple[list[Callable[[], None]], list[Callable[[], None]], Callable[[], None] | None, Any]:
        """Writers for 现病史/刻下 and 专科检查, a 既往史 writer or None, and the fever state."""
        now: list[Callable[[], None]] = []
        exam: list[Callable[[], None]] = []
        history = None
        fever_state = None
        for name in FIELDS[self.case.specialty]:
            roll = self.rng.random()
            in_exam = name in ("vas_score", "healthy_wrist_circumference_cm") and self.rng.random() < 0.6
            target = exam if in_exam else now
            if roll < 0.55:
                pool = vocab_items(self.v, name, "current")
                if self.rng.random() < 0.12:
                    pool = vocab_items(self.v, name, "history+current") or pool
                item = self.rng.choice(pool)
                target.append(self.item_writer(tb, name, item))
                if name == "fever" and item["value"] == "有":
                    fever_state = "有"
                elif name == "fever":
                    fever_state = "stated"
            elif roll < 0.85:
                value = trajectory(self.rng, name, 2)[0]
                target.append(self.state_writer(tb, name, value))
                if name == "fever":
                    fever_state = value
                if name in ("stool_blood_color", "diarrhea_frequency") and value not in ("无便血", "无腹泻"):
                    self.case.extras.setdefault("lead", (name, value))
            past = vocab_items(self.v, name, "history")
            if history is None and past and self.rng.random() < 0.25:
                history = self.item_writer(tb, name, self.rng.choice(past))
        return now, exam, history, fever_state

    # ---- notes ----------------------------------------------------------------------
    def outpatient(self, follow_up: bool) -> TextBuilder:
        tb = self.builder()
        w = self.writer(tb)
        now, exam, history, fever_state = self.outpatient_fields(tb)
        if fever_state == "stated":
            fever_state = None
        lead = self.case.extras.get("lead")
        if lead:
            self.notes.state(*lead)
        kind = "门诊复诊" if follow_up else "门诊病历"
        plan = self.v.misc["section_headers"][kind]["order"]
        if self.rng.random() < 0.3:
            tb.raw(self.rng.choice(("中医门诊病历", "门诊病历", "复诊记录", "初诊")) + "\n")
        writers: dict[str, Callable[[], None]] = {
            "就诊日期": lambda: w.date(),
            "复诊": lambda: w.date(),
            "科别": lambda: tb.raw(self.rng.choice(DEPARTMENTS[self.case.specialty])),
            "主诉": w.chief_complaint,
            "现病史": lambda: w.present_illness(now),
            "刻下症": lambda: w.present_illness(now),
            "既往史": lambda: w.past_history(history),
            "过敏史": lambda: tb.raw("否认药物过敏史"),
            "个人史": lambda: tb.raw(self.rng.choice(("生于原籍，无烟酒嗜好", "吸烟20余年", "无特殊"))),
            "婚育史": lambda: tb.raw(self.rng.choice(("已婚已育", "适龄婚育", "未婚"))),
            "家族史": lambda: tb.raw(self.rng.choice(("无特殊", "否认家族遗传病史", "父母体健"))),
            "体格检查": lambda: w.physical(fever_state),
            "专科检查": lambda: w.special_exam(exam),
            "舌脉": w.tongue_pulse,
            "辅助检查": w.aux_exams,
            "中医诊断": lambda: w.diagnosis("tcm"),
            "西医诊断": lambda: w.diagnosis("wm"),
            "治法": w.treatment,
            "处方": w.prescription,
            "医嘱": w.orders,
            "医师签名": lambda: tb.raw(self.rng.choice(("张医生", "李", "王某某", "（签名）", "医师：刘"))),
        }
        required = {"主诉", "现病史", "刻下症", "舌脉", "中医诊断", "西医诊断", "治法", "处方"}
        for spec in plan:
            name = spec["header"]
            if name not in writers:
                continue
            optional = name not in required and not (name == "专科检查" and exam)
            skip_chance = 0.12 if spec["required"] else 0.5
            if optional and self.rng.random() < skip_chance:
                continue
            w.header(spec)
            writers[name]()
            tb.raw(self.section_sep)
        return tb

    def long_note(self) -> TextBuilder:
        from tcm_desktop.demo.gen_long import write_long_note

        return write_long_note(self)

    # ---- the form ---------------------------------------------------------------------
    def form(self) -> dict[str, Any]:
        notes = self.notes
        form: dict[str, Any] = {"chief_complaint": notes.chief_complaint}
        tongue = notes.tongue
        for name in TONGUE_FIELDS:
            form[name] = tongue.form[name] if tongue else NOT_MENTIONED
        form["pulse"] = "，".join(notes.pulse)
        for key in ("syndromes", "tcm_diseases", "wm_diseases", "treatments", "formula"):
            form[key] = list(notes.lists.get(key, []))
        form["herbs"] = list(notes.herbs)
        for name in FIELDS[self.case.specialty]:
            form[name] = final_value(name, notes.fields.get(name, [])) if name in notes.fields else empty(name)
        return default_schema().complete_form(self.case.specialty, form)


def generate_record(seed: int, index: int, linked_symptoms: bool = False) -> GeneratedRecord:
    """Record ``index`` of the corpus for ``seed`` (independent of the others).

    ``linked_symptoms`` draws each syndrome's characteristic symptoms more often
    (:func:`tcm_desktop.demo.gen_case.symptom_links`); off, the corpus is the usual one.
    """
    rng = _record_rng(seed, index)
    state = _Record(rng, _pick_specialty(rng), linked_symptoms)
    tb = state.long_note() if rng.random() < LONG_SHARE else state.outpatient(follow_up=rng.random() < 0.3)
    text = tb.text().rstrip()
    spans = tuple(s for s in tb.spans if s.end <= len(text))
    form = state.form()
    form["tongue"] = joined_findings(text, spans, ("TONGUE_BODY", "TONGUE_COAT"))
    record = Record(
        id=f"DEMO-{index + 1:05d}",
        specialty=state.case.specialty,
        text=text,
        image=None,
        spans=spans,
        form=form,
    )
    return GeneratedRecord(record=record, tongue=state.truth, case=state.case)


def generate_records(n: int, seed: int = 0, linked_symptoms: bool = False) -> Iterator[GeneratedRecord]:
    """``n`` records, deterministic by ``seed``; ids DEMO-00001, DEMO-00002 ..."""
    for index in range(n):
        yield generate_record(seed, index, linked_symptoms)
