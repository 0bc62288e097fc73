"""Lighting and focus ops: the behaviour each parameter promises."""

import numpy as np
import pytest

from render.backends.numpy_backend import NumpyBackend
from render.ops.base import FrameContext, gaussian_weights
from render.ops.focus import DepthOfField, GaussianBlur, Unsharp
from render.ops.lighting import Bloom, HighlightRolloff, Relight, RelightRegion, Vignette
from render.ops.regions import Ellipse
from render.ops.transfer import to_linear


def grey(h=54, w=96, v=0.5):
    """A flat 96x54 frame: 1/20 of 1080p, so sigma_px 20 is a 1 px blur here."""
    return np.full((h, w, 3), v, np.float32)


def test_gaussian_weights_are_normalised_and_scale_with_height():
    w = gaussian_weights(2.0)
    assert len(w) == 7 and w[0] + 2 * w[1:].sum() == pytest.approx(1.0)
    assert GaussianBlur(4.0).blur_sigma(FrameContext(3840, 2160)) == 8.0   # px of 1080p scaled


def test_blurs_keep_flat_frames_and_spread_an_impulse_symmetrically():
    flat = grey()
    for op in (GaussianBlur(30.0), Unsharp(20.0, 1.5), DepthOfField(50.0)):
        assert np.abs(NumpyBackend().apply(flat, (op,)) - flat).max() < 1e-6
    impulse = grey(v=0.0)
    impulse[27, 48] = 1.0
    out = NumpyBackend().apply(impulse, (GaussianBlur(30.0),))
    assert out[27, 48, 0] < 0.2 and out[27, 47, 0] == pytest.approx(out[27, 49, 0]) == pytest.approx(out[26, 48, 0])


def test_unsharp_increases_edge_contrast():
    edge = grey(v=0.3)
    edge[:, 48:] = 0.7
    out = NumpyBackend().apply(edge, (Unsharp(30.0, 1.0),))
    assert out[10, 47, 0] < 0.3 and out[10, 48, 0] > 0.7


def test_depth_of_field_keeps_the_focus_region_sharp():
    rng = np.random.default_rng(0)
    frame = rng.random((54, 96, 3), dtype=np.float32)
    op = DepthOfField(60.0, focus_regions=(Ellipse(0.5, 0.5, 0.2, 0.2, feather=0.2),))
    out = NumpyBackend().apply(frame, (op,))
    assert np.abs(out[27, 48] - frame[27, 48]).max() < 1e-6          # centre: in focus
    assert np.abs(out[2:6, 2:6] - frame[2:6, 2:6]).mean() > 0.1       # corner: blurred
    band = DepthOfField(60.0, band_center_y=0.5, band_half_height=0.1)
    out = NumpyBackend().apply(frame, (band,))
    assert np.abs(out[27] - frame[27]).max() < 1e-6


def test_vignette_darkens_corners_not_centre():
    out = NumpyBackend().apply(grey(), (Vignette(amount=1.0, radius=0.2, feather=0.5),))
    assert out[27, 48, 0] == pytest.approx(0.5) and out[0, 0, 0] == 0.0


def test_highlight_rolloff_compresses_above_the_knee_only():
    op = HighlightRolloff(knee=0.5, strength=1.0)
    ctx = FrameContext(3, 1)
    x = np.array([[[0.3, 0.2, 0.1], [0.6, 0.3, 0.0], [4.0, 2.0, 1.0]]], np.float32)
    out = op.apply_reference(x, ctx)
    assert np.array_equal(out[0, 0], x[0, 0])
    assert out[0, 2].max() < 1.0 and out[0, 2, 0] / out[0, 2, 1] == pytest.approx(2.0)   # hue kept


def test_relight_adds_exposure_inside_the_region():
    op = Relight(regions=(RelightRegion(center_x=0.5, center_y=0.5, radius_x=0.3, radius_y=0.3,
                                        feather=0.5, exposure_ev=1.0),))
    display = grey(v=0.2)
    out = op.apply_reference(display, FrameContext(96, 54))   # display values in and out, relit in linear light
    lin = to_linear(out, "bt709")
    assert lin[27, 48, 1] == pytest.approx(2 * float(to_linear(np.float32(0.2), "bt709")), rel=1e-5)
    assert out[0, 0, 1] == pytest.approx(0.2, abs=1e-6)


def test_bloom_leaves_dark_frames_alone_and_brightens_around_highlights():
    dark = grey(v=0.2)
    assert np.abs(NumpyBackend().apply(dark, (Bloom(threshold=0.5, sigma_px=40.0, strength=2.0),)) - dark).max() < 1e-6
    spot = dark.copy()
    spot[25:29, 46:50] = 1.0
    out = NumpyBackend().apply(spot, (Bloom(threshold=0.5, sigma_px=40.0, strength=2.0),))
    assert out[27, 44, 0] > 0.25
