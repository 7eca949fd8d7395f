"""Form filling from text and spans: every SCHEMA.md normalisation rule, evidence, defaults, tongue photo merge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tcm_desktop.demo.generator import generate_records
from tcm_desktop.domain import NOT_MENTIONED, FormValue, SchemaError, SetBy, Span, default_schema
from tcm_desktop.inference.form_context import find_sections, parse_numbers
from tcm_desktop.inference.form_filling import FAMILIES, context, fill_form, merge_tongue_attributes
from tcm_desktop.inference.form_vocab import default_rule_book, parse_rule_book
from tcm_desktop.inference.tongue_fusion import load_tongue_labels

Item = tuple[str, str]


def spans_of(text: str, *items: Item) -> list[Span]:
    """Spans for (substring, label) pairs, each found after the previous one."""
    out, cursor = [], 0
    for piece, label in items:
        start = text.index(piece, cursor)
        out.append(Span(start, start + len(piece), label, piece))
        cursor = start + len(piece)
    return out


def form(text: str, items: list[Item], specialty: str = "general") -> dict[str, Any]:
    return {v.field: v.value for v in fill_form(text, spans_of(text, *items), specialty)}


def value_of(text: str, items: list[Item], specialty: str, name: str) -> Any:
    return form(text, items, specialty)[name]


# ---- shape: every field, defaults, evidence -----------------------------------------------------


@pytest.mark.parametrize("specialty", default_schema().specialty_codes)
def test_every_field_of_the_specialty_in_schema_order(specialty: str) -> None:
    filled = fill_form("", [], specialty)
    assert [v.field for v in filled] == [f.name for f in default_schema().fields_for(specialty)]
    assert all(v.set_by is SetBy.MODEL and v.evidence == () for v in filled)


@pytest.mark.parametrize("specialty", default_schema().specialty_codes)
def test_a_record_that_says_nothing_gets_the_empty_values(specialty: str) -> None:
    filled = {v.field: v.value for v in fill_form("神志清楚，精神可。", [], specialty)}
    assert filled == default_schema().empty_form(specialty)
    assert filled["tongue_color"] == NOT_MENTIONED and filled["herbs"] == [] and filled["chief_complaint"] == ""


def test_unknown_specialty_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        fill_form("", [], "cardiology")


def test_evidence_points_at_the_spans_a_value_came_from() -> None:
    text = "刻下：咳黄痰，无发热。舌淡红，苔薄白，脉浮数。"
    spans = spans_of(
        text,
        ("咳", "SYM"),
        ("黄", "COLOR"),
        ("痰", "SYM"),
        ("无", "NEGATION"),
        ("发热", "SYM"),
        ("舌淡红", "TONGUE_BODY"),
        ("苔薄白", "TONGUE_COAT"),
        ("脉浮数", "PULSE"),
    )
    filled = {v.field: v for v in fill_form(text, spans, "respiratory")}
    assert filled["sputum_color"] == FormValue("sputum_color", "黄", (1, 2), SetBy.MODEL)
    assert filled["fever"].value == "无" and filled["fever"].evidence == (3, 4)
    assert filled["tongue_color"].evidence == (5,)
    assert filled["coat_thickness"].evidence == (6,)
    assert filled["pulse"].value == "脉浮数" and filled["pulse"].evidence == (7,)
    assert filled["tongue"].value == "舌淡红，苔薄白"


def test_values_have_the_types_of_the_gold_form() -> None:
    text = "处方：党参15g 炒白术 10g，茯苓12克\n7剂，水煎服"
    items = [("党参", "HERB"), ("15g", "DOSE"), ("炒白术", "HERB"), ("10g", "DOSE"), ("茯苓", "HERB")]
    items += [("12克", "DOSE"), ("7剂", "USAGE"), ("水煎服", "USAGE")]
    assert form(text, items)["herbs"] == [
        {"herb": "党参", "dose": "15g"},
        {"herb": "炒白术", "dose": "10g"},
        {"herb": "茯苓", "dose": "12克"},
    ]


def test_generated_records_come_out_as_their_gold_form() -> None:
    for generated in generate_records(25, seed=3):
        record = generated.record
        filled = {v.field: v.value for v in fill_form(record.text, record.spans, record.specialty)}
        assert filled == default_schema().complete_form(record.specialty, record.form), record.id


# ---- sections, chief complaint, lists -------------------------------------------------------------


def test_sections_are_found_from_headers_in_their_many_layouts() -> None:
    text = "【主诉】腹痛3天 【现病史】患者3天前腹痛。\n二、既往史：体健\n（三）中医诊断泄泻\n体格检查 T 36.5℃"
    kinds = [(s.kind, s.header) for s in find_sections(text, default_rule_book().headers)]
    assert kinds == [
        ("complaint", "主诉"),
        ("present", "现病史"),
        ("history", "既往史"),
        ("diagnosis", "中医诊断"),
        ("exam", "体格检查"),
    ]


def test_a_header_may_carry_a_bracketed_note() -> None:
    text = "主诉（患者自述）：腹痛3天\n专科检查（截石位):截石位3点可见肿物"
    sections = find_sections(text, default_rule_book().headers)
    assert [(s.kind, text[s.body_start : s.end].strip()) for s in sections] == [
        ("complaint", "腹痛3天"),
        ("exam", "截石位3点可见肿物"),
    ]


def test_a_header_word_inside_a_sentence_is_not_a_header() -> None:
    text = "现病史：既往有高血压病史，嘱低盐饮食。"
    assert [s.header for s in find_sections(text, default_rule_book().headers)] == ["现病史"]


def test_chief_complaint_is_its_section_as_written() -> None:
    text = "主诉：便血，色鲜红1周\n现病史：患者1周前便血。"
    assert form(text, [("便血", "SYM"), ("鲜红", "COLOR"), ("1周", "TIME")])["chief_complaint"] == "便血，色鲜红1周"


def test_lists_are_normalised_deduplicated_and_leave_out_history_and_negated() -> None:
    text = (
        "既往史：有高血压病史。\n鉴别诊断：需与肠易激综合征相鉴别。\n"
        "中医诊断：泄泻（肝气郁结证）\n西医诊断：溃疡性结肠炎，否认糖尿病\n出院诊断：泄泻，肝郁气滞证"
    )
    items = [("高血压", "WM_DISEASE"), ("肠易激综合征", "WM_DISEASE"), ("泄泻", "TCM_DISEASE")]
    items += [("肝气郁结证", "SYNDROME"), ("溃疡性结肠炎", "WM_DISEASE"), ("否认", "NEGATION")]
    items += [("糖尿病", "WM_DISEASE"), ("泄泻", "TCM_DISEASE"), ("肝郁气滞证", "SYNDROME")]
    filled = form(text, items)
    assert filled["wm_diseases"] == ["溃疡性结肠炎"]
    assert filled["tcm_diseases"] == ["泄泻"]
    assert filled["syndromes"] == ["肝郁气滞证"]  # 肝气郁结证 is its synonym


def test_treatments_of_earlier_care_are_not_this_visits() -> None:
    text = "现病史：3年前行痔切除术。\n治法：清热利湿\n医嘱：予中药熏洗"
    items = [("痔切除术", "TREATMENT"), ("清热利湿", "TREATMENT"), ("中药熏洗", "TREATMENT")]
    assert form(text, items)["treatments"] == ["清热利湿", "中药熏洗"]


# ---- ranges, numerals, buckets --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "bucket"),
    [
        ("每日5~8次", "每日>6次"),  # the upper bound of a range decides
        ("每日3～4次", "每日4~6次"),
        ("2~3次/日", "每日<4次"),
        ("每日五到八次", "每日>6次"),  # Chinese numerals count
        ("每日两次", "每日<4次"),
        ("日三四次", "每日4~6次"),
        ("一日七八行", "每日>6次"),
        ("每日十余次", "每日>6次"),
        ("10余次/日", "每日>6次"),
        ("每日不超过3次", "每日<4次"),
        ("每日6次", "每日4~6次"),
    ],
)
def test_diarrhoea_counts_take_the_upper_bound(written: str, bucket: str) -> None:
    text = f"刻下：腹泻{written}。"
    assert value_of(text, [("腹泻", "SYM"), (written, "FREQUENCY")], "gastro", "diarrhea_frequency") == bucket


def test_a_count_without_a_span_for_the_stool_still_counts() -> None:
    text = "刻下：大便日行5~8次，质稀。"
    assert value_of(text, [("日行5~8次", "FREQUENCY")], "gastro", "diarrhea_frequency") == "每日>6次"


def test_counts_that_are_not_per_day_or_not_of_stool_say_nothing() -> None:
    assert value_of("腹泻一日数次。", [("腹泻", "SYM"), ("一日数次", "FREQUENCY")], "gastro", "diarrhea_frequency") == (
        NOT_MENTIONED
    )
    assert value_of("腹痛每日3次。", [("腹痛", "SYM"), ("每日3次", "FREQUENCY")], "gastro", "diarrhea_frequency") == (
        NOT_MENTIONED
    )


def test_counts_of_other_things_are_not_diarrhoea() -> None:
    text = "小便每日10余次，大便干结，每日1次。"
    items = [("小便", "SYM"), ("每日10余次", "FREQUENCY"), ("大便干结", "SYM"), ("每日1次", "FREQUENCY")]
    assert value_of(text, items, "gastro", "diarrhea_frequency") == NOT_MENTIONED


def test_numbers_in_arabic_and_chinese() -> None:
    values = [n.value for n in parse_numbers("两三次，十二，二十余，18.5cm，七八")]
    assert values == [2, 3, 12, 20, 18.5, 7, 8]
    assert parse_numbers("十余次", ["余"])[0].more


@pytest.mark.parametrize(("written", "score"), [("6分", 6), ("七分", 7), ("两分", 2), ("6/10", 6), ("5～6分", 6)])
def test_vas_scores(written: str, score: int) -> None:
    text = f"VAS评分{written}。"
    assert value_of(text, [("VAS评分", "EXAM"), (written, "MEASURE")], "orthopedics", "vas_score") == score


def test_a_different_score_is_not_vas() -> None:
    assert value_of("NRS评分5分", [("NRS评分", "EXAM"), ("5分", "MEASURE")], "orthopedics", "vas_score") is None


# ---- colours ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "items", "expected"),
    [
        ("咳黄痰", [("咳", "SYM"), ("黄", "COLOR"), ("痰", "SYM")], "黄"),
        ("痰色黄白相间", [("痰", "SYM"), ("黄白相间", "COLOR")], "黄白相间"),  # mixed colours are their own value
        ("咳黄绿色痰", [("咳", "SYM"), ("黄绿色", "COLOR"), ("痰", "SYM")], "绿"),  # 黄绿色痰 -> 绿
        ("痰淡黄", [("痰", "SYM"), ("淡黄", "COLOR")], "黄"),  # a qualifier keeps the base colour
        ("咳痰，色白，量多", [("咳痰", "SYM"), ("白", "COLOR"), ("量多", "SEVERITY")], "白"),
        ("痰色由黄转白", [("痰", "SYM"), ("黄", "COLOR"), ("白", "COLOR")], "白"),  # the later colour
        ("干咳无痰", [("干咳", "SYM"), ("无", "NEGATION"), ("痰", "SYM")], "无痰"),
        ("不伴咳痰", [("不伴", "NEGATION"), ("咳痰", "SYM")], "无痰"),
        ("痰中带血", [("痰中带血", "SYM")], NOT_MENTIONED),
    ],
)
def test_sputum_colour(text: str, items: list[Item], expected: str) -> None:
    assert value_of(text, items, "respiratory", "sputum_color") == expected


@pytest.mark.parametrize(
    ("text", "items", "expected"),
    [
        ("便血，色鲜红", [("便血", "SYM"), ("鲜红", "COLOR")], "鲜红"),
        ("大便带血1周，血色暗红", [("大便带血", "SYM"), ("1周", "TIME"), ("暗红", "COLOR")], "暗红"),
        ("便血3天", [("便血", "SYM"), ("3天", "TIME")], NOT_MENTIONED),
        ("否认便血", [("否认", "NEGATION"), ("便血", "SYM")], "无便血"),
        ("无明显便血", [("无", "NEGATION"), ("明显", "SEVERITY"), ("便血", "SYM")], "无便血"),
        ("便血已止", [("便血", "SYM"), ("已止", "SEVERITY")], "无便血"),
    ],
)
def test_stool_blood_colour(text: str, items: list[Item], expected: str) -> None:
    assert value_of(text, items, "anorectal", "stool_blood_color") == expected


# ---- tongue -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "colour"),
    [
        ("淡红偏暗", "淡红"),
        ("舌偏红", "红"),
        ("舌淡", "淡白"),
        ("舌淡胖", "淡白"),
        ("舌淡紫", "暗红/紫暗"),
        ("舌暗", "暗红/紫暗"),
        ("舌质暗红", "暗红/紫暗"),
        ("舌红偏暗", "红"),
        ("舌尖边红", "红"),
        ("舌绛", "绛"),
        ("舌体胖大", NOT_MENTIONED),
        ("舌下络脉青紫", NOT_MENTIONED),
    ],
)
def test_tongue_body_colour_keeps_the_base_colour(body: str, colour: str) -> None:
    assert value_of(body, [(body, "TONGUE_BODY")], "general", "tongue_color") == colour


@pytest.mark.parametrize(
    ("coat", "colour", "thickness"),
    [
        ("苔薄白", "白", "薄"),
        ("苔黄厚腻", "黄", "腻"),  # 腻 beats 厚 beats 薄
        ("苔白厚", "白", "厚"),
        ("苔少", NOT_MENTIONED, "少苔/无苔"),
        ("少苔", NOT_MENTIONED, "少苔/无苔"),
        ("剥苔", NOT_MENTIONED, "少苔/无苔"),
        ("无苔", NOT_MENTIONED, "少苔/无苔"),
        ("苔少微黄", "黄", "少苔/无苔"),
        ("苔白滑", "白", NOT_MENTIONED),  # 苔滑 alone sets no thickness
        ("苔黄白相间", "黄白相间", NOT_MENTIONED),
        ("苔焦黑", "灰黑", NOT_MENTIONED),
    ],
)
def test_tongue_coat(coat: str, colour: str, thickness: str) -> None:
    filled = form(coat, [(coat, "TONGUE_COAT")])
    assert (filled["coat_color"], filled["coat_thickness"]) == (colour, thickness)


def test_coat_thickness_precedence_holds_across_spans_of_one_description() -> None:
    text = "舌淡红，苔薄白，根部腻。"
    assert (
        form(text, [("舌淡红", "TONGUE_BODY"), ("苔薄白", "TONGUE_COAT"), ("根部腻", "TONGUE_COAT")])["coat_thickness"]
        == "腻"
    )


def test_tooth_marks_and_fissures_present_and_negated() -> None:
    present = form(
        "舌淡胖，边有齿痕，舌中裂纹",
        [("舌淡胖", "TONGUE_BODY"), ("边有齿痕", "TONGUE_BODY"), ("舌中裂纹", "TONGUE_BODY")],
    )
    assert (present["tooth_marks"], present["fissure"]) == ("有", "有")
    text = "舌淡红，苔薄白，无齿痕及裂纹"
    items = [("舌淡红", "TONGUE_BODY"), ("苔薄白", "TONGUE_COAT"), ("无", "NEGATION")]
    negated = form(text, [*items, ("齿痕", "TONGUE_BODY"), ("裂纹", "TONGUE_BODY")])
    assert (negated["tooth_marks"], negated["fissure"]) == ("无", "无")
    assert negated["tongue"] == "舌淡红，苔薄白，无齿痕，无裂纹"


def test_the_latest_tongue_description_wins() -> None:
    text = "入院时舌红，苔黄腻。\n出院时舌淡红，苔薄白。"
    items = [("舌红", "TONGUE_BODY"), ("苔黄腻", "TONGUE_COAT"), ("舌淡红", "TONGUE_BODY"), ("苔薄白", "TONGUE_COAT")]
    filled = form(text, items)
    assert (filled["tongue_color"], filled["coat_color"], filled["coat_thickness"]) == ("淡红", "白", "薄")


# ---- negation, presence, temperature ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "items", "expected"),
    [
        ("发热3天", [("发热", "SYM"), ("3天", "TIME")], "有"),
        ("否认发热", [("否认", "NEGATION"), ("发热", "SYM")], "无"),
        ("无发热", [("无", "NEGATION"), ("发热", "SYM")], "无"),
        ("不发热", [("不", "NEGATION"), ("发热", "SYM")], "无"),
        ("无畏寒、发热", [("无", "NEGATION"), ("畏寒", "SYM"), ("发热", "SYM")], "无"),
        ("发热：否", [("发热", "SYM"), ("否", "NEGATION")], "无"),  # a cue written after
        ("发热已退", [("发热", "SYM"), ("已退", "SEVERITY")], "无"),
        ("腹痛，发热", [("腹痛", "SYM"), ("发热", "SYM")], "有"),
        ("T 38.5℃", [("T", "EXAM"), ("38.5℃", "MEASURE")], "有"),
        ("体温36.5℃", [("体温", "EXAM"), ("36.5℃", "MEASURE")], "无"),  # a normal temperature, nothing else said
        ("午后低热，体温36.8℃", [("午后", "TIME"), ("低热", "SYM"), ("体温", "EXAM"), ("36.8℃", "MEASURE")], "有"),
        ("五心烦热", [("五心烦热", "SYM")], NOT_MENTIONED),
    ],
)
def test_fever(text: str, items: list[Item], expected: str) -> None:
    assert value_of(text, items, "respiratory", "fever") == expected


@pytest.mark.parametrize(
    ("text", "items", "expected"),
    [
        ("便后肛内肿物脱出，可自行回纳", [("肛内肿物脱出", "SIGN")], "是"),
        ("否认便后肿物脱出", [("否认", "NEGATION"), ("肿物脱出", "SIGN")], "否"),  # 便后 carries no span
        ("便后肛门无肿物脱出", [("肛门", "BODY_PART"), ("无", "NEGATION"), ("肿物脱出", "SIGN")], "否"),
        ("肛缘肿物3年", [("肛缘", "BODY_PART"), ("肿物", "SIGN"), ("3年", "TIME")], NOT_MENTIONED),
    ],
)
def test_prolapse(text: str, items: list[Item], expected: str) -> None:
    assert value_of(text, items, "anorectal", "prolapse_after_defecation") == expected


def test_mucus_pus_blood_stool() -> None:
    assert (
        value_of("黏液脓血便3月", [("黏液脓血便", "SYM"), ("3月", "TIME")], "gastro", "mucus_pus_blood_stool") == "有"
    )
    negated = [("大便稀溏", "SYM"), ("无", "NEGATION"), ("黏液", "SYM"), ("脓血", "SYM")]
    assert value_of("大便稀溏，无黏液及脓血", negated, "gastro", "mucus_pus_blood_stool") == "无"


# ---- time: the latest value, 刻下 over history ---------------------------------------------------


def test_the_latest_value_wins() -> None:
    text = "入院时VAS评分7分。\n出院时VAS评分4分。"
    items = [("入院时", "TIME"), ("VAS评分", "EXAM"), ("7分", "MEASURE"), ("出院时", "TIME")]
    assert value_of(text, [*items, ("VAS评分", "EXAM"), ("4分", "MEASURE")], "orthopedics", "vas_score") == 4
    text = "VAS评分由7分降至3分"
    assert (
        value_of(text, [("VAS评分", "EXAM"), ("7分", "MEASURE"), ("3分", "MEASURE")], "orthopedics", "vas_score") == 3
    )


def test_current_statement_beats_the_admission_one() -> None:
    text = "入院时腹泻每日8~10次，目前每日2~3次。"
    items = [("入院时", "TIME"), ("腹泻", "SYM"), ("每日8~10次", "FREQUENCY"), ("目前", "TIME")]
    assert value_of(text, [*items, ("每日2~3次", "FREQUENCY")], "gastro", "diarrhea_frequency") == "每日<4次"
    text = "入院时便血色鲜红，出院时无便血"
    items = [("入院时", "TIME"), ("便血", "SYM"), ("鲜红", "COLOR"), ("出院时", "TIME"), ("无", "NEGATION")]
    assert value_of(text, [*items, ("便血", "SYM")], "anorectal", "stool_blood_color") == "无便血"


def test_a_past_symptom_in_past_history_does_not_fill_a_current_field() -> None:
    text = "现病史：肛门坠胀1月。\n既往史：既往有痔病史，偶有便血，色鲜红。"
    items = [("肛门", "BODY_PART"), ("坠胀", "SYM"), ("1月", "TIME"), ("痔病", "TCM_DISEASE"), ("偶有", "FREQUENCY")]
    assert value_of(text, [*items, ("便血", "SYM"), ("鲜红", "COLOR")], "anorectal", "stool_blood_color") == (
        NOT_MENTIONED
    )


def test_a_past_statement_in_the_present_illness_does_not_fill_it_either() -> None:
    text = "现病史：2年前曾有便血，色鲜红，经治疗后好转。3年前曾有便后肿物脱出，行痔切除术后未再脱出。"
    items = [("2年前", "TIME"), ("便血", "SYM"), ("鲜红", "COLOR"), ("好转", "SEVERITY"), ("3年前", "TIME")]
    items += [("肿物脱出", "SIGN"), ("痔切除术", "TREATMENT"), ("未再", "NEGATION"), ("脱出", "SIGN")]
    filled = form(text, items, "anorectal")
    assert filled["stool_blood_color"] == NOT_MENTIONED
    assert filled["prolapse_after_defecation"] == "否"  # 未再脱出 states the present


# ---- circumference ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "items", "expected"),
    [
        ("健侧腕关节周径18.5cm", [("健侧腕关节", "BODY_PART"), ("周径", "EXAM"), ("18.5cm", "MEASURE")], 18.5),
        ("健侧腕关节周径175mm", [("健侧腕关节", "BODY_PART"), ("周径", "EXAM"), ("175mm", "MEASURE")], 17.5),
        (
            "患侧腕关节周径20.1cm，健侧17.6cm",
            [
                ("患侧腕关节", "BODY_PART"),
                ("周径", "EXAM"),
                ("20.1cm", "MEASURE"),
                ("健侧", "BODY_PART"),
                ("17.6cm", "MEASURE"),
            ],
            17.6,
        ),
        (
            "双侧腕关节周径：左17.2cm（健侧），右19.0cm（患侧）",
            [
                ("双侧腕关节", "BODY_PART"),
                ("周径", "EXAM"),
                ("左", "BODY_PART"),
                ("17.2cm", "MEASURE"),
                ("健侧", "BODY_PART"),
                ("右", "BODY_PART"),
                ("19.0cm", "MEASURE"),
                ("患侧", "BODY_PART"),
            ],
            17.2,
        ),
        (
            "腕关节周径（健侧/患侧）：17.3/19.8cm",
            [
                ("腕关节", "BODY_PART"),
                ("周径", "EXAM"),
                ("健侧", "BODY_PART"),
                ("患侧", "BODY_PART"),
                ("17.3", "MEASURE"),
                ("19.8cm", "MEASURE"),
            ],
            17.3,
        ),
        (
            "右腕关节周径较健侧增粗2cm",
            [("右腕关节", "BODY_PART"), ("周径", "EXAM"), ("健侧", "BODY_PART"), ("2cm", "MEASURE")],
            None,
        ),
        ("患侧腕关节周径20.3cm", [("患侧腕关节", "BODY_PART"), ("周径", "EXAM"), ("20.3cm", "MEASURE")], None),
    ],
)
def test_healthy_wrist_circumference(text: str, items: list[Item], expected: float | None) -> None:
    assert value_of(text, items, "orthopedics", "healthy_wrist_circumference_cm") == expected


# ---- the tongue photo -----------------------------------------------------------------------------


def _tongue_form(text: str, items: list[Item]) -> tuple[FormValue, ...]:
    return fill_form(text, spans_of(text, *items), "general")


def test_the_photo_fills_what_the_text_left_unsaid() -> None:
    filled = _tongue_form("舌红，脉弦", [("舌红", "TONGUE_BODY"), ("脉弦", "PULSE")])
    merged, flags = merge_tongue_attributes(
        filled, {"coat_color": {"白": 0.7, "黄": 0.3}, "fissure": {"有": 0.4, "无": 0.6}, "tooth_marks": {"有": 0.45}}
    )
    by_name = {v.field: v for v in merged}
    assert by_name["coat_color"] == FormValue("coat_color", "白", (), SetBy.MODEL)
    assert by_name["fissure"].value == "无"
    assert by_name["tooth_marks"].value == NOT_MENTIONED  # below min_probability
    assert by_name["tongue_color"].value == "红" and flags == ()


def test_the_text_wins_and_a_confident_disagreeing_photo_is_flagged() -> None:
    filled = _tongue_form("舌红，脉弦", [("舌红", "TONGUE_BODY"), ("脉弦", "PULSE")])
    merged, flags = merge_tongue_attributes(filled, {"tongue_color": {"淡红": 0.82, "红": 0.18}})
    assert {v.field: v.value for v in merged}["tongue_color"] == "红"
    assert flags == ("tongue_color: text 红, image 淡红 (0.82)",)
    _, quiet = merge_tongue_attributes(filled, {"tongue_color": {"淡红": 0.4, "红": 0.35, "绛": 0.25}})
    assert quiet == ()


def test_the_photo_label_mapping_loads_as_data() -> None:
    mapping = load_tongue_labels()
    assert mapping["tongue_color"] == {"light": "淡白", "regular": "淡红", "dark": "暗红/紫暗"}
    assert mapping["coat_color"] == {"white": "白", "light_yellow": "黄白相间", "yellow": "黄"}
    assert mapping["fissure"] == {"light": "有", "severe": "有"}
    assert mapping["tooth_marks"] == {"light": "有", "severe": "有"}


def test_a_mapping_to_a_value_the_form_does_not_have_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "tongue_labels.yaml"
    bad.write_text("tongue_color:\n  light: 淡青\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="淡青"):
        load_tongue_labels(bad)
    bad.write_text("tongue_shape:\n  fat: 胖\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="not a form field"):
        load_tongue_labels(bad)


# ---- the rule vocabulary ----------------------------------------------------------------------------


def test_the_rule_vocabulary_names_a_known_family_for_every_field_it_lists() -> None:
    book = default_rule_book()
    names = {f.name for f in default_schema().all_fields()}
    assert set(book.fields) <= names
    assert all(rule.rule in FAMILIES for rule in book.fields.values())


def test_a_broken_rule_vocabulary_says_what_is_missing() -> None:
    with pytest.raises(SchemaError, match="sections"):
        parse_rule_book({"negation": {}})


def test_negation_reaches_over_a_list_but_not_over_a_clause() -> None:
    text = "无恶寒、发热，咳嗽"
    ctx = context(text, spans_of(text, ("无", "NEGATION"), ("恶寒", "SYM"), ("发热", "SYM"), ("咳嗽", "SYM")))
    assert [ctx.negation_cue(i) for i in range(4)] == [None, 0, 0, None]


# ---- spans as a model may cut them -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "items", "specialty", "name", "expected"),
    [
        ("干咳无痰", [("干咳无痰", "SYM")], "respiratory", "sputum_color", "无痰"),  # the cue inside the span
        ("痰黄而黏", [("痰黄而黏", "SYM")], "respiratory", "sputum_color", "黄"),  # the colour inside the span
        (
            "便时喷射状出血，色鲜红",
            [("喷射状出血", "SIGN"), ("鲜红", "COLOR")],
            "anorectal",
            "stool_blood_color",
            "鲜红",
        ),
        ("VAS评分8分→4分", [("VAS评分", "EXAM"), ("8分→4分", "MEASURE")], "orthopedics", "vas_score", 4),
        ("大便日行5~8次", [("大便日行5~8次", "FREQUENCY")], "gastro", "diarrhea_frequency", "每日>6次"),
        ("舌光红无苔", [("舌光红无苔", "TONGUE_BODY")], "general", "coat_thickness", "少苔/无苔"),
        ("舌光红无苔", [("舌光红无苔", "TONGUE_BODY")], "general", "tongue_color", "红"),
        ("舌苔黄厚腻", [("舌苔黄厚腻", "TONGUE_BODY")], "general", "coat_color", "黄"),
        ("舌苔黄厚腻", [("舌苔黄厚腻", "TONGUE_BODY")], "general", "tongue_color", NOT_MENTIONED),
        ("苔淡黄", [("苔淡黄", "TONGUE_COAT")], "general", "tongue_color", NOT_MENTIONED),
    ],
)
def test_spans_cut_differently_still_read(
    text: str, items: list[Item], specialty: str, name: str, expected: Any
) -> None:
    assert value_of(text, items, specialty, name) == expected


def test_a_slash_pair_tagged_as_one_span() -> None:
    text = "腕关节周径（健侧/患侧）：17.3/19.8cm"
    items = [("腕关节", "BODY_PART"), ("周径", "EXAM"), ("健侧", "BODY_PART"), ("患侧", "BODY_PART")]
    assert value_of(text, [*items, ("17.3/19.8cm", "MEASURE")], "orthopedics", "healthy_wrist_circumference_cm") == (
        17.3
    )


def test_known_terms_written_together_are_split() -> None:
    text = "治法：祛风散寒除湿通络。"
    assert form(text, [("祛风散寒除湿通络", "TREATMENT")])["treatments"] == ["祛风散寒", "除湿通络"]
    text = "治法：温针灸治疗。"
    assert form(text, [("温针灸治疗", "TREATMENT")])["treatments"] == ["温针灸治疗"]  # not all known: as written
