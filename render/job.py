"""One render: a source file through a per-frame process into an output file.

The building block under ``moodgrade grade`` (render.mood_grade), the farm's
chunk renders and its join (render.farm).
"""

import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from render.errors import MediaError
from render.io.colour_tags import ColourTags
from render.io.output_path import check_output_path
from render.io.sink import EncodeSettings, MediaSink
from render.io.source import AUDIO_BLOCK_SAMPLES, AudioTrack, Source, open_source
from render.pipeline import ProcessFn, Progress, run_frames

AudioProcess = Callable[[AudioTrack], Iterator[np.ndarray]]
"""A soundtrack transform: from the source's track (``read()`` it as often as it needs)
to the float32 (channels, n) blocks to encode, in order, as many samples as the track."""
_AUDIO_QUEUE_BYTES = 16 << 20      # processed audio held ahead of the encoder


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


def open_sink(source: Source, out: Path, settings: EncodeSettings, audio=None, *, whole: bool = True,
              video_template=None) -> tuple[MediaSink, str]:
    """The sink for ``source``'s render into ``out`` and what happens to its sound: "none" (no
    track, dropped, or only part of the clip rendered), "copied", or "encoded" (``audio`` applied)."""
    video = source.info.video
    if source.info.audio is None or settings.audio == "none" or not whole:
        return MediaSink(out, video, settings, video_template=video_template), "none"
    if audio is None and settings.audio == "copy":
        sink = MediaSink(out, video, settings, audio_template=source.audio_stream,
                         audio_packets=source.audio_packets(), video_template=video_template)
        return sink, "copied"
    encode = settings if settings.audio != "copy" else replace(settings, audio="aac")
    track = source.audio_track()
    blocks = in_background(lambda: audio(track) if audio is not None else track.read(),
                           _AUDIO_QUEUE_BYTES // (track.channels * AUDIO_BLOCK_SAMPLES * 4) + 1)
    sink = MediaSink(out, video, encode, audio_blocks=blocks, video_template=video_template,
                     audio_format=(track.sample_rate, track.layout))
    return sink, "encoded"


def in_background(blocks: Callable[[], Iterator], max_items: int) -> Iterator:
    """The items of ``blocks()``, produced by a daemon thread at most ``max_items`` ahead of
    the consumer (an interrupted render does not wait for it); the producer's exception is
    raised to the consumer in its place, and a consumer that stops early stops the producer."""
    ready: queue.Queue = queue.Queue(maxsize=max(1, max_items))
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in blocks():
                if not put(item):
                    return
            put(done)
        except BaseException as exc:  # noqa: BLE001 - delivered to the consumer
            put(_Failure(exc))

    def consume() -> Iterator:
        threading.Thread(target=produce, name="moodgrade-audio", daemon=True).start()
        try:
            while (item := ready.get()) is not done:
                if isinstance(item, _Failure):
                    raise item.exc
                yield item
        finally:
            stop.set()

    return consume()


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc
