"""Generate the built-in looks as 33^3 ``.cube`` LUTs: ``python presets/luts/make_luts.py``.

Each look is a smooth function of display-referred (Rec.709/sRGB-encoded) RGB
in [0, 1] to RGB in [0, 1], sampled on a 33^3 grid. Colours a look pushes out
of gamut are pulled back toward their own luma (hue and lightness kept), never
clipped per channel. Run from the repository root; it rewrites the files next
to this script. The tests check that the committed files match this script.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout

from render.ops.lut import Lut3D, write_cube  # noqa: E402

SIZE = 33
LUMA = np.array([0.2126, 0.7152, 0.0722])  # Rec.709


def luma(rgb):
    return rgb @ LUMA


def s_curve(x, amount):
    """Contrast around 0.5 that keeps 0 and 1: a blend toward smoothstep (amount 0..1)."""
    return x + amount * (x * x * (3.0 - 2.0 * x) - x)


def srgb_to_linear(v):
    v = np.clip(v, 0.0, 1.0)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v):
    v = np.clip(v, 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


def fit_gamut(rgb):
    """Pull each colour toward its luma (clipped to [0, 1]) until every channel is in [0, 1]."""
    y = np.clip(luma(rgb), 0.0, 1.0)[..., None]
    delta = rgb - y
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(delta > 0, (1.0 - y) / delta, np.where(delta < 0, -y / delta, np.inf))
    scale = np.clip(room.min(axis=-1, keepdims=True), 0.0, 1.0)
    return np.clip(y + delta * scale, 0.0, 1.0)


def teal_orange(rgb):
    """Complementary blockbuster palette: skin and warm hues toward orange, the rest toward teal.

    In the Rec.709 CbCr plane the chroma along the skin-tone axis (hue 125 degrees
    there) grows 20 %, chroma across it shrinks 35 %; shadows get a teal tint,
    highlights an orange one; luma gets a gentle S-curve.
    """
    y = luma(rgb)
    cb = (rgb[..., 2] - y) / 1.8556
    cr = (rgb[..., 0] - y) / 1.5748
    axis = np.deg2rad(125.0)
    along = cb * np.cos(axis) + cr * np.sin(axis)
    across = -cb * np.sin(axis) + cr * np.cos(axis)
    along = along * 1.20 + 0.030 * y**2 - 0.060 * (1.0 - y) ** 2  # + orange highlights, + teal shadows
    across = across * 0.65
    cb = along * np.cos(axis) - across * np.sin(axis)
    cr = along * np.sin(axis) + across * np.cos(axis)
    y = s_curve(y, 0.35)
    r = y + 1.5748 * cr
    b = y + 1.8556 * cb
    g = (y - LUMA[0] * r - LUMA[2] * b) / LUMA[1]
    return fit_gamut(np.stack([r, g, b], axis=-1))


def bleach_bypass(rgb):
    """Skipped-bleach film look: the picture overlaid on its own luma, then 40 % desaturated.

    Overlay (multiply in the shadows, screen in the highlights, a smooth switch
    around mid grey) raises contrast and keeps silver-like density in the darks.
    """
    y = luma(rgb)[..., None]
    multiply = 2.0 * rgb * y
    screen = 1.0 - 2.0 * (1.0 - rgb) * (1.0 - y)
    t = np.clip((y - 0.35) / 0.3, 0.0, 1.0)
    overlay = multiply + (screen - multiply) * t * t * (3.0 - 2.0 * t)
    mixed = 0.35 * rgb + 0.65 * overlay
    my = luma(mixed)[..., None]
    return fit_gamut(my + 0.6 * (mixed - my))


def warm_print(rgb):
    """A warm film print: warm balance, per-channel S-curve, lifted warm blacks, creamy highlights.

    Blacks sit at about 0.03 (print base), whites at (0.97, 0.95, 0.90); the most
    luminous colours lose a little saturation, as on print stock.
    """
    balanced = rgb * np.array([1.04, 1.0, 0.93])
    black = np.array([0.040, 0.032, 0.028])
    white = np.array([0.970, 0.950, 0.900])
    printed = black + (white - black) * s_curve(np.clip(balanced, 0.0, 1.0), 0.40)
    y = luma(printed)[..., None]
    return fit_gamut(y + (printed - y) * (1.0 - 0.30 * y**3))


def cool_night(rgb):
    """Day for night: 1.3 stops darker in linear light, 45 % desaturated, moonlight blue.

    Computed in linear light (sRGB transfer), re-encoded, with a slight S-curve
    so the darks stay dense and the highlights read as cold moonlight.
    """
    linear = srgb_to_linear(rgb) * 2.0**-1.3
    y = luma(linear)[..., None]
    linear = (y + 0.55 * (linear - y)) * np.array([0.78, 0.92, 1.30])
    return fit_gamut(s_curve(linear_to_srgb(linear), 0.20))


LOOKS = {
    "teal_orange": ("moodgrade Teal & Orange", teal_orange),
    "bleach_bypass": ("moodgrade Bleach Bypass", bleach_bypass),
    "warm_print": ("moodgrade Warm Print", warm_print),
    "cool_night": ("moodgrade Cool Night", cool_night),
}


def build_look(name: str) -> Lut3D:
    """Sample the look ``name`` on the 33^3 grid over [0, 1]."""
    axis = np.linspace(0.0, 1.0, SIZE)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1)  # [r, g, b]
    return Lut3D(LOOKS[name][1](grid).astype(np.float32))


def main(folder: Path = Path(__file__).resolve().parent) -> None:
    for name, (title, look) in LOOKS.items():
        doc = textwrap.wrap(f"{title}: " + " ".join(look.__doc__.split()), 88)
        comments = (
            *doc,
            "Input and output: display-referred Rec.709/sRGB-encoded RGB, domain [0, 1].",
            "Generated by presets/luts/make_luts.py (moodgrade, GPL-3.0-or-later); edit that, not this.",
        )
        write_cube(folder / f"{name}.cube", build_look(name), title=title, comments=comments)


if __name__ == "__main__":
    main()
