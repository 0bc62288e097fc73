"""Every backend agrees with the NumPy reference, op by op and for a fused chain of all ops.

Bounds (design.md): 8-bit and 16-bit output within 1 code value everywhere, float
output within 1e-4. Frames are 61 px wide so that the OpenCL lane tails are used.
The CUDA cases run where CuPy and a GPU are present (benchmarks/gpu_check.sh).
"""

import numpy as np
import pytest

from render.backends.cuda_backend import cuda_unavailable_reason
from render.backends.numpy_backend import NumpyBackend
from render.backends.opencl_backend import opencl_devices
from tests.backends.examples import FUSED_CHAIN, OP_EXAMPLES, full_ramp_u8, sample_frame

BOUND = {np.uint8: 1, np.uint16: 1, np.float32: 1e-4}


def _backend(name):
    if name.startswith("opencl"):
        if not opencl_devices():
            pytest.skip("no OpenCL device")
        from render.backends.opencl_backend import OpenCLBackend
        return OpenCLBackend(blur="kernel" if name == "opencl-kernel-blur" else None,
                             half_luts=name == "opencl-half-luts")
    reason = cuda_unavailable_reason()
    if reason:
        pytest.skip(f"cuda: {reason}")
    from render.backends.cuda_backend import CudaBackend
    return CudaBackend()


_CACHE = {}


@pytest.fixture(params=["opencl", "cuda"])
def backend(request):
    if request.param not in _CACHE:
        _CACHE[request.param] = _backend(request.param)
    return _CACHE[request.param]


def assert_agrees(backend, frame, grade, frame_index=3, transfer="bt709"):
    want = NumpyBackend().apply(frame, grade, frame_index=frame_index, transfer=transfer)
    got = backend.apply(frame, grade, frame_index=frame_index, transfer=transfer)
    assert got.dtype == frame.dtype and got.shape == frame.shape
    err = np.abs(want.astype(np.float64) - got.astype(np.float64)).max()
    assert err <= BOUND[frame.dtype.type], f"max difference {err}"


@pytest.mark.parametrize("name", sorted(OP_EXAMPLES))
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_each_op_agrees(backend, name, dtype):
    assert_agrees(backend, sample_frame(dtype), (OP_EXAMPLES[name],))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_fused_chain_of_all_ops_agrees(backend, dtype):
    assert_agrees(backend, sample_frame(dtype, seed=1), FUSED_CHAIN, frame_index=12345)


def test_fused_chain_on_every_8bit_code(backend):
    assert_agrees(backend, full_ramp_u8(), FUSED_CHAIN)


@pytest.mark.parametrize("backend_name", ["opencl-half-luts", "cuda"])
def test_half_float_lut_corners_agree_on_8bit_frames(backend_name):
    # GPUs keep a tetrahedral LUT's corners as half floats on 8-bit frames (kernels/lut.h)
    backend = _backend(backend_name)
    for frame, grade in ((full_ramp_u8(), (OP_EXAMPLES["lut3d_tetrahedral"],)), (sample_frame(np.uint8, seed=6), FUSED_CHAIN)):
        assert_agrees(backend, frame, grade)


def test_srgb_transfer_agrees(backend):
    grade = (OP_EXAMPLES["exposure"], OP_EXAMPLES["bloom"], OP_EXAMPLES["vignette"])
    assert_agrees(backend, sample_frame(np.float32), grade, transfer="srgb")


def test_nan_inf_and_out_of_range_stay_finite_and_clamped(backend):
    frame = sample_frame(np.float32)
    frame[0, :6] = [[np.nan] * 3, [np.inf] * 3, [-np.inf] * 3, [-5, 7, 0.5], [1e30, -1e30, np.nan], [2, 2, 2]]
    out = backend.apply(frame, FUSED_CHAIN, frame_index=1)
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    assert_agrees(backend, frame, FUSED_CHAIN)


def test_opencl_device_blur_kernels_agree():
    """The device blur kernels (used on GPUs; CPUs default to OpenCV) against the reference."""
    backend = _backend("opencl-kernel-blur")
    for name in ("blur", "unsharp", "bloom", "depth_of_field"):
        assert_agrees(backend, sample_frame(np.float32), (OP_EXAMPLES[name],))
    assert_agrees(backend, sample_frame(np.uint8, seed=2), FUSED_CHAIN)


@pytest.mark.parametrize("interpolation", ["tetrahedral", "trilinear"])
def test_luts_with_their_own_domain_and_many_points_agree(backend, interpolation):
    # a 1D shaper of 4096 points over -0.25..1.25 and a 33-point cube over an unequal domain:
    # grid positions, both clamps and exact grid points (the ramps hit every 8-bit code)
    from render.ops.lut import Lut1D, Lut3D
    rng = np.random.default_rng(9)
    x = np.linspace(0.0, 1.0, 4096, dtype=np.float32)
    shaper = Lut1D(np.stack([x ** 0.9, x, x ** 1.1], axis=1), domain_min=(-0.25,) * 3, domain_max=(1.25,) * 3)
    grid = np.stack(np.meshgrid(*[np.linspace(0, 1, 33)] * 3, indexing="ij"), axis=-1)
    cube = Lut3D((grid + 0.05 * rng.standard_normal(grid.shape)).astype(np.float32), domain_min=(0.0, -0.5, 0.1),
                 domain_max=(1.0, 1.5, 0.9), interpolation=interpolation)
    for dtype in (np.uint8, np.float32):
        assert_agrees(backend, sample_frame(dtype, seed=4), (shaper, cube))


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_grain_of_a_real_size_agrees(backend, dtype):
    # 4 px of 1080 lines on 216 lines: a 0.8 px blur (radius 3), edges and corners included
    from render.ops.grain import FilmGrain
    frame = sample_frame(dtype, height=216, width=133, seed=2)
    assert_agrees(backend, frame, (FilmGrain(amount=1.0, size_px=4.0, chroma=0.5, seed=77),), frame_index=41)


def test_same_grain_on_every_backend_and_call(backend):
    frame = np.full((20, 30, 3), 128, np.uint8)
    grade = (OP_EXAMPLES["film_grain"],)
    a = backend.apply(frame, grade, frame_index=7)
    assert np.array_equal(a, backend.apply(frame, grade, frame_index=7))
    assert np.array_equal(a, NumpyBackend().apply(frame, grade, frame_index=7))
    assert not np.array_equal(a, backend.apply(frame, grade, frame_index=8))


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (2, 9), (9, 2)])
def test_tiny_and_odd_frames(backend, shape):
    frame = sample_frame(np.uint8, height=max(shape[0], 12), width=shape[1])[: shape[0]]
    assert_agrees(backend, frame, FUSED_CHAIN)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_identity_grades_return_the_input_exactly(backend, dtype):
    from render.ops.colour import Exposure, Saturation
    frame = sample_frame(dtype)
    for grade in ((), (Exposure(0.0), Saturation(1.0)), (OP_EXAMPLES["blur"].__class__(sigma_px=0.0),)):
        assert np.array_equal(backend.apply(frame, grade), frame)
