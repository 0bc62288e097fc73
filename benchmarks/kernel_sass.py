"""Static instruction counts of the fused colour pass for an H100 (sm_90), without a GPU.

On an H100 the pass is bound by instruction issue and by its LUT gathers through L1
(benchmarks/NOTES.md), so the number of machine instructions a thread runs is one of the two
figures a kernel change moves (a change that trades instructions for loads can still be
slower: time it with gpu_check.sh). This compiles
bench_cuda_kernel's program (bench_grade's colour grade on 8-bit frames, or one of its
variants) with nvcc to a sm_90 cubin, disassembles it with cuobjdump and counts the
instructions of the hot path: a thread of 4 whole pixels a row (the edge path for partial or
unaligned rows is cut from the source, so the count is straight-line code). NOPs are padding
and not counted. It counts instructions, not time: a GPU run (gpu_check.sh) says what they
cost.

Needs nvcc (the CUDA toolkit) and cuobjdump with nvdisasm (the toolkit, or `pip install
nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm`). Run: python -m benchmarks.kernel_sass [--variant NAME...]
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from benchmarks.bench_cuda_kernel import VARIANTS, variant_program
from render.backends.cuda_backend import LANES, ROWS

EDGE_PATHS = ("if (n < 4 || (base & 3)) return LANES_NAME(s, base, n);",
              "if (n < 4 || (base & 3)) { store_u8_lanes(d, base, n, c); return; }")
SASS_LINE = re.compile(r"^\s+/\*[0-9a-f]{4}\*/\s+(?:@!?U?P[T0-9]\s+)?([A-Z0-9_]+)")


def disassembler_path() -> str:
    """PATH with the folder of cuobjdump and nvdisasm: the toolkit's, or the pip packages'."""
    path = os.environ.get("PATH", "")
    if shutil.which("cuobjdump") and shutil.which("nvdisasm"):
        return path
    for folder in Path(sysconfig.get_paths()["purelib"]).glob("nvidia/cu*/bin"):
        if (folder / "cuobjdump").exists() and (folder / "nvdisasm").exists():
            for tool in ("cuobjdump", "nvdisasm"):
                (folder / tool).chmod(0o755)  # the wheels install them without the execute bit
            return f"{folder}{os.pathsep}{path}"
    sys.exit("cuobjdump and nvdisasm not found: install the CUDA toolkit or "
             "`pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm`")


def hot_path_source(variant: str) -> str:
    """The variant's program with the edge paths of the 8-bit load and store cut out."""
    source = variant_program(variant, 3840, 2160)[0]
    for line in EDGE_PATHS:
        assert line in source, "kernels/common.h changed: update EDGE_PATHS"
        source = source.replace(line, "")
    return source


def count(variant: str, arch: str = "sm_90") -> tuple[int, collections.Counter]:
    """(registers, opcode counts) of pass0's hot path."""
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        sys.exit("nvcc not found: install the CUDA toolkit")
    with tempfile.TemporaryDirectory() as tmp:
        src, cubin = Path(tmp) / "pass.cu", Path(tmp) / "pass.cubin"
        src.write_text(hot_path_source(variant))
        built = subprocess.run([nvcc, "-cubin", f"-arch={arch}", *VARIANTS[variant][0], "-Xptxas", "-v", "-o", str(cubin),
                                str(src)], capture_output=True, text=True, check=True)
        registers = int(re.search(r"Used (\d+) registers", built.stderr).group(1))
        sass = subprocess.run(["cuobjdump", "-sass", "-fun", "pass0", str(cubin)], capture_output=True, text=True,
                              check=True, env={**os.environ, "PATH": disassembler_path()}).stdout
    ops = collections.Counter(m.group(1) for m in map(SASS_LINE.match, sass.splitlines()) if m)
    del ops["NOP"]
    return registers, ops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", nargs="+", default=["backend"], choices=list(VARIANTS))
    args = parser.parse_args()
    print(f"# pass0 hot path, sm_90, each variant's NVRTC options; a thread grades {LANES} pixels of {ROWS} rows")
    print("| variant | registers | instructions a thread | a pixel | loads (LDG) | most frequent |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in args.variant:
        registers, ops = count(name)
        total = sum(ops.values())
        common = ", ".join(f"{op} {n}" for op, n in ops.most_common(5))
        pixels = LANES * (1 if "-DROWS=1" in VARIANTS[name][0] else ROWS)
        print(f"| {name} | {registers} | {total} | {total / pixels:.1f} | {ops['LDG']} | {common} |")


if __name__ == "__main__":
    main()
