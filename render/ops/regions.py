"""Soft elliptical regions in normalised frame coordinates (faces, focus areas).

Coordinates run 0..1 across the frame (x to the right, y downwards); radii are
fractions of the frame width (``radius_x``) and height (``radius_y``) before the
rotation by ``angle_deg``. The mask is 1 inside ``1 - feather`` of the radius and
falls smoothly (smoothstep) to 0 at the edge. Ops take at most
:data:`MAX_REGIONS` regions, passed as a fixed-size argument array so that a
changing count never recompiles a kernel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from render.ops.base import FrameContext, Op

MAX_REGIONS = 8
# cx, cy, cos/rx, sin/rx, cos/ry, sin/ry, feather (see ellipse_mask in kernels/common.h): the
# angle and radii folded on the host, so no pixel pays for a sine, a cosine or a division
ELLIPSE_FLOATS = 7


@dataclass(frozen=True)
class Ellipse(Op):
    """A soft ellipse: centre 0..1, radii 0.001..2 (frame fractions), angle -180..180 deg, feather 0.001..1."""

    center_x: float = 0.5
    center_y: float = 0.5
    radius_x: float = 0.25
    radius_y: float = 0.25
    angle_deg: float = 0.0
    feather: float = 0.5

    name = "ellipse"
    RANGES = {
        "center_x": (-1.0, 2.0), "center_y": (-1.0, 2.0),
        "radius_x": (0.001, 2.0), "radius_y": (0.001, 2.0),
        "angle_deg": (-180.0, 180.0), "feather": (0.001, 1.0),
    }

    def packed(self) -> list[float]:
        cos, sin = math.cos(math.radians(self.angle_deg)), math.sin(math.radians(self.angle_deg))
        return [self.center_x, self.center_y, cos / self.radius_x, sin / self.radius_x,
                cos / self.radius_y, sin / self.radius_y, self.feather]


_ANY_ELLIPSE = Ellipse()   # what pack_ellipses sizes a record's ``extra`` floats on


def check_regions(owner: str, name: str, regions) -> None:
    """Raise MoodgradeError unless ``regions`` is a tuple of at most MAX_REGIONS ellipses."""
    from render.errors import MoodgradeError
    if not isinstance(regions, tuple) or not all(isinstance(r, Ellipse) for r in regions):
        raise MoodgradeError(f"{owner}.{name} must be a tuple of ellipses, got {regions!r}")
    if len(regions) > MAX_REGIONS:
        raise MoodgradeError(f"{owner}.{name}: at most {MAX_REGIONS} regions are allowed, got {len(regions)}")


def pack_ellipses(ellipses, extra=lambda e: []) -> np.ndarray:
    """Count followed by MAX_REGIONS records of ellipse floats (+ ``extra(e)``), zero padded."""
    records = [e.packed() + list(extra(e)) for e in ellipses]
    width = ELLIPSE_FLOATS + len(extra(_ANY_ELLIPSE))
    out = np.zeros(1 + MAX_REGIONS * width, np.float32)
    out[0] = len(records)
    for i, rec in enumerate(records):
        out[1 + i * width: 1 + (i + 1) * width] = rec
    return out


def pixel_coords(ctx: FrameContext) -> tuple[np.ndarray, np.ndarray]:
    """Normalised pixel-centre coordinates (u, v) as float32 HxW arrays."""
    u = (np.arange(ctx.width, dtype=np.float32) + np.float32(0.5)) / np.float32(ctx.width)
    v = (np.arange(ctx.height, dtype=np.float32) + np.float32(0.5)) / np.float32(ctx.height)
    return np.broadcast_to(u[None, :], (ctx.height, ctx.width)), np.broadcast_to(v[:, None], (ctx.height, ctx.width))


def smoothstep(e0, e1, v):
    t = np.clip((v - np.float32(e0)) / np.float32(e1 - e0), 0, 1).astype(np.float32)
    return t * t * (np.float32(3) - np.float32(2) * t)


def ellipse_mask(record: np.ndarray, ctx: FrameContext) -> np.ndarray:
    """Reference of ``ellipse_mask`` in kernels/common.h for one packed record: HxW float32 in 0..1."""
    cx, cy, cos_rx, sin_rx, cos_ry, sin_ry, feather = (np.float32(x) for x in record[:ELLIPSE_FLOATS])
    u, v = pixel_coords(ctx)
    du, dv = u - cx, v - cy
    a = du * cos_rx + dv * sin_rx          # along the rotated x axis, in radii
    b = dv * cos_ry - du * sin_ry
    d = np.sqrt(a * a + b * b)
    return np.float32(1) - smoothstep(np.float32(1) - feather, np.float32(1), d)
