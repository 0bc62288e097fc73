"""The farm's driver time: what ``farm render`` does outside Ray tasks, against the whole job.

Runs the steps of ``moodgrade farm render`` (the CLI's order: Ray reached first,
then the plan with the mood analysis as Ray tasks, then the chunks, then the
join) on a local Ray instance with ``--workers`` workers, over a synthetic
programme (render/io/synthetic.py: 160x90 at 25 fps, a keyframe a second,
stereo AAC) with a preset and ``--mood auto`` (fresh analysis cache every run),
libx264, 10 s chunks. Prints per phase its wall time, share of the job and
whether the driver or tasks did it; the driver's own time is the serial part.

The farm's measure is wrapped (here only) to time the analysis tasks inside the
planning; the chunk phase ends when the last chunk is done, the join follows.
Afterwards the serial pieces are timed one by one on the same programme: the
input's index (open_source), the decisions over the whole clip's measurements
(cuts, faces, fusion: ``timeline_of``), and the whole-file sound task. With
``--hd``, per-frame costs at 1080p (bigbuckbunny, 132 frames) of the picture
analysis of one range and of a chunk render, for the cost model in docs/farm.md.

Run: python -m benchmarks.bench_farm_driver [--seconds 120] [--workers 2] [--repeats 1] [--hd]
"""

import argparse
import datetime
import shutil
import time
from fractions import Fraction

from benchmarks.common import CACHE, clip_1080p, machine
from render.emotion import analyze
from render.farm import plan as farm_plan
from render.farm.chunk_render import render_chunk
from render.farm.job_dir import remove_job
from render.farm.ray_cluster import ray_session
from render.farm import ray_driver
from render.farm.ray_driver import run_farm
from render.io.sink import EncodeSettings
from render.io.source import open_source
from render.io.synthetic import ClipSpec, write_clip
from render.mood_grade import GradeOptions

FPS = 25


def programme(seconds: int):
    """The synthetic programme, 160x90, ``seconds`` long; made once."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"programme_160x90_{seconds}s.mp4"
    if not path.exists():
        write_clip(path, ClipSpec(width=160, height=90, frames=seconds * FPS, fps=Fraction(FPS), gop=FPS,
                                  audio_channels=2))
    return path


class _TimedMeasure:
    """Wraps the farm's measure: records when the analysis tasks ran and what they measured."""

    def __init__(self):
        self.seconds = 0.0
        self.measured = None
        self._ray_measure = farm_plan.ray_measure

    def __call__(self, ranges):
        inner = self._ray_measure(ranges)

        def measure(path, sample_fps, progress=None):
            started = time.perf_counter()
            self.measured = inner(path, sample_fps, progress)
            self.seconds = time.perf_counter() - started
            return self.measured

        return measure


class _TimedJoin:
    """Wraps the driver's join: how long the join itself took (the wait for the soundtrack
    task before it is task time, not the driver's)."""

    def __init__(self):
        self.seconds = 0.0
        self._join = ray_driver.join_chunks

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self._join(*args, **kwargs)
        finally:
            self.seconds = time.perf_counter() - started


def farm_job(clip, workers: int, chunk_seconds: float, look: str) -> dict[str, float]:
    """One ``farm render`` of ``clip``: wall seconds per phase."""
    out = CACHE / "driver_out.mp4"
    cache = CACHE / "driver_timelines"
    shutil.rmtree(cache, ignore_errors=True)
    timed = _TimedMeasure()
    joining = _TimedJoin()
    farm_plan.ray_measure = timed          # the benchmark's own probes into the planning and the join
    ray_driver.join_chunks = joining
    done_at: list[float] = []
    try:
        started = time.perf_counter()
        with ray_session(None, workers) as _:
            ray_up = time.perf_counter()
            job = farm_plan.plan_job(clip, out, EncodeSettings(codec="libx264", crf=20, speed_preset="fast"),
                                     GradeOptions(preset=look, cache_dir=str(cache)), chunk_seconds=chunk_seconds,
                                     overwrite=True, on_ray=True)
            planned = time.perf_counter()
            run_farm(job, workers=workers, overwrite=True,
                     on_chunk=lambda e: done_at.append(time.perf_counter()) if e.state == "done" else None)
            joined = time.perf_counter()
            remove_job(job)
        ended = time.perf_counter()
    finally:
        farm_plan.ray_measure = timed._ray_measure
        ray_driver.join_chunks = joining._join
    rendered = max(done_at)
    return {"ray_start": ray_up - started, "plan_driver": planned - ray_up - timed.seconds,
            "analysis_tasks": timed.seconds, "chunks": rendered - planned,
            "soundtrack_wait": joined - rendered - joining.seconds, "join": joining.seconds,
            "ray_stop": ended - joined, "total": ended - started, "chunk_count": len(job.chunks),
            "measured": timed.measured}


def serial_pieces(clip, measured) -> dict[str, float]:
    """The serial pieces timed alone: the input's index, the decisions, the sound task."""
    started = time.perf_counter()
    with open_source(clip) as src:
        src.keyframes
    index_s = time.perf_counter() - started
    started = time.perf_counter()
    analyze.timeline_of(measured, clip, "bench", {"sample_fps": analyze.DEFAULT_SAMPLE_FPS})
    decide_s = time.perf_counter() - started
    started = time.perf_counter()
    analyze.measure_sound(clip)
    sound_s = time.perf_counter() - started
    return {"index": index_s, "decide": decide_s, "sound_task": sound_s}


def hd_per_frame() -> dict[str, float]:
    """Per-frame seconds at 1080p: picture analysis of the whole clip as one range, chunk render."""
    clip = clip_1080p()
    with open_source(clip) as src:
        frames = src.info.video.frame_count
    started = time.perf_counter()
    analyze.measure_picture(clip, 0, frames, analyze.DEFAULT_SAMPLE_FPS)
    analysis = (time.perf_counter() - started) / frames
    out = CACHE / "driver_hd.mp4"
    job = farm_plan.plan_job(clip, out, EncodeSettings(codec="libx264", crf=20, speed_preset="fast"),
                             GradeOptions(preset="vivid", mood="happy", cache_dir=str(CACHE / "timelines")),
                             chunks=1, overwrite=True)
    started = time.perf_counter()
    render_chunk(job.dir, 0, force=True)
    render = (time.perf_counter() - started) / frames
    remove_job(job)
    return {"analysis_s_per_frame": analysis, "render_s_per_frame": render, "frames": frames}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=120, help="length of the synthetic programme")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-seconds", type=float, default=10.0)
    parser.add_argument("--look", default="vivid")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--hd", action="store_true", help="also per-frame costs at 1080p")
    args = parser.parse_args()
    clip = programme(args.seconds)
    print(f"# {datetime.date.today()} {machine()}")
    print(f"# programme: 160x90, {args.seconds} s at {FPS} fps with stereo AAC; preset {args.look}, --mood auto, "
          f"{args.workers} workers, {args.chunk_seconds:g} s chunks")
    runs = [farm_job(clip, args.workers, args.chunk_seconds, args.look) for _ in range(args.repeats)]
    best = min(runs, key=lambda r: r["total"])
    total = best["total"]
    rows = [("Ray start (local instance)", "ray_start", "driver"),
            ("planning on the driver (probe, index, hash, decide + fuse, recipe, job dir)", "plan_driver", "driver"),
            ("analysis: picture ranges + sound task (wall)", "analysis_tasks", "tasks"),
            (f"chunks ({best['chunk_count']}, wall; the soundtrack task beside them)", "chunks", "tasks"),
            ("the soundtrack task, after the last chunk", "soundtrack_wait", "tasks"),
            ("join (remux; the soundtrack file copied)", "join", "driver"),
            ("Ray stop", "ray_stop", "driver")]
    print(f"{'phase':78s} {'s':>8s} {'share':>7s}  by")
    for name, key, by in rows:
        print(f"{name:78s} {best[key]:8.2f} {best[key] / total:7.1%}  {by}")
    driver = sum(best[key] for _, key, by in rows if by == "driver")
    print(f"{'driver own time':78s} {driver:8.2f} {driver / total:7.1%}")
    print(f"{'whole job':78s} {total:8.2f}")
    if len(runs) > 1:
        print("# totals of all runs: " + ", ".join(f"{r['total']:.2f}" for r in runs))
    pieces = serial_pieces(clip, best["measured"])
    frames = args.seconds * FPS
    print(f"# serial pieces alone: index {pieces['index']:.2f} s, decide + fuse {pieces['decide']:.2f} s "
          f"({pieces['decide'] / frames * 1e6:.0f} us/frame), sound task {pieces['sound_task']:.2f} s "
          f"({pieces['sound_task'] / args.seconds * 1e3:.1f} ms per second of sound)")
    if args.hd:
        hd = hd_per_frame()
        print(f"# 1080p, {hd['frames']} frames: picture analysis {hd['analysis_s_per_frame'] * 1e3:.1f} ms/frame, "
              f"chunk render (vivid, libx264 fast) {hd['render_s_per_frame'] * 1e3:.1f} ms/frame")


if __name__ == "__main__":
    main()
