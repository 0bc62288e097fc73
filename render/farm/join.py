"""Join a job's chunks into the final file by remuxing (no re-encoding), with the soundtrack.

Each chunk's encoder starts with an IDR frame and reorders B-frames, so a
chunk's first decoding timestamps lie before its first presentation
timestamp and can collide with the end of the chunk before. The join keeps
every presentation timestamp as rendered (the source's) and gives the joined
stream fresh decoding timestamps that increase strictly across chunk joins
(:func:`decode_timestamps`). The soundtrack is copied from the source, or, when the
job's preset shapes it, copied from the job's soundtrack file (made by its own task
beside the chunks, or here when no task made it: render.farm.soundtrack_task), or
transformed by an ``audio`` function given to the join and encoded.
"""

import bisect
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import av

from render.audio.soundtrack import SoundtrackResult
from render.errors import MediaError, MoodgradeError
from render.farm.job_dir import FarmJob, load_job
from render.farm.soundtrack_task import render_soundtrack
from render.io.output_path import check_output_path
from render.io.source import open_source
from render.job import AudioProcess, open_sink
from render.pipeline import Progress


@dataclass(frozen=True)
class JoinResult:
    output: Path
    frames: int
    duration_s: float
    audio: str          # "copied", "encoded" or "none"
    soundtrack: SoundtrackResult | None = None    # loudness measurements of a mood-shaped soundtrack


def decode_timestamps(pts_in_decode_order: list[int]) -> list[int]:
    """Decoding timestamps for packets whose presentation timestamps are given in decoding order.

    Returns one dts per packet: strictly increasing, each at most its packet's pts, and
    equal to the pts for a stream without reordering. With ``S`` the sorted pts and ``D``
    the stream's reordering delay in frames, packet ``i`` gets ``S[i - D]`` (the first
    ``D`` packets get steps before ``S[0]``). Raises MediaError on a repeated pts.
    """
    ordered = sorted(pts_in_decode_order)
    for a, b in pairwise(ordered):
        if a == b:
            raise MediaError(f"two frames share the presentation timestamp {a}")
    if not ordered:
        return []
    delay = max(0, max(i - bisect.bisect_left(ordered, p) for i, p in enumerate(pts_in_decode_order)))
    step = ordered[1] - ordered[0] if len(ordered) > 1 else 1
    return [ordered[i - delay] if i >= delay else ordered[0] - (delay - i) * step
            for i in range(len(ordered))]


def join_chunks(job_dir: str | os.PathLike, *, overwrite: bool = False,
                audio: AudioProcess | None = None,
                on_progress: Callable[[Progress], None] | None = None) -> JoinResult:
    """Join every chunk of the job in ``job_dir`` into its output file, written atomically.

    ``audio``: a function that transforms the decoded soundtrack once before it is encoded;
    None uses the job's own (the mood-driven soundtrack of its preset), or copies (or
    re-encodes, per the job's settings) the source's soundtrack when the job has none.
    Raises MoodgradeError when a chunk is missing or the chunks do not fit together.
    """
    job = load_job(job_dir)
    missing = job.missing()
    if missing:
        listed = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise MoodgradeError(f"{job.dir}: chunks not rendered yet: {listed} "
                             f"(run 'moodgrade render-chunk {job.dir} N' for each)")
    job.check_input()
    out = check_output_path(job.output_path, inputs=(job.input_path,), overwrite=overwrite)
    # The job's own soundtrack: made by its task beside the chunks, or here if none did.
    soundtrack = render_soundtrack(job.dir) if audio is None else None
    audio_file = job.soundtrack_path if soundtrack is not None else None
    pts = _chunk_pts(job)
    dts = iter(decode_timestamps(pts))
    started = time.monotonic()
    with open_source(job.input_path) as source, av.open(str(job.chunk_path(0))) as first:
        sink, audio_mode = open_sink(source, out, job.settings, audio, video_template=first.streams.video[0],
                                     audio_file=audio_file)
        try:
            written = 0
            for chunk in job.chunks:
                with av.open(str(job.chunk_path(chunk["index"]))) as container:
                    for packet in container.demux(container.streams.video[0]):
                        if packet.size == 0:
                            continue
                        packet.dts = next(dts)
                        sink.write_packet(packet)
                        written += 1
                if on_progress:
                    on_progress(Progress(written, len(pts), time.monotonic() - started, None, None))
            sink.close()
        except BaseException:
            sink.abort()
            raise
    video = source.info.video
    return JoinResult(out, written, written / float(video.frame_rate), audio_mode, soundtrack)


def _chunk_pts(job: FarmJob) -> list[int]:
    """Every chunk's pts in decoding order, after checking that the chunks fit together."""
    reference = None
    pts: list[int] = []
    last = None
    for chunk in job.chunks:
        path = job.chunk_path(chunk["index"])
        try:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                shape = (stream.codec_context.name, stream.width, stream.height, stream.format.name,
                         stream.time_base, bytes(stream.codec_context.extradata or b""))
                chunk_pts = [p.pts for p in container.demux(stream) if p.size]
        except (av.FFmpegError, IndexError) as exc:
            raise MediaError(f"{path}: unreadable chunk ({exc}); render it again with --force") from None
        if reference is None:
            reference = shape
        elif shape != reference:
            raise MediaError(f"{path}: encoded differently from chunk 0 (codec, size, format or "
                             "headers differ); render the job again with one version of moodgrade")
        expected = chunk["stop"] - chunk["start"]
        if len(chunk_pts) != expected or None in chunk_pts:
            raise MediaError(f"{path}: holds {len(chunk_pts)} timed frames, expected {expected}")
        if last is not None and min(chunk_pts) <= last:
            raise MediaError(f"{path}: overlaps the chunk before it")
        last = max(chunk_pts)
        pts.extend(chunk_pts)
    return pts


