"""One render: a source file through a per-frame process into an output file.

The building block under ``moodgrade grade`` (render.mood_grade), the farm's
chunk renders and its join (render.farm).
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from render.errors import MediaError
from render.io.colour_tags import ColourTags
from render.io import output_path
from render.io.audio_file import AudioEncoding, default_audio_bitrate_bps, encode_audio_file
from render.io.output_path import check_output_path
from render.io.sink import EncodeSettings, MediaSink
from render.io.source import AudioTrack, Source, open_source
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


def render_file(input_path: str | os.PathLike, output_path: str | os.PathLike,
                settings: EncodeSettings = EncodeSettings(), *,
                process: ProcessFn = lambda frame: frame.rgb,
                audio: AudioProcess | None = None,
                overwrite: bool = False, workers: int = 1,
                frame_range: tuple[int, int | None] = (0, None),
                on_progress: Callable[[Progress], None] | None = None) -> RenderResult:
    """Decode ``input_path``, run ``process`` on every frame, encode to ``output_path``.

    ``audio``: None copies (or, when ``settings.audio`` names a codec, re-encodes) the
    soundtrack as it is; a function of the source's AudioTrack that yields the blocks to
    encode transforms it (streamed: see :data:`AudioProcess`).
    ``frame_range``: (first, stop) frame indices, stop None for the end.
    The output appears only when complete; on any error or interrupt nothing is left.
    """
    out = check_output_path(output_path, inputs=(input_path,), overwrite=overwrite)
    with open_source(input_path) as source:
        video = source.info.video
        if video is None:
            raise MediaError(f"{input_path}: has no video stream to grade")
        start, stop = frame_range
        stop = video.frame_count if stop is None else min(stop, video.frame_count)
        sink, audio_mode = open_sink(source, out, settings, audio, whole=(start, stop) == (0, video.frame_count))
        try:
            frames = run_frames(source.frames(start, stop), process,
                                lambda frame, rgb: sink.write(rgb, frame.pts),
                                frames_total=stop - start, workers=workers, on_progress=on_progress)
            sink.close()
        except BaseException:
            sink.abort()
            raise
    return RenderResult(output=out, frames=frames, duration_s=frames / float(video.frame_rate), audio=audio_mode,
                        colour=video.colour)


def open_sink(source: Source, out: Path, settings: EncodeSettings, audio: AudioProcess | None = None, *,
              whole: bool = True, video_template=None, audio_file: Path | None = None) -> tuple[MediaSink, str]:
    """The sink for ``source``'s render into ``out`` and what happens to its sound: "none" (no
    track, dropped, or only part of the clip rendered), "copied", or "encoded" (``audio``
    applied, or re-encoded as ``settings.audio`` asks). An encoded soundtrack is made whole
    first, into a file of its own beside ``out``, which the sink muxes and then removes;
    ``audio_file``: one made already (the farm's), muxed and kept."""
    video = source.info.video
    if source.info.audio is None or settings.audio == "none" or not whole:
        return MediaSink(out, video, settings, video_template=video_template), "none"
    if audio_file is not None:
        return MediaSink(out, video, settings, audio_file=audio_file, keep_audio_file=True,
                         video_template=video_template), "encoded"
    if audio is None and settings.audio == "copy":
        sink = MediaSink(out, video, settings, audio_template=source.audio_stream,
                         audio_packets=source.audio_packets(), video_template=video_template)
        return sink, "copied"
    track = source.audio_track()
    encoding = audio_encoding(settings, track)
    audio_file = output_path.temporary_path(out).with_suffix(".audio.mka")
    try:
        if audio is None:
            encode_audio_file(audio_file, track.read(), encoding)
        else:
            audio(track, encoding, audio_file)
        sink = MediaSink(out, video, settings, audio_file=audio_file, video_template=video_template)
    except BaseException:
        output_path.discard(audio_file)
        raise
    return sink, "encoded"


def audio_encoding(settings: EncodeSettings, track: AudioTrack) -> AudioEncoding:
    """How a changed soundtrack is encoded: ``settings.audio``'s codec ("copy" becomes AAC,
    since the source's packets no longer apply) at the track's rate and layout."""
    codec = "aac" if settings.audio == "copy" else settings.audio
    bitrate = settings.audio_bitrate_bps or default_audio_bitrate_bps(track.channels)
    return AudioEncoding(codec, bitrate, track.sample_rate, track.layout)
