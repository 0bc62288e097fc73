"""The op model shared by every backend.

An op is a frozen dataclass describing one grading operation with named,
unit-bearing parameters. Each op class declares

- ``RANGES``: the allowed closed interval of every numeric parameter (checked on
  construction, reported by the TOML/CLI loaders);
- ``structure()``: the static part (what changes the compiled kernel);
- ``params(ctx)`` / ``table()``: the parameter precompute (float32 arrays of a length
  fixed by the structure) used by the NumPy reference *and* handed to the device
  kernels, so every backend computes from the same numbers;
- ``apply_reference``: the NumPy truth that the device kernels are tested against.

Per-pixel ops (:class:`PixelOp`) state the domain they work in: ``"linear"``
(scene-linear light, after the transfer function is undone) or ``"display"``
(the encoded, display-referred values of the frame, 0..1). Neighbourhood ops
(:class:`NeighbourhoodOp`) blur and blend; they work on display values unless
they say otherwise.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from render.errors import MoodgradeError
from render.numbers import is_float32_finite

LINEAR = "linear"
DISPLAY = "display"


@dataclass(frozen=True)
class FrameContext:
    """What an op may know about the frame: size, index, transfer function.

    ``transfer`` names the curve that maps the frame's encoded values to linear
    light: ``"bt709"`` (inverse ITU-R BT.709 OETF, the default for video) or ``"srgb"``.
    """

    width: int
    height: int
    frame_index: int = 0
    transfer: str = "bt709"

    @property
    def scale(self) -> float:
        """Factor from pixels of a 1080-line frame to pixels of this frame."""
        return self.height / 1080.0


def check_range(owner: str, name: str, value: float, lo: float, hi: float) -> None:
    """Raise MoodgradeError unless ``lo <= value <= hi`` (and finite)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise MoodgradeError(f"{owner}.{name} must be a number, got {value!r:.60}")
    if not (is_float32_finite(value) and lo <= value <= hi):
        shown = value if isinstance(value, float) or abs(value) < 10 ** 12 else "a huge integer"
        raise MoodgradeError(f"{owner}.{name} = {shown} is outside the allowed range [{lo}, {hi}]")


class Op:
    """Base of all ops: range checking on construction and the structure key."""

    RANGES: ClassVar[dict[str, tuple[float, float]]] = {}
    name: ClassVar[str] = ""  # the op's name in grade files, e.g. "exposure"
    # params(ctx) reads ctx.frame_index (film grain's noise key): packed anew for every frame
    params_use_frame_index: ClassVar[bool] = False

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name not in self.RANGES:
                continue
            lo, hi = self.RANGES[f.name]
            value = getattr(self, f.name)
            items = value if isinstance(value, tuple) else (value,)
            for v in items:
                check_range(self.name or type(self).__name__, f.name, v, lo, hi)

    def structure(self) -> tuple:
        """What the compiled kernel depends on; by default only the op type."""
        return (type(self).__name__,)

    def is_identity(self) -> bool:
        """True when the op leaves every pixel unchanged (it is then dropped)."""
        return False


class PixelOp(Op):
    """A per-pixel op: fused with its neighbours into one kernel launch."""

    domain: ClassVar[str] = DISPLAY
    device_function: ClassVar[str] = ""  # RGB f(RGB c, CONSTANT const float* p, GLOBAL const float* t, PixelCtx px)
    kernel_source: ClassVar[str] = ""  # file in kernels/ holding device_function
    # each output channel depends only on the same input channel (not on the pixel's place or
    # the other channels): a run of such ops on 8-bit input can be baked into a table of codes
    per_channel: ClassVar[bool] = False
    # the device function takes the frame's 8-bit codes (CODES k) instead of RGB c: only as the
    # first step of a pass that reads an 8-bit frame (the planner puts such steps there)
    reads_codes: ClassVar[bool] = False

    def params(self, ctx: FrameContext) -> np.ndarray:
        """Per-frame parameters handed to the device function (float32, fixed length)."""
        return np.zeros(0, np.float32)

    def table(self, ctx: FrameContext) -> np.ndarray:
        """Lookup data for this frame (float32, 1-D, length fixed by the structure); empty by default."""
        return np.zeros(0, np.float32)

    def apply_reference(self, rgb: np.ndarray, ctx: FrameContext) -> np.ndarray:
        """NumPy reference: float32 HxWx3 in ``self.domain`` -> float32 HxWx3."""
        raise NotImplementedError


def apply_references(steps, rgb: np.ndarray, ctx: FrameContext) -> np.ndarray:
    """``rgb`` through the NumPy references of ``steps`` in turn, float32 after each (as on devices)."""
    for step in steps:
        rgb = step.apply_reference(rgb, ctx).astype(np.float32)
    return rgb


class NeighbourhoodOp(Op):
    """An op that reads neighbouring pixels (blurs): run as separate passes.

    The device runs a separable Gaussian blur of the op's blur source (the picture, or what
    ``source_function`` makes of it) with the weights of ``blur_sigma(ctx)``, and then
    ``combine_function(sharp, blurred, p, px)`` per pixel.
    """

    combine_function: ClassVar[str] = ""
    kernel_source: ClassVar[str] = "focus.h"
    # device function (a PixelOp's signature, the op's params) making what is blurred in a pass
    # of its own, e.g. bloom's bright pass; "" blurs the picture itself
    source_function: ClassVar[str] = ""

    def blur_sigma(self, ctx: FrameContext) -> float:
        """Standard deviation of the blur in pixels of this frame (ops give it in px of 1080p)."""
        raise NotImplementedError

    def params(self, ctx: FrameContext) -> np.ndarray:
        return np.zeros(0, np.float32)

    def source_reference(self, rgb: np.ndarray, ctx: FrameContext) -> np.ndarray:
        """NumPy reference of ``source_function`` (display values in)."""
        raise NotImplementedError

    def combine_reference(self, sharp: np.ndarray, blurred: np.ndarray, ctx: FrameContext) -> np.ndarray:
        """NumPy reference of the per-pixel combine step (display values in, display out)."""
        raise NotImplementedError


def with_fields(op, values: dict):
    """``op`` with ``values`` ({field: value}) in place of its own, made without its
    constructor: for values already in the fields' RANGES and of the types the constructor
    would make (Python floats, tuples), where a frame's ops are made anew on every frame
    (the schedule clips its values to the ranges; a plan's runs hold checked ops). Every
    op's ``__post_init__`` only checks and normalises, so nothing else needs making."""
    new = object.__new__(type(op))
    new.__dict__.update(op.__dict__)
    new.__dict__.update(values)
    return new


@functools.lru_cache(maxsize=256)
def gaussian_weights(sigma_px: float) -> np.ndarray:
    """Half of a normalised Gaussian kernel: weights[k] for offsets 0..R, R = ceil(3 sigma).

    ``sigma_px`` <= 0 gives ``[1.0]`` (no blur). The full kernel (offsets -R..R) sums to 1.
    """
    if sigma_px <= 0:
        w = np.ones(1, np.float32)
    else:
        k = np.arange(int(math.ceil(3.0 * sigma_px)) + 1, dtype=np.float64)
        w = np.exp(-0.5 * (k / sigma_px) ** 2)
        w = (w / (w[0] + 2.0 * w[1:].sum())).astype(np.float32)
    w.setflags(write=False)  # shared by every frame with this sigma (cached)
    return w


def as_f32(value) -> np.ndarray:
    """Pack numbers into a flat float32 array (the parameter layout)."""
    if isinstance(value, (list, tuple)):
        flat = []
        for v in value:
            if isinstance(v, (int, float)):
                flat.append(v)
            else:
                flat += np.asarray(v, dtype=np.float64).ravel().tolist()
        return np.array(flat, np.float64).astype(np.float32)
    return np.asarray(value, dtype=np.float32).ravel()
