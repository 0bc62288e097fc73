"""The CUDA dialect of every generated program compiles with nvcc (no GPU needed), and the
CUDA backend is cleanly unavailable where CuPy or a GPU is missing."""

import shutil
import subprocess

import pytest

from render.backends.codegen import program_source
from render.backends.cuda_backend import NVRTC_OPTIONS, cuda_plan, cuda_unavailable_reason
from render.errors import MoodgradeError
from render.ops.base import FrameContext
from render.ops.plan import build_plan, pack
from tests.backends.examples import FUSED_CHAIN, OP_EXAMPLES

NVCC = shutil.which("nvcc") or shutil.which("/usr/local/bin/nvcc")


def _programs():
    """(name, source) for every op alone (8-bit), the empty grade and the fused chain of all ops
    (every frame kind, both transfer functions)."""
    ctx = FrameContext(64, 36)
    grades = {name: (op,) for name, op in OP_EXAMPLES.items()}
    grades["fused_chain"] = FUSED_CHAIN
    grades["empty"] = ()
    for name, grade in grades.items():
        for kind in ("u8", "u16", "f32") if name in ("fused_chain", "empty") else ("u8",):
            plan = cuda_plan(grade, kind)
            yield f"{name}_{kind}", program_source(plan, pack(plan, ctx), kind, "bt709")
    plan = build_plan(FUSED_CHAIN)
    yield "fused_chain_srgb", program_source(plan, pack(plan, ctx), "u16", "srgb")


@pytest.mark.skipif(NVCC is None, reason="nvcc not installed")
def test_every_generated_program_compiles_as_cuda(tmp_path):
    files = []
    for name, source in _programs():
        path = tmp_path / f"{name}.cu"
        path.write_text(source)
        files.append(str(path))
    halves = [files[0::2], files[1::2]]  # two nvcc processes: one per core
    procs = [subprocess.Popen([NVCC, "--ptx", "-arch=sm_90", *NVRTC_OPTIONS, "-odir", str(tmp_path), *half],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for half in halves]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-4000:]
    ptx = list(tmp_path.glob("*.ptx"))
    assert len(ptx) == len(files)
    fused = (tmp_path / "fused_chain_u8.ptx").read_text()
    for kernel in ("pass0", "blur_h_buf", "blur_v_buf"):
        assert f".entry {kernel}" in fused


@pytest.mark.skipif(cuda_unavailable_reason() is None, reason="CUDA is available here")
def test_cuda_backend_is_cleanly_unavailable():
    from render.backends import select_backend
    with pytest.raises(MoodgradeError, match="backend 'cuda' is not available"):
        select_backend("cuda")


@pytest.mark.skipif(NVCC is None, reason="nvcc not installed")
def test_kernel_benchmark_experiments_compile(tmp_path):
    # the GPU session is short: its experiments' source edits must still apply and compile here
    from benchmarks.bench_cuda_kernel import GLOBAL_PARAMS, VARIANTS, variant_program
    files = {}  # program source: file (options and launch shapes share a program)
    for name in VARIANTS:
        code = variant_program(name, 64, 36)[0]  # checks that each of its edits applies
        files.setdefault(code, tmp_path / f"{name.replace(' ', '_').replace('/', '_').replace(',', '')}.cu").write_text(code)
    result = subprocess.run([NVCC, "--ptx", "-arch=sm_90", *NVRTC_OPTIONS, "-odir", str(tmp_path), *map(str, files.values())],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert ".const .align 4 .b8 P[" in (tmp_path / "backend.ptx").read_text()  # the backend's __constant__ P
    assert ".const .align 4 .b8 P[" not in (tmp_path / f"{GLOBAL_PARAMS.replace(' ', '_')}.ptx").read_text()
