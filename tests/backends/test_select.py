"""Backend selection, frame checks and the program cache."""

import numpy as np
import pytest

from render.backends import available_backends, select_backend
from render.backends.opencl_backend import OpenCLBackend, opencl_devices
from render.errors import MoodgradeError
from render.ops.colour import Contrast, Exposure, Saturation
from render.ops.focus import Unsharp

needs_opencl = pytest.mark.skipif(not opencl_devices(), reason="no OpenCL device")


def test_numpy_is_always_available_and_last():
    names = available_backends()
    assert names[-1] == "numpy"
    assert select_backend("numpy").name == "numpy"


@needs_opencl
def test_auto_prefers_opencl_over_numpy_without_cuda():
    if "cuda" in available_backends():
        pytest.skip("CUDA present: auto picks it")
    assert select_backend(None).name == "opencl"
    assert select_backend("auto").name == "opencl"


def test_unknown_backend_is_a_one_line_error():
    with pytest.raises(MoodgradeError, match="unknown backend 'metal'"):
        select_backend("metal")


@pytest.mark.parametrize("frame, message", [
    (np.zeros((4, 4), np.uint8), "HxWx3"),
    (np.zeros((4, 4, 4), np.uint8), "HxWx3"),
    (np.zeros((4, 4, 3), np.int32), "uint8, uint16 or float32"),
    ([[1, 2, 3]], "HxWx3"),
])
def test_bad_frames_are_refused(frame, message):
    with pytest.raises(MoodgradeError, match=message):
        select_backend("numpy").apply(frame, (Exposure(1.0),))


def test_a_grade_must_hold_ops():
    with pytest.raises(MoodgradeError, match="not a grading op"):
        select_backend("numpy").apply(np.zeros((2, 2, 3), np.uint8), ("exposure",))


@needs_opencl
def test_new_values_reuse_the_program_new_structure_builds_one():
    backend = OpenCLBackend()
    frame = np.full((8, 16, 3), 100, np.uint8)
    for ev in (0.5, 1.0, -1.0):
        backend.apply(frame, (Exposure(ev), Contrast(1.2), Unsharp(2.0, 0.5)), frame_index=int(ev * 10))
    assert len(backend._programs) == 1
    backend.apply(frame, (Exposure(0.5), Saturation(1.2)))
    assert len(backend._programs) == 2
    backend.apply(frame.astype(np.uint16) * 257, (Exposure(0.5), Saturation(1.2)))
    assert len(backend._programs) == 3


@needs_opencl
def test_output_is_a_new_array_of_the_same_shape_and_dtype():
    backend = OpenCLBackend()
    for dtype in (np.uint8, np.uint16, np.float32):
        frame = np.zeros((5, 7, 3), dtype)
        out = backend.apply(frame, (Exposure(1.0),))
        assert out.shape == frame.shape and out.dtype == frame.dtype and out is not frame


@needs_opencl
def test_concurrent_calls_from_a_thread_pool_are_safe():
    from concurrent.futures import ThreadPoolExecutor
    backend = OpenCLBackend()
    frames = [np.full((16, 24, 3), v, np.uint8) for v in (10, 80, 160, 240)] * 3
    grade = (Exposure(0.5), Unsharp(20.0, 0.5))
    want = [select_backend("numpy").apply(f, grade) for f in frames]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda f: backend.apply(f, grade), frames))
    assert all(np.abs(a.astype(int) - b).max() <= 1 for a, b in zip(want, got))


def test_forced_opencl_without_pyopencl_is_a_clear_error(monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyopencl" else real(name, *a))
    with pytest.raises(MoodgradeError, match="backend 'opencl' is not available: PyOpenCL is not installed"):
        select_backend("opencl")
