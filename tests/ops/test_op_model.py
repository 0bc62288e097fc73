"""The op model: ranges are enforced, identity parameters give the input back exactly,
NaN/Inf/out-of-range inputs come out finite and clamped (NumPy reference; the device
backends are held to the same results in tests/backends)."""

import dataclasses

import numpy as np
import pytest

from render.ops.frames import load_reference
from render.backends.numpy_backend import NumpyBackend
from render.errors import MoodgradeError
from render.ops.base import FrameContext, NeighbourhoodOp, PixelOp
from render.ops.cdl import CDL
from render.ops.colour import Contrast, Curves, Exposure, GreyAffine, LiftGammaGain, Saturation, WhiteBalance
from render.ops.focus import Unsharp
from render.ops.grain import FilmGrain
from render.ops.lighting import Bloom, HighlightRolloff, Relight, RelightRegion, Vignette
from render.ops.plan import CodeTable, FromLinear, ToLinear, build_plan
from tests.backends.examples import FUSED_CHAIN, OP_EXAMPLES, sample_frame

IDENTITY = [type(op)() for op in OP_EXAMPLES.values() if isinstance(op, (PixelOp, NeighbourhoodOp))]
IDENTITY += [CDL(), Relight(regions=(RelightRegion(),)), Unsharp(sigma_px=3.0, amount=0.0), Bloom(strength=0.0)]


@pytest.mark.parametrize("op", IDENTITY, ids=lambda op: type(op).__name__)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_identity_parameters_return_the_input_exactly(op, dtype):
    frame = sample_frame(dtype)
    assert np.array_equal(NumpyBackend().apply(frame, (op,)), frame)
    assert build_plan((op,)).passes[0].steps == ()   # dropped by the processor


def test_empty_grade_is_the_identity():
    frame = sample_frame(np.uint16)
    assert np.array_equal(NumpyBackend().apply(frame, ()), frame)


@pytest.mark.parametrize("make, message", [
    (lambda: Exposure(exposure_ev=20), r"exposure.exposure_ev = 20 is outside the allowed range \[-8.0, 8.0\]"),
    (lambda: WhiteBalance(temperature_k=100), "temperature_k"),
    (lambda: Vignette(amount=float("nan")), "vignette.amount"),
    (lambda: LiftGammaGain(gain=(1, 1)), "three numbers"),
    (lambda: Curves(master=((0, 0), (0, 1))), "increasing x"),
    (lambda: FilmGrain(seed=1.5), "integer"),
    (lambda: Exposure(exposure_ev="2"), "must be a number"),
    (lambda: Relight(regions=(RelightRegion(),) * 9), "at most 8"),
])
def test_out_of_range_values_are_refused(make, message):
    with pytest.raises(MoodgradeError, match=message):
        op = make()
        NumpyBackend().apply(np.zeros((2, 2, 3), np.uint8), (op,))


@pytest.mark.parametrize("name", sorted(OP_EXAMPLES))
def test_nan_inf_and_out_of_range_inputs_stay_finite_and_clamped(name):
    frame = sample_frame(np.float32)
    frame[0, :5] = [[np.nan] * 3, [np.inf] * 3, [-np.inf] * 3, [-5, 7, 0.5], [1e30, -1e30, np.nan]]
    for grade in ((OP_EXAMPLES[name],), FUSED_CHAIN):
        out = NumpyBackend().apply(frame, grade)
        assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def test_ops_are_immutable_and_hashable_by_value():
    op = Exposure(0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.exposure_ev = 1.0
    assert op == Exposure(0.5) and hash(op) == hash(Exposure(0.5))


def test_plan_converts_domains_only_where_needed():
    plan = build_plan((Exposure(1.0), WhiteBalance(5000.0), Curves(master=((0, 0), (1, 0.9))),
                       HighlightRolloff(strength=1.0)))
    names = [type(s).__name__ for s in plan.passes[0].steps]
    assert names == ["ToLinear", "Exposure", "WhiteBalance", "FromLinear", "Curves", "ToLinear",
                     "HighlightRolloff", "FromLinear"]


def test_leading_per_channel_ops_on_8bit_frames_become_one_table_of_codes():
    exposure, contrast, vignette = Exposure(exposure_ev=0.5), Contrast(contrast=1.2), Vignette(amount=0.3)
    steps = build_plan((exposure, contrast, vignette), "u8").passes[0].steps
    assert isinstance(steps[0], CodeTable)
    assert [type(s) for s in steps[0].steps] == [ToLinear, Exposure, FromLinear, Contrast]
    assert [type(s) for s in steps[1:]] == [Vignette]
    # the table is the ops' reference on exactly what each 8-bit code loads as
    codes = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
    ctx = FrameContext(256, 1)
    want = steps[0].apply_reference(load_reference(codes), ctx)[0]
    assert np.array_equal(steps[0].table(ctx).reshape(3, 256).T, want)
    # not on other frame kinds, not for a lone cheap op, not after an op that depends on the pixel's place
    for grade, kind in (((exposure,), "f32"), ((exposure,), "u16"), ((contrast, vignette), "u8"),
                        ((vignette, exposure), "u8")):
        assert not any(isinstance(s, CodeTable) for s in build_plan(grade, kind).passes[0].steps)


def test_gpus_keep_tetrahedral_lut_corners_as_half_floats_on_8bit_frames_only():
    tetrahedral, trilinear = OP_EXAMPLES["lut3d_tetrahedral"], OP_EXAMPLES["lut3d_trilinear"]

    def halves(kind, half_luts=True):
        steps = build_plan((tetrahedral, OP_EXAMPLES["contrast"], trilinear), kind, half_luts).passes[0].steps
        return [getattr(s, "half", None) for s in steps]
    assert halves("u8") == [True, None, False]
    assert halves("u8", half_luts=False) == halves("u16") == halves("f32") == [False, None, False]
    ctx = FrameContext(8, 8)
    half, full = (build_plan((tetrahedral,), "u8", h).passes[0].steps[0].table(ctx) for h in (True, False))
    assert half.dtype == np.float32 and len(half) * 2 == len(full)
    assert np.array_equal(half.view(np.float16), full.astype(np.float16))  # RGBA as fp16, two to a slot


def test_runs_of_contrast_and_saturation_fold_into_one_grey_axis_step():
    contrast, saturation, vignette = Contrast(1.3, pivot=0.4), Saturation(0.6), Vignette(amount=0.3)
    steps = build_plan((contrast, saturation, Contrast(0.8), vignette)).passes[0].steps
    assert [type(s) for s in steps] == [GreyAffine, Vignette]
    # a c + b Y(c) + g with the composed values is the ops one after the other
    rgb = np.random.default_rng(3).random((16, 16, 3), dtype=np.float32)
    ctx = FrameContext(16, 16)
    a, b, g = steps[0].params(ctx)
    y = 0.2126 * rgb[..., :1] + 0.7152 * rgb[..., 1:2] + 0.0722 * rgb[..., 2:]
    assert np.allclose(a * rgb + b * y + g, steps[0].apply_reference(rgb, ctx), atol=1e-6)
    # a lone op, or ops with another between them, stay as they are
    for grade in ((saturation,), (contrast, vignette, saturation)):
        assert not any(isinstance(s, GreyAffine) for s in build_plan(grade).passes[0].steps)


def test_neighbourhood_passes_and_the_buffers_they_use():
    def layout(grade):
        return [(type(p).__name__, p.src, p.dst) for p in build_plan(grade, "u8").passes]
    blurs_of_s0 = [("BlurPass", "s0", "tmp"), ("BlurPass", "tmp", "blurred")]
    # a blur reads a float copy of the frame; a grain's noise pass and combine read the frame itself
    assert layout((Unsharp(sigma_px=2.0, amount=1.0),)) == [("PixelPass", "input", "s0"), *blurs_of_s0,
                                                            ("PixelPass", "s0", "output")]
    assert layout((FilmGrain(amount=0.5),)) == [("PixelPass", "input", "source"), ("BlurPass", "source", "tmp"),
                                                ("BlurPass", "tmp", "blurred"), ("PixelPass", "input", "output")]
    assert layout((Contrast(1.2), FilmGrain(amount=0.5)))[:2] == [("PixelPass", "input", "s0"),
                                                                   ("PixelPass", "s0", "source")]
