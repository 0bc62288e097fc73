"""Colour ops: golden values with their sources, and the properties a colourist relies on."""

import numpy as np
import pytest

from render.ops.base import FrameContext
from render.ops.colour import (Contrast, Curves, Exposure, HueRotate, LiftGammaGain, Saturation, SplitTone, Vibrance,
                               WhiteBalance, cct_to_xy)

CTX = FrameContext(4, 3)


def px(*rgb):
    return np.array([[rgb]], np.float32)


def test_exposure_one_stop_doubles_linear_light():
    assert Exposure(1.0).apply_reference(px(0.1, 0.2, 0.3), CTX) == pytest.approx(px(0.2, 0.4, 0.6))
    assert Exposure(-2.0).params(CTX)[0] == 0.25


def test_planckian_locus_matches_colour_science():
    # colour-science, CCT_to_xy_Kang2002 docstring example: 6504.38938305 K -> (0.313426, 0.323596)
    x, y = cct_to_xy(6504.38938305)
    assert (x, y) == pytest.approx((0.313426, 0.323596), abs=1e-6)


def test_white_balance_directions_and_neutral():
    assert np.allclose(WhiteBalance(6504.0).gains(), 1.0)
    tungsten = WhiteBalance(3200.0).gains()       # balanced for tungsten: the picture gets bluer
    assert tungsten[2] > 1 > tungsten[0]
    shade = WhiteBalance(9000.0).gains()          # balanced for shade: warmer
    assert shade[0] > 1 > shade[2]
    assert WhiteBalance(6504.0, tint=0.5).gains()[1] < WhiteBalance(6504.0).gains()[1]  # magenta
    for g in (tungsten, shade):                   # white keeps its Rec.709 luminance
        assert g @ [0.2126, 0.7152, 0.0722] == pytest.approx(1.0)


def test_saturation_zero_gives_rec709_luma():
    # ITU-R BT.709-6 item 3.2: Y = 0.2126 R + 0.7152 G + 0.0722 B
    out = Saturation(0.0).apply_reference(px(1, 0, 0), CTX)
    assert out == pytest.approx(px(0.2126, 0.2126, 0.2126))


def test_vibrance_boosts_muted_colours_more():
    muted, vivid = px(0.5, 0.45, 0.4), px(0.9, 0.1, 0.1)
    op = Vibrance(0.8)
    spread = lambda a: float(a.max() - a.min())
    assert spread(op.apply_reference(muted, CTX)) / spread(muted) > spread(op.apply_reference(vivid, CTX)) / spread(vivid)


def test_hue_rotation_by_120_degrees_cycles_the_primaries():
    out = HueRotate(120.0).apply_reference(px(1, 0, 0), CTX)   # rotation about the grey axis
    assert out == pytest.approx(px(0, 1, 0), abs=1e-6)
    assert HueRotate(73.0).apply_reference(px(0.4, 0.4, 0.4), CTX) == pytest.approx(px(0.4, 0.4, 0.4), abs=1e-6)


def test_contrast_keeps_the_pivot():
    op = Contrast(1.8, pivot=0.3)
    assert op.apply_reference(px(0.3, 0.3, 0.3), CTX) == pytest.approx(px(0.3, 0.3, 0.3))
    assert op.apply_reference(px(0.5, 0.5, 0.5), CTX) == pytest.approx(px(0.66, 0.66, 0.66))


def test_lift_gamma_gain_formula():
    op = LiftGammaGain(lift=(0.1, 0, 0), gamma=(2.0, 1, 1), gain=(1, 2, 1), offset=(0, 0, 0.05))
    out = op.apply_reference(px(0.0, 0.25, 0.25), CTX)
    assert out == pytest.approx(px(0.1 ** 0.5, 0.5, 0.30))


def test_split_tone_tints_shadows_and_highlights():
    op = SplitTone(shadow_hue_deg=240.0, shadow_saturation=1.0, highlight_hue_deg=0.0, highlight_saturation=1.0)
    dark = op.apply_reference(px(0.02, 0.02, 0.02), CTX)[0, 0]
    bright = op.apply_reference(px(0.95, 0.95, 0.95), CTX)[0, 0]
    assert dark[2] > dark[0] and bright[0] > bright[2]


def test_curves_pass_through_their_points_and_stay_monotone():
    op = Curves(master=((0, 0), (0.5, 0.7), (1, 1)))
    x = np.linspace(0, 1, 101, dtype=np.float32)
    out = op.apply_reference(np.stack([x, x, x], -1)[None], CTX)[0, :, 0]
    assert out[50] == pytest.approx(0.7, abs=1e-4)
    assert np.all(np.diff(out) >= 0)
