"""Backends that run grades: ``cuda`` (CuPy), ``opencl`` (PyOpenCL) and ``numpy`` (the reference).

``select_backend(None)`` (or "auto") picks the first usable of: CUDA, an OpenCL
GPU, an OpenCL CPU device (PoCL), NumPy. Naming a backend forces it; a forced
backend that is not usable raises MoodgradeError with the reason.
"""

from __future__ import annotations

import importlib.util
import threading

from render.errors import MoodgradeError

BACKEND_NAMES = ("cuda", "opencl", "numpy")


def available_backends() -> list[str]:
    """Names of the backends usable on this machine, in auto-selection order."""
    from render.backends.cuda_backend import cuda_unavailable_reason
    from render.backends.opencl_backend import opencl_devices
    names = []
    if cuda_unavailable_reason() is None:
        names.append("cuda")
    if opencl_devices():
        names.append("opencl")
    names.append("numpy")
    return names


def select_backend(name: str | None = None):
    """The process's backend object for ``name``, with ``apply(frame, grade, frame_index=0,
    transfer="bt709")``: made once per name and shared (every backend is thread-safe and
    grades one frame at a time), so its device context, compiled programs and frame
    buffers exist once however many renders or preview sessions use it.

    ``name``: None or "auto" (best available), "cuda", "opencl" or "numpy".
    """
    key = name or "auto"
    with _shared_lock:
        backend = _shared.get(key)
        if backend is None:
            backend = _shared[key] = _make_backend(name)
    return backend


_shared: dict = {}
_shared_lock = threading.Lock()


def _make_backend(name: str | None):
    from render.backends.cuda_backend import CudaBackend, cuda_unavailable_reason
    from render.backends.numpy_backend import NumpyBackend
    from render.backends.opencl_backend import OpenCLBackend, opencl_devices

    if name in (None, "auto"):
        if cuda_unavailable_reason() is None:
            return CudaBackend()
        devices = opencl_devices("gpu") or opencl_devices("cpu")
        if devices:
            return OpenCLBackend(devices[0])
        return NumpyBackend()
    if name == "cuda":
        return CudaBackend()
    if name == "opencl":
        if importlib.util.find_spec("pyopencl") is None:
            raise MoodgradeError("backend 'opencl' is not available: PyOpenCL is not installed")
        return OpenCLBackend()
    if name == "numpy":
        return NumpyBackend()
    raise MoodgradeError(f"unknown backend {name!r}; choose one of auto, {', '.join(BACKEND_NAMES)}")
