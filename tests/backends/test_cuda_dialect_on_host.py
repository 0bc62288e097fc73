"""The CUDA dialect of the kernels, run on the CPU: the generated CUDA source is compiled as
host C++ (g++) with a small shim for CUDA's thread indices and bit casts, launched over the
same grid as CudaBackend (launch_grids), and compared with the NumPy reference. This checks
the CUDA-only code paths (4-lane structs and their operators, loads, stores, clamped blur
taps, parameters in a module-level array) here,
where there is no GPU; benchmarks/gpu_check.sh runs the real thing on one.
"""

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from render.backends.codegen import C_TYPES, blur_kernel_name, buffer_kind, program_source
from render.backends.cuda_backend import BLOCK, cuda_plan, launch_grids
from render.ops.frames import frame_kind
from render.backends.numpy_backend import NumpyBackend
from render.ops.base import FrameContext
from render.ops.plan import BlurPass, pack
from tests.backends.examples import FUSED_CHAIN, OP_EXAMPLES, sample_frame

CXX = shutil.which("g++") or shutil.which("clang++")

SHIM = f"#define BX {BLOCK[0]}\n#define BY {BLOCK[1]}\n" + """
#include <cmath>
#include <cstring>
#include <algorithm>
using namespace std;
struct Dim3 { unsigned x, y, z; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) uint2 { unsigned x, y; };
static Dim3 blockIdx, threadIdx, blockDim = {BX, BY, 1};
#define __global__
#define __device__
#define __constant__
#define __forceinline__ inline
#define _Pragma(x)
static inline int __float_as_int(float f) { int i; memcpy(&i, &f, 4); return i; }
static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
static inline unsigned __float_as_uint(float f) { unsigned i; memcpy(&i, &f, 4); return i; }
static inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {  /* bytes of y:x picked by s's nibbles */
    unsigned long long v = ((unsigned long long)y << 32) | x; unsigned r = 0;
    for (int i = 0; i < 4; ++i) r |= (unsigned)((v >> (8 * ((s >> (4 * i)) & 7))) & 255u) << (8 * i);
    return r;
}
static inline float __saturatef(float x) { return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f; }  /* NaN -> 0 */
"""

LAUNCH = """
extern "C" void launch_{name}({params}, int gx, int gy) {{
    for (unsigned by = 0; by < (unsigned)gy; ++by) for (unsigned bx = 0; bx < (unsigned)gx; ++bx)
    for (unsigned ty = 0; ty < BY; ++ty) for (unsigned tx = 0; tx < BX; ++tx) {{
        blockIdx.x = bx; blockIdx.y = by; threadIdx.x = tx; threadIdx.y = ty;
        {name}({args});
    }}
}}
"""


def _launcher(name, types):
    params = ", ".join(f"{t} a{i}" for i, t in enumerate(types))
    return LAUNCH.format(name=name, params=params, args=", ".join(f"a{i}" for i in range(len(types))))


def run_cuda_dialect_on_host(frame, grade, tmp_path, frame_index=3):
    kind = frame_kind(frame)
    h, w = frame.shape[:2]
    plan = cuda_plan(grade, kind)
    packed = pack(plan, FrameContext(w, h, frame_index))
    source = SHIM + program_source(plan, packed, kind, "bt709").replace('extern "C" __global__', 'extern "C"')
    blur_types = ["const float*", "float*", "int", "int", "const float*", "int"]
    launchers = {}
    for p in plan.passes:
        if isinstance(p, BlurPass):
            launchers[blur_kernel_name(p)] = blur_types
        else:
            src_t = C_TYPES[buffer_kind(p.src, kind, kind)]
            dst_t = C_TYPES[buffer_kind(p.dst, kind, kind)]
            launchers[p.kernel] = [f"const {src_t}*", "const float*", f"{dst_t}*", "int", "int", "unsigned int",
                                   "const float*"]
    source += "".join(_launcher(n, t) for n, t in launchers.items())
    stem = f"dialect{len(list(tmp_path.glob('*.so')))}"  # a new name: dlopen caches by path
    src_path, lib_path = tmp_path / f"{stem}.cpp", tmp_path / f"{stem}.so"
    src_path.write_text(source)
    result = subprocess.run([CXX, "-std=c++14", "-O1", "-shared", "-fPIC", "-w", "-o", str(lib_path), str(src_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lib = ctypes.CDLL(str(lib_path))
    params = (ctypes.c_float * max(len(packed.params), 1)).in_dll(lib, "P")  # the __constant__ array
    ctypes.memmove(params, packed.params.ctypes.data, packed.params.nbytes)
    ptr = lambda a: a.ctypes.data_as(ctypes.c_void_p)
    bufs = {"input": np.ascontiguousarray(frame), "output": np.empty_like(frame)}
    grid, blur_grid = (g[:2] for g in launch_grids(w, h))  # as CudaBackend
    blur_index = 0
    for p in plan.passes:
        for name in (p.src, p.dst, getattr(p, "aux", None)):
            if name is not None and name not in bufs:
                bufs[name] = np.zeros((h, w, 3), np.float32)
        if isinstance(p, BlurPass):
            weights = packed.weights[blur_index]
            blur_index += 1
            getattr(lib, f"launch_{blur_kernel_name(p)}")(
                ptr(bufs[p.src]), ptr(bufs[p.dst]), w, h, ptr(weights), len(weights) - 1, *blur_grid)
            continue
        aux = bufs[p.aux] if p.aux else bufs["input"]
        getattr(lib, f"launch_{p.kernel}")(ptr(bufs[p.src]), ptr(aux), ptr(bufs[p.dst]), w, h,
                                           ctypes.c_uint(frame_index), ptr(packed.tables),
                                           *grid)
    return bufs["output"]


@pytest.mark.skipif(CXX is None, reason="no C++ compiler")
@pytest.mark.parametrize("dtype, width", [(np.uint8, 36), (np.uint8, 37), (np.uint16, 37), (np.float32, 37)])
def test_cuda_dialect_fused_chain_agrees_with_numpy(tmp_path, dtype, width):
    # width 36: every row starts 4-byte aligned (the 32-bit load/store path); 37: the lane-wise one
    frame = sample_frame(dtype, height=20, width=width)
    want = NumpyBackend().apply(frame, FUSED_CHAIN, frame_index=3)
    got = run_cuda_dialect_on_host(frame, FUSED_CHAIN, tmp_path)
    bound = 1e-4 if dtype == np.float32 else 1
    assert np.abs(want.astype(np.float64) - got).max() <= bound


@pytest.mark.skipif(CXX is None, reason="no C++ compiler")
@pytest.mark.parametrize("width", [36, 37])
def test_cuda_dialect_lut_led_grades_agree(tmp_path, width):
    # a 3D LUT leading the grade on 8-bit frames, as a colourist's look usually does
    frame = sample_frame(np.uint8, height=21, width=width, seed=5)  # odd: a thread's second row is off the frame
    for grade in (("lut3d_tetrahedral", "contrast", "saturation", "vignette"), ("exposure", "lut1d", "lut3d_trilinear")):
        ops = tuple(OP_EXAMPLES[name] for name in grade)
        want = NumpyBackend().apply(frame, ops, frame_index=3)
        assert np.abs(want.astype(np.float64) - run_cuda_dialect_on_host(frame, ops, tmp_path)).max() <= 1, grade


@pytest.mark.skipif(CXX is None, reason="no C++ compiler")
def test_cuda_dialect_each_neighbourhood_op_agrees(tmp_path):
    frame = sample_frame(np.float32, height=20, width=37)
    for name in ("blur", "unsharp", "bloom", "depth_of_field", "film_grain", "lut3d_trilinear"):
        want = NumpyBackend().apply(frame, (OP_EXAMPLES[name],), frame_index=3)
        got = run_cuda_dialect_on_host(frame, (OP_EXAMPLES[name],), tmp_path)
        assert np.abs(want - got).max() <= 1e-4, name
