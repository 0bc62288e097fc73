"""Media output on PyAV: encode RGB frames and audio, mux, and rename atomically.

Timestamps, frame rate, colour tags, rotation and (where the codec allows) bit
depth of the source are kept. Audio arrives as packets and is interleaved with the
video by time: the source's own (copied untouched), or a soundtrack encoded to a file
of its own first (render.io.audio_file), which the sink then owns and removes.
"""

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from render.errors import MediaError
from render.io import output_path
from render.io.audio_file import AUDIO_CODECS, CONTAINER_AUDIO
from render.io.colour_tags import conversion_flags
from render.io.source import VideoInfo, ffmpeg_url, open_container

VIDEO_CODECS = ("libx264", "libx265", "prores_ks", "ffv1", "png")
_RGB_FORMATS = ("rgb24", "rgb48be", "rgb48le", "bgr0", "gbrp", "gbrp10le", "gbrp12le", "gbrp16le")


@dataclass(frozen=True)
class EncodeSettings:
    """How to encode the video and audio.

    ``crf``: constant rate factor for libx264/libx265, 0 (lossless) to 51; ``bitrate_bps``
    replaces it with a target bitrate. ``speed_preset``: x264/x265 preset (ultrafast ...
    veryslow). ``pix_fmt``: None chooses one that keeps the source's depth and chroma.
    ``audio``: "copy" (the input's track as is), "aac", "opus", "flac", "pcm", or "none";
    ``audio_bitrate_bps`` for AAC and Opus, None for :func:`default_audio_bitrate_bps`.
    """

    codec: str = "libx264"
    crf: float | None = 18.0
    bitrate_bps: int | None = None
    speed_preset: str = "medium"
    pix_fmt: str | None = None
    audio: str = "copy"
    audio_bitrate_bps: int | None = None


# Video codecs that belong in each container (what players expect there); other suffixes are
# left to FFmpeg, which refuses what it cannot mux when the file is opened.
CONTAINER_CODECS = {".mp4": ("libx264", "libx265"), ".m4v": ("libx264",),
                    ".mov": ("libx264", "libx265", "prores_ks", "png"),
                    ".mkv": ("libx264", "libx265", "prores_ks", "ffv1")}
RATE_CONTROLLED = ("libx264", "libx265")      # the codecs --crf, --bitrate and --speed-preset apply to


def check_codecs_fit(output: Path, settings: EncodeSettings) -> None:
    """Refuse (MediaError, one line) codecs that do not belong in ``output``'s container, before
    any work starts: PNG or FFV1 in .mp4, PNG in .mkv, FFV1 in .mov, ProRes in .mp4; PCM in
    .mp4, FLAC or Opus in .mov."""
    sound = CONTAINER_AUDIO.get(output.suffix.lower(), tuple(AUDIO_CODECS))
    if settings.audio in AUDIO_CODECS and settings.audio not in sound:
        raise MediaError(f"{output}: --audio-codec {settings.audio} does not belong in a {output.suffix} file; "
                         f"use {' or '.join(sound)}, or .mkv")
    codec = settings.codec
    allowed = CONTAINER_CODECS.get(output.suffix.lower())
    if allowed is not None and codec not in allowed:
        raise MediaError(f"{output}: --codec {codec} does not belong in a {output.suffix} file; use "
                         f"{' or '.join(allowed)}, or another container "
                         f"({', '.join(s for s, c in CONTAINER_CODECS.items() if codec in c)})")


def choose_pix_fmt(codec: str, source_pix_fmt: str, bit_depth: int, width: int, height: int) -> str:
    """The output pixel format for ``codec`` that keeps the source's depth (and chroma where possible).

    Odd frame sizes cannot be chroma-subsampled, so they get 4:4:4 and keep their exact size.
    """
    deep = bit_depth > 8
    if codec == "ffv1":
        return f"gbrp{min(bit_depth, 16)}le" if deep else "bgr0"
    if codec == "png":
        return "rgb48be" if deep else "rgb24"
    if codec == "prores_ks":
        return "yuv444p10le" if "444" in source_pix_fmt or width % 2 else "yuv422p10le"
    odd = width % 2 or height % 2
    chroma = "444" if odd or "444" in source_pix_fmt else "422" if "422" in source_pix_fmt else "420"
    return f"yuv{chroma}p10le" if deep else f"yuv{chroma}p"


def _message(exc: Exception) -> str:
    return (getattr(exc, "strerror", None) or str(exc)).strip()


class MediaSink:
    """Writes one output file. Call :meth:`write` per frame, then :meth:`close` (or :meth:`abort`).

    With ``video_template`` (a PyAV stream) the video arrives already encoded instead: call
    :meth:`write_packet` with packets of that stream (joining chunks without re-encoding).
    Audio: packets of ``audio_template`` from ``audio_packets``, or those of the audio-only
    file ``audio_file``, which the sink removes when done unless ``keep_audio_file``.
    """

    def __init__(self, path: str | os.PathLike, video: VideoInfo, settings: EncodeSettings,
                 *, audio_template=None, audio_packets: Iterable | None = None, audio_file: Path | None = None,
                 keep_audio_file: bool = False, video_template=None):
        if settings.codec not in VIDEO_CODECS:
            raise MediaError(f"unknown video codec {settings.codec!r}; choose one of {', '.join(VIDEO_CODECS)}")
        self.path = Path(path)
        self._temp = output_path.temporary_path(self.path)
        self._video_info = video
        self._settings = settings
        self._audio_file = None if keep_audio_file else audio_file    # removed when done
        self._audio_container = None
        if audio_file is not None:
            self._audio_container = open_container(audio_file)
            audio_template = self._audio_container.streams.audio[0]
            audio_packets = (p for p in self._audio_container.demux(audio_template) if p.dts is not None)
        try:
            self._temp.open("wb").close()   # fail here, clearly, if the folder is not writable
            # Timestamps as they are: the default shift makes Matroska start the video late by
            # the copied audio's priming (-21 ms of AAC); MP4 and MOV keep theirs in edit lists.
            self._container = av.open(ffmpeg_url(self._temp), mode="w", options={"avoid_negative_ts": "disabled"})
        except (av.FFmpegError, OSError, ValueError) as exc:
            output_path.discard(self._temp)
            raise MediaError(f"{self.path}: cannot be written ({_message(exc)})") from None
        try:
            self._video = (self._container.add_stream_from_template(video_template) if video_template
                           else self._add_video_stream(video, settings))
            self._audio, self._audio_packets = self._add_audio_stream(audio_template, audio_packets)
            self._container.start_encoding()
        except (av.FFmpegError, ValueError) as exc:
            self.abort()
            raise MediaError(f"{self.path}: cannot encode with these settings ({_message(exc)})") from None
        except MediaError:
            self.abort()
            raise
        self._pending_audio = None      # the next audio packet to mux, fetched when first needed
        self._audio_started = False
        self.frames_written = 0

    def _add_video_stream(self, video: VideoInfo, s: EncodeSettings):
        stream = self._container.add_stream(s.codec, rate=video.frame_rate)
        stream.width, stream.height = video.width, video.height
        self._pix_fmt = s.pix_fmt or choose_pix_fmt(s.codec, video.pix_fmt, video.bit_depth, video.width, video.height)
        stream.pix_fmt = self._pix_fmt
        stream.time_base = video.time_base
        cc = stream.codec_context
        cc.time_base = video.time_base
        options = {}
        if s.codec in ("libx264", "libx265"):
            # frame threads, as the ffmpeg tool's default (PyAV's slice threads encode slower and worse)
            cc.thread_type = "AUTO"
            options["preset"] = s.speed_preset
            if s.bitrate_bps:
                cc.bit_rate = s.bitrate_bps
            elif s.crf is not None:
                options["crf"] = f"{s.crf:g}"
            if s.codec == "libx265":
                options["x265-params"] = "log-level=error"
        elif s.codec == "prores_ks":
            options["profile"] = "3"
        elif s.codec == "ffv1":
            options.update(level="3", slicecrc="1")
        elif s.bitrate_bps:
            cc.bit_rate = s.bitrate_bps
        cc.options = options
        self._rgb = self._pix_fmt in _RGB_FORMATS
        matrix, colour_range = video.colour.conversion(video.height)
        self._matrix, self._range = matrix, colour_range
        tags = video.colour
        if not self._rgb:
            cc.colorspace = {"ITU709": 1, "ITU601": 6, "SMPTE240M": 7, "BT2020": 9, "FCC": 4}[matrix]
            cc.color_range = 2 if colour_range == "JPEG" else 1
        else:
            cc.colorspace = 0
        if tags.primaries != 2:
            cc.color_primaries = tags.primaries
        if tags.transfer != 2:
            cc.color_trc = tags.transfer
        if video.rotation_deg:
            stream.set_display_rotation(video.rotation_deg)
        return stream

    def _add_audio_stream(self, template, packets):
        if template is None:
            return None, None
        return self._container.add_stream_from_template(template), iter(packets)
        return None, None

    # ------------------------------------------------------------------ write
    def write(self, rgb: np.ndarray, pts: int) -> None:
        """Encode one HxWx3 uint8/uint16 R'G'B' frame at ``pts`` (in the source's time base)."""
        fmt = "rgb24" if rgb.dtype == np.uint8 else "rgb48le"
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format=fmt)
        tags = self._video_info.colour
        if self._rgb:
            frame = frame.reformat(format=self._pix_fmt, interpolation=conversion_flags())
        else:
            frame = frame.reformat(format=self._pix_fmt, interpolation=conversion_flags(),
                                   src_colorspace=self._matrix,
                                   dst_colorspace=self._matrix, src_color_range="JPEG",
                                   dst_color_range=self._range)
        if tags.primaries != 2:
            frame.color_primaries = tags.primaries
        if tags.transfer != 2:
            frame.color_trc = tags.transfer
        frame.pts = pts
        frame.time_base = self._video_info.time_base
        try:
            for packet in self._video.encode(frame):
                self._mux_video(packet)
        except av.FFmpegError as exc:
            raise MediaError(f"{self.path}: encoding failed ({_message(exc)})") from None
        self.frames_written += 1

    def write_packet(self, packet: av.Packet) -> None:
        """Mux one encoded video packet of the ``video_template`` stream (timestamps as set)."""
        packet.stream = self._video
        self._mux_video(packet)
        self.frames_written += 1

    def _mux_video(self, packet) -> None:
        self._container.mux(packet)
        if packet.dts is not None:
            self._mux_audio_until(float(packet.dts * packet.time_base))

    def _mux_audio_until(self, time_s: float | None) -> None:
        if not self._audio_started and self._audio_packets is not None:
            self._audio_started = True
            self._pending_audio = next(self._audio_packets, None)
        while self._pending_audio is not None:
            packet = self._pending_audio
            if time_s is not None and packet.dts is not None and float(packet.dts * packet.time_base) > time_s:
                return
            if packet.stream is not self._audio:
                packet.stream = self._audio
            self._container.mux(packet)
            self._pending_audio = next(self._audio_packets, None)

    def close(self) -> Path:
        """Flush encoders, finish the file and rename it into place; returns the output path."""
        try:
            for packet in self._video.encode(None):
                self._mux_video(packet)
            self._mux_audio_until(None)
            self._container.close()
        except (av.FFmpegError, OSError) as exc:
            self.abort()
            raise MediaError(f"{self.path}: finishing the file failed ({_message(exc)})") from None
        self._drop_audio_file()
        output_path.commit(self._temp, self.path)
        return self.path

    def abort(self) -> None:
        """Stop writing and remove the temporary file; the destination is left untouched."""
        try:
            self._container.close()
        except Exception:  # noqa: BLE001 - the file is discarded whatever state the muxer is in
            pass
        self._drop_audio_file()
        output_path.discard(self._temp)

    def _drop_audio_file(self) -> None:
        if self._audio_container is not None:
            self._audio_container.close()
            self._audio_container = None
        if self._audio_file is not None:
            output_path.discard(self._audio_file)
