"""The mood analysis of a farm job as Ray tasks: the picture in ranges, the sound beside them.

One Ray task measures the picture of each range of frames (the job's chunks,
joined into ranges of at least ``min_range_s``: each range decodes from its
keyframe and re-measures the two seconds its cut scores look back to, so very
short ranges waste work), and one task measures the whole soundtrack at the
same time. The driver merges the ranges' compact measurements (a few floats a
frame, boxes and expressions of faces) and decides once: cuts, face tracks,
fusion (:func:`render.emotion.analyze.timeline_of`). The result
is the timeline that :func:`render.emotion.analyze.analyze_file` gives on one
machine, array for array.
"""

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from render.emotion.analyze import Measure, Measurements, Progress, measure_picture, measure_sound, merge_pictures
from render.errors import MoodgradeError
from render.farm.chunks import ChunkSpan

DEFAULT_RANGE_SECONDS = 60.0
_POLL_S = 0.25


def analysis_ranges(spans: Sequence[ChunkSpan], frame_rate: Fraction,
                    min_range_s: float = DEFAULT_RANGE_SECONDS) -> list[tuple[int, int]]:
    """Consecutive chunk spans joined into ranges ``(start, stop)`` of at least ``min_range_s``
    seconds (the last may be shorter; 0 keeps every chunk its own range). Every range
    starts where a chunk does, at a keyframe; together they cover the spans once."""
    ranges: list[tuple[int, int]] = []
    min_frames = min_range_s * float(frame_rate)
    for span in spans:
        if ranges and ranges[-1][1] - ranges[-1][0] < min_frames:
            ranges[-1] = (ranges[-1][0], span.stop)
        else:
            ranges.append((span.start, span.stop))
    return ranges


def ray_measure(ranges: Sequence[tuple[int, int]]) -> Measure:
    """A ``measure`` for :func:`render.emotion.analyze.analyze_file` that runs on the Ray
    instance this process is connected to: one task per picture range (one CPU each) and one
    for the sound. ``progress(done, total)`` counts frames of finished ranges.
    Raises MoodgradeError, naming the range, when a task fails."""
    from render.farm.ray_cluster import RAY_TASK_RETRIES, freeing, import_ray

    ray = import_ray()

    def measure(path: Path, sample_fps: float, progress: Progress | None = None) -> Measurements:
        path = str(Path(path).resolve())
        picture_task = ray.remote(freeing(measure_picture)).options(num_cpus=1, max_retries=RAY_TASK_RETRIES)
        sound_task = ray.remote(freeing(measure_sound)).options(num_cpus=1, max_retries=RAY_TASK_RETRIES)
        sound = sound_task.remote(path)
        running = {picture_task.remote(path, start, stop, sample_fps): (start, stop) for start, stop in ranges}
        total = sum(stop - start for start, stop in ranges)
        parts, done = [], 0
        try:
            while running:
                ready, _ = ray.wait(list(running), num_returns=1, timeout=_POLL_S)
                for ref in ready:
                    start, stop = running.pop(ref)
                    parts.append(_result(ray, ref, f"the analysis of frames {start}-{stop - 1}"))
                    done += stop - start
                    if progress:
                        progress(done, total)
            measured = _result(ray, sound, "the analysis of the soundtrack")
        except BaseException:
            for ref in [*running, sound]:
                ray.cancel(ref, force=True)
            raise
        measured.picture = merge_pictures(parts)
        return measured

    return measure


def _result(ray, ref, what: str):
    """The task's result; its failure as one line (a MoodgradeError of the task as it is)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:         # the task raised, or its worker died past its retries
        if isinstance(getattr(exc, "cause", None), MoodgradeError):
            raise exc.cause from None
        lines = [line for line in str(exc).strip().splitlines() if line.strip()]
        raise MoodgradeError(f"{what} failed: {lines[-1] if lines else type(exc).__name__}") from None
