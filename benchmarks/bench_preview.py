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

from benchmarks.common import CACHE, FFMPEG, clip_1080p, ffmpeg, machine
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


def clip_1080p_gop(gop: int) -> Path:
    """The 1080p clip re-encoded with a keyframe every ``gop`` frames (as editing proxies are); made once."""
    path = CACHE / f"bbb_1080p_gop{gop}.mp4"
    if not path.exists():
        ffmpeg("-i", str(clip_1080p()), "-c:v", "libx264", "-crf", "16", "-preset", "fast", "-g", str(gop),
               "-keyint_min", str(gop), "-sc_threshold", "0", "-an", str(path))
    return path


def percentiles_ms(seconds: list[float]) -> str:
    p50, p95 = np.percentile(np.asarray(seconds) * 1000, [50, 95])
    return f"p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"


def ffmpeg_frame(clip: Path, time_s: float) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-ss", f"{time_s:.6f}", "-i", str(clip), "-frames:v", "1",
                    "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True)


def random_access(clip: Path, picks: list[int], recipe: GradeRecipe, folder: Path) -> list[float]:
    """Seconds per frame request, a fresh session, frames asked for in ``picks`` order."""
    config = ServerConfig(roots=(str(clip.parent),), socket_path=str(folder / "r.sock"), recipe=recipe)
    seconds = []
    with ServerThread(config) as server, PreviewClient.connect(server.addresses[0]) as client:
        client.open(clip.name)
        for n in picks:
            start = time.perf_counter()
            client.frame(n)
            seconds.append(time.perf_counter() - start)
    return seconds


def ffmpeg_random_access(clip: Path, picks: list[int]) -> list[float]:
    """Seconds for FFmpeg to seek to each frame (accurate seek) and decode it to RGB, one process each."""
    with open_source(clip) as source:
        times = [f.time_s for f in source.frames(size=(16, 8))]
    seconds = []
    for n in picks:
        start = time.perf_counter()
        ffmpeg_frame(clip, times[n])
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--random", type=int, default=20, help="random-access requests per clip")
    parser.add_argument("--fps", type=float, default=24.0, help="pace of the paced playback pass")
    parser.add_argument("--gop", type=int, default=24, help="keyframe interval of the second clip")
    parser.add_argument("--backend", default=None)
    args = parser.parse_args()
    clip, gop_clip = clip_1080p(), clip_1080p_gop(args.gop)
    with open_source(clip) as source:
        video = source.info.video
        keyframes = len(source._keyframes)
    count = video.frame_count
    recipe, grade = bench_recipe(args.backend)
    picks = random.Random(5).sample(range(count), min(args.random, count))
    folder = Path(tempfile.mkdtemp(prefix="mg-bench-"))
    random_s = random_access(clip, picks, recipe, folder)
    random_gop_s = random_access(gop_clip, picks, recipe, folder)
    config = ServerConfig(roots=(str(clip.parent),), socket_path=str(folder / "p.sock"), recipe=recipe,
                          prefetch_frames=8)
    with ServerThread(config) as server, PreviewClient.connect(server.addresses[0]) as client:
        client.open(clip.name)
        sequential_s = []
        started = time.perf_counter()
        for n in range(count):                             # as fast as the client can ask
            start = time.perf_counter()
            client.frame(n)
            sequential_s.append(time.perf_counter() - start)
        sequential_fps = count / (time.perf_counter() - started)
        client.open(clip.name)                             # a fresh session: its graded cache is empty
        paced_s = []
        period = 1 / args.fps
        next_at = time.perf_counter()
        for n in range(count):                             # a player at --fps: prefetch runs ahead
            time.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += period
            start = time.perf_counter()
            client.frame(n)
            paced_s.append(time.perf_counter() - start)
    peer_random_s = ffmpeg_random_access(clip, picks)
    peer_random_gop_s = ffmpeg_random_access(gop_clip, picks)
    start = time.perf_counter()
    subprocess.run([FFMPEG, "-v", "error", "-i", str(clip), "-an", "-f", "rawvideo", "-pix_fmt", "rgb24", "-y",
                    "/dev/null"], check=True)
    peer_fps = count / (time.perf_counter() - start)

    print(f"# preview at {video.width}x{video.height}, {count} frames, raw RGB frames over a Unix socket, "
          f"client in the same process; grade: {grade}")
    print(f"# {machine()}, {datetime.date.today()}")
    print(f"random access, {keyframes} keyframe(s)   moodgrade : {percentiles_ms(random_s)}  ({len(picks)} frames)")
    print(f"random access, {keyframes} keyframe(s)   ffmpeg -ss: {percentiles_ms(peer_random_s)}  "
          "(one process per frame)")
    print(f"random access, GOP {args.gop:<3}         moodgrade : {percentiles_ms(random_gop_s)}")
    print(f"random access, GOP {args.gop:<3}         ffmpeg -ss: {percentiles_ms(peer_random_gop_s)}")
    print(f"sequential, unpaced            : {sequential_fps:6.1f} fps  {percentiles_ms(sequential_s)}")
    print(f"sequential, paced {args.fps:g} fps     : {percentiles_ms(paced_s)}  (target p95 < 40 ms)")
    print(f"ffmpeg decode to RGB           : {peer_fps:6.1f} fps")
    print(f"ratios: random p50 (ffmpeg / moodgrade) {np.median(peer_random_s) / np.median(random_s):.2f}x, "
          f"GOP {args.gop} {np.median(peer_random_gop_s) / np.median(random_gop_s):.2f}x; "
          f"sequential fps (moodgrade / ffmpeg) {sequential_fps / peer_fps:.2f}x")


if __name__ == "__main__":
    main()
