"""Film grain as a colourist checks it: strength as set at every size, as strong at the frame's
edges as inside, the same grain size at every resolution, seeded, monochrome or coloured."""

import numpy as np
import pytest

from render.backends.numpy_backend import NumpyBackend
from render.ops.grain import FilmGrain, edge_factors, hash32


def grain_on_grey(grade_op, height, width=256, frame_index=5):
    """The grain alone (float, mid-grey removed) of one frame, by the NumPy reference."""
    grey = np.full((height, width, 3), 0.5, np.float32)
    return NumpyBackend().apply(grey, (grade_op,), frame_index=frame_index) - 0.5


def correlation(a, b):
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_grain_hash_is_lowbias32():
    # Chris Wellons, "Prospecting for Hash Functions" (2018): lowbias32 maps 0 to 0 and is a bijection
    assert hash32(np.array([0]))[0] == 0
    values = hash32(np.arange(1 << 16))
    assert len(np.unique(values)) == 1 << 16


@pytest.mark.parametrize("size_px", [0.0, 1.0, 2.0, 4.0])
def test_amount_sets_the_strength_at_every_size(size_px):
    out = grain_on_grey(FilmGrain(amount=1.0, size_px=size_px, seed=9), 540)
    assert abs(out.mean()) < 0.004
    assert out.std() == pytest.approx(0.1, rel=0.05)  # amount 1: standard deviation 0.1 at mid-grey


def test_size_zero_is_one_pixels_noise_and_size_makes_grains():
    fine = grain_on_grey(FilmGrain(amount=1.0, size_px=0.0, seed=9), 540)[..., 0]
    coarse = grain_on_grey(FilmGrain(amount=1.0, size_px=2.0, seed=9), 540)[..., 0]
    assert abs(correlation(fine[:, 1:], fine[:, :-1])) < 0.02
    # a Gaussian of sigma 1 px (2 px of 1080 lines on 540) correlates neighbours by exp(-1/4)
    assert correlation(coarse[:, 1:], coarse[:, :-1]) == pytest.approx(np.exp(-0.25), abs=0.03)
    assert correlation(coarse[1:], coarse[:-1]) == pytest.approx(np.exp(-0.25), abs=0.03)


def test_same_grain_size_at_every_resolution():
    # 2 px of a 1080-line frame: lag 2 on 1080 lines, lag 1 on 540 lines; both exp(-1/4) apart
    op = FilmGrain(amount=1.0, size_px=2.0, seed=4)
    full = grain_on_grey(op, 1080, width=128)[..., 0]
    half = grain_on_grey(op, 540, width=128)[..., 0]
    assert correlation(full[:, 2:], full[:, :-2]) == pytest.approx(correlation(half[:, 1:], half[:, :-1]), abs=0.03)
    assert full.std() == pytest.approx(half.std(), rel=0.05)


def test_grain_is_as_strong_at_the_edges():
    frames = [grain_on_grey(FilmGrain(amount=1.0, size_px=4.0, seed=2), 540, frame_index=i)[..., 0]
              for i in range(6)]
    stack = np.stack(frames)
    inside = stack[:, 20:-20, 20:-20].std()
    for edge in (stack[:, :, 0], stack[:, :, -1], stack[:, 0, :], stack[:, -1, :], stack[:, :, 1]):
        assert edge.std() == pytest.approx(inside, rel=0.08)
    # without the edge factors the outermost column would be this much stronger
    factors = edge_factors(2.0)
    assert factors[-1] / factors[0] > 1.5


def test_monochrome_and_coloured_grain_and_seeds():
    mono = grain_on_grey(FilmGrain(amount=1.0, chroma=0.0, seed=9), 270)
    assert np.array_equal(mono[..., 0], mono[..., 2])
    colour = grain_on_grey(FilmGrain(amount=1.0, chroma=1.0, seed=9), 270)
    assert abs(correlation(colour[..., 0], colour[..., 2])) < 0.05
    other = grain_on_grey(FilmGrain(amount=1.0, chroma=0.0, seed=10), 270)
    assert abs(correlation(mono[..., 0], other[..., 0])) < 0.05
    next_frame = grain_on_grey(FilmGrain(amount=1.0, chroma=0.0, seed=9), 270, frame_index=6)
    assert abs(correlation(mono[..., 0], next_frame[..., 0])) < 0.05


def test_no_grain_in_black_and_white():
    frame = np.zeros((64, 64, 3), np.float32)
    frame[32:] = 1.0
    out = NumpyBackend().apply(frame, (FilmGrain(amount=1.0, size_px=1.0, seed=1),))
    assert np.array_equal(out, frame)
