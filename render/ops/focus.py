"""Focus ops, all neighbourhood ops on display values: Gaussian blur, unsharp-mask
sharpening and depth of field (sharp and blurred blended by a soft mask of focus
ellipses and a tilt-shift band). ``sigma_px`` is the Gaussian's standard deviation
in pixels of a 1080-line frame, scaled to the real height. Device code:
``kernels/focus.h`` (the separable blur passes and the combine steps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from render.ops.base import FrameContext, NeighbourhoodOp, as_f32
from render.ops.regions import ELLIPSE_FLOATS, Ellipse, check_regions, ellipse_mask, pack_ellipses, pixel_coords, smoothstep

F = np.float32


def blur_pass_reference(rgb: np.ndarray, weights: np.ndarray, direction: str) -> np.ndarray:
    """One direction ("h" or "v") of the separable Gaussian, edges clamped; same order of sums as the kernels."""
    r = len(weights) - 1
    axis = 1 if direction == "h" else 0
    n = rgb.shape[axis]
    pad = [(0, 0)] * 3
    pad[axis] = (r, r)
    p = np.pad(rgb, pad, mode="edge")
    take = (lambda s: p[:, s]) if axis == 1 else (lambda s: p[s])
    acc = rgb * weights[0]
    for k in range(1, r + 1):
        acc = acc + weights[k] * (take(slice(r - k, r - k + n)) + take(slice(r + k, r + k + n)))
    return acc.astype(F)


@dataclass(frozen=True)
class GaussianBlur(NeighbourhoodOp):
    """Gaussian blur, ``sigma_px`` 0..64 (px of a 1080-line frame)."""

    sigma_px: float = 0.0

    name = "blur"
    RANGES = {"sigma_px": (0.0, 64.0)}
    combine_function = "combine_blur"

    def is_identity(self) -> bool:
        return self.sigma_px == 0.0

    def blur_sigma(self, ctx):
        return self.sigma_px * ctx.scale

    def combine_reference(self, sharp, blurred, ctx):
        return blurred


@dataclass(frozen=True)
class Unsharp(NeighbourhoodOp):
    """Unsharp-mask sharpening: ``v + amount * (v - blur(v))``; ``sigma_px`` 0..64, amount 0..5."""

    sigma_px: float = 1.0
    amount: float = 0.0

    name = "unsharp"
    RANGES = {"sigma_px": (0.0, 64.0), "amount": (0.0, 5.0)}
    combine_function = "combine_unsharp"

    def is_identity(self) -> bool:
        return self.amount == 0.0 or self.sigma_px == 0.0

    def blur_sigma(self, ctx):
        return self.sigma_px * ctx.scale

    def params(self, ctx):
        return as_f32([self.amount])

    def combine_reference(self, sharp, blurred, ctx):
        return sharp + (sharp - blurred) * self.params(ctx)[0]


@dataclass(frozen=True)
class DepthOfField(NeighbourhoodOp):
    """Depth of field: blurred (``sigma_px`` 0..64) outside the in-focus regions.

    In focus: up to 8 soft ``focus_regions`` (ellipses) and a tilt-shift band
    (centre ``band_center_y`` 0..1, half height ``band_half_height`` 0..1 of the
    frame height, 0 = no band; ``band_feather`` 0.001..1 of the half height;
    ``band_angle_deg`` -90..90). The focus mask is the largest of them.
    """

    sigma_px: float = 0.0
    focus_regions: tuple[Ellipse, ...] = ()
    band_center_y: float = 0.5
    band_half_height: float = 0.0
    band_feather: float = 0.5
    band_angle_deg: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        check_regions(self.name, "focus_regions", self.focus_regions)

    name = "depth_of_field"
    RANGES = {"sigma_px": (0.0, 64.0), "band_center_y": (0.0, 1.0), "band_half_height": (0.0, 1.0),
              "band_feather": (0.001, 1.0), "band_angle_deg": (-90.0, 90.0)}
    combine_function = "combine_depth_of_field"

    def is_identity(self) -> bool:
        return self.sigma_px == 0.0

    def blur_sigma(self, ctx):
        return self.sigma_px * ctx.scale

    def params(self, ctx):
        a = math.radians(self.band_angle_deg)
        band = [self.band_center_y, self.band_half_height, self.band_feather,
                math.sin(a) * ctx.width / ctx.height, math.cos(a)]
        return np.concatenate([as_f32(band), pack_ellipses(self.focus_regions)])

    def focus_mask(self, ctx: FrameContext) -> np.ndarray:
        """Reference of the in-focus mask, HxWx1 in 0..1."""
        p = self.params(ctx)
        cy, half, feather, sx, cx = p[:5]
        u, v = pixel_coords(ctx)
        mask = np.zeros((ctx.height, ctx.width), F)
        if half > 0:
            dist = np.abs((u - F(0.5)) * sx + (v - cy) * cx)
            mask = F(1) - smoothstep(half * (F(1) - feather), half, dist)
        regions = p[5:]
        for i in range(int(regions[0])):
            rec = regions[1 + i * ELLIPSE_FLOATS: 1 + (i + 1) * ELLIPSE_FLOATS]
            mask = np.maximum(mask, ellipse_mask(rec, ctx))
        return mask[..., None]

    def combine_reference(self, sharp, blurred, ctx):
        return blurred + (sharp - blurred) * self.focus_mask(ctx)
