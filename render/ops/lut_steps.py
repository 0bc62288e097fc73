"""Device descriptions of the LUT and CDL ops of render.ops.lut / render.ops.cdl.

Those modules hold the file formats and the NumPy references; these wrappers add
what the processor needs (structure, parameter precompute, table, device
function in kernels/lut.h) without changing the ops users build. All work on
display-referred (encoded) values.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from render.ops.base import DISPLAY, PixelOp, as_f32
from render.ops.cdl import CDL
from render.ops.lut import Lut1D, Lut3D


def _domain_params(lut, size: int) -> np.ndarray:
    """[-domain_min / span rgb, reach, 1 / span rgb, size, mix], span = domain_max - domain_min,
    reach = (size - 1)(1 - 2^-22) (kernels/lut.h: the domain mapped onto 0..1, then onto the grid)."""
    lo = np.asarray(lut.domain_min, np.float64)
    span = np.asarray(lut.domain_max, np.float64) - lo
    return as_f32([-lo / span, [(size - 1) * (1 - 2.0 ** -22)], 1.0 / span, [size, lut.mix]])


class _Mixable:
    """A LUT step's mix: at 1 the LUT's own device function, below 1 its ``_mix`` variant
    (kernels/lut.h: c + (lut(c) - c) mix); at 0 the step is dropped."""

    def is_identity(self) -> bool:
        return self.lut.mix == 0.0

    def mix_suffix(self) -> str:
        return "_mix" if self.lut.mix < 1.0 else ""


@dataclass(frozen=True, eq=False)
class Lut1DStep(_Mixable, PixelOp):
    lut: Lut1D = None
    domain = DISPLAY
    kernel_source = "lut.h"
    per_channel = True

    @property
    def device_function(self) -> str:
        return "op_lut1d" + self.mix_suffix()

    def structure(self):
        return ("Lut1D", self.lut.size, self.mix_suffix())

    def params(self, ctx):
        return _domain_params(self.lut, self.lut.size)

    def table(self, ctx=None):
        return self.lut.table.ravel()   # float32, C-ordered and read-only (render.ops.lut)

    def apply_reference(self, rgb, ctx):
        return self.lut.apply_reference(rgb)


@dataclass(frozen=True, eq=False)
class Lut3DStep(_Mixable, PixelOp):
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
        return f"op_lut3d_{self.lut.interpolation}" + ("_half" if self.half else "") + self.mix_suffix()

    def structure(self):
        return ("Lut3D", self.lut.size, self.lut.interpolation, self.half, self.mix_suffix())

    def params(self, ctx):
        return _domain_params(self.lut, self.lut.size)

    def table(self, ctx=None):
        """(N, N, N, 4) float32, the 4th channel zero: one aligned 16-byte load per corner on GPUs;
        with ``half``, the same as float16, two to a float32 slot (8 bytes a corner)."""
        return _padded_table(self.lut.table, self.half)

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


_PADDED: OrderedDict = OrderedDict()   # (id(table), half) -> (table, padded), the last 16
_PADDED_LOCK = threading.Lock()


def _padded_table(table: np.ndarray, half: bool = False) -> np.ndarray:
    """A 3D LUT's (N, N, N, 3) table with a zero 4th channel, flattened, as float32 slots; with
    ``half``, its float16 values packed two to a slot. The same object for the same table
    (every frame's mix of one LUT shares it: render.ops.compiled sends no update for it)."""
    key = (id(table), half)
    with _PADDED_LOCK:
        entry = _PADDED.get(key)
        if entry is not None and entry[0] is table:
            _PADDED.move_to_end(key)
            return entry[1]
    padded = np.zeros((*table.shape[:3], 4), np.float32)
    padded[..., :3] = table
    padded = padded.ravel()
    if half:
        padded = padded.astype(np.float16).view(np.float32)
    padded.flags.writeable = False
    with _PADDED_LOCK:
        _PADDED[key] = (table, padded)
        while len(_PADDED) > 16:
            _PADDED.popitem(last=False)
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
