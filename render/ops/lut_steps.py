"""Device descriptions of the LUT and CDL ops of render.ops.lut / render.ops.cdl.

Those modules hold the file formats and the NumPy references; these wrappers add
what the processor needs (structure, parameter precompute, table, device
function in kernels/lut.h) without changing the ops users build. All work on
display-referred (encoded) values.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from render.ops.base import DISPLAY, PixelOp, as_f32
from render.ops.cdl import CDL
from render.ops.lut import Lut1D, Lut3D


def _domain_params(lut, size: int) -> np.ndarray:
    """[-domain_min / span rgb, reach, 1 / span rgb, size], span = domain_max - domain_min,
    reach = (size - 1)(1 - 2^-22) (kernels/lut.h: the domain mapped onto 0..1, then onto the grid)."""
    lo = np.asarray(lut.domain_min, np.float64)
    span = np.asarray(lut.domain_max, np.float64) - lo
    return as_f32([-lo / span, [(size - 1) * (1 - 2.0 ** -22)], 1.0 / span, [size]])


@dataclass(frozen=True, eq=False)
class Lut1DStep(PixelOp):
    lut: Lut1D = None
    domain = DISPLAY
    device_function = "op_lut1d"
    kernel_source = "lut.h"
    per_channel = True

    def structure(self):
        return ("Lut1D", self.lut.size)

    def params(self, ctx):
        return _domain_params(self.lut, self.lut.size)

    def table(self, ctx=None):
        return np.ascontiguousarray(self.lut.table, np.float32).ravel()

    def apply_reference(self, rgb, ctx):
        return self.lut.apply_reference(rgb)


@dataclass(frozen=True, eq=False)
class Lut3DStep(PixelOp):
    """``half``: a tetrahedral LUT's corners stored as half floats (8-bit frames on GPUs: see
    ``op_lut3d_tetrahedral_half`` in kernels/lut.h; build_plan sets it)."""

    lut: Lut3D = None
    half: bool = False
    domain = DISPLAY
    kernel_source = "lut.h"

    def __post_init__(self):
        super().__post_init__()
        if self.half and self.lut.interpolation != "tetrahedral":
            raise ValueError("only tetrahedral LUTs have half-float corners")

    @property
    def device_function(self) -> str:
        return f"op_lut3d_{self.lut.interpolation}" + ("_half" if self.half else "")

    def structure(self):
        return ("Lut3D", self.lut.size, self.lut.interpolation, self.half)

    def params(self, ctx):
        return _domain_params(self.lut, self.lut.size)

    def table(self, ctx=None):
        """(N, N, N, 4) float32, the 4th channel zero: one aligned 16-byte load per corner on GPUs;
        with ``half``, the same as float16, two to a float32 slot (8 bytes a corner)."""
        return _padded_table(self.lut, self.half)

    def apply_reference(self, rgb, ctx):
        return self.lut.apply_reference(rgb)


@dataclass(frozen=True)
class CDLStep(PixelOp):
    cdl: CDL = None
    domain = DISPLAY
    device_function = "op_cdl"
    kernel_source = "lut.h"

    def is_identity(self) -> bool:
        # the no-op CDL is dropped with its clamp (frames are already clamped on load)
        return self.cdl == CDL()

    def params(self, ctx):
        c = self.cdl
        return as_f32([c.slope, c.offset, c.power, [c.saturation]])

    def apply_reference(self, rgb, ctx):
        return self.cdl.apply_reference(rgb)


@lru_cache(maxsize=16)
def _padded_table(lut: Lut3D, half: bool = False) -> np.ndarray:
    """The LUT's table with a zero 4th channel, flattened, as float32 slots (Lut3D hashes by
    identity); with ``half``, its float16 values packed two to a slot."""
    n = lut.size
    padded = np.zeros((n, n, n, 4), np.float32)
    padded[..., :3] = lut.table
    padded = padded.ravel()
    if half:
        padded = padded.astype(np.float16).view(np.float32)
    padded.flags.writeable = False
    return padded


def wrap(op) -> PixelOp | None:
    """The device step of a LUT/CDL op, or None for other objects."""
    if isinstance(op, Lut3D):
        return Lut3DStep(op)
    if isinstance(op, Lut1D):
        return Lut1DStep(op)
    if isinstance(op, CDL):
        return CDLStep(op)
    return None
