"""Lighting ops: vignette (a gain on display values), highlight roll-off and
regional relight (per pixel, linear light) and bloom (a neighbourhood op: a
linear-light bright pass, blurred and added back). Device code: ``kernels/lighting.h``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from render.ops.base import DISPLAY, LINEAR, FrameContext, NeighbourhoodOp, PixelOp, as_f32
from render.ops.regions import (ELLIPSE_FLOATS, Ellipse, check_regions, ellipse_mask, pack_ellipses,
                                pixel_coords, smoothstep)
from render.ops.transfer import from_linear, to_linear

F = np.float32


@dataclass(frozen=True)
class Vignette(PixelOp):
    """Darken (amount > 0) or brighten (amount < 0) towards the corners.

    A gain on display values: with a power-law encoding that is a gain in linear
    light too (g on BT.709 values = g**2.22 on light above the toe), without the
    cost of a transfer-function round trip.

    ``amount`` -1..1 (1 = black corners), ``radius`` 0..1.5 where the falloff starts
    (1 = the corner), ``feather`` 0.01..1.5 the falloff width, ``roundness`` 0..1
    (0 = follows the frame's aspect ratio, 1 = a circle).
    """

    amount: float = 0.0
    radius: float = 0.5
    feather: float = 0.5
    roundness: float = 1.0

    name = "vignette"
    RANGES = {"amount": (-1.0, 1.0), "radius": (0.0, 1.5), "feather": (0.01, 1.5), "roundness": (0.0, 1.0)}
    domain = DISPLAY
    device_function = "op_vignette"
    kernel_source = "lighting.h"

    def is_identity(self) -> bool:
        return self.amount == 0.0

    def params(self, ctx):
        ax = 1.0 + (ctx.width / ctx.height - 1.0) * self.roundness
        return as_f32([self.amount, self.radius, self.radius + self.feather, ax, 1.0 / math.hypot(ax, 1.0)])

    def gain(self, ctx: FrameContext) -> np.ndarray:
        """Reference of the per-pixel gain, HxWx1."""
        amount, r0, r1, ax, inv_norm = self.params(ctx)
        u, v = pixel_coords(ctx)
        dx = (u - F(0.5)) * F(2) * ax
        dy = (v - F(0.5)) * F(2)
        d = np.sqrt(dx * dx + dy * dy) * inv_norm
        return (F(1) - amount * smoothstep(r0, r1, d))[..., None]

    def apply_reference(self, rgb, ctx):
        return rgb * self.gain(ctx)


@dataclass(frozen=True)
class HighlightRolloff(PixelOp):
    """Soft shoulder for highlights in linear light, hue preserving.

    Above ``knee`` (0.05..1, linear) the pixel's largest channel ``m`` is mapped to
    ``knee + (m - knee) / (1 + (m - knee) / (1 - knee))`` (approaches 1, slope 1 at
    the knee); ``strength`` 0..1 blends from the input to that curve.
    """

    knee: float = 0.8
    strength: float = 0.0

    name = "highlight_rolloff"
    RANGES = {"knee": (0.05, 0.99), "strength": (0.0, 1.0)}
    domain = LINEAR
    device_function = "op_highlight_rolloff"
    kernel_source = "lighting.h"

    def is_identity(self) -> bool:
        return self.strength == 0.0

    def params(self, ctx):
        return as_f32([self.knee, 1.0 / (1.0 - self.knee), self.strength])

    def apply_reference(self, rgb, ctx):
        knee, inv_room, strength = self.params(ctx)
        m = rgb.max(axis=2, keepdims=True)
        over = np.maximum(m - knee, F(0))
        shoulder = knee + over / (F(1) + over * inv_room)
        scale = np.where(m > knee, shoulder / np.where(m > knee, m, F(1)), F(1)).astype(F)
        return rgb * (F(1) + (scale - F(1)) * strength)


@dataclass(frozen=True)
class RelightRegion(Ellipse):
    """An ellipse (see :class:`Ellipse`) with an exposure change -4..4 EV and warmth -1..1."""

    exposure_ev: float = 0.0
    warmth: float = 0.0

    name = "relight_region"
    RANGES = {**Ellipse.RANGES, "exposure_ev": (-4.0, 4.0), "warmth": (-1.0, 1.0)}


RELIGHT_RECORD = ELLIPSE_FLOATS + 2  # ellipse, exposure_ev, warmth


@dataclass(frozen=True)
class Relight(PixelOp):
    """Regional relight in linear light: inside each soft ellipse (at most 8), add
    ``exposure_ev`` stops and ``warmth`` (gains r * (1 + 0.2 w), b * (1 - 0.2 w)),
    weighted by the mask; overlapping regions add up.

    Display values in and out: the op linearises the picture itself, so that the devices
    can leave the pixels no region reaches untouched (no transfer-function round trip).
    """

    regions: tuple[RelightRegion, ...] = ()

    def __post_init__(self):
        super().__post_init__()
        check_regions(self.name, "regions", self.regions)

    name = "relight"
    domain = DISPLAY
    device_function = "op_relight"
    kernel_source = "lighting.h"

    def is_identity(self) -> bool:
        return all(r.exposure_ev == 0.0 and r.warmth == 0.0 for r in self.regions)

    def params(self, ctx):
        return pack_ellipses(self.regions, lambda r: [getattr(r, "exposure_ev", 0.0), getattr(r, "warmth", 0.0)])

    def apply_reference(self, rgb, ctx):
        p = self.params(ctx)
        ev = np.zeros((ctx.height, ctx.width), F)
        warm = np.zeros((ctx.height, ctx.width), F)
        for i in range(int(p[0])):
            rec = p[1 + i * RELIGHT_RECORD: 1 + (i + 1) * RELIGHT_RECORD]
            m = ellipse_mask(rec, ctx)
            ev = ev + m * rec[ELLIPSE_FLOATS]
            warm = warm + m * rec[ELLIPSE_FLOATS + 1]
        g = np.exp2(ev)
        gains = np.stack([g * (F(1) + F(0.2) * warm), g, g * (F(1) - F(0.2) * warm)], axis=-1)
        return from_linear(to_linear(rgb, ctx.transfer) * gains, ctx.transfer)


@dataclass(frozen=True)
class Bloom(NeighbourhoodOp):
    """Bloom/glow: light above ``threshold`` (linear, 0..4) is blurred with a Gaussian of
    ``sigma_px`` (0..64 px of a 1080-line frame) and added back with ``strength`` 0..4,
    all in linear light.
    """

    threshold: float = 0.8
    sigma_px: float = 12.0
    strength: float = 0.0

    name = "bloom"
    RANGES = {"threshold": (0.0, 4.0), "sigma_px": (0.0, 64.0), "strength": (0.0, 4.0)}
    combine_function = "combine_bloom"
    kernel_source = "lighting.h"
    source_function = "op_bloom_bright"

    def is_identity(self) -> bool:
        return self.strength == 0.0 or self.sigma_px == 0.0

    def blur_sigma(self, ctx):
        return self.sigma_px * ctx.scale

    def params(self, ctx):
        return as_f32([self.threshold, self.strength])

    def source_reference(self, rgb, ctx):
        """The bright pass: max(linear - threshold, 0) per channel."""
        return np.maximum(to_linear(rgb, ctx.transfer) - self.params(ctx)[0], F(0))

    def combine_reference(self, sharp, blurred, ctx):
        return from_linear(to_linear(sharp, ctx.transfer) + self.params(ctx)[1] * blurred, ctx.transfer)
