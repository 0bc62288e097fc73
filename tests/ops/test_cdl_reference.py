"""NumPy reference of the ASC CDL v1.2: golden values, clamping, and OpenColorIO's CDLTransform."""

import numpy as np
import PyOpenColorIO as ocio
import pytest

from render.errors import MoodgradeError
from render.ops.cdl import CDL, CdlError


def ocio_cdl(cdl: CDL, rgb: np.ndarray) -> np.ndarray:
    """OpenColorIO's CPU processor for the same CDL in the ASC (clamping) style, float32.

    OPTIMIZATION_LOSSLESS: the default processor swaps pow for a fast approximation
    that differs from exact pow by up to about 1.3e-5.
    """
    transform = ocio.CDLTransform(slope=cdl.slope, offset=cdl.offset, power=cdl.power, sat=cdl.saturation)
    transform.setStyle(ocio.CDL_ASC)
    processor = ocio.Config.CreateRaw().getProcessor(transform)
    cpu = processor.getOptimizedCPUProcessor(ocio.OPTIMIZATION_LOSSLESS)
    out = np.ascontiguousarray(rgb, dtype=np.float32).copy()
    cpu.applyRGB(out)
    return out


def test_identity_gives_in_range_input_back_exactly():
    rgb = np.random.default_rng(2).random((32, 24, 3), dtype=np.float32)
    out = CDL().apply_reference(rgb)
    assert out.shape == rgb.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out, rgb)


def test_golden_value():
    # ASC CDL v1.2: (0.3 * 2 - 0.1, 0.55 * 2 - 0.1, 0.05 * 2 - 0.1) = (0.5, 1.0, 0.0), squared
    # (0.25, 1.0, 0.0); luma 0.2126 * 0.25 + 0.7152 = 0.76835; half-way to it at saturation 0.5.
    cdl = CDL(slope=(2.0, 2.0, 2.0), offset=(-0.1, -0.1, -0.1), power=(2.0, 2.0, 2.0), saturation=0.5)
    out = cdl.apply_reference(np.array([0.3, 0.55, 0.05], dtype=np.float32))
    np.testing.assert_allclose(out, [0.509175, 0.884175, 0.384175], atol=1e-6)


def test_clamps_after_sop_and_after_saturation_and_stays_finite():
    cdl = CDL(slope=(1.5, 1.0, 1.0), offset=(0.1, 0.0, -0.2), power=(0.8, 1.0, 1.3), saturation=3.0)
    rgb = np.array([[-2.0, 0.5, 9.0], [np.nan, np.inf, -np.inf], [0.9, 0.1, 0.1]], dtype=np.float32)
    out = cdl.apply_reference(rgb)
    assert np.all(np.isfinite(out)) and out.min() >= 0.0 and out.max() <= 1.0
    assert out[2, 0] == 1.0 and out[2, 2] == 0.0  # saturation 3 pushed them out, clamped back


CDLS = [
    CDL(),
    CDL((1.2, 0.95, 0.8), (0.02, -0.01, 0.05), (1.3, 0.9, 0.7), 1.25),
    CDL((0.5, 2.0, 1.0), (-0.1, 0.1, 0.3), (2.5, 0.4, 1.0), 0.0),
    CDL((0.0, 1.0, 3.0), (0.5, 0.0, -1.0), (1.0, 1.0, 1.0), 2.0),
    CDL(saturation=0.6),
]


@pytest.mark.parametrize("cdl", CDLS, ids=range(len(CDLS)))
def test_agrees_with_opencolorio(cdl):
    rng = np.random.default_rng(4)
    ramp = np.repeat(np.linspace(-0.5, 1.5, 2001, dtype=np.float32)[:, None], 3, axis=1)
    rgb = np.concatenate([ramp, (rng.random((20000, 3)) * 2.0 - 0.5).astype(np.float32), np.eye(3, dtype=np.float32)])
    np.testing.assert_allclose(cdl.apply_reference(rgb), ocio_cdl(cdl, rgb), atol=1e-5, rtol=0)


@pytest.mark.parametrize("cdl", CDLS, ids=range(len(CDLS)))
def test_device_kernels_agree_with_opencolorio(cdl):
    # the OpenCL kernels (PoCL in CI) on a float frame; frames are clamped to 0..1 as they load
    from render.backends.opencl_backend import OpenCLBackend, opencl_devices
    if not opencl_devices():
        pytest.skip("no OpenCL device")
    rng = np.random.default_rng(5)
    frame = np.concatenate([np.repeat(np.linspace(0, 1, 1000, dtype=np.float32)[:, None], 3, axis=1),
                            rng.random((5000, 3), dtype=np.float32)]).reshape(60, 100, 3)
    graded = OpenCLBackend().apply(frame, (cdl,))
    np.testing.assert_allclose(graded.reshape(-1, 3), ocio_cdl(cdl, frame.reshape(-1, 3)), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "values",
    [
        {"slope": (-0.1, 1.0, 1.0)},
        {"power": (1.0, 0.0, 1.0)},
        {"power": (1.0, 1.0, -2.0)},
        {"saturation": -0.5},
        {"saturation": float("nan")},
        {"saturation": "high"},
        {"offset": (0.0, 0.0)},
        {"offset": (0.0, float("inf"), 0.0)},
    ],
)
def test_out_of_range_values_are_refused_with_one_line(values):
    with pytest.raises(CdlError) as err:
        CDL(**values)
    assert isinstance(err.value, MoodgradeError) and "\n" not in str(err.value)
