"""The fused colour pass on one GPU, kernel alone: compile variants side by side against the
memory floor, so that one short device session says which one to keep.

The pass is bench_grade's colour grade (tetrahedral 33^3 LUT, contrast, saturation,
vignette) on 4K 8-bit frames already on the device. Each variant compiles the very
program the CUDA backend generates (render.backends.codegen) with other NVRTC options,
launch shapes or plan (float LUT corners as before); the experiments edit that source (LUT
corners not loaded at all, parameters in global memory as before) to measure what a change
would gain before it is made in kernels/, or what one made has gained. Timing: CUDA events
around 200 launches, rotating over 4 input and 4
output frames (200 MB, more than the L2 cache), median of 5 batches; the floor is one
read and one write of a frame at the bandwidth of a device-to-device copy measured in
the same run. Outputs are compared with the backend's own (checked against NumPy by
tests/backends/test_agreement.py) and every output byte is checked as written.

Run (on a machine with CuPy and an NVIDIA GPU): python -m benchmarks.bench_cuda_kernel
"""

from __future__ import annotations

import argparse
import ctypes
import statistics

import numpy as np

from benchmarks.bench_grade import SIZES, colour_grade, load_frames
from render.backends.codegen import program_source
from render.backends.cuda_backend import BLOCK, NVRTC_OPTIONS, ROWS, CudaBackend, cuda_plan, launch_grids
from render.ops.base import FrameContext
from render.ops.plan import Packed, build_plan, pack

VARIANTS = {  # name: (NVRTC options, block, half-float LUT corners, source edits)
    "backend": (NVRTC_OPTIONS, BLOCK, True, ()),
    "IEEE div/sqrt": (("--std=c++14",), BLOCK, True, ()),
    "block 32x2": (NVRTC_OPTIONS, (32, 2, 1), True, ()),
    "block 128x1": (NVRTC_OPTIONS, (128, 1, 1), True, ()),
    "maxrregcount 48": ((*NVRTC_OPTIONS, "--maxrregcount=48"), BLOCK, True, ()),
    # the backend's program before a change, to measure its gain in the same run
    "LUT corners in float (before)": (NVRTC_OPTIONS, BLOCK, False, ()),
    "1 row a thread (before)": ((*NVRTC_OPTIONS, "-DROWS=1"), BLOCK, True, ()),
    "parameters in global memory (before)": (NVRTC_OPTIONS, BLOCK, True, ("global parameters",)),
    # experiments: source edits, to measure a change before it is made in kernels/
    "LUT corners computed, no loads": (NVRTC_OPTIONS, BLOCK, False, ("no corner loads",)),
}
TARGET_S = 40e-6  # issue 3: the fused colour pass on a 4K 8-bit frame on an H100
GLOBAL_PARAMS = "parameters in global memory (before)"
PARAMS_DECLARATION = "DECLARE_PARAMS("
PARAMS_IN_SIGNATURE = "PARAMS_ARG GLOBAL const float* RESTRICT T"
CORNER_LOAD = "float4 e = ((const float4*)t)[k.v[j]];"
NO_CORNER_LOADS = "float4 e = make_float4(k.v[j] * 1e-6f, 0.5f, 0.25f, 0.0f);"  # not a grade: the loads' cost


EDITS = {  # name: source -> source
    "global parameters": lambda s: "\n".join(line for line in s.splitlines() if not line.startswith(PARAMS_DECLARATION))
    .replace(PARAMS_IN_SIGNATURE, "const float* RESTRICT P, GLOBAL const float* RESTRICT T"),
    "no corner loads": lambda s: s.replace(CORNER_LOAD, NO_CORNER_LOADS),
}


def variant_program(name: str, width: int, height: int) -> tuple[str, Packed]:
    """(CUDA source, per-frame values) of a variant: the backend's program or an edit of it."""
    _, _, half_luts, edits = VARIANTS[name]
    plan = cuda_plan(colour_grade(), "u8") if half_luts else build_plan(colour_grade(), "u8")
    packed = pack(plan, FrameContext(width, height, 0, "bt709"))
    source = program_source(plan, packed, "u8", "bt709")
    for edit in edits:
        edited = EDITS[edit](source)
        assert edited != source, f"{name}: the edit {edit!r} no longer applies"
        source = edited
    return source, packed


def copy_bandwidth(cp, nbytes: int) -> float:
    """Bytes per second of a device-to-device copy, counting bytes read and written."""
    a, b = cp.empty(nbytes, cp.uint8), cp.empty(nbytes, cp.uint8)
    a.fill(7)
    for _ in range(3):
        b[...] = a
    start, stop = cp.cuda.Event(), cp.cuda.Event()
    start.record()
    for _ in range(50):
        b[...] = a
    stop.record()
    stop.synchronize()
    return 2 * nbytes * 50 / (cp.cuda.get_elapsed_time(start, stop) / 1e3)


def time_launches(cp, kernel, block, args_list, batches: int = 5, per_batch: int = 200) -> float:
    """Median seconds per launch, rotating over the argument sets."""
    for grid, args in args_list:
        kernel(grid, block, args)
    cp.cuda.Device().synchronize()
    times = []
    for _ in range(batches):
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        for i in range(per_batch):
            grid, args = args_list[i % len(args_list)]
            kernel(grid, block, args)
        stop.record()
        stop.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, stop) / 1e3 / per_batch)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="4k", choices=list(SIZES))
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), help="default: all")
    parser.add_argument("--source-out", help="also write the generated CUDA source here")
    args = parser.parse_args()
    import cupy as cp
    backend = CudaBackend()
    frames = load_frames(4, SIZES[args.size])
    h, w = frames[0].shape[:2]
    grade = colour_grade()
    want = backend.apply(frames[0], grade)
    inputs = [cp.asarray(f) for f in frames]
    outputs = [cp.empty_like(x) for x in inputs]
    if args.source_out:
        with open(args.source_out, "w") as fh:
            fh.write(variant_program("backend", w, h)[0])
    bandwidth = copy_bandwidth(cp, frames[0].nbytes)
    floor = 2 * frames[0].nbytes / bandwidth
    print(f"# {backend.device}, {w}x{h} u8, d2d copy {bandwidth / 1e12:.2f} TB/s, floor {floor * 1e6:.1f} us")
    rows, modules = [], []
    for name in args.variants or VARIANTS:
        options, block = VARIANTS[name][:2]
        source, packed = variant_program(name, w, h)
        modules.append(cp.RawModule(code=source, options=options))  # the module must outlive its kernel
        kernel = modules[-1].get_function("pass0")
        params_arg = (cp.asarray(packed.params),) if name == GLOBAL_PARAMS else ()
        if name != GLOBAL_PARAMS:
            modules[-1].get_global("P").copy_from_host(packed.params.ctypes.data_as(ctypes.c_void_p),
                                                       packed.params.nbytes)
        table = cp.asarray(packed.tables)
        grid = launch_grids(w, h, block, rows=1 if "-DROWS=1" in options else ROWS)[0]
        args_list = [(grid, (src, src, dst, np.int32(w), np.int32(h), np.uint32(0), *params_arg, table))  # aux unused
                     for src, dst in zip(inputs, outputs)]
        outputs[0].fill(0xA5)  # poison: every byte must be written
        seconds = time_launches(cp, kernel, block, args_list)
        got = cp.asnumpy(outputs[0])
        diff = int(np.abs(got.astype(int) - want).max())
        rows.append((name, block, seconds, diff))
        print(f"{name}: {seconds * 1e6:.1f} us, max diff {diff}", flush=True)
    print()
    print("| variant | block | us per frame | x floor | max diff vs backend |")
    print("| --- | --- | --- | --- | --- |")
    for name, block, seconds, diff in rows:
        print(f"| {name} | {block[0]}x{block[1]} | {seconds * 1e6:.1f} | {seconds / floor:.2f} | {diff} |")
    backend = {name: seconds for name, _, seconds, _ in rows}.get("backend")
    if backend is not None and args.size == "4k":
        verdict = "met" if backend <= TARGET_S else "not met"
        print(f"\n# the backend's pass: {backend * 1e6:.1f} us against the 40 us target for a 4K 8-bit frame: {verdict}")


if __name__ == "__main__":
    main()
