#!/usr/bin/env bash
# gpu_check.sh: the CUDA checks for a machine with an NVIDIA GPU (written for an H100), in a
# few minutes: installs the wheels that travel in .whl/ (PyAV, PyOpenCL, pedalboard... where
# CuPy, onnxruntime and OpenCV are already present), runs the CUDA agreement tests against the
# NumPy reference, the fused-pass kernel variants, the grading benchmark and the whole grade
# job on the GPU, and prints a short table. That machine has no FFmpeg: the FFmpeg columns are
# measured on the CPU machine (benchmarks/RESULTS.md).
# Prepare here with benchmarks/fetch_gpu_wheels.sh, then run there (carrying .whl):
#   bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PYTHONPATH=$ROOT PYTHONUNBUFFERED=1
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site:$ROOT
fi
[ -d .whl/media ] && export MOODGRADE_BENCH_DIR=$ROOT/.whl/media
LOG=${OUT:-/tmp}/gpu_check.log
: > "$LOG"
step() {  # step NAME TIMEOUT COMMAND...: run, keep the whole output in the log, show its tail
    local name=$1 limit=$2; shift 2
    echo "== $name"
    timeout "$limit" "$@" > /tmp/step.out 2>&1
    local rc=$?
    { echo "== $name (exit $rc)"; cat /tmp/step.out; } >> "$LOG"
    tail -n "${TAIL:-12}" /tmp/step.out
    echo "-- exit $rc"
    return $rc
}
echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>/dev/null || echo "nvidia-smi: none"
python3 -c "import cupy, numpy; from render.backends import available_backends; \
print('cupy', cupy.__version__, 'numpy', numpy.__version__, 'backends:', ', '.join(available_backends()))"
status=0
TAIL=4 step "CUDA agreement tests (every op and the fused chain vs NumPy)" 300 \
    python3 -m pytest -q -p no:cacheprovider --noconftest tests/backends/test_agreement.py -k cuda || status=1
TAIL=26 step "fused colour pass, 4K 8-bit, kernel variants" 180 python3 -m benchmarks.bench_cuda_kernel || status=1
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -n 1)
if [ -n "$NCU" ]; then  # what bounds the backend's pass: issue slots, L1, memory, stalls (not a failure if absent)
    TAIL=30 step "Nsight Compute, the backend's fused pass (one launch)" 150 "$NCU" --target-processes all -k pass0 \
        -s 20 -c 1 --section SpeedOfLight --section Occupancy --section WarpStateStats --section InstructionStats \
        python3 -m benchmarks.bench_cuda_kernel --variants backend
fi
TAIL=6 step "grading benchmark (host frames in and out; kernels alone)" 240 \
    python3 -m benchmarks.bench_grade --sizes 1080p 4k --frames 6 || status=1
TAIL=4 step "whole grade job on the GPU (teal-orange, bigbuckbunny)" 240 \
    python3 -m benchmarks.bench_main_job --backend cuda || status=1
echo "== done: exit $status (full log: $LOG)"
exit $status
