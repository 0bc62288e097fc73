"""Render one chunk of a farm job: decode its frames, grade them with the job's recipe, encode.

This is the unit of work of every farm worker (a Ray task, or ``moodgrade
render-chunk JOBDIR INDEX`` under a farm manager). The chunk keeps the source's
timestamps and has no audio; the join adds the soundtrack once.
"""

import dataclasses
import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from render.errors import MoodgradeError
from render.farm.job_dir import FarmJob, load_job, remove_stale_temporaries, start_attempt, update_chunk
from render.grading import make_process
from render.job import render_file
from render.pipeline import ProcessFn, Progress


@dataclass(frozen=True)
class ChunkResult:
    index: int
    frames: int
    seconds: float
    attempt: int
    skipped: bool        # True when the chunk was already done


def _job_process(job: FarmJob) -> ProcessFn:
    """The job's grading function, kept for the next chunk of the same job in this process
    (a Ray worker renders many), so backends and compiled kernels are set up once."""
    return _process_for(str(job.dir.resolve()), job.manifest["recipe"]["sha256"])


@functools.lru_cache(maxsize=2)
def _process_for(job_dir: str, recipe_sha256: str) -> ProcessFn:
    return make_process(load_job(job_dir).recipe())


def render_chunk(job_dir: str | os.PathLike, index: int, *, threads: int = 1, force: bool = False,
                 on_progress: Callable[[Progress], None] | None = None) -> ChunkResult:
    """Render chunk ``index`` of the job in ``job_dir`` and mark it done in the manifest.

    A chunk already done is skipped unless ``force``. ``threads``: frames graded at once
    (1..64). On failure the chunk is marked ``failed`` with the error, and the error is raised.
    """
    job = load_job(job_dir)
    if not 0 <= index < len(job.chunks):
        raise MoodgradeError(f"{job.dir}: has chunks 0 to {len(job.chunks) - 1}, not {index}")
    if job.is_done(index) and not force:
        chunk = job.chunks[index]
        return ChunkResult(index, chunk["frames"], chunk["seconds"], chunk["attempts"], skipped=True)
    job.check_input()
    chunk = job.chunks[index]
    path = job.chunk_path(index)
    remove_stale_temporaries(path)
    attempt = start_attempt(job.dir, index)
    started = time.monotonic()
    try:
        result = render_file(job.input_path, path, dataclasses.replace(job.settings, audio="none"),
                             process=_job_process(job), overwrite=True, workers=threads,
                             frame_range=(chunk["start"], chunk["stop"]), on_progress=on_progress)
        if result.frames != chunk["stop"] - chunk["start"]:
            raise MoodgradeError(f"{path}: rendered {result.frames} frames, expected "
                                 f"{chunk['stop'] - chunk['start']}")
    except BaseException as exc:
        update_chunk(job.dir, index, state="failed", error=str(exc) or type(exc).__name__)
        raise
    seconds = round(time.monotonic() - started, 3)
    update_chunk(job.dir, index, state="done", frames=result.frames, seconds=seconds, error=None)
    return ChunkResult(index, result.frames, seconds, attempt, skipped=False)
