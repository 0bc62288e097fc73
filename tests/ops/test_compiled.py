"""The compiled grade packs every frame exactly as planning and packing it whole would."""

import dataclasses
from fractions import Fraction

import numpy as np
import pytest

from render.backends import select_backend
from render.emotion.labels import EMOTIONS
from render.emotion.timeline import MoodTimeline
from render.looks.preset import list_presets, load_preset
from render.looks.schedule import build_schedule
from render.ops.cdl import CDL
from render.ops.colour import Exposure
from render.ops.compiled import CompiledGrade
from render.ops.grain import FilmGrain
from render.ops.lut import read_cube
from render.ops.lut_steps import Lut3DStep
from render.ops.plan import Plan, build_plan, pack
from render.ops.base import FrameContext
from render.backends.codegen import program_key
from render.resources import presets_dir

FRAMES = 90


def _timeline(seed: int) -> MoodTimeline:
    """Moods that change on every frame, two cuts, and a face that comes and goes."""
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(len(EMOTIONS)) * 0.3, size=FRAMES).astype(np.float32)
    cuts = [30, 60]
    shot = np.searchsorted(np.array(cuts), np.arange(FRAMES), side="right").astype(np.int32)
    boxes = np.tile(np.array([0.4, 0.2, 0.6, 0.5], np.float32), (FRAMES, 1))
    boxes += rng.normal(0, 0.02, boxes.shape).astype(np.float32)
    boxes[20:45] = np.nan
    faces = np.isfinite(boxes[:, 0]).astype(np.int32)
    return MoodTimeline(frame_rate=Fraction(25), time_s=np.arange(FRAMES) / 25.0, probs=probs,
                        valence=rng.uniform(-1, 1, FRAMES).astype(np.float32),
                        arousal=rng.uniform(-1, 1, FRAMES).astype(np.float32),
                        confidence=rng.uniform(0, 1, FRAMES).astype(np.float32), shot=shot,
                        faces=faces, face_box=boxes, overridden=np.zeros(FRAMES, bool),
                        cuts=cuts, present={"video": True, "audio": False, "faces": True})


FIXED = (CDL(slope=(1.1, 1.0, 0.9), offset=(0.01, 0.0, -0.01), power=(1.0, 1.05, 1.0), saturation=0.9),
         *read_cube(presets_dir() / "luts" / "warm_print.cube"))


def _ops(item):
    """A plan's passes and ops as comparable values (a 3D LUT step compares by identity)."""
    if isinstance(item, Plan):
        return [_ops(p) for p in item.passes]
    if isinstance(item, Lut3DStep):
        return ("Lut3DStep", id(item.lut), item.half)
    if isinstance(item, (tuple, list)):
        return tuple(_ops(x) for x in item)
    if dataclasses.is_dataclass(item):
        return (type(item).__name__, *(_ops(getattr(item, f.name)) for f in dataclasses.fields(item)))
    return item


def _assert_same_values(got, want, where):
    assert np.array_equal(got.params, want.params), f"{where}: parameters"
    assert np.array_equal(got.full_tables(), want.tables), f"{where}: tables"
    assert got.offsets == want.offsets, f"{where}: offsets"
    assert len(got.weights) == len(want.weights), f"{where}: blurs"
    for a, b in zip(got.weights, want.weights):
        assert np.array_equal(a, b), f"{where}: blur weights"


@pytest.mark.parametrize("options", [("u8", False), ("u8", True), ("u16", False), ("f32", True), (None, False)],
                         ids=["opencl-u8", "cuda-u8", "u16", "cuda-f32", "numpy"])
@pytest.mark.parametrize("name", list_presets())
def test_every_frame_packs_as_planning_it_whole(name, options):
    plan_kind, half_luts = options
    kind = plan_kind or "u8"
    schedule = build_schedule(load_preset(name), _timeline(seed=len(name)), intensity=1.0)
    compiled = CompiledGrade(lambda _kind: options, program_key)
    for i in range(FRAMES):
        grade = (*FIXED, *schedule.ops_at(i))
        got = compiled.frame(grade, kind, "bt709", 64, 36, i)
        plan = build_plan(grade, plan_kind, half_luts)
        want = pack(plan, FrameContext(64, 36, i, "bt709"))
        assert got.plan.key == plan.key, f"{name} frame {i}: plan"
        assert got.program_key == program_key(plan, want, kind, "bt709")
        _assert_same_values(got.packed, want, f"{name} frame {i}")
        assert _ops(got.frame_plan()) == _ops(plan), f"{name} frame {i}: the frame's own ops"


def test_grain_is_packed_anew_on_every_frame_and_a_changed_size_replans():
    grade = (Exposure(0.5), FilmGrain(amount=0.3, size_px=1.0, seed=7))
    compiled = CompiledGrade(lambda kind: (kind, False), program_key)
    for i, (w, h) in enumerate([(64, 36), (64, 36), (32, 18), (64, 36)]):
        got = compiled.frame(grade, "u8", "srgb", w, h, i)
        want = pack(build_plan(grade, "u8"), FrameContext(w, h, i, "srgb"))
        _assert_same_values(got.packed, want, f"frame {i} at {w}x{h}")


@pytest.mark.parametrize("backend", ["numpy", "opencl"])
def test_a_render_through_the_compiled_grade_equals_grading_each_frame_alone(backend):
    """Frames graded in order through one compiled grade (tables updated in place on the device)
    equal each frame graded by a fresh backend call; NumPy and PoCL."""
    runner = select_backend(backend)
    schedule = build_schedule(load_preset("teal-orange"), _timeline(seed=5), intensity=1.0)
    compiled = runner.compiled_grade()
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (36, 64, 3), dtype=np.uint8)
    fresh = type(runner)()   # its own device buffers and tables: no state shared with the render
    for i in range(0, FRAMES, 7):
        grade = (*FIXED, *schedule.ops_at(i))
        got = runner.run(frame, compiled.frame(grade, "u8", "bt709", 64, 36, i))
        assert np.array_equal(got, fresh.apply(frame, grade, frame_index=i)), f"frame {i}"


def test_a_luts_moving_mix_sends_no_table_update():
    """Only the mix parameter changes frame to frame: the 3D LUT's table stays on the device."""
    lut = read_cube(presets_dir() / "luts" / "teal_orange.cube")[0]
    compiled = CompiledGrade(lambda kind: (kind, False), program_key)
    for i, mix in enumerate((0.9, 0.7, 0.5)):
        grade = (Exposure(0.2), dataclasses.replace(lut, mix=mix))
        got = compiled.frame(grade, "f32", "bt709", 64, 36, i)
        _assert_same_values(got.packed, pack(build_plan(grade, "f32"), FrameContext(64, 36, i, "bt709")), f"mix {mix}")
        assert got.packed.table_updates == ()
