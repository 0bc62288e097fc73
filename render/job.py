"""One render: a source file through a per-frame process into an output file.

The building block under ``moodgrade grade`` (render.mood_grade), the farm's
chunk renders and its join (render.farm).
"""

import dataclasses
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from render.errors import MediaError
from render.io.colour_tags import ColourTags
from render.io.audio_file import AudioEncoding, default_audio_bitrate_bps, encode_audio_file, kept_family
from render.io.output_path import check_output_path, discard, temporary_path
from render.io.sink import EncodeSettings, MediaSink, check_codecs_fit
from render.io.source import AudioInfo, AudioTrack, Source, VideoInfo, open_container, open_source
from render.pipeline import ProcessFn, Progress, run_frames

AudioProcess = Callable[[AudioTrack, AudioEncoding, Path], object]
"""A soundtrack transform: reads the source's track (``read()`` as often as it needs) and
writes it, transformed and encoded as the AudioEncoding says, to the file at the Path
(render.io.audio_file.encode_audio_file), atomically."""


@dataclass(frozen=True)
class RenderResult:
    output: Path
    frames: int
    duration_s: float
    audio: str          # "copied", "encoded" or "none"
    colour: ColourTags  # the source's colour tags (kept in the output)
    audio_codec: str | None = None      # how an encoded soundtrack was encoded ("aac 448 kb/s")


def render_file(input_path: str | os.PathLike, output_path: str | os.PathLike,
                settings: EncodeSettings = EncodeSettings(), *,
                process: ProcessFn = lambda frame: frame.rgb,
                audio: AudioProcess | None = None,
                overwrite: bool = False, workers: int = 1,
                frame_range: tuple[int, int | None] = (0, None),
                on_progress: Callable[[Progress], None] | None = None,
                on_phase: Callable[[str], None] | None = None) -> RenderResult:
    """Decode ``input_path``, run ``process`` on every frame, encode to ``output_path``.

    ``audio``: None copies (or, when ``settings.audio`` names a codec, re-encodes) the
    soundtrack as it is; an :data:`AudioProcess` transforms it, streamed, into a file of
    its own that is made beside the picture and muxed with it at the end.
    ``frame_range``: (first, stop) frame indices, stop None for the end. ``on_phase(name)``
    is told when the picture is done and the soundtrack is still being made.
    The output appears only when complete; on any error or interrupt nothing is left.
    """
    out = check_output_path(output_path, inputs=(input_path,), overwrite=overwrite)
    check_codecs_fit(out, settings)
    with open_source(input_path) as source:
        video = source.info.video
        if video is None:
            raise MediaError(f"{input_path}: has no video stream to grade")
        start, stop = frame_range
        stop = video.frame_count if stop is None else min(stop, video.frame_count)
        whole = (start, stop) == (0, video.frame_count)
        audio_mode = sound_of(source, settings, audio, whole)
        encoding = None
        if audio_mode != "encoded":
            sink = open_sink(source, out, settings, whole=whole)[0]
            frames = _render_frames(source, start, stop, process, sink, workers, on_progress)
        else:
            # The soundtrack is made beside the picture, into a file of its own, by a thread;
            # the picture goes to a video-only file; the two are muxed when both are done.
            video_file = temporary_path(out).with_suffix(".video" + out.suffix)
            audio_file = temporary_path(out).with_suffix(".audio.mka")
            encoding = audio_encoding(settings, source.audio_track(), source.info.audio, out.suffix)
            sound = _Background(lambda stop_event: make_audio_file(source, encoding, audio, audio_file, stop_event))
            try:
                frames = _render_frames(source, start, stop, process, MediaSink(video_file, video, settings),
                                        workers, on_progress)
                source.close()      # the picture is done: its demuxer's index goes (36 MB for 2 h of MP4)
                if on_phase is not None and sound.running:
                    on_phase("finishing the soundtrack")
                sound.result()
                remux(video_file, audio_file, out, video, settings)
            finally:
                sound.stop()
                discard(video_file)
                discard(audio_file)
    return RenderResult(output=out, frames=frames, duration_s=frames / float(video.frame_rate), audio=audio_mode,
                        colour=video.colour, audio_codec=encoding.describe() if encoding else None)


def _render_frames(source: Source, start: int, stop: int, process: ProcessFn, sink: MediaSink, workers: int,
                   on_progress) -> int:
    """Frames ``start <= i < stop`` through ``process`` into ``sink``, closed when done
    (aborted on any error); the number of frames written."""
    try:
        frames = run_frames(source.frames(start, stop), process, lambda frame, rgb: sink.write(rgb, frame.pts),
                            frames_total=stop - start, workers=workers, on_progress=on_progress)
        sink.close()
    except BaseException:
        sink.abort()
        raise
    return frames


class _Background:
    """``work(stop_event)`` in a daemon thread: :meth:`result` waits for it and raises what it
    raised; :meth:`stop` sets the event (the work ends at its next block) and waits."""

    def __init__(self, work: Callable[[threading.Event], object]):
        self._stop, self._error = threading.Event(), None
        self._thread = threading.Thread(target=self._run, args=(work,), name="moodgrade-audio", daemon=True)
        self._thread.start()

    def _run(self, work) -> None:
        try:
            work(self._stop)
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the result
            self._error = exc

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def result(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class _Stopped(Exception):
    """The render this soundtrack was for has ended."""


def sound_of(source: Source, settings: EncodeSettings, audio: AudioProcess | None, whole: bool) -> str:
    """What a render does with ``source``'s sound: "none" (no track, dropped, or only part of
    the clip rendered), "copied", or "encoded" (``audio`` applied, or re-encoded as
    ``settings.audio`` asks)."""
    if source.info.audio is None or settings.audio == "none" or not whole:
        return "none"
    return "copied" if audio is None and settings.audio == "copy" else "encoded"


def make_audio_file(source: Source, encoding: AudioEncoding, audio: AudioProcess | None, path: Path,
                    stop_event: threading.Event | None = None) -> None:
    """``source``'s soundtrack, transformed by ``audio`` (None: as it is), encoded with
    ``encoding`` into the audio-only file ``path``; once ``stop_event`` is set, the next
    block read ends the work (nothing is left at ``path``)."""
    track = source.audio_track()
    if stop_event is not None:
        track = dataclasses.replace(track, read=lambda: _until(stop_event, source.audio_track().read()))
    if audio is None:
        encode_audio_file(path, track.read(), encoding)
    else:
        audio(track, encoding, path)


def _until(stop_event: threading.Event, blocks):
    for block in blocks:
        if stop_event.is_set():
            raise _Stopped()
        yield block


def remux(video_file: Path, audio_file: Path, out: Path, video: VideoInfo, settings: EncodeSettings) -> None:
    """The encoded picture of ``video_file`` and the sound of ``audio_file`` into ``out``,
    interleaved, without re-encoding (atomically)."""
    with open_container(video_file) as container:
        stream = container.streams.video[0]
        sink = MediaSink(out, video, settings, video_template=stream, audio_file=audio_file, keep_audio_file=True)
        try:
            for packet in container.demux(stream):
                if packet.size:
                    sink.write_packet(packet)
            sink.close()
        except BaseException:
            sink.abort()
            raise


def open_sink(source: Source, out: Path, settings: EncodeSettings, audio: AudioProcess | None = None, *,
              whole: bool = True, video_template=None, audio_file: Path | None = None) -> tuple[MediaSink, str]:
    """The sink for ``source``'s render into ``out`` and what happens to its sound (see
    :func:`sound_of`). An encoded soundtrack is made whole first, into a file of its own
    beside ``out``, which the sink muxes and then removes; ``audio_file``: one made already
    (the farm's), muxed and kept."""
    video = source.info.video
    mode = sound_of(source, settings, audio, whole)
    if mode == "none":
        return MediaSink(out, video, settings, video_template=video_template), "none"
    if audio_file is not None:
        return MediaSink(out, video, settings, audio_file=audio_file, keep_audio_file=True,
                         video_template=video_template), "encoded"
    if mode == "copied":
        sink = MediaSink(out, video, settings, audio_template=source.audio_stream,
                         audio_packets=source.audio_packets(), video_template=video_template)
        return sink, "copied"
    made = temporary_path(out).with_suffix(".audio.mka")
    try:
        make_audio_file(source, audio_encoding(settings, source.audio_track(), source.info.audio, out.suffix),
                        audio, made)
        sink = MediaSink(out, video, settings, audio_file=made, video_template=video_template)
    except BaseException:
        discard(made)
        raise
    return sink, "encoded"


def audio_encoding(settings: EncodeSettings, track: AudioTrack, source: AudioInfo, container: str) -> AudioEncoding:
    """How a changed soundtrack is encoded into a ``container`` (suffix) file: ``settings.audio``'s
    codec, or for "copy" (the source's packets no longer apply) the source's codec family
    (:func:`render.io.audio_file.kept_family`), at the track's rate and layout."""
    codec, bitrate = settings.audio, None
    if codec == "copy":
        codec, bitrate = kept_family(source, container)
    bitrate = settings.audio_bitrate_bps or bitrate or default_audio_bitrate_bps(track.channels)
    return AudioEncoding(codec, bitrate, track.sample_rate, track.layout)
