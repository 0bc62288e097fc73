"""NumPy reference of Lut3D / Lut1D: golden values, identity, clamping, domains."""

import numpy as np
import pytest

from render.errors import MoodgradeError
from render.ops.lut import Lut1D, Lut3D, LutError


def identity_table(n, lo=0.0, hi=1.0):
    axis = np.linspace(lo, hi, n, dtype=np.float32)
    return np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1)


def corner_product_table():
    """A 2^3 LUT whose every output channel is 1 at corner (1, 1, 1) and 0 elsewhere."""
    table = np.zeros((2, 2, 2, 3), dtype=np.float32)
    table[1, 1, 1] = 1.0
    return table


@pytest.mark.parametrize("interpolation", ["tetrahedral", "trilinear"])
def test_identity_lut_gives_input_back_and_clamps(interpolation):
    lut = Lut3D(identity_table(17), interpolation=interpolation)
    rng = np.random.default_rng(3)
    rgb = rng.random((64, 48, 3), dtype=np.float32)
    out = lut.apply_reference(rgb)
    assert out.shape == rgb.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, rgb, atol=1e-6)
    codes = np.arange(256, dtype=np.float32)[:, None] * np.ones(3, dtype=np.float32)
    np.testing.assert_array_equal(np.rint(lut.apply_reference(codes / 255) * 255), codes)  # 8-bit exact
    wild = np.array([[-3.0, 0.5, 7.0], [np.nan, np.inf, -np.inf]], dtype=np.float32)
    np.testing.assert_allclose(lut.apply_reference(wild), [[0.0, 0.5, 1.0], [0.0, 1.0, 0.0]], atol=1e-6)


def test_golden_values_on_the_unit_cube():
    # Trilinear weights of corner (1, 1, 1) are r*g*b; tetrahedral ones are the smallest
    # fraction (Kasson, Nin, Plouffe & Hafner 1995; FFmpeg vf_lut3d.c interp_tetrahedral).
    rgb = np.array([[0.5, 0.25, 0.75], [0.2, 0.9, 0.6], [1.0, 1.0, 0.3]], dtype=np.float32)
    trilinear = Lut3D(corner_product_table(), interpolation="trilinear").apply_reference(rgb)
    tetrahedral = Lut3D(corner_product_table()).apply_reference(rgb)
    np.testing.assert_allclose(trilinear[:, 0], [0.09375, 0.108, 0.3], atol=1e-7)
    np.testing.assert_allclose(tetrahedral[:, 0], [0.25, 0.2, 0.3], atol=1e-7)


def test_red_is_the_first_table_index():
    table = np.zeros((2, 2, 2, 3), dtype=np.float32)
    table[1, 0, 0] = (1.0, 0.0, 0.0)  # pure red input -> red output only
    out = Lut3D(table).apply_reference(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32))
    np.testing.assert_array_equal(out, [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("interpolation", ["tetrahedral", "trilinear"])
def test_domain_rescales_the_input(interpolation):
    rng = np.random.default_rng(5)
    table = rng.random((9, 9, 9, 3), dtype=np.float32)
    lo, hi = np.array([-0.5, 0.0, 0.1]), np.array([1.5, 2.0, 0.6])
    wide = Lut3D(table, tuple(lo), tuple(hi), interpolation)
    unit = Lut3D(table, interpolation=interpolation)
    rgb = (rng.random((500, 3)) * 3 - 1).astype(np.float32)
    expected = unit.apply_reference((np.clip(rgb, lo, hi) - lo) / (hi - lo))
    np.testing.assert_allclose(wide.apply_reference(rgb), expected, atol=2e-6)


def test_identity_over_a_wide_domain_clamps_to_it():
    lut = Lut3D(identity_table(5, -1.0, 2.0), (-1.0,) * 3, (2.0,) * 3)
    rgb = np.array([[-4.0, 0.3, 1.7], [2.5, -0.75, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(lut.apply_reference(rgb), [[-1.0, 0.3, 1.7], [2.0, -0.75, 0.0]], atol=1e-6)


def test_lut1d_is_linear_interpolation_per_channel():
    rng = np.random.default_rng(7)
    table = rng.random((37, 3), dtype=np.float32)
    lut = Lut1D(table, (0.0, -1.0, 0.0), (1.0, 1.0, 4.0))
    rgb = (rng.random((1000, 3)) * 6 - 2).astype(np.float32)
    rgb[0] = (np.nan, np.nan, np.nan)
    expected = np.stack(
        [np.interp(rgb[:, c], np.linspace(lut.domain_min[c], lut.domain_max[c], 37), table[:, c]) for c in range(3)],
        axis=-1,
    )
    expected[0] = table[0]  # NaN counts as domain_min
    out = lut.apply_reference(rgb)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=2e-6)


def test_lut1d_golden_values():
    lut = Lut1D(np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.25], [1.0, 1.0, 1.0]], dtype=np.float32))
    out = lut.apply_reference(np.array([[0.25, 0.25, 0.75], [1.5, -1.0, 0.5]], dtype=np.float32))
    np.testing.assert_allclose(out, [[0.25, 0.5, 0.625], [1.0, 1.0, 0.25]], atol=1e-7)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Lut3D(np.zeros((4, 4, 3, 3))),
        lambda: Lut3D(np.zeros((1, 1, 1, 3))),
        lambda: Lut3D(np.zeros((257, 1, 1, 3))),
        lambda: Lut3D(identity_table(3), interpolation="cubic"),
        lambda: Lut3D(identity_table(3), (0.0, 0.5, 0.0), (1.0, 0.5, 1.0)),
        lambda: Lut3D(np.full((2, 2, 2, 3), np.nan)),
        lambda: Lut1D(np.zeros((1, 3))),
        lambda: Lut1D(np.zeros((8, 4))),
        lambda: Lut1D(np.zeros((8, 3)), (0.0, 0.0), (1.0, 1.0)),
    ],
)
def test_invalid_luts_are_refused_with_one_line(make):
    with pytest.raises(LutError) as err:
        make()
    assert isinstance(err.value, MoodgradeError) and "\n" not in str(err.value)


def test_tables_are_float32_and_read_only():
    lut = Lut3D(identity_table(3).astype(np.float64))
    assert lut.table.dtype == np.float32 and not lut.table.flags.writeable
