"""Preview latency of graded 1080p frames: random access and playback through the server, beside FFmpeg.

moodgrade: a preview server on a Unix socket (on a thread of this process) and the
Python client asking for raw RGB frames graded with ``--op`` values (default: exposure,
saturation and vignette) and optionally a ``--preset`` (its mood analysis is cached).
Peer: FFmpeg seeking to the same frames (accurate seek, one process per frame) and
decoding them through a filter chain of similar work (eq + vignette), and its
sequential decode + filter rate.
Run: python -m benchmarks.bench_preview [--random N] [--fps 24] [--preset NAME] [--backend B]
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
from render.io.source import open_source
from render.mood_grade import GradeOptions
from render.server.server import ServerConfig, ServerThread

OPS = ("exposure.exposure_ev=0.4", "saturation.saturation=0.7", "vignette.amount=0.5")
PEER_FILTER = "eq=gamma=1.3:saturation=0.7,vignette"


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


def timed_frames(client: PreviewClient, frames, pace_s: float = 0.0) -> list[float]:
    """Seconds per request for ``frames`` in order; with ``pace_s`` a request starts every pace_s at most."""
    seconds = []
    next_at = time.perf_counter()
    for n in frames:
        time.sleep(max(0.0, next_at - time.perf_counter()))
        next_at += pace_s
        start = time.perf_counter()
        client.frame(n)
        seconds.append(time.perf_counter() - start)
    return seconds


def ffmpeg_random_access(clip: Path, picks: list[int], filters: str = PEER_FILTER,
                         output: tuple[str, ...] = ("-f", "rawvideo", "-pix_fmt", "rgb24")) -> list[float]:
    """Seconds for FFmpeg to seek to each frame (accurate seek), decode it, run ``filters`` and
    write it as ``output`` says (default: the peer filter, raw RGB)."""
    with open_source(clip) as source:
        times = [f.time_s for f in source.frames(size=(16, 8))]
    seconds = []
    for n in picks:
        start = time.perf_counter()
        subprocess.run([FFMPEG, "-v", "error", "-ss", f"{times[n]:.6f}", "-i", str(clip), "-frames:v", "1",
                        "-vf", filters, *output, "-"], check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--random", type=int, default=12, help="random-access requests per clip")
    parser.add_argument("--fps", type=float, default=24.0, help="pace of the cached playback pass")
    parser.add_argument("--gop", type=int, default=24, help="keyframe interval of the second clip")
    parser.add_argument("--preset", default=None)
    parser.add_argument("--op", dest="ops", action="append", default=None, help="OP.KEY=VALUE (repeatable)")
    parser.add_argument("--backend", default=None)
    args = parser.parse_args()
    options = GradeOptions(preset=args.preset, assignments=tuple(args.ops or OPS), backend=args.backend,
                           cache_dir=str(CACHE / "analysis"))
    clip, gop_clip = clip_1080p(), clip_1080p_gop(args.gop)
    with open_source(clip) as source:
        count = source.info.video.frame_count
    picks = random.Random(5).sample(range(count), min(args.random, count))
    folder = Path(tempfile.mkdtemp(prefix="mg-bench-"))
    config = ServerConfig(roots=(str(clip.parent),), socket_path=str(folder / "p.sock"), grade=options,
                          memory_mb=4096, prefetch_frames=8)
    with ServerThread(config) as server, PreviewClient.connect(server.addresses[0]) as client:
        client.open(clip.name)
        client.frame(0)                                    # warm-up: kernels built, analysis cached
        client.open(gop_clip.name)
        random_gop_s = timed_frames(client, picks)
        client.open(clip.name)                             # a fresh session: nothing graded yet
        random_s = timed_frames(client, picks)
        client.open(clip.name)
        started = time.perf_counter()
        first_pass_s = timed_frames(client, range(count))  # graded as fast as it goes, prefetch ahead
        first_pass_fps = count / (time.perf_counter() - started)
        cached_s = timed_frames(client, range(count), 1 / args.fps)   # playing it again, at --fps
    peer_random_s = ffmpeg_random_access(clip, picks)
    peer_random_gop_s = ffmpeg_random_access(gop_clip, picks)
    start = time.perf_counter()
    subprocess.run([FFMPEG, "-v", "error", "-i", str(clip), "-an", "-vf", PEER_FILTER, "-f", "rawvideo",
                    "-pix_fmt", "rgb24", "-y", "/dev/null"], check=True)
    peer_fps = count / (time.perf_counter() - start)

    grade = (f"preset {args.preset}, " if args.preset else "") + ", ".join(options.assignments)
    print(f"# graded preview at 1920x1080, {count} frames, raw RGB over a Unix socket (client in the same "
          f"process); grade: {grade}; backend {args.backend or 'auto'}; peer filter: {PEER_FILTER}")
    print(f"# {machine()}, {datetime.date.today()}")
    print(f"random access, one GOP     moodgrade : {percentiles_ms(random_s)}  ({len(picks)} frames)")
    print(f"random access, one GOP     ffmpeg -ss: {percentiles_ms(peer_random_s)}  (a process per frame)")
    print(f"random access, GOP {args.gop:<3}     moodgrade : {percentiles_ms(random_gop_s)}")
    print(f"random access, GOP {args.gop:<3}     ffmpeg -ss: {percentiles_ms(peer_random_gop_s)}")
    print(f"playback, first pass       moodgrade : {first_pass_fps:6.1f} fps  {percentiles_ms(first_pass_s)}")
    print(f"playback, first pass       ffmpeg    : {peer_fps:6.1f} fps  (decode + filter to RGB)")
    print(f"playback, cached, {args.fps:g} fps   moodgrade : {percentiles_ms(cached_s)}  (target p95 < 40 ms)")
    print(f"ratios (ffmpeg time / moodgrade time): random p50 {np.median(peer_random_s) / np.median(random_s):.2f}x, "
          f"GOP {args.gop} {np.median(peer_random_gop_s) / np.median(random_gop_s):.2f}x, "
          f"first pass {first_pass_fps / peer_fps:.2f}x")


if __name__ == "__main__":
    main()
