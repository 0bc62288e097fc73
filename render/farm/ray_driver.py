"""Run a planned farm job on Ray: one Ray task per missing chunk, then the join.

Works on a local Ray instance with no cluster configured (started here and
shut down at the end) or on a running cluster (``address="auto"`` or
``HOST:PORT``). On a cluster every node needs moodgrade installed and the input,
the job directory and the output on a shared file system.

Failures are retried at two levels, both bounded: Ray re-runs a task whose
worker process died (:data:`RAY_TASK_RETRIES`), and the driver resubmits a
chunk whose task failed, up to ``max_attempts`` submissions. Every execution
counts as an attempt in the manifest.
"""

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from render.errors import MoodgradeError
from render.farm.chunk_render import ChunkResult, render_chunk
from render.farm.job_dir import FarmJob
from render.farm.ray_cluster import RAY_TASK_RETRIES, freeing, ray_session
from render.farm.join import JoinResult, join_chunks
from render.farm.soundtrack_task import render_soundtrack
from render.job import AudioProcess
from render.pipeline import Progress, progress_at

_POLL_S = 0.25
_REPORT_INTERVAL_S = 0.25


@dataclass(frozen=True)
class ChunkEvent:
    """A chunk changed state: "skipped" (done before), "running", "done", "retry" or "failed"."""

    index: int
    state: str
    frames_done: int
    frames_total: int
    attempt: int = 0
    error: str | None = None


@dataclass(frozen=True)
class FarmResult:
    join: JoinResult
    chunks_rendered: int
    chunks_skipped: int
    seconds: float


def run_farm(job: FarmJob, *, address: str | None = None, workers: int | None = None,
             token_file: str | os.PathLike | None = None, threads: int = 1, max_attempts: int = 3,
             overwrite: bool = False,
             audio: AudioProcess | None = None,
             on_progress: Callable[[Progress], None] | None = None,
             on_chunk: Callable[[ChunkEvent], None] | None = None) -> FarmResult:
    """Render every missing chunk of ``job`` on Ray, then join them into the job's output.

    ``address``: None starts a local Ray instance (unless this process already runs one);
    "auto" or "HOST:PORT" joins a cluster (see :func:`render.farm.ray_cluster.ray_session`;
    ``token_file`` holds the cluster's token). ``workers``: chunks rendered at once (None: as
    many as the cluster's CPUs, or GPUs when it has any, allow). ``threads``: frames graded
    at once inside a chunk. ``max_attempts``: submissions per chunk before the job fails.
    ``audio`` replaces the job's own sound processing at the join. Raises MoodgradeError when a chunk keeps failing.
    """
    if max_attempts < 1:
        raise MoodgradeError(f"max attempts must be at least 1, not {max_attempts}")
    started = time.monotonic()
    emit = on_chunk or (lambda event: None)
    for chunk in job.chunks:
        if job.is_done(chunk["index"]):
            frames = chunk["stop"] - chunk["start"]
            emit(ChunkEvent(chunk["index"], "skipped", frames, frames, chunk["attempts"]))
    todo = job.missing()
    if todo:
        with ray_session(address, workers, token_file) as ray:
            _render(ray, job, todo, workers, threads, max_attempts, on_progress, emit)
    result = join_chunks(job.dir, overwrite=overwrite, audio=audio)
    return FarmResult(result, len(todo), len(job.chunks) - len(todo), time.monotonic() - started)


class _ProgressBoard:
    """A Ray actor that holds frames done per chunk, reported by the workers."""

    def __init__(self):
        self.frames: dict[int, int] = {}

    def report(self, index: int, frames_done: int) -> None:
        self.frames[index] = frames_done

    def snapshot(self) -> dict[int, int]:
        return dict(self.frames)


def _chunk_task(job_dir: str, index: int, threads: int, board) -> ChunkResult:
    """The body of one Ray task: render one chunk, reporting progress to ``board``."""
    last = [0.0]

    def report(p: Progress) -> None:
        now = time.monotonic()
        if now - last[0] >= _REPORT_INTERVAL_S or p.frames_done == p.frames_total:
            last[0] = now
            board.report.remote(index, p.frames_done)

    return render_chunk(job_dir, index, threads=threads, on_progress=report)


def _render(ray, job: FarmJob, todo: list[int], workers, threads, max_attempts, on_progress, emit) -> None:
    sizes = {c["index"]: c["stop"] - c["start"] for c in job.chunks}
    finished = {i: sizes[i] for i in sizes if i not in todo}
    done_before = sum(finished.values())
    use_gpu = ray.cluster_resources().get("GPU", 0) > 0
    task = ray.remote(freeing(_chunk_task)).options(num_cpus=0 if use_gpu else 1, num_gpus=1 if use_gpu else 0,
                                                    max_retries=RAY_TASK_RETRIES, retry_exceptions=False)
    board = ray.remote(_ProgressBoard).options(num_cpus=0).remote()
    job_dir = str(job.dir.resolve())
    # The soundtrack, as a task of its own beside the chunks (its failure is left to the join,
    # which makes the soundtrack itself when no file is there, and reports what goes wrong).
    sound = None
    if job.manifest.get("soundtrack") and not job.soundtrack_path.exists():
        sound = ray.remote(freeing(render_soundtrack)).options(num_cpus=1, max_retries=RAY_TASK_RETRIES,
                                                               retry_exceptions=False).remote(job_dir)
    limit = workers or len(todo)
    queue = list(todo)
    submissions = {i: 0 for i in todo}
    running: dict = {}
    started = time.monotonic()
    shown: dict[int, int] = {}
    try:
        while queue or running:
            while queue and len(running) < limit:
                i = queue.pop(0)
                submissions[i] += 1
                running[task.remote(job_dir, i, threads, board)] = i
            ready, _ = ray.wait(list(running), num_returns=1, timeout=_POLL_S)
            for ref in ready:
                i = running.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - any task failure is retried, bounded
                    message = _one_line(exc)
                    if submissions[i] >= max_attempts:
                        emit(ChunkEvent(i, "failed", 0, sizes[i], submissions[i], message))
                        raise MoodgradeError(f"chunk {i} failed {submissions[i]} times; last error: "
                                             f"{message}") from None
                    emit(ChunkEvent(i, "retry", 0, sizes[i], submissions[i], message))
                    queue.append(i)
                    continue
                finished[i] = sizes[i]
                emit(ChunkEvent(i, "done", sizes[i], sizes[i], result.attempt))
            partial = {i: n for i, n in ray.get(board.snapshot.remote()).items() if i in running.values()}
            for i, n in partial.items():
                if shown.get(i) != n:
                    shown[i] = n
                    emit(ChunkEvent(i, "running", n, sizes[i]))
            if on_progress:
                done = sum(finished.values()) + sum(partial.values())
                on_progress(_overall(done, done_before, job.frame_count, time.monotonic() - started))
        if sound is not None:
            ray.wait([sound])
    except BaseException:
        for ref in [*running, *([sound] if sound is not None else [])]:
            ray.cancel(ref, force=True)
        raise


def _overall(done: int, done_before: int, total: int, elapsed_s: float) -> Progress:
    """The job's progress; speed and ETA count only the frames rendered in this run."""
    this_run = progress_at(done - done_before, total - done_before, elapsed_s)
    return dataclasses.replace(this_run, frames_done=done, frames_total=total)


def _one_line(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None) or exc
    lines = [line for line in str(cause).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(cause).__name__
