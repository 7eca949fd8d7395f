"""Items of one record: syndromes, symptoms, signs, tongue, pulse qualities, herbs."""

from __future__ import annotations

from mining_testkit import keys

from tcm_desktop.mining import Findings, Item, ItemKind, pulse_qualities, transaction_from_findings


def test_a_record_gives_its_structured_items() -> None:
    form = {
        "syndromes": ["肝郁气滞证", "  "],
        "tongue_color": "红",
        "coat_color": "黄",
        "coat_thickness": "未提及",
        "fissure": "有",
        "tooth_marks": "无",
        "pulse": "右关脉弦滑，脉沉细无力",
        "herbs": [{"herb": "柴胡", "dose": "6g"}, {"herb": "白芍", "dose": None}, {"dose": "3g"}],
        "diarrhea_frequency": "每日>6次",
    }
    transaction = transaction_from_findings(Findings("R1", form, symptoms=("口苦", "胁肋胀痛"), signs=("压痛",)))
    assert transaction.record_id == "R1"
    assert keys(transaction.items) == sorted(
        [
            "syndrome=肝郁气滞证",
            "symptom=口苦",
            "symptom=胁肋胀痛",
            "sign=压痛",
            "tongue=舌色:红",
            "tongue=苔色:黄",
            "tongue=裂纹",
            "pulse=弦",
            "pulse=滑",
            "pulse=沉",
            "pulse=细",
            "herb=柴胡",
            "herb=白芍",
        ]
    )


def test_the_normaliser_maps_surface_forms_to_terms() -> None:
    terms = {("SYNDROME", "肝气郁结证"): "肝郁气滞证", ("SYM", "胁痛"): "胁肋胀痛", ("HERB", "北柴胡"): "柴胡"}
    form = {"syndromes": ["肝气郁结证"], "herbs": [{"herb": "北柴胡", "dose": "6g"}]}
    transaction = transaction_from_findings(
        Findings("R1", form, symptoms=("胁痛",)), normalise=lambda label, text: terms.get((label, text), text)
    )
    assert keys(transaction.items) == ["herb=柴胡", "symptom=胁肋胀痛", "syndrome=肝郁气滞证"]


def test_an_empty_or_odd_form_gives_no_items() -> None:
    form = {"syndromes": "not a list", "herbs": "党参", "pulse": None, "tongue_color": "未提及"}
    assert transaction_from_findings(Findings("R1", form)).items == frozenset()


def test_pulse_qualities_skip_positions_and_strength() -> None:
    assert pulse_qualities("左寸脉浮紧，右关脉弦细数无力") == ["浮", "紧", "弦", "细", "数"]
    assert pulse_qualities("脉象平和") == []


def test_item_keys_round_trip_and_read_in_chinese() -> None:
    item = Item(ItemKind.TONGUE, "舌色:红")
    assert Item.from_key(item.key) == item
    assert str(item) == "舌象:舌色:红"
    assert item.to_dict() == {"kind": "tongue", "value": "舌色:红"}
