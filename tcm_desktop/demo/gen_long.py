"""Long inpatient notes: 入院记录 + 首次病程记录 + several 日常病程记录 + 出院记录.

The specialty fields follow a trajectory over the stay; the discharge note states the
latest value, which is what the form takes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tcm_desktop.demo.gen_exam import exam_extras, progress
from tcm_desktop.demo.gen_fields import FIELDS, trajectory
from tcm_desktop.demo.gen_sections import Writer
from tcm_desktop.demo.gen_text import TextBuilder

if TYPE_CHECKING:
    from tcm_desktop.demo.generator import _Record

MAX_DAYS = 40
ANALYSIS = (
    "上级医师查房后指出：患者病情较前好转，继续目前治疗方案，密切观察病情变化",
    "主治医师查房：四诊合参，辨证同前，守方继服，注意饮食调护",
    "今日查房，患者一般情况可，治疗有效，继续予中药汤剂口服及中医特色治疗",
    "病情平稳，治疗方案暂不调整，嘱患者适当活动，避免劳累，保持心情舒畅",
    "患者对治疗依从性好，病情逐步改善，继续观察",
    "结合辅助检查结果，目前诊断明确，治疗上继续当前方案，必要时调整",
)
DAY_TITLES = ("日常病程记录", "主治医师查房记录", "上级医师查房记录", "主任医师查房记录", "病程记录")


def _spec(r: _Record, note: str, header: str) -> dict[str, Any]:
    for spec in r.v.misc["section_headers"][note]["order"]:
        if spec["header"] == header:
            return dict(spec)
    return {"header": header, "alternatives": [], "required": True}


def _section(r: _Record, w: Writer, note: str, header: str, body: Callable[[], None]) -> None:
    w.header(_spec(r, note, header))
    body()
    w.tb.raw(r.section_sep)


def _field_writers(r: _Record, tb: TextBuilder, paths: dict[str, list[Any]], i: int) -> tuple[list[Any], list[Any]]:
    now, exam = [], []
    for name, path in paths.items():
        if path[i] is None:
            continue
        target = exam if name in ("vas_score", "healthy_wrist_circumference_cm") else now
        target.append(r.state_writer(tb, name, path[i]))
    return now, exam


def write_long_note(r: _Record) -> TextBuilder:
    rng = r.rng
    tb = r.builder()
    w = r.writer(tb)
    paths = {name: trajectory(rng, name, MAX_DAYS + 2) for name in FIELDS[r.case.specialty]}
    target = rng.uniform(4500, 7800)
    fever0 = paths.get("fever", [None])[0]

    # 入院记录
    tb.raw(rng.choice(("入院记录", "住院病历", "入 院 记 录")) + "\n")
    _section(
        r,
        w,
        "入院记录",
        "一般项目",
        lambda: tb.raw(
            f"姓名：某某  性别：{r.case.sex}  年龄：{r.case.age}岁  "
            f"职业：{rng.choice(('退休', '职员', '农民', '教师'))}"
        ),
    )
    now, exam = _field_writers(r, tb, paths, 0)
    _section(r, w, "入院记录", "主诉", w.chief_complaint)
    _section(r, w, "入院记录", "现病史", lambda: w.present_illness(now))
    _section(r, w, "入院记录", "既往史", lambda: w.past_history(None))
    _section(r, w, "入院记录", "个人史", lambda: tb.raw("生于原籍，否认疫区居住史，无烟酒嗜好"))
    _section(r, w, "入院记录", "婚育史", lambda: tb.raw("适龄婚育，配偶及子女体健"))
    _section(r, w, "入院记录", "家族史", lambda: tb.raw("否认家族遗传病史"))
    _section(r, w, "入院记录", "中医望闻切诊", w.tongue_pulse)
    _section(r, w, "入院记录", "体格检查", lambda: w.physical(fever0 if fever0 == "有" else None))
    _section(r, w, "入院记录", "专科检查", lambda: w.special_exam(exam))
    _section(r, w, "入院记录", "辅助检查", w.aux_exams)
    _section(r, w, "入院记录", "入院诊断", lambda: w.diagnosis("both"))
    _section(r, w, "入院记录", "医师签名", lambda: tb.raw("住院医师：某某"))
    tb.raw("\n")

    # 首次病程记录
    tb.raw(rng.choice(("首次病程记录", "首 次 病 程 记 录")) + "\n")
    w.numbering = 0
    _section(r, w, "首次病程记录", "记录时间", lambda: w.date())
    _section(r, w, "首次病程记录", "病例特点", lambda: _features(w))
    _section(r, w, "首次病程记录", "中医辨病辨证依据", lambda: _tcm_basis(w))
    _section(r, w, "首次病程记录", "鉴别诊断", lambda: _differential(w))
    _section(r, w, "首次病程记录", "初步诊断", lambda: w.diagnosis("both"))
    _section(r, w, "首次病程记录", "诊疗计划", lambda: _plan(w))

    # 日常病程记录
    day = 1
    while day <= MAX_DAYS and tb.length < target - 800:
        tb.raw("\n")
        w.date(offset=day)
        tb.raw(" " + rng.choice(DAY_TITLES) + "\n")
        w.numbering = 0
        now, exam = _field_writers(r, tb, paths, day)
        _section(r, w, "日常病程记录", "患者诉", lambda now=now, day=day: _day_complaint(w, now, day))
        _section(r, w, "日常病程记录", "查体", lambda exam=exam: _day_exam(w, exam))
        if rng.random() < 0.5:
            _section(r, w, "日常病程记录", "舌脉", lambda: tb.raw(rng.choice(("舌脉同前", "舌脉象同前", "同前"))))
        if rng.random() < 0.5:
            _section(r, w, "日常病程记录", "辅助检查", w.aux_exams)
        _section(r, w, "日常病程记录", "分析", lambda: tb.raw(rng.choice(ANALYSIS) + tb.style.p("。")))
        plan = rng.choice(("继续当前治疗", "守方继服", "维持原治疗方案"))
        _section(r, w, "日常病程记录", "处理", lambda plan=plan: tb.raw(plan))
        day += 1

    # 出院记录
    tb.raw("\n" + rng.choice(("出院记录", "出院小结")) + "\n")
    w.numbering = 0
    _section(r, w, "出院记录", "入院日期", lambda: w.date())
    _section(r, w, "出院记录", "出院日期", lambda: w.date(offset=day + 1))
    _section(r, w, "出院记录", "住院天数", lambda: (tb.raw("共"), tb.ent(f"{day + 2}天", "TIME")))
    _section(r, w, "出院记录", "入院情况", lambda: (w.symptoms(r.case.symptoms[:2]), w.end()))
    _section(r, w, "出院记录", "入院诊断", lambda: w.diagnosis("both"))
    _section(r, w, "出院记录", "诊疗经过", lambda: _course(w))
    now, exam = _field_writers(r, tb, {k: [p[-1]] for k, p in paths.items()}, 0)
    _section(r, w, "出院记录", "出院情况", lambda: _discharge_state(w, now + exam))
    _section(r, w, "出院记录", "出院诊断", lambda: w.diagnosis("both"))
    _section(r, w, "出院记录", "出院医嘱", w.orders)
    _section(r, w, "出院记录", "医师签名", lambda: tb.raw("主治医师：某某"))
    return tb


def _features(w: Writer) -> None:
    tb = w.tb
    tb.raw(f"患者{w.case.sex}，{w.case.age}岁，以")
    w.symptoms(w.case.symptoms[:2])
    tb.raw("为主要表现入院")
    w.sep()
    w.filler(2)
    w.end()


def _tcm_basis(w: Writer) -> None:
    tb = w.tb
    tb.raw("患者以")
    w.symptoms(w.case.symptoms[:1])
    tb.raw("为主症，四诊合参，当属中医“")
    tb.ent(w.case.tcm_disease, "TCM_DISEASE")
    tb.raw("”范畴，证属")
    tb.join(w.case.syndromes, w._syndrome, "、")
    tb.raw(w.rng.choice(("。病位在脾胃，病性属本虚标实。", "。", "，病机为邪实正虚。")))


def _differential(w: Writer) -> None:
    tb = w.tb
    other = w.rng.choice(w.v.terms("WM_DISEASE", w.case.specialty))
    tb.raw("需与")
    tb.ent(other["term"], "WM_DISEASE")
    tb.raw("相鉴别，根据病史及检查结果可资鉴别")
    if w.rng.random() < 0.5:
        tb.p("，")
        tb.raw("暂")
        tb.ent("排除", "NEGATION")
        mine = {w.v.canonical.get(d, d) for d in w.case.wm_diseases}
        others = [d["term"] for d in w.v.terms("WM_DISEASE", w.case.specialty) if d["term"] not in mine]
        tb.ent(w.rng.choice(others), "WM_DISEASE")
    w.end()


def _plan(w: Writer) -> None:
    tb = w.tb
    tb.raw("1.完善相关检查；2.治以")
    w.treatment()
    tb.raw("3.中药汤剂：")
    w.prescription()
    tb.raw("4.")
    w.orders()


def _day_complaint(w: Writer, now: list[Any], day: int) -> None:
    progress(w, day, now)


def _day_exam(w: Writer, exam: list[Any]) -> None:
    if w.case.specialty != "respiratory" or w.rng.random() < 0.5:
        w.vitals(None)
    w.filler(1)
    if w.rng.random() < 0.4:
        w.sep()
        exam_extras(w)
    for write in exam:
        w.sep()
        write()
    w.end()


def _course(w: Writer) -> None:
    tb = w.tb
    tb.raw("入院后完善相关检查，中医治以")
    tb.join(w.case.treatments, w._treat, "、")
    tb.raw("，方选")
    w.formulas(in_form=False)  # as before the pairs: the course section's formula is not noted for the form
    last = w.case.formula_partner or w.case.formula
    tb.raw("" if last.endswith(("加减", "加味")) else "加减")
    if w.case.procedures:
        tb.raw("，并行")
        w._treat(w.case.procedures[0])
    tb.raw("治疗，经治疗后患者症状")
    tb.ent(w.rng.choice(("明显好转", "好转", "缓解")), "SEVERITY")
    w.end()


def _discharge_state(w: Writer, writers: list[Any]) -> None:
    tb = w.tb
    tb.ent("出院时", "TIME") if w.rng.random() < 0.6 else tb.raw("现")
    tb.raw("患者")
    w.filler(2)
    for write in writers:
        w.sep()
        write()
    w.end()
