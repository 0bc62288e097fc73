"""The NumPy backend: runs a plan with every op's reference; the truth the others are tested against."""

from __future__ import annotations

import numpy as np

from render.backends.base import Backend, check_frame, walk
from render.ops.base import apply_references
from render.ops.compiled import FramePlan
from render.ops.focus import blur_pass_reference
from render.ops.frames import load_reference, store_reference


class NumpyBackend(Backend):
    """Always available; simple, slow, obviously right."""

    name = "numpy"
    device = "NumPy (CPU)"

    def plan_options(self, kind: str) -> tuple[str | None, bool]:
        return None, False   # the ops themselves, no 8-bit code table

    def run(self, frame: np.ndarray, frame_plan: FramePlan) -> np.ndarray:
        """Grade one HxWx3 frame (uint8/uint16/float32); returns a new frame of the same shape and dtype.
        Safe to call from several threads."""
        kind = check_frame(frame, frame_plan)
        ctx = frame_plan.ctx
        buffers = {"input": load_reference(frame)}

        def pixel(p):
            rgb = buffers[p.src]
            if p.combine is not None:
                rgb = p.combine.combine_reference(rgb, buffers[p.aux], ctx)
            buffers[p.dst] = apply_references(p.steps, rgb, ctx)

        def blur(h, v, weights):
            buffers[v.dst] = blur_pass_reference(blur_pass_reference(buffers[h.src], weights, "h"), weights, "v")

        walk(frame_plan.frame_plan(), frame_plan.packed.weights, pixel, blur)
        return store_reference(buffers["output"], kind)
