"""Lexicon features: B/M/E/S marks per type, overlaps, drop-out, the shipped lexicon."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tcm_desktop.inference.lexicon import Lexicon, LexiconError, format_lexicon
from tcm_desktop.resources import resource_path

TYPES = ("HERB", "FORMULA", "CUE")


def write(tmp_path: Path, entries: list[tuple[str, str]], types: tuple[str, ...] = TYPES) -> Path:
    path = tmp_path / "lexicon.tsv"
    path.write_text(format_lexicon(entries, types, ["test lexicon"]), encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> Lexicon:
    return Lexicon.load(write(tmp_path, [("党参", "HERB"), ("参苓白术散", "FORMULA"), ("白术", "HERB"), ("无", "CUE")]))


def marks(lexicon: Lexicon, text: str) -> list[set[str]]:
    """Per character, the names of the features that are on."""
    features = lexicon.features(text)
    return [{lexicon.feature_names[j] for j in np.flatnonzero(row)} for row in features]


def test_layout_follows_the_header_types(tiny: Lexicon) -> None:
    assert tiny.types == TYPES
    assert tiny.n_features == 12
    assert tiny.feature_names[:5] == ("B-HERB", "M-HERB", "E-HERB", "S-HERB", "B-FORMULA")
    assert tiny.feature_names[-1] == "S-CUE"


def test_two_char_term_is_begin_and_end(tiny: Lexicon) -> None:
    features = tiny.features("用党参。")
    assert features.shape == (4, 12) and features.dtype == np.uint8
    assert marks(tiny, "用党参。") == [set(), {"B-HERB"}, {"E-HERB"}, set()]


def test_single_char_term_is_single(tiny: Lexicon) -> None:
    assert marks(tiny, "无汗") == [{"S-CUE"}, set()]


def test_long_term_marks_every_middle_char(tiny: Lexicon) -> None:
    got = marks(tiny, "参苓白术散")
    assert got[0] == {"B-FORMULA"}
    assert got[1] == {"M-FORMULA"}
    assert got[2] == {"M-FORMULA", "B-HERB"}  # 白术 inside the formula
    assert got[3] == {"M-FORMULA", "E-HERB"}
    assert got[4] == {"E-FORMULA"}


def test_overlapping_matches_all_contribute(tiny: Lexicon) -> None:
    # 党参 and 参苓白术散 share 参; 白术 sits inside the formula.
    text = "党参苓白术散"
    assert tiny.matches(text) == [
        (0, 2, "HERB", "党参"),
        (1, 6, "FORMULA", "参苓白术散"),
        (3, 5, "HERB", "白术"),
    ]
    assert marks(tiny, text)[1] == {"E-HERB", "B-FORMULA"}


def test_repeated_term_is_found_every_time(tiny: Lexicon) -> None:
    assert [m[:2] for m in tiny.matches("党参党参无党参")] == [(0, 2), (2, 4), (4, 5), (5, 7)]


def test_empty_text_and_no_match(tiny: Lexicon) -> None:
    assert tiny.features("").shape == (0, 12)
    assert tiny.matches("") == []
    assert not tiny.features("头痛三天").any()


def test_a_term_with_two_types_marks_both(tmp_path: Path) -> None:
    lexicon = Lexicon.load(write(tmp_path, [("六一散", "HERB"), ("六一散", "FORMULA")]))
    assert marks(lexicon, "六一散") == [{"B-HERB", "B-FORMULA"}, {"M-HERB", "M-FORMULA"}, {"E-HERB", "E-FORMULA"}]


def test_ascii_terms_ignore_case_and_need_word_boundaries(tmp_path: Path) -> None:
    lexicon = Lexicon.load(write(tmp_path, [("WBC", "HERB"), ("tid", "CUE")]))
    assert [m[:2] for m in lexicon.matches("wbc12，Tid口服")] == [(0, 3), (6, 9)]
    assert lexicon.matches("WBCX stidy") == []


def test_drop_rate_one_gives_zeros_and_zero_changes_nothing(tiny: Lexicon) -> None:
    text = "党参苓白术散，无"
    rng = np.random.default_rng(0)
    assert not tiny.features(text, drop_rate=1.0, rng=rng).any()
    assert np.array_equal(tiny.features(text, drop_rate=0.0), tiny.features(text))


def test_drop_rate_drops_whole_matches(tiny: Lexicon) -> None:
    text = "党参" * 200
    features = tiny.features(text, drop_rate=0.5, rng=np.random.default_rng(1))
    begins, ends = features[0::2, 0], features[1::2, 2]
    assert np.array_equal(begins, ends)  # a match keeps both ends or neither
    assert 50 < begins.sum() < 150


def test_bad_drop_rate_is_refused(tiny: Lexicon) -> None:
    with pytest.raises(ValueError):
        tiny.features("党参", drop_rate=1.5)


def test_version_changes_with_content(tmp_path: Path) -> None:
    first = Lexicon.load(write(tmp_path, [("党参", "HERB")]))
    again = Lexicon.load(write(tmp_path, [("党参", "HERB")]))
    changed = Lexicon.load(write(tmp_path, [("党参", "HERB"), ("白术", "HERB")]))
    retyped = Lexicon.load(write(tmp_path, [("党参", "FORMULA")]))
    assert first.version == again.version
    assert len({first.version, changed.version, retyped.version}) == 3
    assert len(first.version) == 12
    header = (tmp_path / "lexicon.tsv").read_text(encoding="utf-8")
    assert f"# version: {retyped.version}" in header


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("# types: HERB\n党参\tHERB\n白术 HERB\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"bad.tsv:3"):
        Lexicon.load(path)
    path.write_text("# types: HERB\n党参\tDRUG\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="DRUG"):
        Lexicon.load(path)


def test_missing_file_is_a_lexicon_error(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="cannot read"):
        Lexicon.load(tmp_path / "nope.tsv")


def test_pickles_for_data_loader_workers(tiny: Lexicon) -> None:
    copy = pickle.loads(pickle.dumps(tiny))
    assert copy.version == tiny.version
    assert np.array_equal(copy.features("党参苓白术散"), tiny.features("党参苓白术散"))


@pytest.fixture(scope="module")
def shipped() -> Lexicon:
    return Lexicon.load()


def test_shipped_lexicon_finds_herb_and_tongue(shipped: Lexicon) -> None:
    assert shipped.types == (
        "HERB", "FORMULA", "SYNDROME", "DISEASE", "SYMPTOM", "TONGUE",
        "PULSE", "TREATMENT", "DRUG", "EXAM", "BODY", "CUE",
    )  # fmt: skip
    found = shipped.matches("党参15g，舌淡红，苔薄白，无发热")
    assert (0, 2, "HERB", "党参") in found
    assert (6, 9, "TONGUE", "舌淡红") in found
    assert (14, 15, "CUE", "无") in found
    features = shipped.features("党参")
    assert features[0, shipped.feature_names.index("B-HERB")] == 1


def test_shipped_lexicon_leaves_out_unsafe_short_terms(shipped: Lexicon) -> None:
    terms = {term for term, _ in shipped.entries}
    assert not terms & {"T", "P", "R", "BP", "CT", "qd"}
    assert all(len(term) >= 2 for term, kind in shipped.entries if kind != "CUE")
    header = resource_path("lexicon", "tcm_lexicon.tsv").read_text(encoding="utf-8")
    assert f"# version: {shipped.version}" in header


def test_shipped_lexicon_is_what_the_build_script_makes() -> None:
    script = Path(__file__).resolve().parents[3] / "scripts" / "build_tcm_lexicon.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_ten_thousand_characters_are_fast(shipped: Lexicon) -> None:
    text = ("患者腹泻每日5~8次，便中带血，舌淡红苔薄白，脉细。处方：党参15g 炒白术10g 参苓白术散加减。" * 300)[:10000]
    shipped.features(text)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        shipped.features(text)
        times.append(time.perf_counter() - start)
    assert sorted(times)[2] < 0.1  # generous for slow CI machines; typically about 5 ms
