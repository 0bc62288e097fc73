"""The fused colour pass on one GPU, kernel alone: compile variants side by side against the
memory floor, so that one short device session says which one to keep.

The pass is bench_grade's colour grade (tetrahedral 33^3 LUT, contrast, saturation,
vignette) on 4K 8-bit frames already on the device. Each variant compiles the very
program the CUDA backend generates (render.backends.codegen) with other NVRTC options
or launch shapes. Timing: CUDA events around 200 launches, rotating over 4 input and 4
output frames (200 MB, more than the L2 cache), median of 5 batches; the floor is one
read and one write of a frame at the bandwidth of a device-to-device copy measured in
the same run. Outputs are compared with the backend's own (checked against NumPy by
tests/backends/test_agreement.py) and every output byte is checked as written.

Run (on a machine with CuPy and an NVIDIA GPU): python -m benchmarks.bench_cuda_kernel
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

from benchmarks.bench_grade import SIZES, colour_grade, load_frames
from render.backends.codegen import program_source
from render.backends.cuda_backend import BLOCK, LANES, NVRTC_OPTIONS, CudaBackend
from render.ops.base import FrameContext
from render.ops.plan import build_plan, pack

VARIANTS = {  # name: (NVRTC options, block)
    "backend": (NVRTC_OPTIONS, BLOCK),
    "IEEE div/sqrt": (("--std=c++14",), BLOCK),
    "no restrict": ((*NVRTC_OPTIONS, "-DRESTRICT="), BLOCK),
    "block 64x4": (NVRTC_OPTIONS, (64, 4, 1)),
    "block 128x1": (NVRTC_OPTIONS, (128, 1, 1)),
    "block 256x1": (NVRTC_OPTIONS, (256, 1, 1)),
    "block 32x4": (NVRTC_OPTIONS, (32, 4, 1)),
    "maxrregcount 40": ((*NVRTC_OPTIONS, "--maxrregcount=40"), BLOCK),
    "maxrregcount 32": ((*NVRTC_OPTIONS, "--maxrregcount=32"), BLOCK),
}


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
    args = parser.parse_args()
    import cupy as cp
    backend = CudaBackend()
    frames = load_frames(4, SIZES[args.size])
    h, w = frames[0].shape[:2]
    grade = colour_grade()
    plan = build_plan(grade)
    packed = pack(plan, FrameContext(w, h, 0, "bt709"))
    source = program_source(plan, packed, "u8", "bt709")
    want = backend.apply(frames[0], grade)
    inputs = [cp.asarray(f) for f in frames]
    outputs = [cp.empty_like(x) for x in inputs]
    P, T = cp.asarray(packed.params), cp.asarray(packed.tables)
    bandwidth = copy_bandwidth(cp, frames[0].nbytes)
    floor = 2 * frames[0].nbytes / bandwidth
    print(f"# {backend.device}, {w}x{h} u8, d2d copy {bandwidth / 1e12:.2f} TB/s, floor {floor * 1e6:.1f} us")
    rows = []
    for name, (options, block) in VARIANTS.items():
        kernel = cp.RawModule(code=source, options=options).get_function("pass0")
        threads_x = (w + LANES - 1) // LANES
        grid = ((threads_x + block[0] - 1) // block[0], (h + block[1] - 1) // block[1], 1)
        args_list = [(grid, (src, dst, np.int32(w), np.int32(h), np.uint32(0), P, T))
                     for src, dst in zip(inputs, outputs)]
        outputs[0].fill(0xA5)  # poison: every byte must be written
        seconds = time_launches(cp, kernel, block, args_list)
        got = cp.asnumpy(outputs[0])
        diff = int(np.abs(got.astype(int) - want).max())
        rows.append((name, block, seconds, diff))
    print()
    print("| variant | block | us per frame | x floor | max diff vs backend |")
    print("| --- | --- | --- | --- | --- |")
    for name, block, seconds, diff in rows:
        print(f"| {name} | {block[0]}x{block[1]} | {seconds * 1e6:.1f} | {seconds / floor:.2f} | {diff} |")


if __name__ == "__main__":
    main()
