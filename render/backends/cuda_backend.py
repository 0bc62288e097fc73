"""The CUDA backend (CuPy RawModule, compiled by NVRTC from the same kernels/ source).

CuPy is imported lazily: on a machine without it (or without an NVIDIA GPU)
the backend is simply unavailable. ``apply`` takes NumPy frames (copied to and
from the device) or CuPy arrays (kept on the device, no copies).
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from render.backends.base import Backend, check_frame, float_buffers, walk
from render.backends.codegen import DIALECT_CONSTANTS, blur_kernel_name, program_source
from render.backends.device_tables import DeviceTables
from render.errors import MoodgradeError
from render.ops.compiled import FramePlan
from render.ops.plan import build_plan

BLOCK = (32, 4, 1)  # measured on an H100 against 32x8, 64x4, 128x1, 256x1 (benchmarks/NOTES.md)
LANES = DIALECT_CONSTANTS["cuda"]["LANES"]  # pixels (or blur floats) per thread
ROWS = DIALECT_CONSTANTS["cuda"]["ROWS"]  # rows of LANES pixels per thread of a pixel pass
# fast maths: approximate division and square root (2 ulp), denormals flushed; NaN handling
# is unchanged, and the agreement bounds (1 code value, 1e-4 in float) hold with room to spare
NVRTC_OPTIONS = ("--std=c++14", "--use_fast_math")


def cuda_plan(grade, frame_kind: str):
    """The plan the CUDA backend runs: tetrahedral LUTs on 8-bit frames with half-float corners."""
    return build_plan(grade, frame_kind, half_luts=True)


def launch_grids(width: int, height: int, block=BLOCK, rows: int = ROWS) -> tuple[tuple, tuple]:
    """Grids (in blocks) of the pixel passes (a thread: LANES pixels of ``rows`` rows) and of the
    blur passes (a thread: LANES floats of one row) over a width x height frame."""
    threads_x, blur_threads_x = -(-width // LANES), -(-3 * width // LANES)
    return ((-(-threads_x // block[0]), -(-height // (block[1] * rows)), 1),
            (-(-blur_threads_x // block[0]), -(-height // block[1]), 1))


def cuda_unavailable_reason() -> str | None:
    """None when CuPy and a CUDA device are usable, else why not (one line)."""
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed"
    except Exception as exc:  # a broken CUDA install makes the import itself fail
        return f"CuPy cannot load ({exc.__class__.__name__}: {exc})"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA device found"
    except Exception as exc:
        return f"no usable CUDA device ({exc.__class__.__name__})"
    return None


class CudaBackend(Backend):
    """Runs grades as CUDA kernels on the current CuPy device."""

    name = "cuda"

    def __init__(self):
        reason = cuda_unavailable_reason()
        if reason:
            raise MoodgradeError(f"backend 'cuda' is not available: {reason}")
        import cupy
        self._cp = cupy
        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        self.device = f"CUDA {name}"
        self._modules: dict = {}
        self._lock = threading.Lock()  # buffers are reused: one frame at a time
        self._buffers: dict = {}
        self._tables = None                   # the device's T
        self._table_record = DeviceTables()   # what it holds

    def _buffer(self, name: str, shape, dtype):
        buf = self._buffers.get(name)
        if buf is None or buf.shape != tuple(shape) or buf.dtype != np.dtype(dtype):
            buf = self._cp.empty(shape, dtype)
            self._buffers[name] = buf
        return buf

    def _module(self, key, make_source):
        mod = self._modules.get(key)
        if mod is None:
            mod = self._cp.RawModule(code=make_source(), options=NVRTC_OPTIONS)
            self._modules[key] = mod
        return mod

    def plan_options(self, kind: str) -> tuple[str | None, bool]:
        return kind, True   # tetrahedral LUTs on 8-bit frames keep half-float corners

    def run(self, frame, frame_plan: FramePlan):
        """Grade one HxWx3 frame (uint8/uint16/float32, NumPy or CuPy) by its plan; returns the same
        kind of array. Safe to call from several threads (the device runs one frame at a time)."""
        on_device = isinstance(frame, self._cp.ndarray)
        check_frame(frame, frame_plan)
        with self._lock:
            run, out = self.prepare(frame, frame_plan)
            run()
            return out if on_device else self._cp.asnumpy(out)

    def prepare(self, frame, fp: FramePlan):
        """Compile (cached) and upload for one frame; returns ``(run, output)``.

        ``run()`` writes the frame's parameters into the program's ``__constant__`` array
        and launches every pass on the current stream (no Python planning), so benchmarks
        can time the kernels alone; ``output`` is the CuPy result array.
        """
        cp = self._cp
        plan, packed, w, h = fp.plan, fp.packed, fp.width, fp.height
        mod = self._module(fp.program_key, lambda: program_source(plan, packed, fp.frame_kind, fp.transfer))
        src = cp.ascontiguousarray(frame) if isinstance(frame, cp.ndarray) else cp.asarray(np.ascontiguousarray(frame))
        bufs = {"input": src, "output": cp.empty_like(src)}  # a new array per frame (pooled)
        params = packed.params  # pageable: each copy is staged before copy_from_host_async returns
        params_ptr = params.ctypes.data_as(ctypes.c_void_p)
        params_symbol = mod.get_global("P")
        stream = cp.cuda.get_current_stream()
        for offset, values in self._table_record.writes(packed):
            if offset == 0 and values is packed.tables:
                self._tables = cp.empty(len(values), cp.float32)
            self._tables[offset:offset + len(values)].set(values, stream=stream)   # ordered before the launches
        for name in float_buffers(plan):
            bufs[name] = self._buffer(name, (h, w, 3), np.float32)
        grid, blur_grid = launch_grids(w, h)
        launches = []

        def pixel(p):
            aux = bufs[p.aux] if p.aux else src
            launches.append((mod.get_function(p.kernel), grid,
                             (bufs[p.src], aux, bufs[p.dst], np.int32(w), np.int32(h),
                              np.uint32(fp.frame_index & 0xFFFFFFFF), self._tables)))

        def blur(h_pass, v_pass, weights):
            weights_on_device = cp.asarray(weights)
            for p in (h_pass, v_pass):
                launches.append((mod.get_function(blur_kernel_name(p)), blur_grid,
                                 (bufs[p.src], bufs[p.dst], np.int32(w), np.int32(h), weights_on_device,
                                  np.int32(len(weights) - 1))))

        walk(plan, packed.weights, pixel, blur)

        def run():
            params_symbol.copy_from_host_async(params_ptr, params.nbytes)  # stream-ordered before the launches
            for kernel, g, args in launches:
                kernel(g, BLOCK, args)

        return run, bufs["output"]
