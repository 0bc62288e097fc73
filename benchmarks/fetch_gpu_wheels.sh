#!/usr/bin/env bash
# Download, here, the wheels that the GPU machine lacks into .whl/ (git-ignored), for
# benchmarks/gpu_check.sh to install there (Python 3.12, x86-64; CuPy, onnxruntime, OpenCV,
# scikit-image, click, rich, scipy and pytest are already on that machine).
# imageio-ffmpeg (68 MB) is left out to stay under the 64 MiB a device call carries: the
# grading benchmark then runs without its FFmpeg column.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
for pkg in av pyopencl pytools platformdirs siphash24 pedalboard pyloudnorm scikit-video; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_34_x86_64 --platform manylinux_2_31_x86_64 --platform manylinux_2_28_x86_64 \
        --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d .whl "$pkg"
done
du -sh .whl
