#!/usr/bin/env bash
# gpu_check.sh: the CUDA checks for a machine with an NVIDIA GPU (written for an H100),
# in a few minutes: installs the wheels that travel in .whl/ (PyAV, PyOpenCL, ... where
# CuPy/onnxruntime are already present), compiles the kernels with NVRTC, runs the CUDA
# agreement tests against the NumPy reference, the grading and preview benchmarks, prints a table.
# Prepare here with benchmarks/fetch_gpu_wheels.sh, then run there (carrying .whl): bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PYTHONPATH=$ROOT
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$ROOT
fi
echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: none"
python3 - <<'PY'
import cupy, numpy
props = cupy.cuda.runtime.getDeviceProperties(0)
print("cupy", cupy.__version__, "numpy", numpy.__version__, "device", props["name"].decode() if isinstance(props["name"], bytes) else props["name"])
from render.backends import available_backends
print("backends:", ", ".join(available_backends()))
PY
status=0
echo "== CUDA agreement tests (every op and the fused chain vs NumPy)"
if python3 -c "import pytest" 2>/dev/null; then
    timeout 300 python3 -m pytest -q -p no:cacheprovider --noconftest tests/backends/test_agreement.py -k cuda 2>&1 | tail -5
    status=${PIPESTATUS[0]}
else
    echo "pytest missing: agreement checked by the benchmark's 'max diff vs numpy' column only"
fi
echo "== grading benchmark (cuda; FFmpeg where imageio-ffmpeg is present)"
timeout 300 python3 -m benchmarks.bench_grade --backends cuda --sizes 1080p 4k --frames 6 2>&1 | tail -12
bench=${PIPESTATUS[0]}
echo "== preview latency on the GPU (1080p random access and playback; needs PyAV from .whl)"
timeout 240 python3 -m benchmarks.bench_preview --backend cuda --random 8 2>&1 | tail -8
preview=${PIPESTATUS[0]}
echo "== done: tests exit $status, benchmark exit $bench, preview exit $preview"
exit $(( status != 0 || bench != 0 || preview != 0 ))
