"""Pass-through decode + encode at 1080p: moodgrade (PyAV, through RGB) beside FFmpeg.

Both encode libx264 with the same preset and CRF and copy the audio; FFmpeg
stays in YUV, moodgrade converts to RGB and back (as every graded frame must).
Run: python benchmarks/bench_passthrough.py [--repeats N]
"""

import argparse
import datetime

from benchmarks.common import CACHE, best_of, clip_1080p, ffmpeg, machine
from render.io.sink import EncodeSettings
from render.io.source import open_source
from render.job import render_file


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--crf", type=float, default=18)
    args = parser.parse_args()
    clip = clip_1080p()
    with open_source(clip) as source:
        frames = source.info.video.frame_count
    ours_out, peer_out = CACHE / "ours.mp4", CACHE / "peer.mp4"
    settings = EncodeSettings(codec="libx264", crf=args.crf, speed_preset=args.preset)
    ours = best_of(args.repeats, lambda: render_file(clip, ours_out, settings, overwrite=True, workers=2))
    peer = best_of(args.repeats, lambda: ffmpeg("-i", str(clip), "-c:v", "libx264", "-preset", args.preset,
                                                 "-crf", f"{args.crf:g}", "-c:a", "copy", str(peer_out)))
    print(f"# pass-through 1080p, {frames} frames, libx264 {args.preset} CRF {args.crf:g}, audio copied")
    print(f"# {machine()}, {datetime.date.today()}")
    print(f"moodgrade  {frames / ours:7.2f} fps")
    print(f"ffmpeg     {frames / peer:7.2f} fps")
    print(f"ratio (moodgrade / ffmpeg throughput): {peer / ours:.2f}x")


if __name__ == "__main__":
    main()
