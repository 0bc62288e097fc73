"""Media input on PyAV: open, probe, index, decode, random access, audio.

``open_source(path)`` checks the file, reads the stream information, and
builds a frame index by demuxing the video packets once (no decoding). Frame
``n`` is the ``n``-th frame in presentation order; ``Source.frame(n)`` seeks
to the keyframe before it and decodes forward, and returns exactly what a
sequential decode yields at position ``n``.
"""

from array import array
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.container
import numpy as np

from render.errors import MediaError
from render.io.bounded_read import check_regular_file, display_path
from render.io.colour_tags import ColourTags, conversion_flags

AUDIO_BLOCK_SAMPLES = 1 << 16     # samples per streamed audio block (1.4 s at 48 kHz)


MAX_FRAME_RATE = 1000       # frames per second; a stream's rate above this is taken as damaged


@dataclass(frozen=True)
class VideoInfo:
    """What a player needs to know about the video stream."""

    width: int
    height: int
    frame_rate: Fraction          # average frame rate, frames per second
    time_base: Fraction           # seconds per timestamp tick
    frame_count: int
    duration_s: float
    codec: str
    pix_fmt: str
    bit_depth: int                # bits per component of the coded pixels (8, 10, 12, 16)
    colour: ColourTags
    rotation_deg: int             # counter-clockwise display rotation, 0/90/180/270
    variable_frame_rate: bool


@dataclass(frozen=True)
class AudioInfo:
    """The first audio stream."""

    codec: str
    sample_rate: int
    channels: int
    layout: str
    duration_s: float
    bit_rate_bps: int | None = None   # as the file declares it (None: not declared)


@dataclass(frozen=True)
class SourceInfo:
    path: str
    container: str
    size_bytes: int
    duration_s: float
    video: VideoInfo | None
    audio: AudioInfo | None

    def to_dict(self) -> dict:
        """A JSON-ready description (rationals as "num/den" strings)."""
        out = {"path": self.path, "container": self.container, "size_bytes": self.size_bytes,
               "duration_s": round(self.duration_s, 6), "video": None, "audio": None}
        if self.video:
            v = self.video
            out["video"] = {
                "codec": v.codec, "width": v.width, "height": v.height,
                "frame_rate": str(v.frame_rate), "frame_rate_fps": round(float(v.frame_rate), 6),
                "time_base": str(v.time_base), "frame_count": v.frame_count,
                "duration_s": round(v.duration_s, 6), "pix_fmt": v.pix_fmt, "bit_depth": v.bit_depth,
                **v.colour.names(), "rotation_deg": v.rotation_deg,
                "variable_frame_rate": v.variable_frame_rate,
            }
        if self.audio:
            a = self.audio
            out["audio"] = {"codec": a.codec, "sample_rate": a.sample_rate, "channels": a.channels,
                            "layout": a.layout, "duration_s": round(a.duration_s, 6),
                            "bit_rate_bps": a.bit_rate_bps}
        return out


@dataclass(frozen=True)
class VideoFrame:
    """One decoded frame: ``rgb`` is HxWx3 R'G'B', uint8 (8-bit sources) or uint16 (full 0..65535);
    ``transfer``: the curve that linearises it ("bt709" or "srgb", from the stream's tags)."""

    index: int
    pts: int
    time_s: float
    rgb: np.ndarray = field(repr=False)
    transfer: str = "bt709"


@dataclass(frozen=True)
class AudioTrack:
    """A soundtrack to stream: ``read()`` starts a fresh pass over it, yielding float32
    (channels, n) blocks in order (see :meth:`Source.audio_blocks`)."""

    sample_rate: int
    layout: str
    channels: int
    read: Callable[[], Iterator[np.ndarray]] = field(repr=False)


@dataclass(frozen=True)
class AudioClip:
    """Decoded audio: ``samples`` float32 (channels, n) in [-1, 1] at ``sample_rate`` Hz."""

    samples: np.ndarray = field(repr=False)
    sample_rate: int
    layout: str

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / self.sample_rate


def _bit_depth(pix_fmt: str) -> int:
    fmt = av.VideoFormat(pix_fmt)
    return max(c.bits for c in fmt.components)


def _check_path(path: Path) -> os.stat_result:
    """The stat of ``path``, refused (MediaError, one line) unless a readable, non-empty regular file.

    Checked before FFmpeg sees the name: FIFOs, devices, directories and symlink loops
    would otherwise block, read forever or fail with a traceback.
    """
    st = check_regular_file(path, "media file", MediaError)
    if not os.access(path, os.R_OK):
        raise MediaError(f"{display_path(path)}: not readable")
    if st.st_size == 0:
        raise MediaError(f"{display_path(path)}: empty file")
    return st


def ffmpeg_url(path: str | os.PathLike) -> str:
    """The name to hand FFmpeg for the local file ``path``: ``file:`` and its absolute path.

    FFmpeg reads ``pipe:0``, ``concat:a|b``, ``subfile,,...``, ``http:...`` and the like as
    protocols; with the ``file:`` prefix any name is a plain (seekable) file. Names that are
    not valid UTF-8 (FFmpeg takes UTF-8) raise MediaError.
    """
    url = "file:" + os.path.abspath(os.fspath(path))
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        raise MediaError(f"{display_path(path)}: the file name is not valid UTF-8; rename the file") from None
    return url


def open_container(path: str | os.PathLike) -> av.container.InputContainer:
    """``path`` (a checked regular file) opened for reading by PyAV through :func:`ffmpeg_url`."""
    return av.open(ffmpeg_url(path), mode="r")


def _decodable(streams, kind: str, path: Path):
    """The first stream of ``streams`` (None when there is none); MediaError when FFmpeg has no
    decoder for it (PyAV then leaves its ``codec_context`` None)."""
    if not streams:
        return None
    stream = streams[0]
    if stream.codec_context is None:
        raise MediaError(f"{display_path(path)}: the {kind} stream's codec has no decoder in this build of "
                         "FFmpeg (damaged or unsupported)")
    return stream


def _default_layout(layout_name: str, channels: int) -> str:
    """The layout to use for audio: FFmpeg's default for the channel count when the file
    leaves the layout unspecified (PyAV names it "N channels")."""
    if layout_name and not layout_name.endswith(" channels"):
        return layout_name
    try:
        return av.AudioLayout(f"{channels}c").name
    except (ValueError, av.FFmpegError):
        return layout_name


def _av_message(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[-1].strip() if "'" in text else text.strip()


class Source:
    """An opened media file. Use :func:`open_source`; close it (or use ``with``)."""

    def __init__(self, path: str | os.PathLike, measure_only: bool = False, like: "Source | None" = None,
                 thread_type: str = "AUTO"):
        """``like``: an open Source of the same, unchanged file whose index and probe are taken
        instead of reading them again (a second decoder of one clip); ``thread_type``: FFmpeg's
        decoder threading ("AUTO": frame and slice threads; "SLICE"; "NONE")."""
        self.path = Path(path)
        _check_path(self.path)
        shown = display_path(self.path)
        try:
            self._container = open_container(self.path)
        except (av.FFmpegError, UnicodeError, ValueError, OverflowError) as exc:
            raise MediaError(f"{shown}: not a media file FFmpeg can read ({_av_message(exc)})") from None
        try:
            self._video_stream = _decodable(self._container.streams.video, "video", self.path)
            self._audio_stream = _decodable(self._container.streams.audio, "audio", self.path)
            if self._video_stream is not None:
                if measure_only:
                    # No in-loop deblocking (a quarter of H.264's decode time). On two cores the
                    # caller keeps the other one busy and frame threads would only add their cost
                    # (about 40 % more CPU); with more cores they take the spare ones.
                    self._video_stream.thread_type = "AUTO" if (os.cpu_count() or 1) > 2 else "SLICE"
                    self._video_stream.codec_context.options = {"skip_loop_filter": "all"}
                else:
                    self._video_stream.thread_type = thread_type
            # swscale's own threads make small conversions slower, and stall when the cores are busy.
            self._conversion_threads = 1 if measure_only else 0
            if self._video_stream is None and self._audio_stream is None:
                raise MediaError(f"{shown}: has neither a video nor an audio stream")
            self._pts = np.zeros(0, np.int64)        # presentation timestamps, sorted
            self._keyframes = np.zeros(0, np.int64)  # frame indices of keyframes, sorted
            if like is not None:
                self._pts, self._keyframes, self.info = like._pts, like._keyframes, like.info
            else:
                if self._video_stream is not None:
                    self._build_index()
                self.info = self._probe()
        except MediaError:
            self._container.close()
            raise
        except (av.FFmpegError, ValueError, OverflowError, ZeroDivisionError) as exc:
            # FFmpeg's errors, and what PyAV raises for fields a damaged file leaves absurd
            self._container.close()
            raise MediaError(f"{shown}: unreadable ({_av_message(exc)})") from None
        except BaseException:
            self._container.close()
            raise
        self._cursor: Iterator[tuple[int, av.VideoFrame]] | None = None   # a decode frame(n) may go on with
        self._cursor_index = -1

    # ----------------------------------------------------------------- index
    def _build_index(self) -> None:
        stream = self._video_stream
        pts, keys = array("q"), array("b")      # 9 bytes a frame while demuxing
        try:
            for packet in self._container.demux(stream):
                if packet.size == 0:
                    continue
                if packet.pts is None:
                    raise MediaError(f"{self.path}: video packets carry no timestamps; remux it first "
                                     "(e.g. ffmpeg -i IN -c copy OUT.mkv)")
                pts.append(packet.pts)
                keys.append(packet.is_keyframe)
        except av.FFmpegError as exc:
            raise MediaError(f"{self.path}: damaged or truncated ({_av_message(exc)})") from None
        promised = stream.frames
        if promised and len(pts) < promised:
            raise MediaError(f"{self.path}: truncated: the header lists {promised} video frames, "
                             f"only {len(pts)} are present")
        if not pts:
            raise MediaError(f"{self.path}: the video stream has no frames")
        pts_array, keys_array = np.frombuffer(pts, np.int64), np.frombuffer(keys, np.int8)
        order = np.lexsort((keys_array, pts_array))
        self._pts = pts_array[order]                                   # int64, sorted
        keyframes = np.flatnonzero(keys_array[order])
        self._keyframes = keyframes if keyframes.size and keyframes[0] == 0 else np.concatenate(([0], keyframes))
        self._container.seek(0)

    def _probe(self) -> SourceInfo:
        c = self._container
        video = audio = None
        if self._video_stream is not None:
            video = self._probe_video()
        if self._audio_stream is not None:
            audio = self._probe_audio()
        container_s = c.duration / av.time_base if c.duration and c.duration > 0 else 0.0
        duration = container_s or max(video.duration_s if video else 0.0, audio.duration_s if audio else 0.0)
        return SourceInfo(path=str(self.path), container=c.format.name if c.format else "unknown",
                          size_bytes=self.path.stat().st_size, duration_s=duration,
                          video=video, audio=audio)

    def _probe_audio(self) -> AudioInfo:
        s = self._audio_stream
        cc = s.codec_context
        shown = display_path(self.path)
        channels = cc.channels or 0
        if not cc.sample_rate or cc.sample_rate <= 0 or channels <= 0:
            raise MediaError(f"{shown}: the audio stream declares no sample rate or no channels (damaged?)")
        if s.duration is not None and s.time_base is not None and s.duration > 0:
            a_duration = float(s.duration * s.time_base)
        else:
            a_duration = max(self._container.duration or 0, 0) / av.time_base
        layout = _default_layout(cc.layout.name if cc.layout is not None else "", channels)
        declared = s.bit_rate or cc.bit_rate
        return AudioInfo(codec=cc.name, sample_rate=cc.sample_rate, channels=channels, layout=layout,
                         bit_rate_bps=int(declared) if declared and declared > 0 else None,
                         duration_s=a_duration)

    def _probe_video(self) -> VideoInfo:
        s = self._video_stream
        cc = s.codec_context
        shown = display_path(self.path)
        if s.time_base is None or s.time_base <= 0:
            raise MediaError(f"{shown}: the video stream has no time base (damaged?)")
        tb = Fraction(s.time_base)
        first = self._decode_first()
        if not first.width or not first.height or first.format is None or not first.format.components:
            raise MediaError(f"{shown}: the first video frame has no picture (damaged?)")
        steps = np.diff(self._pts)
        vfr = bool(len(steps) > 1 and steps.max() - steps.min() > max(1, int(steps.min()) // 100))
        rate = next((Fraction(r) for r in (s.average_rate, s.guessed_rate) if r and 0 < r <= MAX_FRAME_RATE),
                    Fraction(25))
        if len(self._pts) > 1:
            # The last frame lasts as long as the typical frame before it.
            last_duration = int(np.median(steps))
            duration = float(int(self._pts[-1] - self._pts[0] + last_duration) * tb)
        else:
            duration = float(1 / rate)
        colour = ColourTags(primaries=int(first.color_primaries), transfer=int(first.color_trc),
                            matrix=int(first.colorspace), range=int(first.color_range))
        return VideoInfo(width=first.width, height=first.height, frame_rate=rate, time_base=tb,
                         frame_count=len(self._pts), duration_s=duration, codec=cc.name,
                         pix_fmt=first.format.name, bit_depth=_bit_depth(first.format.name),
                         colour=colour, rotation_deg=int(first.rotation or 0) % 360,
                         variable_frame_rate=vfr)

    def _decode_first(self) -> av.VideoFrame:
        self._container.seek(0)
        try:
            for frame in self._container.decode(self._video_stream):
                return frame
        except av.FFmpegError as exc:
            raise MediaError(f"{display_path(self.path)}: the first video frame cannot be decoded "
                             f"({_av_message(exc)})") from None
        raise MediaError(f"{display_path(self.path)}: the first video frame cannot be decoded")

    # ---------------------------------------------------------------- decode
    @property
    def rgb_format(self) -> str:
        """``rgb24`` for 8-bit sources, ``gbrp16le`` (uint16, returned as R, G, B) for deeper
        ones: swscale's exact path writes packed 16-bit RGB in the wrong byte order."""
        return "rgb24" if self.info.video.bit_depth <= 8 else "gbrp16le"

    def to_rgb(self, frame: av.VideoFrame, size: tuple[int, int] | None = None,
               interpolation: str | None = None) -> np.ndarray:
        """A decoded PyAV frame of this source as R'G'B' (see :class:`VideoFrame`); ``size=(w, h)``
        scales while converting, with swscale's ``interpolation`` (default bilinear; "AREA" for
        large reductions); the conversion is exact (see :func:`conversion_flags`)."""
        v = self.info.video
        matrix, colour_range = v.colour.conversion(v.height)
        width, height = size if size else (None, None)
        return frame.to_ndarray(format=self.rgb_format, width=width, height=height,
                                interpolation=conversion_flags(interpolation),
                                src_colorspace=matrix, src_color_range=colour_range,
                                dst_color_range="JPEG", threads=self._conversion_threads)

    def time_s(self, index: int) -> float:
        """When frame ``index`` is shown, in seconds from the first frame."""
        return float(int(self._pts[index] - self._pts[0]) * self.info.video.time_base)

    def frame_times_s(self) -> np.ndarray:
        """:meth:`time_s` of every frame, float64 (frame_count,), from the index alone (the
        same values, rounded once from the exact ratio, while ticks stay under 2**53)."""
        tb = self.info.video.time_base
        return ((self._pts - self._pts[0]) * tb.numerator).astype(np.float64) / float(tb.denominator)

    def _video_frame(self, index: int, frame: av.VideoFrame, size) -> VideoFrame:
        return VideoFrame(index=index, pts=frame.pts, time_s=self.time_s(index), rgb=self.to_rgb(frame, size),
                          transfer=self.info.video.colour.grading_transfer())

    def _frame_index(self, pts: int) -> int:
        i = int(np.searchsorted(self._pts, pts))
        if i == len(self._pts) or self._pts[i] != pts:
            raise MediaError(f"{self.path}: decoder produced a frame (pts {pts}) that is not in the index")
        return i

    def _decode_from(self, seek_pts: int | None) -> Iterator[tuple[int, av.VideoFrame]]:
        """(frame index, decoded frame) from the keyframe at ``seek_pts`` (None: the start) on;
        nothing is converted here, so frames passed over on the way cost only their decoding."""
        stream = self._video_stream
        if seek_pts is None:
            self._container.seek(0)
        else:
            self._container.seek(seek_pts, stream=stream, backward=True, any_frame=False)
        try:
            for frame in self._container.decode(stream):
                if frame.pts is not None:
                    yield self._frame_index(frame.pts), frame
        except av.FFmpegError as exc:
            raise MediaError(f"{self.path}: decoding failed ({_av_message(exc)})") from None

    def decoded(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, av.VideoFrame]]:
        """(index, PyAV frame) for frames ``start <= index < stop`` in order, unconverted: for
        readers that want several sizes of some frames (convert with :meth:`to_rgb`)."""
        self._require_video()
        stop = self.info.video.frame_count if stop is None else min(stop, self.info.video.frame_count)
        if start >= stop:
            return
        self._cursor = None
        seek = None if start == 0 else int(self._pts[self._keyframe_before(start)])
        expected = start
        for index, frame in self._decode_from(seek):
            if index < expected:
                continue
            if index >= stop:
                break
            if index != expected:
                raise MediaError(f"{self.path}: frame {expected} could not be decoded "
                                 f"(decoder jumped to frame {index})")
            expected += 1
            yield index, frame
        if expected < stop:
            raise MediaError(f"{self.path}: decoding stopped at frame {expected} of {stop}")

    def frames(self, start: int = 0, stop: int | None = None,
               size: tuple[int, int] | None = None) -> Iterator[VideoFrame]:
        """Decode frames ``start <= index < stop`` in order; ``size=(w, h)`` scales while converting."""
        for index, frame in self.decoded(start, stop):
            yield self._video_frame(index, frame, size)

    @property
    def keyframes(self) -> list[int]:
        """Frame indices (presentation order) where decoding can start: keyframes, 0 first."""
        return self._keyframes.tolist()

    def _keyframe_before(self, n: int) -> int:
        return int(self._keyframes[np.searchsorted(self._keyframes, n, side="right") - 1])

    def continues_to(self, n: int) -> bool:
        """True when :meth:`frame` ``(n)`` decodes forward from the last frame it returned, without
        seeking: ``n`` lies ahead of it in the same group of pictures."""
        return self._cursor is not None and self._keyframe_before(n) <= self._cursor_index < n

    def frame(self, n: int, size: tuple[int, int] | None = None) -> VideoFrame:
        """Exactly frame ``n`` (0-based, presentation order)."""
        self._require_video()
        count = self.info.video.frame_count
        if not 0 <= n < count:
            raise MediaError(f"{self.path}: frame {n} out of range (the clip has {count} frames)")
        if self.continues_to(n):
            found = self._advance_cursor(n)
            if found is not None:
                return self._video_frame(n, found, size)
        # Seek to the keyframe before n; with open GOPs that may not be enough, so step back.
        k = int(np.searchsorted(self._keyframes, n, side="right")) - 1
        while k >= 0:
            seek_pts = int(self._pts[self._keyframes[k]])
            self._cursor = self._decode_from(seek_pts if self._keyframes[k] > 0 else None)
            self._cursor_index = -1
            found = self._advance_cursor(n)
            if found is not None:
                return self._video_frame(n, found, size)
            k -= 1
        raise MediaError(f"{self.path}: frame {n} could not be decoded")

    def _advance_cursor(self, n: int) -> av.VideoFrame | None:
        for index, frame in self._cursor:
            self._cursor_index = index
            if index == n:
                return frame
            if index > n:
                break
        self._cursor = None
        self._cursor_index = -1
        return None

    def _require_video(self) -> None:
        if self._video_stream is None:
            raise MediaError(f"{self.path}: has no video stream")

    # ----------------------------------------------------------------- audio
    @property
    def audio_stream(self):
        """The PyAV audio stream (for stream copy), or None."""
        return self._audio_stream

    @property
    def video_stream(self):
        """The PyAV video stream, or None."""
        return self._video_stream

    def audio_blocks(self, block_samples: int = AUDIO_BLOCK_SAMPLES, mono: bool = False) -> Iterator[np.ndarray]:
        """The first audio track, decoded in order, as float32 (channels, ``block_samples``)
        blocks (the last one shorter), -1..1 nominally; nothing when the file has no audio.

        The blocks do not depend on the codec's frame size, so every pass over the track
        (and every machine) cuts it the same way. ``mono``: the mean of the channels, taken
        per decoded frame, for analysis. Reads through a container of its own, so it can run
        beside video decoding; memory stays at a few blocks whatever the track's length.
        Raises MediaError on a decoding failure or on samples that are not finite.
        """
        if self._audio_stream is None:
            return
        info = self.info.audio
        # Interleaved float: PyAV reads at most 8 planes of a planar frame (7.1 has 9 slots).
        resampler = av.AudioResampler(format="flt", layout=info.layout, rate=info.sample_rate)
        pending: list[np.ndarray] = []
        held = 0

        def decoded(container) -> Iterator[np.ndarray]:
            for frame in container.decode(container.streams.audio[0]):
                yield from resampler.resample(frame)
            yield from resampler.resample(None)

        with open_container(self.path) as container:
            try:
                for frame in decoded(container):
                    planar = frame.to_ndarray().reshape(-1, info.channels).T
                    block = planar.mean(axis=0, keepdims=True, dtype=np.float32) if mono else planar
                    if not np.isfinite(block).all():
                        raise MediaError(f"{self.path}: the audio holds samples that are not finite numbers")
                    pending.append(block)
                    held += block.shape[1]
                    while held >= block_samples:
                        joined = np.concatenate(pending, axis=1) if len(pending) > 1 else pending[0]
                        yield np.ascontiguousarray(joined[:, :block_samples], np.float32)
                        rest = joined[:, block_samples:]
                        pending, held = ([rest] if rest.shape[1] else []), rest.shape[1]
            except av.FFmpegError as exc:
                raise MediaError(f"{self.path}: audio decoding failed ({_av_message(exc)})") from None
        if held:
            yield np.ascontiguousarray(np.concatenate(pending, axis=1), np.float32)

    def audio_track(self) -> "AudioTrack | None":
        """The first audio track as an :class:`AudioTrack` (each ``read()`` a fresh pass), or None."""
        if self._audio_stream is None:
            return None
        return AudioTrack(sample_rate=self.info.audio.sample_rate, layout=self.info.audio.layout,
                          channels=self.info.audio.channels, read=self.audio_blocks)

    def read_audio(self, mono: bool = False) -> AudioClip | None:
        """The whole first audio track in memory (None without audio): for short clips and
        tests only, since it grows with the track; the commands stream :meth:`audio_blocks`."""
        if self._audio_stream is None:
            return None
        channels = 1 if mono else self.info.audio.channels
        blocks = list(self.audio_blocks(mono=mono))
        samples = np.concatenate(blocks, axis=1) if blocks else np.zeros((channels, 0), np.float32)
        return AudioClip(samples=samples, sample_rate=self.info.audio.sample_rate,
                         layout="mono" if mono else self.info.audio.layout)

    def audio_packets(self) -> Iterator[av.Packet]:
        """The audio track's packets in file order, for copying it untouched.

        Reads through a container of its own, so it can run beside video decoding.
        """
        if self._audio_stream is None:
            return
        with open_container(self.path) as container:
            stream = container.streams.audio[0]
            try:
                for packet in container.demux(stream):
                    if packet.dts is not None:
                        yield packet
            except av.FFmpegError as exc:
                raise MediaError(f"{self.path}: reading the audio failed ({_av_message(exc)})") from None

    # ------------------------------------------------------------- lifetime
    def close(self) -> None:
        self._cursor = None
        self._container.close()

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_source(path: str | os.PathLike, measure_only: bool = False) -> Source:
    """Open a media file for reading; raises :class:`MediaError` with one clear line on failure.

    ``measure_only=True`` is for readers that only measure the pictures and keep
    another core busy themselves (the mood analysis), never for frames that are graded
    and encoded: the decoder skips the codec's in-loop deblocking filter (slightly
    blockier pictures) and, on two cores, uses slice threads only (together about 40 %
    less CPU), and conversions run on the calling thread.
    """
    return Source(path, measure_only)
