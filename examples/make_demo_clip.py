"""Build the built-in example clip shipped as render/demo/demo.mp4.

Two shots of real photographs from scikit-image, five seconds in all, with a
soundtrack: the astronaut (a smiling face) with a slow push-in and a bright
major chord, then a cut to the grey "camera" photograph, dimmed and cooled,
with a low minor drone. The mood changes at the cut.

Run once by a maintainer (needs scikit-image): python examples/make_demo_clip.py
"""

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from skimage import data

WIDTH, HEIGHT, FPS, SHOT_FRAMES = 640, 360, 25, 63
RATE = 48000
OUT = Path(__file__).resolve().parents[1] / "render" / "demo" / "demo.mp4"


def push_in(photo: np.ndarray, t: float, centre: tuple[float, float]) -> np.ndarray:
    """A 16:9 crop of ``photo`` that tightens from 100% to 85% over t in [0, 1]."""
    h, w = photo.shape[:2]
    crop_w = min(w, h * WIDTH / HEIGHT) * (1.0 - 0.15 * t)
    crop_h = crop_w * HEIGHT / WIDTH
    cx, cy = centre[0] * w, centre[1] * h
    x0 = int(np.clip(cx - crop_w / 2, 0, w - crop_w))
    y0 = int(np.clip(cy - crop_h / 2, 0, h - crop_h))
    crop = photo[y0:y0 + int(crop_h), x0:x0 + int(crop_w)]
    return cv2.resize(crop, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)


def chord(freqs_hz, seconds: float, level: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    env = np.minimum(1, t / 0.05) * np.minimum(1, (seconds - t) / 0.05)
    mono = sum(np.sin(2 * np.pi * f * t) for f in freqs_hz) / len(freqs_hz)
    return (level * env * mono).astype(np.float32)


def main() -> None:
    astronaut = data.astronaut()
    camera = np.repeat(data.camera()[..., None], 3, axis=2)
    camera = np.clip(camera * np.array([0.75, 0.85, 1.0]) * 0.8, 0, 255).astype(np.uint8)
    shots = [(astronaut, (0.45, 0.3)), (camera, (0.5, 0.45))]
    seconds = SHOT_FRAMES / FPS
    sound = np.concatenate([chord((261.6, 329.6, 392.0, 523.3), seconds, 0.3),
                            chord((110.0, 130.8, 164.8), seconds, 0.15)])
    stereo = np.stack([sound, sound])
    with av.open(str(OUT), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.codec_context.colorspace, video.codec_context.color_range = 1, 1
        video.codec_context.color_primaries, video.codec_context.color_trc = 1, 1
        video.codec_context.options = {"crf": "24", "preset": "slow"}
        audio = out.add_stream("aac", rate=RATE)
        audio.layout = "stereo"
        n = 0
        for photo, centre in shots:
            for i in range(SHOT_FRAMES):
                frame = av.VideoFrame.from_ndarray(push_in(photo, i / SHOT_FRAMES, centre), format="rgb24")
                frame = frame.reformat(format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
                frame.pts, frame.time_base = n, Fraction(1, FPS)
                out.mux(video.encode(frame))
                n += 1
        out.mux(video.encode(None))
        for start in range(0, stereo.shape[1], 4096):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(stereo[:, start:start + 4096]),
                                               format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = RATE, start, Fraction(1, RATE)
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
