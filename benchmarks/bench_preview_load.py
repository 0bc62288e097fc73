"""The preview server under load: memory and a light client's latency while many clients scrub 1080p.

moodgrade: ``moodgrade serve`` in a process of its own (its resident memory read from
/proc every second) and, in this process, ``--clients`` heavy clients scrubbing the
1080p clip at random (each with one of four grades; a fifth of them ask for full-size
raw RGB, the rest for half-size), while a light client opens the clip, asks for one
small JPEG frame and closes, once a second. Then one client opens and closes
``--sessions`` sessions, and the server's memory is read before and after.
Peer: FFmpeg seeking to the same frame and scaling it to the same small JPEG (a
process per frame), the time a light client's request would take without a server.
Run: python -m benchmarks.bench_preview_load [--clients 50] [--minutes 10] [--memory-mb 1024]
"""

import argparse
import datetime
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_preview import clip_1080p_gop, ffmpeg_random_access, percentiles_ms
from benchmarks.common import clip_1080p, machine
from render.client import PreviewClient, PreviewError
from render.io.source import open_source

GRADES = (("exposure.exposure_ev=0.4", "saturation.saturation=0.7"),
          ("exposure.exposure_ev=-0.3", "vignette.amount=0.5"),
          ("saturation.saturation=1.3", "vignette.amount=0.3"),
          ("exposure.exposure_ev=0.2",))
LIGHT_WIDTH = 320


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Sampler(threading.Thread):
    """Reads the server's resident memory every ``period_s`` as (seconds since start, MiB)."""

    def __init__(self, pid: int, period_s: float = 1.0):
        super().__init__(daemon=True)
        self.pid, self.period_s = pid, period_s
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()
        self.started = time.perf_counter()

    def run(self) -> None:
        while not self.stop.wait(self.period_s):
            self.samples.append((time.perf_counter() - self.started, rss_mib(self.pid)))


def start_server(clip: Path, folder: Path, memory_mb: int) -> tuple[subprocess.Popen, str]:
    socket_path = folder / "load.sock"
    server = subprocess.Popen([sys.executable, "-m", "render", "serve", "--root", str(clip.parent),
                               "--socket", str(socket_path), "--memory-mb", str(memory_mb)],
                              stdout=subprocess.PIPE, text=True)
    for line in server.stdout:
        if "ready" in line:
            break
    else:
        raise RuntimeError("the server did not start")
    threading.Thread(target=server.stdout.read, daemon=True).start()
    return server, f"unix:{socket_path}"


def heavy_client(address: str, clip: Path, count: int, index: int, until: float, tally: dict) -> None:
    """Scrub at random until ``until``; counts replies and ``busy`` answers into ``tally``."""
    rng = random.Random(index)
    scale = None if index % 5 == 0 else 0.5
    while time.perf_counter() < until:
        try:
            with PreviewClient.connect(address) as client:
                client.open(clip.name)
                client.set(ops=list(GRADES[index % len(GRADES)]))
                while time.perf_counter() < until:
                    try:
                        client.frame(rng.randrange(count), scale=scale)
                        tally["frames"] += 1
                    except PreviewError as exc:
                        if exc.code != "busy":
                            raise
                        tally["busy"] += 1
                        time.sleep(0.2)
        except PreviewError as exc:
            if exc.code != "busy":
                raise
            tally["busy"] += 1
            time.sleep(0.5)


def light_client(address: str, clip: Path, count: int, until: float, latencies: list, failures: list) -> None:
    """Open, one small frame, close, once a second until ``until``; (elapsed s, latency s) pairs."""
    rng = random.Random(99)
    started = time.perf_counter()
    while time.perf_counter() < until:
        begin = time.perf_counter()
        try:
            with PreviewClient.connect(address) as client:
                client.open(clip.name)
                client.frame(rng.randrange(count), format="jpeg", max_width=LIGHT_WIDTH)
            latencies.append((begin - started, time.perf_counter() - begin))
        except PreviewError as exc:
            failures.append(exc.code)
        time.sleep(max(0.0, 1.0 - (time.perf_counter() - begin)))


def open_close_sessions(address: str, clip: Path, sessions: int) -> None:
    """``sessions`` sessions, each on a connection of its own: open, one small frame, close."""
    for _ in range(sessions):
        with PreviewClient.connect(address) as client:
            client.open(clip.name)
            client.frame(0, format="jpeg", max_width=64)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--warmup-s", type=float, default=60.0)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--memory-mb", type=int, default=1024)
    parser.add_argument("--gop", type=int, default=0, help="use the clip with a keyframe every GOP frames")
    args = parser.parse_args()
    clip = clip_1080p_gop(args.gop) if args.gop else clip_1080p()
    with open_source(clip) as source:
        count = source.info.video.frame_count
    folder = Path(tempfile.mkdtemp(prefix="mg-load-"))
    server, address = start_server(clip, folder, args.memory_mb)
    sampler = Sampler(server.pid)
    sampler.start()
    until = time.perf_counter() + args.minutes * 60
    tally = {"frames": 0, "busy": 0}
    latencies, failures = [], []
    threads = [threading.Thread(target=heavy_client, args=(address, clip, count, i, until, tally), daemon=True)
               for i in range(args.clients)]
    threads.append(threading.Thread(target=light_client, args=(address, clip, count, until, latencies, failures),
                                    daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(3)
    before_sessions = rss_mib(server.pid)
    sessions_started = time.perf_counter()
    open_close_sessions(address, clip, args.sessions)
    sessions_s = time.perf_counter() - sessions_started
    time.sleep(3)
    after_sessions = rss_mib(server.pid)
    sampler.stop.set()
    server.terminate()
    server.wait(30)
    peer = ffmpeg_random_access(clip, random.Random(99).sample(range(count), 12), f"scale={LIGHT_WIDTH}:-2",
                                ("-f", "image2pipe", "-c:v", "mjpeg"))

    samples = np.array(sampler.samples)
    warm = samples[samples[:, 0] >= args.warmup_s, 1]
    at_warm, peak, end = warm[0], samples[:, 1].max(), warm[-1]
    light = np.array([s for t, s in latencies if t >= args.warmup_s] or [np.nan])
    minutes = [np.percentile([s for t, s in latencies if m * 60 <= t < (m + 1) * 60] or [np.nan], 95)
               for m in range(int(np.ceil(args.minutes)))]
    print(f"# {args.clients} clients scrubbing {clip.name} (1920x1080, {count} frames) at random for "
          f"{args.minutes:g} min, --memory-mb {args.memory_mb}; one light client (open + a {LIGHT_WIDTH}-px JPEG "
          f"+ close) every second")
    print(f"# {machine()}, {datetime.date.today()}")
    print(f"server RSS: after {args.warmup_s:g} s warm-up {at_warm:.0f} MiB, peak {peak:.0f} MiB, end {end:.0f} MiB,"
          f" growth after warm-up {end - at_warm:+.0f} MiB (max {warm.max() - at_warm:+.0f})")
    print(f"heavy clients: {tally['frames']} frames ({tally['frames'] / (args.minutes * 60):.1f}/s), "
          f"{tally['busy']} busy answers")
    print(f"light client after warm-up: {percentiles_ms(list(light))}, max {np.nanmax(light) * 1000:.0f} ms, "
          f"{len(failures)} failed ({', '.join(sorted(set(failures))) or '-'}); p95 per minute (ms): "
          + " ".join(f"{p * 1000:.0f}" for p in minutes))
    print(f"ffmpeg -ss, same small frame, unloaded: {percentiles_ms(peer)}; ratio of p95 (ffmpeg / loaded "
          f"moodgrade): {np.percentile(peer, 95) / np.nanpercentile(light, 95):.2f}x")
    print(f"{args.sessions} sessions opened and closed in {sessions_s:.1f} s: RSS {before_sessions:.0f} -> "
          f"{after_sessions:.0f} MiB ({after_sessions - before_sessions:+.1f} MiB)")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
