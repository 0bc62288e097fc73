"""Soft clip: the last step of a look, keeping it inside the signal.

Strong looks push values past what the output can hold (contrast and crushed blacks below
0, bright saturated colours past 1, saturation boosts that drive one channel negative);
hard clipping flattens those pixels to pure black, white or a primary. ``SoftClip`` rolls
them back inside, as a colourist's soft clip and gamut compression do, and leaves
everything else exactly as it was:

- gamut: a channel below ``gamut_width`` times the pixel's largest channel is pulled
  towards it (the pixel towards the neutral axis, hue kept) and never reaches 0;
- white: a channel above ``1 - white_width`` rolls off towards 1 and never reaches it (so
  colours far past the top go towards white, as on film, not to a flat primary);
- black: a channel below ``black_width`` rolls off towards 0 and never reaches it.

Each uses :func:`soft_floor`, a shoulder with slope 1 where it starts and a slow tail: at
the widths every preset uses unless it says otherwise (:data:`LOOK_SOFT_CLIP`), black (0) comes out at 0.0047 (1.2 codes of 8 bits) and every value
down to -0.3 stays off code 0; white (1) comes out at 0.992 (253) and every value up to
about 5 stays off code 255. A width of 0 turns that part off. Device code: ``kernels/colour.h``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from render.ops.base import DISPLAY, PixelOp, as_f32

F = np.float32


def soft_floor(x: np.ndarray, width: float) -> np.ndarray:
    """``x`` where ``x >= width``; below, ``width * (1 + 4 (width - x) / width) ** -1/4``:
    continuous with slope 1 at ``width`` (0 < width <= 1), above 0 for every finite ``x``,
    increasing. float32 in and out, in the order the device computes it."""
    w, k = F(width), F(4.0 / width)
    q = np.maximum(F(1) + (w - x) * k, F(1))
    return np.where(x < w, w / np.sqrt(np.sqrt(q)), x).astype(F)


@dataclass(frozen=True)
class SoftClip(PixelOp):
    """Soft clip on display values (0..1): ``black_width``, ``white_width`` (0..0.25) and
    ``gamut_width`` (0..0.5, a share of the pixel's largest channel) set where each roll-off
    starts; 0 turns it off (see the module's text). The defaults change nothing."""

    black_width: float = 0.0
    white_width: float = 0.0
    gamut_width: float = 0.0

    name = "soft_clip"
    RANGES = {"black_width": (0.0, 0.25), "white_width": (0.0, 0.25), "gamut_width": (0.0, 0.5)}
    domain = DISPLAY
    device_function = "op_soft_clip"
    kernel_source = "colour.h"

    def is_identity(self) -> bool:
        return self.black_width == self.white_width == self.gamut_width == 0.0

    def params(self, ctx):
        return as_f32([w for width in (self.gamut_width, self.white_width, self.black_width)
                       for w in (width, 4.0 / width if width else 0.0)])

    def apply_reference(self, rgb, ctx):
        rgb = rgb.astype(F)
        if self.gamut_width:
            m = rgb.max(axis=2, keepdims=True)
            inv = F(1) / np.maximum(m, F(1e-30))
            ratio = rgb * inv
            pulled = m * soft_floor(ratio, self.gamut_width)
            rgb = np.where((m > 0) & (ratio < F(self.gamut_width)), pulled, rgb).astype(F)
        if self.white_width:
            rgb = F(1) - soft_floor(F(1) - rgb, self.white_width)
        if self.black_width:
            rgb = soft_floor(rgb, self.black_width)
        return rgb


LOOK_SOFT_CLIP = SoftClip(black_width=0.007, white_width=0.012, gamut_width=0.05)   # presets' default
