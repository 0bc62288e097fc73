"""Preview latency at 1080p: random access and sequential playback through the server, beside FFmpeg.

moodgrade: a preview server on a Unix socket (in this process, on its own thread) and
the Python client asking for raw RGB frames, graded with the benchmark's recipe.
Peer: FFmpeg's own time to seek to a frame and decode it to RGB (one ``ffmpeg -ss``
run per frame, accurate seek), and its sequential decode to RGB.
Run: python -m benchmarks.bench_preview [--random N] [--fps 24]
"""

import argparse
import datetime
import random
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import FFMPEG, clip_1080p, machine
from render.client import PreviewClient
from render.grading import GradeRecipe, make_process
from render.io.source import VideoFrame, open_source
from render.server.server import ServerConfig, ServerThread


def bench_recipe(backend: str | None) -> tuple[GradeRecipe, str]:
    """A CDL grade when a backend can run it, else pass-through (said in the output)."""
    try:
        from render.ops.cdl import CDL
        recipe = GradeRecipe(ops=(CDL(slope=(1.1, 0.95, 0.9), offset=(0.02, 0.0, -0.01), saturation=0.8),),
                             backend=backend)
        make_process(recipe)(VideoFrame(index=0, pts=0, time_s=0.0, rgb=np.zeros((4, 4, 3), np.uint8)))
        return recipe, f"CDL on backend {backend or 'auto'}"
    except Exception as exc:  # noqa: BLE001 - reported in the output
        return GradeRecipe(), f"pass-through (no backend runs a grade in this build: {type(exc).__name__})"


def percentiles_ms(seconds: list[float]) -> str:
    p50, p95 = np.percentile(np.asarray(seconds) * 1000, [50, 95])
    return f"p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"


def ffmpeg_frame(clip: Path, time_s: float) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-ss", f"{time_s:.6f}", "-i", str(clip), "-frames:v", "1",
                    "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--random", type=int, default=30, help="random-access requests")
    parser.add_argument("--fps", type=float, default=24.0, help="pace of the paced playback pass")
    parser.add_argument("--backend", default=None)
    args = parser.parse_args()
    clip = clip_1080p()
    with open_source(clip) as source:
        video = source.info.video
        times = [f.time_s for f in source.frames(size=(16, 8))]
    count = video.frame_count
    recipe, grade = bench_recipe(args.backend)
    picks = random.Random(5).sample(range(count), min(args.random, count))
    folder = Path(tempfile.mkdtemp(prefix="mg-bench-"))
    config = ServerConfig(roots=(str(clip.parent),), socket_path=str(folder / "p.sock"), recipe=recipe,
                          cache_mb=2048, prefetch_frames=8)
    with ServerThread(config) as server, PreviewClient.connect(server.addresses[0]) as client:
        client.open(clip.name)
        random_s = []
        for n in picks:                                    # cold: nothing cached near these frames
            start = time.perf_counter()
            client.frame(n)
            random_s.append(time.perf_counter() - start)
        client.open(clip.name)                             # a fresh session: its graded cache is empty
        sequential_s = []
        started = time.perf_counter()
        for n in range(count):                             # as fast as the client can ask
            start = time.perf_counter()
            client.frame(n)
            sequential_s.append(time.perf_counter() - start)
        sequential_fps = count / (time.perf_counter() - started)
        client.open(clip.name)
        paced_s = []
        period = 1 / args.fps
        next_at = time.perf_counter()
        for n in range(count):                             # a player at --fps: prefetch runs ahead
            time.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += period
            start = time.perf_counter()
            client.frame(n)
            paced_s.append(time.perf_counter() - start)
    peer_random_s = []
    for n in picks:
        start = time.perf_counter()
        ffmpeg_frame(clip, times[n])
        peer_random_s.append(time.perf_counter() - start)
    start = time.perf_counter()
    subprocess.run([FFMPEG, "-v", "error", "-i", str(clip), "-an", "-f", "rawvideo", "-pix_fmt", "rgb24", "-y",
                    "/dev/null"], check=True)
    peer_fps = count / (time.perf_counter() - start)

    print(f"# preview at {video.width}x{video.height}, {count} frames (keyframes: GOP of the clip), "
          f"raw RGB over a Unix socket; grade: {grade}")
    print(f"# {machine()}, {datetime.date.today()}")
    print(f"random access, moodgrade serve : {percentiles_ms(random_s)}  ({len(picks)} frames)")
    print(f"random access, ffmpeg -ss      : {percentiles_ms(peer_random_s)}  (process start included)")
    print(f"sequential, unpaced            : {sequential_fps:6.1f} fps  {percentiles_ms(sequential_s)}")
    print(f"sequential, paced {args.fps:g} fps     : {percentiles_ms(paced_s)}  (target p95 < 40 ms)")
    print(f"ffmpeg decode to RGB           : {peer_fps:6.1f} fps")
    print(f"ratio random p50 (ffmpeg / moodgrade): {np.median(peer_random_s) / np.median(random_s):.2f}x; "
          f"sequential fps (moodgrade / ffmpeg): {sequential_fps / peer_fps:.2f}x")


if __name__ == "__main__":
    main()
