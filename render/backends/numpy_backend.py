"""The NumPy backend: runs a plan with every op's reference; the truth the others are tested against."""

from __future__ import annotations

import numpy as np

from render.ops.frames import frame_kind, load_reference, store_reference
from render.ops.base import FrameContext, apply_references
from render.ops.focus import blur_pass_reference
from render.ops.plan import BlurPass, build_plan, pack


class NumpyBackend:
    """Always available; simple, slow, obviously right."""

    name = "numpy"
    device = "NumPy (CPU)"

    def apply(self, frame: np.ndarray, grade, frame_index: int = 0, transfer: str = "bt709") -> np.ndarray:
        """Grade one HxWx3 frame (uint8/uint16/float32); returns a new frame of the same shape and dtype."""
        kind = frame_kind(frame)
        plan = build_plan(grade)
        ctx = FrameContext(frame.shape[1], frame.shape[0], frame_index, transfer)
        packed = pack(plan, ctx)
        buffers = {"input": load_reference(frame)}
        blur_index = 0
        for p in plan.passes:
            src = buffers[p.src]
            if isinstance(p, BlurPass):
                buffers[p.dst] = blur_pass_reference(src, packed.weights[blur_index], p.direction)
                blur_index += 1
                continue
            rgb = src
            if p.combine is not None:
                rgb = p.combine.combine_reference(rgb, buffers[p.aux], ctx)
            buffers[p.dst] = apply_references(p.steps, rgb, ctx)
        return store_reference(buffers["output"], kind)
