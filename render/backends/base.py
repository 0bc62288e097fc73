"""What every backend offers: a compiled grade planned for it, ``run`` and ``apply``.

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
