"""The fused colour pass on one GPU, kernel alone: compile variants side by side against the
memory floor, so that one short device session says which one to keep.

The pass is bench_grade's colour grade (tetrahedral 33^3 LUT, contrast, saturation,
vignette) on 4K 8-bit frames already on the device. Each variant compiles the very
program the CUDA backend generates (render.backends.codegen) with other NVRTC options
or launch shapes; the experiments edit that source (LUT corners packed smaller or not
loaded at all, parameters in global memory as before) to measure what a change would gain
before it is made in kernels/, or what one made has gained. Timing: CUDA events around 200 launches, rotating over 4 input and 4
output frames (200 MB, more than the L2 cache), median of 5 batches; the floor is one
read and one write of a frame at the bandwidth of a device-to-device copy measured in
the same run. Outputs are compared with the backend's own (checked against NumPy by
tests/backends/test_agreement.py) and every output byte is checked as written.

Run (on a machine with CuPy and an NVIDIA GPU): python -m benchmarks.bench_cuda_kernel
"""

from __future__ import annotations

import argparse
import ctypes
import re
import statistics

import numpy as np

from benchmarks.bench_grade import SIZES, colour_grade, load_frames
from render.backends.codegen import program_source
from render.backends.cuda_backend import BLOCK, NVRTC_OPTIONS, ROWS, CudaBackend, launch_grids
from render.ops.base import FrameContext
from render.ops.plan import Packed, build_plan, pack

# the edits an experiment makes to the backend's program, by name (see EDITS below)
FP16 = "LUT as RGBA fp16"
HALF2 = "LUT as RGBA fp16, blended in half2"
VARIANTS = {  # name: (NVRTC options, block, edits)
    "backend": (NVRTC_OPTIONS, BLOCK, ()),
    "IEEE div/sqrt": (("--std=c++14",), BLOCK, ()),
    "block 32x2": (NVRTC_OPTIONS, (32, 2, 1), ()),
    "block 128x1": (NVRTC_OPTIONS, (128, 1, 1), ()),
    "maxrregcount 48": ((*NVRTC_OPTIONS, "--maxrregcount=48"), BLOCK, ()),
    # the backend's program before a change, to measure its gain in the same run
    "1 row a thread (before)": ((*NVRTC_OPTIONS, "-DROWS=1"), BLOCK, ()),
    "parameters in global memory (before)": (NVRTC_OPTIONS, BLOCK, ("global parameters",)),
    # experiments: source edits, to measure a change before it is made in kernels/
    "LUT corners computed, no loads": (NVRTC_OPTIONS, BLOCK, ("no corner loads",)),
    FP16: (NVRTC_OPTIONS, BLOCK, (FP16,)),
    HALF2: (NVRTC_OPTIONS, BLOCK, (HALF2,)),
    "contrast and saturation folded": (NVRTC_OPTIONS, BLOCK, ("folded",)),
    f"{FP16}, folded": (NVRTC_OPTIONS, BLOCK, (FP16, "folded")),
    f"{HALF2}, folded": (NVRTC_OPTIONS, BLOCK, (HALF2, "folded")),
}
TARGET_S = 40e-6  # issue 3: the fused colour pass on a 4K 8-bit frame on an H100
GLOBAL_PARAMS = "parameters in global memory (before)"
PARAMS_DECLARATION = "DECLARE_PARAMS("
PARAMS_IN_SIGNATURE = "PARAMS_ARG GLOBAL const float* RESTRICT T"
# a contrast (c k + b) then a saturation (s c + (1 - s) Y(c)) is s k c + (1 - s) k Y(c) + b:
# what folding such runs in the plan would save, measured before it is built
CONTRAST_SATURATION = re.compile(r"        c = op_contrast\(c, P \+ (\d+), T \+ \d+, px\);\n"
                                 r"        c = op_saturation\(c, P \+ (\d+), T \+ \d+, px\);")
FOLDED = ("        {{ float k = P[{0}], b = P[{1}] - P[{1}] * P[{0}], s = P[{2}]; VF o = luma709(c) * ((1.0f - s) * k) + b;\n"
          "          c = rgb(c.r * (s * k) + o, c.g * (s * k) + o, c.b * (s * k) + o); }}")
CORNER_LOAD = "float4 e = ((const float4*)t)[k.v[j]];"
NO_CORNER_LOADS = "float4 e = make_float4(k.v[j] * 1e-6f, 0.5f, 0.25f, 0.0f);"  # not a grade: the loads' cost
# half the bytes of float corners for one conversion a channel (an 8-bit output's error: 0.06 code value)
FP16_CORNER_LOAD = ("uint2 q = ((const uint2*)t)[k.v[j]]; float4 e; e.w = 0.0f; "
                    "asm(\"{ .reg .f16 r, g, b, z; mov.b32 {r, g}, %3; mov.b32 {b, z}, %4; "
                    "cvt.f32.f16 %0, r; cvt.f32.f16 %1, g; cvt.f32.f16 %2, b; }\" "
                    ": \"=f\"(e.x), \"=f\"(e.y), \"=f\"(e.z) : \"r\"(q.x), \"r\"(q.y));")
# the tetrahedral blend of fp16 corners in half2 arithmetic: (r, g) and (b, 0) pairs, weights
# rounded to fp16 (2^-11), sums in fp16 (an 8-bit output's error: about 0.3 code value)
TETRAHEDRAL_BLEND = """    RGB c000 = lut3d_corner(t, base), c1 = lut3d_corner(t, base + step_max);
    RGB c2 = lut3d_corner(t, top - step_min), c111 = lut3d_corner(t, top);
    /* barycentric weights of the four corners (they sum to 1) */
    VF w0 = 1.0f - f_max, w1 = f_max - f_mid, w2 = f_mid - f_min;
    return rgb(c000.r * w0 + c1.r * w1 + c2.r * w2 + c111.r * f_min,
               c000.g * w0 + c1.g * w1 + c2.g * w2 + c111.g * f_min,
               c000.b * w0 + c1.b * w1 + c2.b * w2 + c111.b * f_min);"""
HALF2_BLEND = r"""    VF w0 = 1.0f - f_max, w1 = f_max - f_mid, w2 = f_mid - f_min;
    RGB o; const uint2* h = (const uint2*)t;
    FOR_LANES {
        uint2 a = h[base.v[j]], b = h[base.v[j] + step_max.v[j]], c = h[top.v[j] - step_min.v[j]], d = h[top.v[j]];
        asm("{ .reg .b32 wa, wb, wc, wd, rg, bz; .reg .f16 hr, hg, hb, hz;\n"
            " cvt.rn.f16x2.f32 wa, %3, %3; cvt.rn.f16x2.f32 wb, %4, %4; cvt.rn.f16x2.f32 wc, %5, %5; cvt.rn.f16x2.f32 wd, %6, %6;\n"
            " mul.rn.f16x2 rg, wa, %7; fma.rn.f16x2 rg, wb, %9, rg; fma.rn.f16x2 rg, wc, %11, rg; fma.rn.f16x2 rg, wd, %13, rg;\n"
            " mul.rn.f16x2 bz, wa, %8; fma.rn.f16x2 bz, wb, %10, bz; fma.rn.f16x2 bz, wc, %12, bz; fma.rn.f16x2 bz, wd, %14, bz;\n"
            " mov.b32 {hr, hg}, rg; mov.b32 {hb, hz}, bz; cvt.f32.f16 %0, hr; cvt.f32.f16 %1, hg; cvt.f32.f16 %2, hb; }"
            : "=f"(o.r.v[j]), "=f"(o.g.v[j]), "=f"(o.b.v[j])
            : "f"(w0.v[j]), "f"(w1.v[j]), "f"(w2.v[j]), "f"(f_min.v[j]),
              "r"(a.x), "r"(a.y), "r"(b.x), "r"(b.y), "r"(c.x), "r"(c.y), "r"(d.x), "r"(d.y));
    }
    return o;"""


def _fold(source: str) -> str:
    contrast, saturation = (int(g) for g in CONTRAST_SATURATION.search(source).groups())
    return CONTRAST_SATURATION.sub(FOLDED.format(contrast, contrast + 1, saturation), source)


EDITS = {  # name: source -> source
    "global parameters": lambda s: "\n".join(line for line in s.splitlines() if not line.startswith(PARAMS_DECLARATION))
    .replace(PARAMS_IN_SIGNATURE, "const float* RESTRICT P, GLOBAL const float* RESTRICT T"),
    "no corner loads": lambda s: s.replace(CORNER_LOAD, NO_CORNER_LOADS),
    FP16: lambda s: s.replace(CORNER_LOAD, FP16_CORNER_LOAD),
    HALF2: lambda s: s.replace(TETRAHEDRAL_BLEND, HALF2_BLEND),
    "folded": _fold,
}


def variant_program(name: str, width: int, height: int) -> tuple[str, Packed]:
    """(CUDA source, per-frame values) of a variant: the backend's program or an edit of it."""
    plan = build_plan(colour_grade(), "u8")
    packed = pack(plan, FrameContext(width, height, 0, "bt709"))
    source = program_source(plan, packed, "u8", "bt709")
    for edit in VARIANTS[name][2]:
        edited = EDITS[edit](source)
        assert edited != source, f"{name}: the edit {edit!r} no longer applies"
        source = edited
    return source, packed


def variant_tables(name: str, packed: Packed) -> np.ndarray:
    """The table buffer a variant reads: the fp16 experiments' LUT (at offset 0) repacked."""
    if FP16 not in VARIANTS[name][2] and HALF2 not in VARIANTS[name][2]:
        return packed.tables
    step_offsets = packed.offsets["pass0"][1]
    lut_end = step_offsets[1][1] if len(step_offsets) > 1 else len(packed.tables)
    return np.clip(packed.tables[:lut_end].reshape(-1, 4), 0.0, 1.0).astype(np.float16)


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
        table = cp.asarray(variant_tables(name, packed))
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
