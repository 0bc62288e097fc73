"""Synthetic test clips: shots with known cuts, dissolves, fades, silence and tones.

Frames are built in NumPy and written with PyAV (H.264 + AAC, the formats users
hand us), so the analysis sees real decode noise. Every generator is
deterministic (seeded) and small (320x180 by default).
"""

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

WIDTH_PX = 320
HEIGHT_PX = 180
FPS = 24


def textured_shot(seed: int, n_frames: int, *, width_px: int = WIDTH_PX, height_px: int = HEIGHT_PX,
                  drift_px_per_frame: float = 1.0) -> np.ndarray:
    """A shot of ``n_frames`` uint8 RGB frames: smooth random colour blobs, slowly panning.

    Each seed gives a different palette and layout, so two shots differ the way
    two camera set-ups do; the pan gives realistic within-shot motion.
    """
    rng = np.random.default_rng(seed)
    pad = int(abs(drift_px_per_frame) * n_frames) + 8
    coarse = rng.uniform(0, 255, size=(6, 9, 3)).astype(np.float32)
    tint = rng.uniform(0.3, 1.0, size=3).astype(np.float32)
    big = cv2.resize(coarse * tint, (width_px + pad, height_px), interpolation=cv2.INTER_CUBIC)
    detail = rng.normal(0, 12, size=big.shape).astype(np.float32)
    big = np.clip(big + cv2.GaussianBlur(detail, (0, 0), 1.5), 0, 255)
    frames = np.empty((n_frames, height_px, width_px, 3), np.uint8)
    for i in range(n_frames):
        x = int(round(i * abs(drift_px_per_frame)))
        frames[i] = big[:, x:x + width_px].astype(np.uint8)
    return frames


def hard_cut_frames(cut_frames: tuple[int, ...], n_frames: int) -> np.ndarray:
    """Frames of consecutive textured shots; a new shot starts at each of ``cut_frames``."""
    bounds = [0, *cut_frames, n_frames]
    return np.concatenate([textured_shot(100 + k, b - a) for k, (a, b) in enumerate(zip(bounds, bounds[1:]))])


def _blend(a: np.ndarray, b: np.ndarray, gain_a: np.ndarray, gain_b: np.ndarray) -> np.ndarray:
    """Frame by frame ``a * gain_a + b * gain_b`` (per-frame gains), rounded to uint8."""
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = np.round(a[i] * np.float32(gain_a[i]) + b[i] * np.float32(gain_b[i])).clip(0, 255)
    return out


def crossfade_frames(n_frames: int, fade_start: int, fade_frames: int) -> np.ndarray:
    """Two shots joined by a linear dissolve of ``fade_frames`` frames starting at ``fade_start``."""
    mix = np.clip((np.arange(n_frames) - fade_start + 1) / (fade_frames + 1), 0, 1)
    return _blend(textured_shot(7, n_frames), textured_shot(8, n_frames), 1 - mix, mix)


def fade_through_black_frames(n_frames: int, out_start: int, fade_frames: int, black_frames: int) -> np.ndarray:
    """Shot A fades to black over ``fade_frames``, holds black, then shot B fades in."""
    i = np.arange(n_frames)
    in_start = out_start + fade_frames + black_frames
    gain_a = np.where(i < in_start, np.clip(1 - (i - out_start + 1) / (fade_frames + 1), 0, 1), 0)
    gain_b = np.where(i < in_start, 0, np.clip((i - in_start + 1) / (fade_frames + 1), 0, 1))
    return _blend(textured_shot(11, n_frames), textured_shot(12, n_frames), gain_a, gain_b)


def tone(seconds: float, *, sample_rate: int = 48000, freq_hz: float = 440.0, level: float = 0.3,
         beats_per_s: float = 0.0, channels: int = 2) -> np.ndarray:
    """float32 (channels, n) audio: a sine, optionally gated into clicks ``beats_per_s`` times a second."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    signal = level * np.sin(2 * np.pi * freq_hz * t)
    if beats_per_s > 0:
        phase = (t * beats_per_s) % 1.0
        signal = signal * np.exp(-phase * 25.0)
    return np.repeat(signal[None, :].astype(np.float32), channels, axis=0)


def write_clip(path: Path, frames: np.ndarray | None, *, fps: int = FPS, audio: np.ndarray | None = None,
               sample_rate: int = 48000, gop: int | None = None) -> Path:
    """Write ``frames`` (N,H,W,3 uint8) as H.264 and ``audio`` (channels, n float32) as AAC/PCM.

    ``frames=None`` writes an audio-only file (AAC in .m4a, PCM in .wav). ``gop``: a
    keyframe every ``gop`` frames exactly (None: where the encoder likes).
    """
    path = Path(path)
    with av.open(str(path), "w") as out:
        vstream = astream = None
        if frames is not None:
            vstream = out.add_stream("libx264", rate=fps)
            vstream.width, vstream.height = frames.shape[2], frames.shape[1]
            vstream.pix_fmt = "yuv420p"
            vstream.options = {"crf": "18", "preset": "ultrafast"}
            if gop is not None:
                vstream.options = dict(vstream.options, **{"x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"})
        if audio is not None:
            codec = "pcm_s16le" if path.suffix == ".wav" else "aac"
            layout = "stereo" if audio.shape[0] == 2 else "mono"
            astream = out.add_stream(codec, rate=sample_rate, layout=layout)
        if vstream is not None:
            for rgb in frames:
                for packet in vstream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                    out.mux(packet)
            out.mux(vstream.encode())
        if astream is not None:
            fmt = "s16p" if astream.codec_context.name == "pcm_s16le" else "fltp"
            block = 1024
            for start in range(0, audio.shape[1], block):
                chunk = np.ascontiguousarray(audio[:, start:start + block])
                if fmt == "s16p":
                    chunk = np.ascontiguousarray((np.clip(chunk, -1, 1) * 32767).astype(np.int16))
                frame = av.AudioFrame.from_ndarray(chunk, format=fmt, layout=astream.layout.name)
                frame.sample_rate = sample_rate
                frame.pts = start
                frame.time_base = Fraction(1, sample_rate)
                for packet in astream.encode(frame):
                    out.mux(packet)
            out.mux(astream.encode())
    return path
