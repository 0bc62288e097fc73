"""The OpenCL backend (PyOpenCL): GPUs where present, otherwise PoCL on the CPU.

Programs are built once per grade structure (see codegen.program_key) and their
kernel objects reused; device buffers are kept and reused while the frame size
stays the same. Per-frame values travel in the small P buffer.

On a CPU device the separable blur passes run by default through OpenCV's SIMD
``sepFilter2D`` on the mapped buffers (``blur="opencv"``): measured 3-4x faster
than PoCL's code for the same kernel (see benchmarks/NOTES.md); ``blur="kernel"``
uses the device kernels of kernels/focus.h, as GPUs always do. Likewise tetrahedral 3D LUTs on
8-bit frames keep half-float corners on GPUs (``half_luts``; measured with CUDA, not yet on an
OpenCL GPU) and float corners on CPUs (PoCL: 34 against 12 ms for a 1080p colour pass).
"""

from __future__ import annotations

import threading

import numpy as np

from render.backends.base import Backend, check_frame, float_buffers, walk
from render.backends.codegen import DIALECT_CONSTANTS, blur_kernel_name, program_source
from render.backends.device_tables import DeviceTables
from render.errors import MoodgradeError
from render.ops.compiled import FramePlan

LANES = DIALECT_CONSTANTS["opencl"]["LANES"]  # pixels per work-item


def opencl_devices(kind: str | None = None) -> list:
    """OpenCL devices, GPUs first; ``kind`` "gpu" or "cpu" filters. Empty if PyOpenCL or drivers are missing."""
    try:
        import pyopencl as cl
    except ImportError:
        return []
    devices = []
    try:
        for platform in cl.get_platforms():
            try:
                devices += platform.get_devices()
            except cl.Error:
                continue
    except cl.Error:
        return []
    gpus = [d for d in devices if d.type & cl.device_type.GPU]
    cpus = [d for d in devices if not d.type & cl.device_type.GPU]
    return {"gpu": gpus, "cpu": cpus}.get(kind, gpus + cpus)


class OpenCLBackend(Backend):
    """Runs grades as OpenCL kernels on one device."""

    name = "opencl"

    def __init__(self, device=None, blur: str | None = None, half_luts: bool | None = None):
        import pyopencl as cl
        self._cl = cl
        if device is None:
            devices = opencl_devices()
            if not devices:
                raise MoodgradeError("backend 'opencl' is not available: no OpenCL device found")
            device = devices[0]
        on_cpu = not device.type & cl.device_type.GPU
        self.blur = blur or ("opencv" if on_cpu else "kernel")
        if self.blur not in ("opencv", "kernel"):
            raise ValueError(f"blur must be 'opencv' or 'kernel', not {blur!r}")
        self.half_luts = not on_cpu if half_luts is None else half_luts
        self.device = f"OpenCL {device.name.strip()} ({device.platform.name.strip()})"
        self.context = cl.Context([device])
        self.queue = cl.CommandQueue(self.context)
        self._programs: dict = {}
        self._lock = threading.Lock()  # buffers are reused: one frame at a time
        self._buffers: dict = {}
        self._tables = DeviceTables()   # what the device's T holds

    def _buffer(self, name: str, nbytes: int):
        buf = self._buffers.get(name)
        if buf is None or buf.size < nbytes:
            buf = self._cl.Buffer(self.context, self._cl.mem_flags.READ_WRITE, max(nbytes, 4))
            self._buffers[name] = buf
            if name == "T":
                self._tables.forget()
        return buf

    def _program(self, key, make_source):
        entry = self._programs.get(key)
        if entry is None:
            try:
                program = self._cl.Program(self.context, make_source()).build()
            except self._cl.Error as exc:  # a bug in generated code, not a user error
                raise RuntimeError(f"OpenCL build failed:\n{exc}") from exc
            entry = (program, {k.function_name: k for k in program.all_kernels()})
            self._programs[key] = entry
        return entry[1]

    def plan_options(self, kind: str) -> tuple[str | None, bool]:
        return kind, self.half_luts

    def run(self, frame: np.ndarray, frame_plan: FramePlan) -> np.ndarray:
        """Grade one HxWx3 frame (uint8/uint16/float32) by its plan; returns a new frame of the same
        shape and dtype. Safe to call from several threads (the device runs one frame at a time)."""
        check_frame(frame, frame_plan)
        frame = np.ascontiguousarray(frame)
        with self._lock:
            return self._run(frame, frame_plan)

    def _run(self, frame: np.ndarray, fp: FramePlan) -> np.ndarray:
        cl = self._cl
        plan, packed, w, h = fp.plan, fp.packed, fp.width, fp.height
        kernels = self._program(fp.program_key, lambda: program_source(plan, packed, fp.frame_kind, fp.transfer))

        q = self.queue
        bufs = {"input": self._buffer("input", frame.nbytes), "output": self._buffer("output", frame.nbytes)}
        for name in float_buffers(plan):
            bufs[name] = self._buffer(name, w * h * 12)
        # non-blocking copies: their host arrays live until the blocking read at the end
        cl.enqueue_copy(q, bufs["input"], frame, is_blocking=False)
        P = self._buffer("P", packed.params.nbytes)
        cl.enqueue_copy(q, P, packed.params, is_blocking=False)
        T = self._buffer("T", packed.tables.nbytes)
        for offset, values in self._tables.writes(packed):
            cl.enqueue_copy(q, T, values, dst_offset=4 * offset, is_blocking=False)
        grid = ((w + LANES - 1) // LANES, h)
        blur_grid = ((3 * w + LANES - 1) // LANES, h)
        blurs = []

        def pixel(p):
            aux = bufs[p.aux] if p.aux else bufs["input"]
            kernels[p.kernel](q, grid, None, bufs[p.src], aux, bufs[p.dst], np.int32(w), np.int32(h),
                              np.uint32(fp.frame_index & 0xFFFFFFFF), P, T)

        def blur(h_pass, v_pass, weights):
            if self.blur == "opencv":   # both directions in one sepFilter2D call
                self._blur_opencv(bufs[h_pass.src], bufs[v_pass.dst], (h, w, 3), weights)
                return
            wbuf = self._buffer(f"w{len(blurs)}", weights.nbytes)
            blurs.append(wbuf)
            cl.enqueue_copy(q, wbuf, weights, is_blocking=False)
            for p in (h_pass, v_pass):
                kernels[blur_kernel_name(p)](q, blur_grid, None, bufs[p.src], bufs[p.dst], np.int32(w), np.int32(h),
                                             wbuf, np.int32(len(weights) - 1))

        walk(plan, packed.weights, pixel, blur)
        out = np.empty_like(frame)
        cl.enqueue_copy(q, out, bufs["output"], is_blocking=True)
        return out

    def _blur_opencv(self, src, dst, shape, weights: np.ndarray) -> None:
        """The separable Gaussian with cv2.sepFilter2D on the mapped float buffers (CPU devices)."""
        import cv2
        cl, q = self._cl, self.queue
        full = np.concatenate([weights[:0:-1], weights]).astype(np.float32)
        a, _ = cl.enqueue_map_buffer(q, src, cl.map_flags.READ, 0, shape, np.float32, is_blocking=True)
        b, _ = cl.enqueue_map_buffer(q, dst, cl.map_flags.WRITE_INVALIDATE_REGION, 0, shape, np.float32,
                                     is_blocking=True)
        try:
            cv2.sepFilter2D(a, -1, full, full, dst=b, borderType=cv2.BORDER_REPLICATE)
        finally:
            a.base.release(q)
            b.base.release(q)
