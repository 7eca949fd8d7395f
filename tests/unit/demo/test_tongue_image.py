"""Tests for the procedural tongue photo renderer."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from tcm_desktop.demo.tongue_image import (
    COAT_COLORS,
    COAT_THICKNESSES,
    TONGUE_COLORS,
    TongueState,
    random_tongue_state,
    render_tongue,
    tongue_mask,
)

SMALL = (160, 120)
BASE = TongueState("淡红", "白", "薄", False, False)


def _with(**kw: object) -> TongueState:
    return TongueState(**{**BASE.__dict__, **kw})  # type: ignore[arg-type]


def _mean_rgb(state: TongueState, seed: int, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    img = render_tongue(state, seed, size).astype(np.float64)
    m = tongue_mask(state, seed, size) > 0
    return img[m][:, ::-1].mean(axis=0)  # RGB


def test_shape_dtype_and_custom_size() -> None:
    img = render_tongue(BASE, 1)
    assert img.shape == (240, 320, 3) and img.dtype == np.uint8
    img2 = render_tongue(BASE, 1, size=(200, 150))
    assert img2.shape == (150, 200, 3)
    m = tongue_mask(BASE, 1, size=(200, 150))
    assert m.shape == (150, 200) and m.dtype == np.uint8
    assert set(np.unique(m)) <= {0, 255}
    assert 0.1 < (m > 0).mean() < 0.6


def test_deterministic() -> None:
    s = TongueState("红", "黄白相间", "腻", True, True)
    assert np.array_equal(render_tongue(s, 42), render_tongue(s, 42))
    assert np.array_equal(tongue_mask(s, 42, (320, 240)), tongue_mask(s, 42, (320, 240)))


def test_different_seeds_differ() -> None:
    a, b = render_tongue(BASE, 1), render_tongue(BASE, 2)
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 5
    assert not np.array_equal(tongue_mask(BASE, 1, (320, 240)), tongue_mask(BASE, 2, (320, 240)))


def test_every_combination_renders() -> None:
    combos = itertools.product(TONGUE_COLORS, COAT_COLORS, COAT_THICKNESSES, (False, True), (False, True))
    for i, (tc, cc, th, fi, tm) in enumerate(combos):
        img = render_tongue(TongueState(tc, cc, th, fi, tm), i, SMALL)
        assert img.shape == (120, 160, 3) and img.dtype == np.uint8
        assert 20 < img.mean() < 240


def test_mask_matches_rendered_tongue() -> None:
    # The mask must follow the pose: a strongly coloured tongue differs from its surround.
    s = _with(tongue_color="绛", coat_thickness="少苔/无苔")
    for seed in range(5):
        img = render_tongue(s, seed).astype(np.float64)
        m = tongue_mask(s, seed, (320, 240)) > 0
        redness = img[..., 2] - img[..., 1]
        assert redness[m].mean() > redness[~m].mean() + 40


@pytest.mark.parametrize("seed", range(6))
def test_body_colour_ordering(seed: int) -> None:
    thin = {"coat_thickness": "少苔/无苔"}
    pale = _mean_rgb(_with(tongue_color="淡白", **thin), seed)
    pink = _mean_rgb(_with(tongue_color="淡红", **thin), seed)
    red = _mean_rgb(_with(tongue_color="红", **thin), seed)
    crimson = _mean_rgb(_with(tongue_color="绛", **thin), seed)
    purple = _mean_rgb(_with(tongue_color="暗红/紫暗", **thin), seed)
    # lighter -> darker
    assert pale.sum() > pink.sum() > red.sum() > crimson.sum()
    assert pale.sum() > purple.sum() + 150
    # redness (R - G) grows from pale to red/crimson; purple has more blue than crimson
    assert pale[0] - pale[1] < pink[0] - pink[1] < red[0] - red[1]
    assert crimson[0] - crimson[1] > pale[0] - pale[1] + 60
    assert purple[2] - purple[1] > crimson[2] - crimson[1]


@pytest.mark.parametrize("seed", range(4))
def test_coat_colour_shows_in_centre(seed: int) -> None:
    white = _mean_rgb(_with(coat_color="白", coat_thickness="厚"), seed)
    yellow = _mean_rgb(_with(coat_color="黄", coat_thickness="厚"), seed)
    grey = _mean_rgb(_with(coat_color="灰黑", coat_thickness="厚"), seed)
    assert white[2] - yellow[2] > 25  # yellow coat has less blue
    assert grey.sum() < white.sum() - 150


@pytest.mark.parametrize("seed", range(4))
def test_thick_coat_covers_more_than_scant(seed: int) -> None:
    # A white coat on a red body: more coating -> lighter, less red tongue region.
    thick = _mean_rgb(_with(tongue_color="红", coat_thickness="厚"), seed)
    thin = _mean_rgb(_with(tongue_color="红", coat_thickness="薄"), seed)
    scant = _mean_rgb(_with(tongue_color="红", coat_thickness="少苔/无苔"), seed)
    assert thick[1] > thin[1] > scant[1]


def _luma_in_mask(state: TongueState, seed: int) -> np.ndarray:
    img = render_tongue(state, seed).astype(np.float64)
    return img.mean(axis=2)[tongue_mask(state, seed, (320, 240)) > 0]


@pytest.mark.parametrize("seed", range(5))
def test_fissures_add_dark_lines(seed: int) -> None:
    for base in (_with(coat_thickness="厚"), _with(tongue_color="红", coat_thickness="少苔/无苔")):
        off = _luma_in_mask(base, seed)
        on = _luma_in_mask(TongueState(**{**base.__dict__, "fissure": True}), seed)
        dark = 0.75 * np.median(off)  # same threshold for both renders (same seed -> same geometry)
        frac_off, frac_on = (off < dark).mean(), (on < dark).mean()
        assert frac_on > frac_off + 0.004, (frac_off, frac_on)
        # thin lines, not a global darkening: most pixels are unchanged
        assert np.mean(np.abs(on - off) < 8) > 0.8


@pytest.mark.parametrize("seed", range(4))
def test_tooth_marks_scallop_the_edge(seed: int) -> None:
    plain = tongue_mask(BASE, seed, (320, 240)) > 0
    marked = tongue_mask(_with(tooth_marks=True), seed, (320, 240)) > 0
    # Widened body, but notches make the outline longer relative to its area.
    assert marked.sum() > plain.sum()

    def perimeter(m: np.ndarray) -> int:
        return int((m[:, 1:] != m[:, :-1]).sum() + (m[1:] != m[:-1]).sum())

    assert perimeter(marked) / np.sqrt(marked.sum()) > perimeter(plain) / np.sqrt(plain.sum()) + 0.1


def test_dict_round_trip() -> None:
    for tc, cc, th, fi, tm in itertools.product(TONGUE_COLORS, COAT_COLORS, COAT_THICKNESSES, (0, 1), (0, 1)):
        s = TongueState(tc, cc, th, bool(fi), bool(tm))
        d = s.to_dict()
        assert d["fissure"] in ("有", "无") and d["tooth_marks"] in ("有", "无")
        assert TongueState.from_dict(d) == s
    assert TongueState.from_dict({**BASE.to_dict(), "fissure": True}).fissure is True


@pytest.mark.parametrize(
    ("field", "value"),
    [("tongue_color", "蓝"), ("coat_color", "绿"), ("coat_thickness", "极厚"), ("fissure", "yes"), ("tooth_marks", 1)],
)
def test_bad_values_raise(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        TongueState(**{**BASE.__dict__, field: value})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=field):
        TongueState.from_dict({**BASE.to_dict(), field: value})


def test_from_dict_bad_keys() -> None:
    d = BASE.to_dict()
    del d["coat_color"]
    with pytest.raises(ValueError, match="coat_color"):
        TongueState.from_dict(d)
    with pytest.raises(ValueError, match="colour"):
        TongueState.from_dict({**BASE.to_dict(), "colour": "红"})


def test_random_state_covers_values() -> None:
    rng = random.Random(7)
    states = [random_tongue_state(rng) for _ in range(600)]
    assert {s.tongue_color for s in states} == set(TONGUE_COLORS)
    assert {s.coat_color for s in states} == set(COAT_COLORS)
    assert {s.coat_thickness for s in states} == set(COAT_THICKNESSES)
    assert 0.05 < np.mean([s.fissure for s in states]) < 0.5
    assert 0.05 < np.mean([s.tooth_marks for s in states]) < 0.6
    again = random.Random(7)
    assert [random_tongue_state(again) for _ in range(600)] == states
