"""Transfer functions: golden values from the standards, exact round trips, OpenColorIO agreement."""

import numpy as np
import pytest

from render.ops.transfer import bt709_from_linear, bt709_to_linear, srgb_from_linear, srgb_to_linear


def test_bt709_oetf_golden_values():
    # ITU-R BT.709-6 item 1.2: V = 4.5 L below L = 0.018, 1.099 L^0.45 - 0.099 above
    # (continuous constants of ITU-R BT.2020-2 Table 4: alpha 1.0993, beta 0.0181)
    assert bt709_from_linear(np.float32(0.01)) == pytest.approx(0.045, abs=1e-7)
    assert bt709_from_linear(np.float32(0.018053968510807)) == pytest.approx(0.081243, abs=1e-6)
    assert bt709_from_linear(np.float32(1.0)) == pytest.approx(1.0, abs=1e-6)
    assert bt709_from_linear(np.float32(0.18)) == pytest.approx(0.409, abs=2e-4)  # 18 % grey
    assert bt709_to_linear(np.float32(0.045)) == pytest.approx(0.01, abs=1e-7)       # linear segment


def test_srgb_golden_values():
    # IEC 61966-2-1: encoded 0.5 is 21.4 % light; 18 % grey encodes to 0.4614 (118/255)
    assert srgb_to_linear(np.float32(0.5)) == pytest.approx(0.214041, abs=1e-6)
    assert srgb_from_linear(np.float32(0.18)) == pytest.approx(0.461356, abs=1e-6)
    assert srgb_to_linear(np.float32(0.04045)) == pytest.approx(0.04045 / 12.92, abs=1e-9)


@pytest.mark.parametrize("to_lin, from_lin", [(bt709_to_linear, bt709_from_linear),
                                              (srgb_to_linear, srgb_from_linear)])
def test_round_trip_and_negative_inputs(to_lin, from_lin):
    v = np.linspace(0, 1, 4097, dtype=np.float32)
    assert np.abs(from_lin(to_lin(v)) - v).max() < 2e-6
    assert to_lin(np.float32(-0.5)) == 0 and from_lin(np.float32(-0.5)) == 0


def test_srgb_agrees_with_opencolorio():
    ocio = pytest.importorskip("PyOpenColorIO")
    curve = ocio.ExponentWithLinearTransform(gamma=[2.4, 2.4, 2.4, 1.0], offset=[0.055, 0.055, 0.055, 0.0])
    cpu = ocio.Config.CreateRaw().getProcessor(curve).getDefaultCPUProcessor()  # SSE pow: ~2e-5
    v = np.linspace(0, 1, 1001, dtype=np.float32)
    rgb = np.ascontiguousarray(np.stack([v, v, v], -1))
    cpu.applyRGB(rgb)
    assert np.abs(rgb[:, 0] - srgb_to_linear(v)).max() < 5e-5
