"""Procedural synthetic tongue photographs for demo records.

``render_tongue(state, seed)`` draws a face/mouth surround (or a dark backdrop) with a
protruding tongue whose body colour, coating colour/thickness, fissures and tooth marks
follow :class:`TongueState`, plus pose/lighting/noise/JPEG nuisances driven by ``seed``.
Every component draws from its own child RNG stream, so two states that differ in one
attribute render with identical geometry and nuisances (handy for paired comparisons).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tcm_desktop.demo.raster import (
    decode_jpeg,
    discs_coverage,
    encode_jpeg,
    gaussian_blur,
    polygon_coverage,
    polylines_coverage,
    smooth_upscale,
)

TONGUE_COLORS: tuple[str, ...] = ("淡白", "淡红", "红", "绛", "暗红/紫暗")
COAT_COLORS: tuple[str, ...] = ("白", "黄", "黄白相间", "灰黑")
COAT_THICKNESSES: tuple[str, ...] = ("薄", "厚", "腻", "少苔/无苔")
_YES, _NO = "有", "无"
_FIELDS = ("tongue_color", "coat_color", "coat_thickness", "fissure", "tooth_marks")

# RGB reference colours (converted to BGR when rendering).
_BODY_RGB: dict[str, tuple[float, float, float]] = {
    "淡白": (236, 198, 194),
    "淡红": (228, 140, 142),
    "红": (214, 70, 70),
    "绛": (160, 24, 40),
    "暗红/紫暗": (124, 56, 98),
}
_COAT_WHITE = (238, 236, 226)
_COAT_YELLOW = (224, 192, 84)
_COAT_GREY = (92, 88, 84)
# thickness -> (max opacity, half-width in u, half-length in v, centre v, texture amplitude)
_COAT_PARAMS: dict[str, tuple[float, float, float, float, float]] = {
    "薄": (0.5, 0.55, 0.42, 0.36, 0.25),
    "厚": (0.90, 0.74, 0.60, 0.38, 0.35),
    "腻": (0.92, 0.78, 0.64, 0.40, 0.30),
    "少苔/无苔": (0.30, 0.60, 0.50, 0.40, 0.0),
}


@dataclass(frozen=True)
class TongueState:
    """Observable tongue attributes (舌象) that a rendered photo encodes."""

    tongue_color: str
    coat_color: str
    coat_thickness: str
    fissure: bool
    tooth_marks: bool

    def __post_init__(self) -> None:
        for name, allowed in (
            ("tongue_color", TONGUE_COLORS),
            ("coat_color", COAT_COLORS),
            ("coat_thickness", COAT_THICKNESSES),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"{name}={value!r} is not one of {allowed}")
        for name in ("fissure", "tooth_marks"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}={getattr(self, name)!r} must be a bool")

    def to_dict(self) -> dict[str, str]:
        return {
            "tongue_color": self.tongue_color,
            "coat_color": self.coat_color,
            "coat_thickness": self.coat_thickness,
            "fissure": _YES if self.fissure else _NO,
            "tooth_marks": _YES if self.tooth_marks else _NO,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TongueState:
        """Inverse of :meth:`to_dict`; flags accept "有"/"无" or bools. Unknown/missing keys raise."""
        extra = sorted(set(d) - set(_FIELDS))
        if extra:
            raise ValueError(f"unknown key(s) {extra}; expected {_FIELDS}")
        missing = [k for k in _FIELDS if k not in d]
        if missing:
            raise ValueError(f"missing key(s) {missing}")
        flags: dict[str, bool] = {}
        for name in ("fissure", "tooth_marks"):
            raw = d[name]
            if isinstance(raw, bool):
                flags[name] = raw
            elif raw in (_YES, _NO):
                flags[name] = raw == _YES
            else:
                raise ValueError(f"{name}={raw!r} must be '{_YES}' or '{_NO}'")
        return cls(d["tongue_color"], d["coat_color"], d["coat_thickness"], flags["fissure"], flags["tooth_marks"])


def random_tongue_state(rng: random.Random) -> TongueState:
    """Draw a clinically plausible combination (correlations are loose, not diagnostic)."""
    color = rng.choices(TONGUE_COLORS, weights=(0.16, 0.36, 0.22, 0.08, 0.18))[0]
    hot = color in ("红", "绛")
    coat_w = (0.25, 0.45, 0.22, 0.08) if hot else (0.55, 0.2, 0.17, 0.08)
    thick_w = (0.3, 0.2, 0.22, 0.28) if hot else (0.45, 0.22, 0.25, 0.08)
    coat = rng.choices(COAT_COLORS, weights=coat_w)[0]
    thickness = rng.choices(COAT_THICKNESSES, weights=thick_w)[0]
    fissure = rng.random() < (0.4 if hot and thickness == "少苔/无苔" else 0.15)
    tooth = rng.random() < (0.55 if color == "淡白" or thickness == "腻" else 0.18)
    return TongueState(color, coat, thickness, fissure, tooth)


@dataclass(frozen=True)
class _Geometry:
    cx: float
    ry: float
    a: float  # tongue half-width (px)
    length: float  # root-to-tip length (px)
    cos: float
    sin: float
    outline: np.ndarray  # (N, 2) float image coords
    notches: tuple[tuple[int, float, float, float], ...]  # (side, v centre, v radius, u depth)

    def to_image(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        xl, yl = u * self.a, v * self.length
        return np.stack([self.cx + xl * self.cos - yl * self.sin, self.ry + xl * self.sin + yl * self.cos], -1)


def _streams(seed: int) -> list[np.random.Generator]:
    seq = np.random.SeedSequence(int(seed) % (1 << 64))
    return [np.random.default_rng(s) for s in seq.spawn(7)]


def _geometry(state: TongueState, g: np.random.Generator, gt: np.random.Generator, w: int, h: int) -> _Geometry:
    ry = h * g.uniform(0.17, 0.25)
    length = min(h * g.uniform(0.58, 0.72), h * 0.97 - ry)
    a = length * g.uniform(0.36, 0.45) * (1.12 if state.tooth_marks else 1.0)
    a = min(a, w * 0.36)
    cx = w * 0.5 + w * g.uniform(-0.08, 0.08)
    theta = np.deg2rad(g.uniform(-11.0, 11.0))
    v_round, p_tip = g.uniform(0.42, 0.58), g.uniform(1.8, 2.6)
    # Tooth-mark notches are always drawn from their stream (identical nuisances either way).
    notches: list[tuple[int, float, float, float]] = []
    for side in (-1, 1):
        n = int(gt.integers(3, 6))
        centres = np.linspace(0.22, 0.78, n) + gt.uniform(-0.03, 0.03, n)
        radius = 0.56 / n * 0.5 * gt.uniform(0.75, 0.95)
        for vc in centres:
            notches.append((side, float(vc), float(radius), float(gt.uniform(0.05, 0.09))))
    v = np.linspace(-0.05, 1.0, 90)
    t = np.clip((v - v_round) / (1 - v_round), 0, 1)
    base = np.where(v < v_round, 0.86 + 0.14 * np.clip(v / v_round, 0, 1) ** 0.7, (1 - t**p_tip) ** (1 / p_tip))
    sides = []
    for side in (-1, 1):
        hw = base.copy()
        if state.tooth_marks:
            for s, vc, r, d in notches:
                if s == side:
                    hw -= d * np.sqrt(np.clip(1 - ((v - vc) / r) ** 2, 0, 1))
        sides.append(side * hw)
    u = np.concatenate([sides[0], sides[1][::-1]])
    vv = np.concatenate([v, v[::-1]])
    geo = _Geometry(cx, ry, a, length, float(np.cos(theta)), float(np.sin(theta)), np.empty((0, 2)), tuple(notches))
    return replace(geo, outline=geo.to_image(u, vv))


def _mask(geo: _Geometry, w: int, h: int) -> np.ndarray:
    return np.rint(polygon_coverage(geo.outline, w, h) * 255).astype(np.uint8)


def tongue_mask(state: TongueState, seed: int, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    """HxW uint8 mask (0/255) of the tongue region, same geometry as :func:`render_tongue`."""
    w, h = size
    streams = _streams(seed)
    m = _mask(_geometry(state, streams[0], streams[1], w, h), w, h)
    return np.where(m >= 128, 255, 0).astype(np.uint8)


def _smooth_noise(g: np.random.Generator, w: int, h: int, cells: int) -> np.ndarray:
    """Low-frequency noise in roughly [-1, 1]."""
    small = g.standard_normal((cells, max(2, cells * w // h)), dtype=np.float32)
    return np.clip(smooth_upscale(small, w, h) * 0.6, -1.5, 1.5)


def _bgr(rgb: tuple[float, float, float]) -> np.ndarray:
    return np.array(rgb[::-1], np.float32)


def _background(geo: _Geometry, g: np.random.Generator, u: np.ndarray, v: np.ndarray, w: int, h: int) -> np.ndarray:
    ys = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    if g.random() < 0.3:  # plain dark backdrop with a mouth shadow behind the root
        img = np.empty((h, w, 3), np.float32)
        img[:] = _bgr(tuple(g.uniform(25, 70, 3)))
        img *= 1.0 - 0.35 * ys
        vs = (v + 0.05) / 0.3
        return img * (1 - 0.7 * np.exp(-(u * u / 2.56 + vs * vs)))[..., None]
    skin = _bgr((g.uniform(200, 240), g.uniform(150, 190), g.uniform(120, 160)))
    img = np.empty((h, w, 3), np.float32)
    img[:] = skin
    img *= (0.85 + 0.2 * ys) * (1 + 0.06 * _smooth_noise(g, w, h, 3))[..., None]
    vm = v + 0.04
    lip_r = u * u / 2.25 + vm * vm / 0.1296
    lip = _bgr((g.uniform(170, 215), g.uniform(70, 110), g.uniform(80, 115)))
    inside = lip_r < 1
    img[inside] = lip * (0.85 + 0.15 * lip_r[inside])[:, None]
    mouth = u * u / 1.44 + vm * vm / 0.0484 < 1
    dark = _bgr((g.uniform(60, 95), g.uniform(12, 28), g.uniform(18, 34)))
    img[mouth] = dark * (1 - 0.6 * np.clip(-v[mouth] / 0.2, 0, 1))[:, None]
    teeth = mouth & (v < -0.15)
    gap = np.abs(np.sin(u[teeth] * g.uniform(8, 11))) < 0.1
    img[teeth] = _bgr((228, 222, 205)) * np.where(gap, 0.7, 1.0)[:, None].astype(np.float32)
    return img


def render_tongue(state: TongueState, seed: int, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    """Render a synthetic tongue photo; ``size`` is (width, height); returns HxWx3 uint8 BGR."""
    w, h = size
    g_geo, g_teeth, g_bg, g_body, g_coat, g_fis, g_nui = _streams(seed)
    geo = _geometry(state, g_geo, g_teeth, w, h)
    alpha = _mask(geo, w, h).astype(np.float32)[..., None] / 255.0
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xs - geo.cx, ys - geo.ry
    u = (dx * geo.cos + dy * geo.sin) / geo.a
    v = (-dx * geo.sin + dy * geo.cos) / geo.length
    bg = _background(geo, g_bg, u, v, w, h)

    # Body: base colour + 3-D shading, median groove, root shadow, papillae.
    body_col = _bgr(_BODY_RGB[state.tongue_color]) * (1 + g_body.normal(0, 0.035, 3)).astype(np.float32)
    au = np.minimum(np.abs(u), 1)
    shade = 1.0 - 0.22 * au * au * au - 0.05 * u
    shade -= 0.07 * np.exp(-u * u * 400) * np.clip((0.75 - v) / 0.3, 0, 1)
    shade *= 0.2 + 0.8 * np.sqrt(np.clip((v + 0.05) / 0.2, 0, 1))
    shade = shade * (1 + 0.04 * _smooth_noise(g_body, w, h, 6))
    body = body_col * shade[..., None]
    dots = (g_body.random((h, w), dtype=np.float32) > 0.97) & ((np.abs(u) > 0.6) | (v > 0.75))
    body[dots] *= np.array([0.8, 0.72, 1.02], np.float32)

    # Coating: density field (extent/opacity by thickness) * texture, colour by coat_color.
    opacity, wu, wv, vc, tex = _COAT_PARAMS[state.coat_thickness]
    uw, vw = u / wu, (v - vc) / wv
    r2 = uw * uw + vw * vw
    low, low2 = _smooth_noise(g_coat, w, h, 5), _smooth_noise(g_coat, w, h, 8)
    grain = gaussian_blur(g_coat.random((h, w), dtype=np.float32) * 3.4 - 1.7, 0.8, size=3)
    island_t = g_coat.uniform(0.1, 0.5)
    n_gloss = int(g_coat.integers(20, 40))
    gloss_uv = np.stack([g_coat.uniform(-0.6, 0.6, n_gloss), g_coat.uniform(0.15, 0.8, n_gloss)], -1)
    dens = np.exp(-r2 * np.sqrt(r2)) * (1 + tex * low)
    if state.coat_thickness == "少苔/无苔":  # peeled: only scattered islands of coating
        dens = dens * (low2 > island_t)
    if state.coat_thickness in ("厚", "腻"):
        dens = dens * (1 + 0.25 * grain)
    dens = np.clip(dens * opacity, 0, 1)
    center = np.exp(-r2)
    if state.coat_color == "黄白相间":
        yel = np.clip(0.45 + 0.9 * low2 + 0.3 * center, 0, 1)[..., None]
        coat = _bgr(_COAT_YELLOW) * yel + _bgr(_COAT_WHITE) * (1 - yel)
    elif state.coat_color == "灰黑":
        coat = _bgr(_COAT_GREY) * (1.15 - 0.45 * center)[..., None]
    else:
        coat = np.broadcast_to(_bgr(_COAT_WHITE if state.coat_color == "白" else _COAT_YELLOW), (h, w, 3))
    coat_shade = shade * (1 + 0.06 * low2)
    if state.coat_thickness == "腻":
        coat_shade *= 1 + 0.12 * grain
    tongue = body + (coat * coat_shade[..., None] - body) * dens[..., None]
    factor = np.ones((h, w), np.float32)  # multiplicative surface marks (fissures, tooth marks)

    # Fissures: dark thin random polylines on the central surface (drawn from their own stream).
    crack_paths = []
    thick = max(1, round(geo.a / 40))
    n_cracks = int(g_fis.integers(3, 8))
    main = g_fis.random() < 0.6
    for i in range(n_cracks):
        if i == 0 and main:
            vs = np.linspace(0.12, g_fis.uniform(0.6, 0.8), 8)
            us = np.cumsum(g_fis.normal(0, 0.02, 8))
        else:
            ang = g_fis.uniform(0, 2 * np.pi)
            steps = int(g_fis.integers(3, 7))
            turn = np.cumsum(g_fis.normal(0, 0.5, steps)) + ang
            us = g_fis.uniform(-0.4, 0.4) + np.concatenate([[0], np.cumsum(0.09 * np.cos(turn))])
            vs = g_fis.uniform(0.2, 0.7) + np.concatenate([[0], np.cumsum(0.05 * np.sin(turn))])
        crack_paths.append(geo.to_image(np.clip(us, -0.6, 0.6), np.clip(vs, 0.08, 0.88)))
    if state.fissure:
        cracks = polylines_coverage(crack_paths, thick, w, h)
        halo = gaussian_blur(polylines_coverage(crack_paths, thick + 3, w, h), 1.2, size=5)
        depth = np.clip(0.85 * cracks + 0.3 * halo, 0, 1)[..., None]  # cracks expose a dark-red body
        tongue += (body_col * 0.3 - tongue) * depth

    # Tooth marks: shading arcs along each scalloped notch.
    if state.tooth_marks:
        ang = np.linspace(-np.pi / 2, np.pi / 2, 12)
        arcs = []
        for side, vcn, r, d in geo.notches:
            base_u = side * (0.86 + 0.14 * min(vcn / 0.5, 1.0) ** 0.7)
            arcs.append(geo.to_image(base_u - side * (d + 0.05) * np.cos(ang), vcn + r * np.sin(ang)))
        rim = gaussian_blur(polylines_coverage(arcs, max(2, thick + 1), w, h), 1.5, size=5)
        factor -= 0.25 * np.clip(rim, 0, 1)

    # Moist specular highlights (many glossy blobs for 腻, a broad sheen for peeled/mirror tongues).
    n_few = int(g_nui.integers(1, 4))
    n_hi = n_gloss if state.coat_thickness == "腻" else n_few
    rad = max(1, round(geo.a / 60)) if state.coat_thickness == "腻" else max(2, round(geo.a / 18))
    centres = geo.to_image(gloss_uv[:n_hi, 0], gloss_uv[:n_hi, 1]).astype(int)  # whole pixels, as before
    spec = gaussian_blur(discs_coverage(centres, rad, w, h), 1.0 + rad * 0.6)
    sheen = 0.55 if state.coat_thickness == "腻" else (0.35 if state.coat_thickness == "少苔/无苔" else 0.22)
    tongue = tongue * factor[..., None] + (255 * sheen * np.clip(spec * 1.6, 0, 1))[..., None]
    img = bg + (tongue - bg) * alpha
    # Nuisances: lighting gradient, colour temperature, brightness, blur, noise, JPEG.
    phi = g_nui.uniform(0, 2 * np.pi)
    grad = 1 + g_nui.uniform(0, 0.3) * ((xs - w / 2) * np.cos(phi) + (ys - h / 2) * np.sin(phi)) / w
    temp = g_nui.uniform(-0.06, 0.06)
    gain = g_nui.uniform(0.88, 1.12)
    img *= (grad * gain)[..., None]
    img *= np.array([1 + temp, 1.0, 1 - temp], np.float32)
    img = gaussian_blur(img, g_nui.uniform(0.4, 1.0))
    sigma = g_nui.uniform(1.5, 4.5) * 3.46
    img += (g_nui.random((h, w), dtype=np.float32) - 0.5)[..., None] * sigma
    out = np.clip(img, 0, 255).astype(np.uint8)
    quality = int(g_nui.integers(60, 93))
    return decode_jpeg(encode_jpeg(out[..., ::-1], quality))[..., ::-1].copy()  # BGR -> RGB -> BGR
