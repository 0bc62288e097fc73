"""The peer's measurement: FFmpeg's ebur128 filter (peak=true) on a WAV we write."""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import imageio_ffmpeg

from render.io.audio_frame import audio_frame
from render.io.source import AudioClip


@dataclass(frozen=True)
class Ebur128:
    integrated_lufs: float
    true_peak_dbtp: float


def write_wav(path: Path, clip: AudioClip) -> Path:
    """``clip`` as 32-bit float WAV with its channel layout (so FFmpeg weighs 5.1 right)."""
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_f32le", rate=clip.sample_rate, layout=clip.layout)
        for packet in stream.encode(audio_frame(clip.samples, clip.sample_rate, clip.layout)):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def ebur128(path: Path) -> Ebur128:
    """FFmpeg's summary for ``path``: integrated loudness (LUFS) and true peak (dBTP)."""
    run = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path),
                          "-af", "ebur128=peak=true", "-f", "null", "-"],
                         capture_output=True, text=True, check=True)
    summary = run.stderr[run.stderr.rindex("Summary:"):]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1)
    peak = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1)
    return Ebur128(float(integrated), float(peak))
