"""Plan a farm job: probe the input, cut it at keyframes, write (or reopen) the job directory."""

import os
from fractions import Fraction
from pathlib import Path

from render.errors import MediaError
from render.farm.chunks import plan_chunks
from render.farm.job_dir import FarmJob, create_or_resume
from render.grading import GradeRecipe
from render.io.output_path import check_output_path
from render.io.sink import EncodeSettings
from render.io.source import open_source


def default_job_dir(output_path: str | os.PathLike) -> Path:
    """``OUT.farm`` beside the output file."""
    out = Path(output_path)
    return out.with_name(out.name + ".farm")


def plan_job(input_path: str | os.PathLike, output_path: str | os.PathLike,
             settings: EncodeSettings = EncodeSettings(), recipe: GradeRecipe = GradeRecipe(), *,
             job_dir: str | os.PathLike | None = None, chunks: int | None = None,
             chunk_seconds: float | None = None, overwrite: bool = False) -> FarmJob:
    """The job that renders ``input_path`` to ``output_path``, split into chunks at keyframes.

    An existing job directory for the same input, output, settings, recipe and split is
    reopened as it is (its finished chunks are kept), which is how a rerun resumes.
    ``job_dir`` defaults to :func:`default_job_dir`. Raises MoodgradeError on bad input,
    an unusable output path, or a job directory that holds another job.
    """
    out = check_output_path(output_path, inputs=(input_path,), overwrite=overwrite)
    if not out.suffix:
        raise MediaError(f"{out}: give the output a file extension (.mp4, .mov, .mkv) to choose its container")
    with open_source(input_path) as source:
        video = source.info.video
        if video is None:
            raise MediaError(f"{input_path}: has no video stream to grade")
        # Source keeps its keyframe list private; proposed: a public `Source.keyframes` property.
        spans = plan_chunks(source._keyframes, video.frame_count, Fraction(video.frame_rate),
                            chunks=chunks, chunk_seconds=chunk_seconds)
    return create_or_resume(
        job_dir if job_dir is not None else default_job_dir(out),
        input_path=input_path, output_path=out, settings=settings, recipe=recipe, spans=spans,
        video={"frame_count": video.frame_count, "frame_rate": str(video.frame_rate),
               "time_base": str(video.time_base), "duration_s": round(video.duration_s, 6)},
        split={"chunks": chunks, "chunk_seconds": chunk_seconds})
