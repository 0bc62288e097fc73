"""Per-frame host cost of the grade (everything but the kernels and the frame copies).

Every built-in look, driven by a mood that changes on every frame (random probabilities,
valence, arousal and confidence; shots of 100 frames; a face on two thirds of them),
for 1080p 8-bit frames as the OpenCL backend plans them. Two ways in the same run:

- before: what every frame cost until the compiled grade: the schedule's ops, the
  whole plan (build_plan), every value packed (pack), the program's key, and the
  comparison of the whole table buffer with the last frame's;
- compiled: the schedule's ops, ``CompiledGrade.frame`` and the table writes it needs
  (render.backends.device_tables).

Prints microseconds per frame (median of 3 passes over the frames) and the ratio.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time
from fractions import Fraction

import numpy as np

from benchmarks.common import machine
from render.backends.codegen import program_key
from render.backends.device_tables import DeviceTables
from render.emotion.labels import EMOTIONS
from render.emotion.timeline import MoodTimeline
from render.grading import GradeRecipe
from render.looks.preset import list_presets, load_preset
from render.looks.schedule import build_schedule
from render.ops.base import FrameContext
from render.ops.compiled import CompiledGrade
from render.ops.plan import build_plan, pack

WIDTH, HEIGHT = 1920, 1080


def varied_timeline(frames: int, seed: int = 0) -> MoodTimeline:
    """A mood that changes on every frame, cuts every 100 frames, a face on 2 of 3 shots."""
    rng = np.random.default_rng(seed)
    shot = (np.arange(frames) // 100).astype(np.int32)
    boxes = np.tile(np.array([0.4, 0.2, 0.6, 0.5], np.float32), (frames, 1))
    boxes += rng.normal(0, 0.01, boxes.shape).astype(np.float32)
    boxes[shot % 3 == 2] = np.nan
    return MoodTimeline(frame_rate=Fraction(24), time_s=np.arange(frames) / 24.0,
                        probs=rng.dirichlet(np.ones(len(EMOTIONS)), frames).astype(np.float32),
                        valence=rng.uniform(-1, 1, frames).astype(np.float32),
                        arousal=rng.uniform(-1, 1, frames).astype(np.float32),
                        confidence=rng.uniform(0.3, 1, frames).astype(np.float32), shot=shot,
                        faces=np.isfinite(boxes[:, 0]).astype(np.int32), face_box=boxes,
                        overridden=np.zeros(frames, bool), cuts=list(range(100, frames, 100)),
                        present={"video": True, "audio": False, "faces": True})


def before(recipe: GradeRecipe, frames: int) -> float:
    last_tables = None
    start = time.perf_counter()
    for i in range(frames):
        grade = recipe.ops_at(i)
        plan = build_plan(grade, "u8", False)
        packed = pack(plan, FrameContext(WIDTH, HEIGHT, i, "bt709"))
        program_key(plan, packed, "u8", "bt709")
        if last_tables is None or not np.array_equal(last_tables, packed.tables):
            last_tables = packed.tables
    return (time.perf_counter() - start) / frames


def compiled(recipe: GradeRecipe, frames: int) -> float:
    grade, tables = CompiledGrade(lambda kind: (kind, False), program_key), DeviceTables()
    start = time.perf_counter()
    for i in range(frames):
        tables.writes(grade.frame(recipe.ops_at(i), "u8", "bt709", WIDTH, HEIGHT, i).packed)
    return (time.perf_counter() - start) / frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    args = parser.parse_args()
    timeline = varied_timeline(args.frames)
    print(f"# per-frame host cost of the grade, 1080p u8, {args.frames} frames of a changing mood; "
          f"{machine()}, {datetime.date.today()}")
    print("| look | before (us) | compiled (us) | ratio |")
    print("|---|---|---|---|")
    for name in list_presets():
        recipe = GradeRecipe(schedule=build_schedule(load_preset(name), timeline))
        old = statistics.median(before(recipe, args.frames) for _ in range(3))
        new = statistics.median(compiled(recipe, args.frames) for _ in range(3))
        print(f"| {name} | {old * 1e6:.0f} | {new * 1e6:.0f} | {old / new:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
