"""What every backend offers: a compiled grade planned for it, ``run`` and ``apply``, and the
one walk of a plan they share (:func:`walk`: backends differ only in how they launch and copy).

A render compiles its grade once (:meth:`Backend.compiled_grade`) and, per frame, plans the
frame outside any lock (render.ops.compiled) and hands it to :meth:`Backend.run`, which
holds the backend's device lock only while it copies and launches. :meth:`Backend.apply`
grades one frame of any grade in one call (tests, benchmarks, one-off frames).
"""

from __future__ import annotations

import threading

from render.backends.codegen import program_key
from render.errors import MoodgradeError
from render.ops.compiled import CompiledGrade, FramePlan
from render.ops.frames import frame_kind
from render.ops.plan import BlurPass, Plan


class Backend:
    name = ""
    device = ""

    def plan_options(self, kind: str) -> tuple[str | None, bool]:
        """(frame kind the plan is made for, half-float LUT corners) for frames of ``kind``."""
        return kind, False

    def compiled_grade(self) -> CompiledGrade:
        """A new compiled grade planned for this backend (one per grade being rendered)."""
        return CompiledGrade(self.plan_options, program_key)

    def apply(self, frame, grade, frame_index: int = 0, transfer: str = "bt709"):
        """Grade one HxWx3 frame (uint8/uint16/float32); returns a new frame of the same shape and dtype."""
        compiled = self.__dict__.get("_one_off")
        if compiled is None:
            with _one_off_lock:
                compiled = self.__dict__.setdefault("_one_off", self.compiled_grade())
        kind = frame_kind(frame)
        h, w = frame.shape[:2]
        return self.run(frame, compiled.frame(tuple(grade), kind, transfer, w, h, frame_index))

    def run(self, frame, frame_plan: FramePlan):
        """Grade one frame by its plan (made for this frame's kind and size)."""
        raise NotImplementedError


_one_off_lock = threading.Lock()


def check_frame(frame, frame_plan: FramePlan) -> str:
    """The frame's kind, after checking that ``frame_plan`` was made for its kind and size."""
    kind = frame_kind(frame)
    h, w = frame.shape[:2]
    if (kind, w, h) != (frame_plan.frame_kind, frame_plan.width, frame_plan.height):
        raise MoodgradeError(f"a {w}x{h} {kind} frame cannot run a plan made for {frame_plan.width}x"
                             f"{frame_plan.height} {frame_plan.frame_kind} frames")
    return kind


FLOAT_BUFFERS = ("s0", "s1", "tmp", "blurred", "source")   # a plan's HxWx3 float32 intermediates


def float_buffers(plan: Plan) -> list[str]:
    """The intermediate buffers ``plan`` reads or writes, each HxWx3 float32."""
    used = {name for p in plan.passes for name in (p.src, p.dst, getattr(p, "aux", None))}
    return [name for name in FLOAT_BUFFERS if name in used]


def walk(plan: Plan, weights: list, pixel, blur) -> None:
    """Run ``plan`` in order: ``pixel(p)`` for each PixelPass, ``blur(h, v, half_kernel)`` for
    each separable Gaussian (its horizontal and vertical BlurPass, which the plan holds in a
    row, and their half kernel from the packed ``weights``)."""
    passes, i, blur_index = plan.passes, 0, 0
    while i < len(passes):
        p = passes[i]
        if isinstance(p, BlurPass):
            blur(p, passes[i + 1], weights[blur_index])   # packed.weights: one per BlurPass
            i, blur_index = i + 2, blur_index + 2
        else:
            pixel(p)
            i += 1
