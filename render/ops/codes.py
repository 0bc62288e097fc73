"""Steps that look an 8-bit frame's codes up instead of computing from them.

On 8-bit frames each channel of the first pass's input is one of 256 codes, so what depends on a
channel alone can be baked per frame into a table of the 256 results and looked up: the planner
(render/ops/plan.py) puts these steps first in the first pass, where the kernel hands them the
codes themselves (``reads_codes``; ``load_u8_codes`` in kernels/common.h). Tables are made by the
ops' own references on exactly the values an 8-bit frame loads as, so they agree with them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from render.ops.base import PixelOp, as_f32
from render.ops.lut import scaled_position
from render.ops.lut_steps import Lut3DStep, padded_table

CODE_POSITIONS_FLOATS = 3 * 256 * 2  # the head of a Lut3DFromCodes table (kernels/lut.h)


@dataclass(frozen=True)
class CodeTable(PixelOp):
    """A run of per-channel ops, baked into a table of their results for the 256 codes: three
    lookups a pixel instead of the ops (a linear-light exposure costs two transfer functions a
    channel). Table: [r 256][g 256][b 256] float32."""

    steps: tuple[PixelOp, ...] = ()
    device_function = "op_code_table"
    kernel_source = "common.h"
    reads_codes = True

    def structure(self):
        return ("CodeTable",)

    def values(self, ctx) -> np.ndarray:
        """(256, 3) float32: what the run makes of each code of each channel."""
        from render.backends.frames import load_reference   # what an 8-bit frame loads as
        codes = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
        return self.apply_reference(load_reference(codes), ctx)[0]

    def table(self, ctx):
        return np.ascontiguousarray(self.values(ctx).T, np.float32).ravel()

    def apply_reference(self, rgb, ctx):
        for step in self.steps:
            rgb = step.apply_reference(rgb, ctx).astype(np.float32)
        return rgb


@dataclass(frozen=True, eq=False)
class Lut3DFromCodes(PixelOp):
    """A 3D LUT after a run of per-channel ops (``before``, possibly empty) at the start of the
    pass: each channel's grid position in the LUT depends only on its code, so the positions of
    the 256 codes are baked per frame and the kernel looks them up instead of computing them
    (``op_lut3d_*_codes`` in kernels/lut.h).

    Table: 3 x 256 pairs (lower index times the channel's stride n^2, n or 1, as int32 bits;
    fraction 0..1), then the LUT's padded table.
    """

    lut_step: Lut3DStep = None
    before: CodeTable = CodeTable()
    kernel_source = "lut.h"
    reads_codes = True

    @property
    def device_function(self) -> str:
        return f"op_lut3d_{self.lut_step.lut.interpolation}_codes"

    def structure(self):
        return ("Lut3DFromCodes", *self.lut_step.structure()[1:])

    def params(self, ctx):
        return as_f32([self.lut_step.lut.size])

    def table(self, ctx):
        lut = self.lut_step.lut
        n = lut.size
        index, frac = scaled_position(self.before.values(ctx), lut.domain_min, lut.domain_max, n)
        pairs = np.empty((3, 256, 2), np.float32)
        pairs[..., 0] = (index * np.array([n * n, n, 1])).T.astype(np.int32).view(np.float32)
        pairs[..., 1] = frac.T
        return np.concatenate([pairs.reshape(CODE_POSITIONS_FLOATS), padded_table(lut)])

    def apply_reference(self, rgb, ctx):
        return self.lut_step.apply_reference(self.before.apply_reference(rgb, ctx), ctx)
