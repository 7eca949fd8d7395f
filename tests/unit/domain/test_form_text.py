from __future__ import annotations

from tcm_desktop.domain import Span
from tcm_desktop.domain.form_text import findings_as_written, joined_findings

TONGUE = ("TONGUE_BODY", "TONGUE_COAT")


def test_negated_findings_keep_their_cue_across_a_list() -> None:
    text = "舌淡红，苔薄白，无齿痕及裂纹；脉细"
    spans = [
        Span(0, 3, "TONGUE_BODY", "舌淡红"),
        Span(4, 7, "TONGUE_COAT", "苔薄白"),
        Span(8, 9, "NEGATION", "无"),
        Span(9, 11, "TONGUE_BODY", "齿痕"),
        Span(12, 14, "TONGUE_BODY", "裂纹"),
        Span(15, 17, "PULSE", "脉细"),
    ]
    assert joined_findings(text, spans, TONGUE) == "舌淡红，苔薄白，无齿痕，无裂纹"


def test_a_cue_stops_at_punctuation_and_at_other_findings() -> None:
    text = "无发热，舌有裂纹，无齿痕，舌胖"
    spans = [
        Span(0, 1, "NEGATION", "无"),
        Span(1, 3, "SYM", "发热"),
        Span(4, 8, "TONGUE_BODY", "舌有裂纹"),
        Span(9, 10, "NEGATION", "无"),
        Span(10, 12, "TONGUE_BODY", "齿痕"),
        Span(13, 15, "TONGUE_BODY", "舌胖"),
    ]
    assert findings_as_written(text, spans, TONGUE) == ["舌有裂纹", "无齿痕", "舌胖"]
    assert findings_as_written(text, [], TONGUE) == []
