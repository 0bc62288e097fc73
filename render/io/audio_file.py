"""Encoded soundtracks as files of their own: float32 blocks in, an audio-only Matroska
file out, written under a temporary name and renamed when complete.

A processed soundtrack is encoded here first, measured as encoded, and then copied
into the output beside the video (render.job.open_sink), or by the farm's join.
"""

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from render.errors import MediaError
from render.io import output_path
from render.io.audio_frame import audio_frame
from render.io.source import AudioInfo, ffmpeg_url

AUDIO_CODECS = {"aac": "aac", "opus": "libopus", "flac": "flac", "pcm": "pcm_s16le", "pcm24": "pcm_s24le"}
# What each container can hold (FFmpeg 7's muxers); other containers hold all of them.
CONTAINER_AUDIO = {".mov": ("aac", "pcm", "pcm24"), ".mp4": ("aac", "opus", "flac"), ".m4v": ("aac",)}
LOSSY_CODECS = ("aac", "opus")
_FRAME_SAMPLES = 4096     # samples handed to the encoder at a time


def default_audio_bitrate_bps(channels: int) -> int:
    """A lossy bitrate that keeps the sound close to its source: 96 kb/s for each of the
    first two channels, 64 kb/s for each one after (stereo 192, 5.1 448, 7.1 576 kb/s)."""
    return 96_000 * min(channels, 2) + 64_000 * max(0, channels - 2)


def kept_family(source: AudioInfo, container: str) -> tuple[str, int | None]:
    """How ``--audio-codec copy`` encodes a soundtrack that was changed (its packets no longer
    apply): in the source's codec family where ``container`` (a suffix) allows it. Returns
    (codec, bitrate in bit/s or None for the default). PCM stays PCM (24-bit when the
    source is deeper than 16; FLAC in .mp4), FLAC stays FLAC (PCM 24-bit in .mov), Opus and
    AAC keep their declared bitrate; other codecs (AC-3, MP3...) become AAC."""
    allowed = CONTAINER_AUDIO.get(container.lower(), tuple(AUDIO_CODECS))
    name = source.codec
    if name.startswith("pcm_"):
        shallow = name in ("pcm_s16le", "pcm_s16be", "pcm_u8", "pcm_s8")
        choices = ("pcm" if shallow else "pcm24", "flac")
    elif name in ("flac", "alac", "truehd", "mlp", "wavpack"):
        choices = ("flac", "pcm24")
    elif name == "opus":
        choices = ("opus",)
    else:
        choices = ()
    family = next((c for c in choices if c in allowed), "aac")
    bitrate = source.bit_rate_bps if family in LOSSY_CODECS and name in ("aac", "opus") else None
    if bitrate is not None:                 # a declared rate, kept within what encoders take
        bitrate = min(max(bitrate, 16_000 * source.channels), 320_000 * source.channels)
    return family, bitrate


@dataclass(frozen=True)
class AudioEncoding:
    """How to encode a soundtrack: ``codec`` one of AUDIO_CODECS' keys, ``bitrate_bps`` for
    the lossy ones, the input's ``sample_rate`` (Hz) and ``layout`` (Opus encodes at 48 kHz)."""

    codec: str
    bitrate_bps: int
    sample_rate: int
    layout: str

    def __post_init__(self) -> None:
        if self.codec not in AUDIO_CODECS:
            raise MediaError(f"unknown audio codec {self.codec!r}; choose copy, {', '.join(AUDIO_CODECS)} or none")

    @property
    def lossy(self) -> bool:
        return self.codec in LOSSY_CODECS

    def describe(self) -> str:
        """For people: "aac 448 kb/s", "pcm 24-bit", "flac"."""
        if self.lossy:
            return f"{self.codec} {self.bitrate_bps // 1000} kb/s"
        return {"pcm": "pcm 16-bit", "pcm24": "pcm 24-bit"}.get(self.codec, self.codec)


def encode_audio_file(path: str | os.PathLike, blocks: Iterable[np.ndarray], encoding: AudioEncoding) -> Path:
    """Encode float32 (channels, n) ``blocks`` (in order) into the audio-only Matroska file
    ``path``, atomically; memory stays at a block whatever the length. Returns ``path``."""
    path = Path(path)
    temp = output_path.temporary_path(path)
    codec = AUDIO_CODECS[encoding.codec]
    try:
        with av.open(ffmpeg_url(temp), mode="w", format="matroska") as container:
            stream = container.add_stream(codec, rate=48000 if codec == "libopus" else encoding.sample_rate)
            stream.layout = encoding.layout
            if encoding.lossy:
                stream.codec_context.bit_rate = encoding.bitrate_bps
            done = 0
            for samples in blocks:
                for start in range(0, samples.shape[1], _FRAME_SAMPLES):
                    part = samples[:, start:start + _FRAME_SAMPLES]
                    container.mux(stream.encode(audio_frame(part, encoding.sample_rate, encoding.layout, pts=done)))
                    done += part.shape[1]
            container.mux(stream.encode(None))
    except (av.FFmpegError, ValueError) as exc:
        output_path.discard(temp)
        raise MediaError(f"the soundtrack cannot be encoded as {encoding.codec} ({exc})") from None
    except BaseException:
        output_path.discard(temp)
        raise
    output_path.commit(temp, path)
    return path
