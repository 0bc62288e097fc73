"""``moodgrade farm render|plan``, ``moodgrade render-chunk`` and ``moodgrade join``: one job on many machines.

``farm render`` runs a whole job on Ray. ``farm plan`` only writes the job
directory, for farm managers that run command lines (Deadline, OpenCue,
Flamenco): they run ``render-chunk JOBDIR N`` for every chunk, then
``join JOBDIR``. See docs/farm.md.
"""

import click

from render.cli import cli
from render.cli.grade import (encode_options, encode_settings, grade_options, look_options, sound_options,
                              stack_options)
from render.cli.reporting import Reporter, make_reporter, reporter_options
from render.farm.chunk_render import render_chunk
from render.farm.job_dir import remove_job
from render.farm.join import join_chunks
from render.farm.plan import plan_job


def _job_options(command):
    """What ``farm render`` and ``farm plan`` both take: IN, OUT, the grade, the encoding, the split."""
    return stack_options(command, [
        click.argument("input_path", metavar="IN", type=click.Path()),
        click.argument("output_path", metavar="OUT", type=click.Path()),
        look_options, sound_options, encode_options,
        click.option("--chunks", type=click.IntRange(1), default=None,
                     help="Split into about N chunks (cut at the nearest keyframes)."),
        click.option("--chunk-seconds", type=click.FloatRange(0, min_open=True), default=None,
                     help="Split into chunks of about S seconds [default: 10]."),
        click.option("--job-dir", type=click.Path(file_okay=False), default=None,
                     help="Job directory, on storage every worker sees [default: OUT.farm]."),
    ])


def _chunk_reporter(reporter: Reporter):
    """Shows chunk events: JSON lines, or a line per finished, skipped or retried chunk."""
    def show(event) -> None:
        if reporter.mode == "json":
            reporter.emit("chunk", index=event.index, state=event.state, frames_done=event.frames_done,
                          frames_total=event.frames_total, attempt=event.attempt, error=event.error)
        elif event.state in ("retry", "failed"):
            reporter.warning(f"chunk {event.index} attempt {event.attempt} failed: {event.error}")
        elif event.state in ("done", "skipped") and reporter.mode == "bar":
            click.echo(f"chunk {event.index}: {event.state} ({event.frames_total} frames)", err=True)
    return show


def _plan(reporter: Reporter, input_path, output_path, overwrite, chunks, chunk_seconds, job_dir, params,
          on_ray: bool = False):
    """Plan (or reopen) the job for the command's options: the one analysis pass happens here
    (``on_ray``: as Ray tasks)."""
    options = grade_options(params)
    settings = encode_settings(**params)
    with reporter.task("planning"):
        return plan_job(input_path, output_path, settings, options, job_dir=job_dir, chunks=chunks,
                        chunk_seconds=chunk_seconds, overwrite=overwrite, on_analysis=reporter.analysis_progress,
                        on_ray=on_ray)


@cli.group()
def farm() -> None:
    """Render one job across many machines (Ray), or plan one for a farm manager."""


@farm.command("render")
@_job_options
@click.option("--address", default=None,
              help="Ray cluster to use: 'auto' or HOST:PORT [default: start a local Ray instance on 127.0.0.1].")
@click.option("--ray-token-file", type=click.Path(dir_okay=False), default=None,
              help="File holding the cluster's token (`ray get-auth-token` on the head node) "
                   "[default: RAY_AUTH_TOKEN_PATH or RAY_AUTH_TOKEN].")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Chunks rendered at once [default: as many as the cluster's CPUs or GPUs allow].")
@click.option("--threads", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Frames graded at once inside each chunk.")
@click.option("--max-attempts", type=click.IntRange(1, 100), default=3, show_default=True,
              help="Times a failing chunk is submitted before the job fails.")
@click.option("--keep-job-dir", is_flag=True, help="Keep the job directory after the output is written.")
@reporter_options
def farm_render(input_path, output_path, overwrite, chunks, chunk_seconds, job_dir, address, ray_token_file,
                workers, threads, max_attempts, keep_job_dir, quiet, log_json, **params) -> None:
    """Grade IN into OUT on Ray: split at keyframes, render chunks in parallel, join without re-encoding.

    Rerunning the same command resumes an interrupted job: finished chunks are kept.
    """
    from render.farm.ray_cluster import ray_session
    from render.farm.ray_driver import run_farm

    reporter = make_reporter(quiet, log_json)
    # Ray is reached (and the address checked) before anything is analysed or written.
    with ray_session(address, workers, ray_token_file):
        job = _plan(reporter, input_path, output_path, overwrite, chunks, chunk_seconds, job_dir, params,
                    on_ray=True)
        with reporter.task(f"farm ({len(job.chunks)} chunks)"):
            result = run_farm(job, workers=workers, threads=threads, max_attempts=max_attempts,
                              overwrite=overwrite, on_progress=reporter.progress,
                              on_chunk=_chunk_reporter(reporter))
    if not keep_job_dir:
        remove_job(job)
    _report_join(reporter, result.join, f"; {result.chunks_rendered} chunks rendered, "
                 f"{result.chunks_skipped} resumed, {result.seconds:.1f} s",
                 chunks_rendered=result.chunks_rendered, chunks_skipped=result.chunks_skipped,
                 seconds=round(result.seconds, 3))


def _report_join(reporter: Reporter, j, extra_text: str = "", **extra_fields) -> None:
    text = f"wrote {j.output} ({j.frames} frames, {j.duration_s:.2f} s, audio {j.audio}"
    fields = dict(output=str(j.output), frames=j.frames, duration_s=round(j.duration_s, 3), audio=j.audio)
    if j.soundtrack is not None and j.soundtrack.measured_lufs is not None:
        text += f", {j.soundtrack.measured_lufs:.1f} LUFS, {j.soundtrack.measured_true_peak_dbtp:.1f} dBTP"
        fields.update(loudness_lufs=j.soundtrack.measured_lufs, true_peak_dbtp=j.soundtrack.measured_true_peak_dbtp)
    reporter.result(text + extra_text + ")", **fields, **extra_fields)


@farm.command("plan")
@_job_options
@reporter_options
def farm_plan(input_path, output_path, overwrite, chunks, chunk_seconds, job_dir, quiet, log_json,
              **params) -> None:
    """Analyse IN once, write the job directory for IN -> OUT and list its chunks (for render-chunk and join)."""
    reporter = make_reporter(quiet, log_json)
    job = _plan(reporter, input_path, output_path, overwrite, chunks, chunk_seconds, job_dir, params)
    listing = [{"index": c["index"], "start": c["start"], "stop": c["stop"], "state": c["state"]}
               for c in job.chunks]
    lines = "\n".join(f"chunk {c['index']}: frames {c['start']}-{c['stop'] - 1} ({c['state']})" for c in listing)
    reporter.result(f"job {job.dir}: {len(listing)} chunks\n{lines}", job_dir=str(job.dir), chunks=listing)


@cli.command("render-chunk")
@click.argument("job_dir", metavar="JOBDIR", type=click.Path())
@click.argument("index", metavar="INDEX", type=click.IntRange(0))
@click.option("--threads", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Frames graded at once.")
@click.option("--force", is_flag=True, help="Render the chunk again even if it is done.")
@reporter_options
def render_chunk_command(job_dir, index, threads, force, quiet, log_json) -> None:
    """Render chunk INDEX of the farm job in JOBDIR (a frame range of the job)."""
    reporter = make_reporter(quiet, log_json)
    with reporter.task(f"chunk {index}"):
        result = render_chunk(job_dir, index, threads=threads, force=force, on_progress=reporter.progress)
    state = "already done" if result.skipped else f"rendered in {result.seconds:.1f} s"
    reporter.result(f"chunk {index}: {result.frames} frames, {state}", index=index, frames=result.frames,
                    skipped=result.skipped, attempt=result.attempt, seconds=result.seconds)


@cli.command("join")
@click.argument("job_dir", metavar="JOBDIR", type=click.Path())
@click.option("--overwrite", is_flag=True, help="Replace the job's output file if it exists.")
@reporter_options
def join_command(job_dir, overwrite, quiet, log_json) -> None:
    """Join the chunks of the farm job in JOBDIR into its output file, without re-encoding."""
    reporter = make_reporter(quiet, log_json)
    with reporter.task("joining"):
        result = join_chunks(job_dir, overwrite=overwrite, on_progress=reporter.progress)
    _report_join(reporter, result)
