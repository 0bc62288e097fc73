"""Plan a farm job: probe the input, cut it at keyframes, decide the grade once, write the job directory.

Planning the same request again (same input, output, settings, grade options
and split) reopens the existing job directory as it is, finished chunks
included, without analysing again: that is how a rerun resumes.
"""

import dataclasses
import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from render.errors import MediaError
from render.farm.analysis import DEFAULT_RANGE_SECONDS, analysis_ranges, ray_measure
from render.farm.chunks import plan_chunks
from render.farm.grade_plan import plan_grade
from render.farm.job_dir import FarmJob, create_job, find_job, job_request
from render.io.output_path import check_output_path
from render.io.sink import EncodeSettings, check_codecs_fit
from render.io.source import open_source
from render.mood_grade import GradeOptions


def default_job_dir(output_path: str | os.PathLike) -> Path:
    """``OUT.farm`` beside the output file."""
    out = Path(output_path)
    return out.with_name(out.name + ".farm")


def plan_job(input_path: str | os.PathLike, output_path: str | os.PathLike,
             settings: EncodeSettings = EncodeSettings(), options: GradeOptions = GradeOptions(), *,
             job_dir: str | os.PathLike | None = None, chunks: int | None = None,
             chunk_seconds: float | None = None, overwrite: bool = False,
             on_analysis: Callable[[int, int | None], None] | None = None,
             on_ray: bool = False, analysis_range_s: float = DEFAULT_RANGE_SECONDS) -> FarmJob:
    """The job that grades ``input_path`` into ``output_path`` with ``options``, in chunks cut at keyframes.

    ``job_dir`` defaults to :func:`default_job_dir`. ``on_analysis(done, expected)``
    follows the mood analysis when it runs. ``on_ray``: the analysis runs as tasks on the
    Ray instance this process is connected to, over the chunks joined into ranges of at
    least ``analysis_range_s`` seconds (see :mod:`render.farm.analysis`); otherwise here.
    Raises MoodgradeError on bad input or options, an unusable output path, or a job
    directory that holds another job.
    """
    out = check_output_path(output_path, inputs=(input_path,), overwrite=overwrite)
    check_codecs_fit(out, settings)
    if not out.suffix:
        raise MediaError(f"{out}: give the output a file extension (.mp4, .mov, .mkv) to choose its container")
    if not options.audio:
        settings = dataclasses.replace(settings, audio="none")
    with open_source(input_path) as source:
        video = source.info.video
        if video is None:
            raise MediaError(f"{input_path}: has no video stream to grade")
        has_audio = source.info.audio is not None
        spans = plan_chunks(source.keyframes, video.frame_count, Fraction(video.frame_rate),
                            chunks=chunks, chunk_seconds=chunk_seconds)
    directory = Path(job_dir) if job_dir is not None else default_job_dir(out)
    request = job_request(input_path, out, settings, dataclasses.asdict(options),
                          {"chunks": chunks, "chunk_seconds": chunk_seconds})
    job = find_job(directory, request)
    if job is not None:
        return job
    measure = ray_measure(analysis_ranges(spans, Fraction(video.frame_rate), analysis_range_s)) if on_ray else None
    grade = plan_grade(input_path, options, settings, has_audio, on_analysis, measure)
    return create_job(directory, request, recipe=grade.recipe, spans=spans, timeline=grade.timeline,
                      soundtrack=grade.soundtrack,
                      video={"frame_count": video.frame_count, "frame_rate": str(video.frame_rate),
                             "time_base": str(video.time_base), "duration_s": round(video.duration_s, 6)})
