"""Long programmes: peak memory and wall time of `moodgrade grade --preset natural` beside
FFmpeg's compressor + loudnorm chain on the same files, in one run.

Synthetic programmes (render.io.synthetic.write_programme: a 64x36 picture, so the
run is about the sound, with 5.1 AAC at 48 kHz, scenes of 20 s whose levels spread
over 20 dB ("wide", loudness range near 15 LU or more) or 2 dB ("narrow")) of the
given lengths. For each output: integrated loudness and true peak by FFmpeg's
ebur128, and the end of the audio against the end of the video.
Run: python -m benchmarks.bench_long_form [--minutes 10 30 120] [--kinds wide]
"""

import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile
import time

from benchmarks.common import CACHE, FFMPEG, machine
from render.io.source import open_source
from render.io.synthetic import ProgrammeSpec, write_programme

SPREAD_DB = {"wide": 20.0, "narrow": 2.0}


def peak_rss_run(command: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of ``command`` as a child process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status:
        raise RuntimeError(f"{command[:4]} failed: {child.stderr.read().decode()[-500:]}")
    return seconds, usage.ru_maxrss / 1024


def ebur128(path) -> tuple[float, float, float]:
    """FFmpeg's integrated loudness (LUFS), loudness range (LU) and true peak (dBTP) of ``path``."""
    run = subprocess.run([FFMPEG, "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a",
                          "-af", "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True, check=True)
    summary = run.stderr[run.stderr.rindex("Summary:"):]
    number = lambda pattern: float(re.search(pattern, summary).group(1))   # noqa: E731
    return (number(r"I:\s+(-?[\d.]+|-inf) LUFS"), number(r"LRA:\s+(-?[\d.]+) LU"),
            number(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS"))


def av_end_gap_ms(path) -> float:
    """End of the audio minus end of the video, ms."""
    with open_source(path) as source:
        video, audio = source.info.video, source.info.audio
        return (audio.duration_s - video.duration_s) * 1000.0


def programme(minutes: float, kind: str):
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"programme_{kind}_{minutes:g}min.mp4"
    if not path.exists():
        write_programme(path.with_suffix(".part.mp4"), ProgrammeSpec(minutes=minutes, level_spread_db=SPREAD_DB[kind]))
        path.with_suffix(".part.mp4").rename(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", nargs="+", type=float, default=[10, 30, 120])
    parser.add_argument("--kinds", nargs="+", default=["wide"], choices=sorted(SPREAD_DB))
    parser.add_argument("--no-peer", action="store_true", help="skip FFmpeg's chain")
    args = parser.parse_args()
    print(f"# long-form grade vs FFmpeg chain; {machine()}, {datetime.date.today()}")
    print("| programme | input LRA LU | ours peak MiB | ours wall s | FFmpeg peak MiB | FFmpeg wall s "
          "| ours LUFS | ours dBTP | A/V end gap ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for kind in args.kinds:
            for minutes in args.minutes:
                source = programme(minutes, kind)
                _, lra, _ = ebur128(source)
                ours = os.path.join(work, "ours.mp4")
                wall, rss = peak_rss_run([sys.executable, "-m", "render", "grade", str(source), ours,
                                          "--preset", "natural", "--quiet", "--overwrite",
                                          "--cache-dir", os.path.join(work, "cache")])
                lufs, _, peak = ebur128(ours)
                gap = av_end_gap_ms(ours)
                peer = ("-", "-")
                if not args.no_peer:
                    theirs = os.path.join(work, "ffmpeg.mp4")
                    peer_wall, peer_rss = peak_rss_run([
                        FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
                        "-af", "acompressor,loudnorm=I=-14:TP=-1", "-ar", "48000", "-c:v", "libx264",
                        "-crf", "18", "-c:a", "aac", theirs])
                    peer = (f"{peer_rss:.0f}", f"{peer_wall:.0f}")
                print(f"| {kind} {minutes:g} min | {lra:.1f} | {rss:.0f} | {wall:.0f} | {peer[0]} | {peer[1]} "
                      f"| {lufs:.2f} | {peak:.2f} | {gap:+.1f} |", flush=True)


if __name__ == "__main__":
    main()
