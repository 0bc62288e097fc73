"""Film grain: seeded noise, blurred to the grain's size, added to display values.

Per pixel and frame, four approximately Gaussian noise values come from a counter-based
hash of (seed, frame, pixel): no state, the same bits on every machine and backend, any
frame rendered alone. They are mixed into three channels (``chroma`` 0 gives the same
noise in all three), blurred by a Gaussian of the grain size, and normalised back to unit
variance at every pixel, so that ``amount`` means the same at every size and the grain is
as strong at the frame's edges as inside. Device code: ``kernels/grain.h``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from render.ops.base import FrameContext, NeighbourhoodOp, as_f32, gaussian_weights
from render.ops.colour import luma709

F = np.float32
EDGE_FACTORS = 64  # distances to the frame's edge with their own normalisation (kernels/grain.h)


def hash32(x: np.ndarray) -> np.ndarray:
    """lowbias32 integer hash (Chris Wellons), uint32 -> uint32; ``hash32`` in kernels/common.h."""
    x = np.asarray(x, np.uint32).copy()
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


def grain_noise(base: np.ndarray, stream: int) -> np.ndarray:
    """Approximately unit-Gaussian noise: sum of four 16-bit uniforms from two hashes, centred and scaled."""
    h1 = hash32(base + np.uint32(2 * stream + 1))
    h2 = hash32(base + np.uint32(2 * stream + 2))
    m = np.uint32(0xFFFF)
    s = (h1 & m) + (h1 >> np.uint32(16)) + (h2 & m) + (h2 >> np.uint32(16))
    return (s.astype(F) * F(1.0 / 65536.0) - F(2)) * F(1.7320508)


@lru_cache(maxsize=32)
def edge_factors(sigma_px: float) -> np.ndarray:
    """1 / standard deviation of unit white noise blurred in one direction by the Gaussian of
    ``sigma_px`` (px of this frame; the plan's weights, edges clamped), for pixels
    0..EDGE_FACTORS-1 from the nearest edge (the last entry serves every pixel further in).
    The taps that fall off the edge all read the edge pixel, so near it the noise is less
    averaged out: 1.4x stronger at the edge for a 1 px blur. Frames narrower than twice the
    blur radius are treated as if only the nearest edge clamped.
    """
    weights = gaussian_weights(sigma_px)
    full = np.concatenate([weights[:0:-1], weights]).astype(np.float64)  # offsets -R..R
    r = len(weights) - 1
    out = np.empty(EDGE_FACTORS, np.float64)
    for d in range(EDGE_FACTORS):
        cut = max(r - d + 1, 0)  # offsets -R..-d fall on the edge pixel
        out[d] = 1.0 / np.sqrt(full[:cut].sum() ** 2 + (full[cut:] ** 2).sum())
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class FilmGrain(NeighbourhoodOp):
    """Film grain on display values, the same on every machine and backend.

    ``amount`` 0..1 (1 = standard deviation 0.1 at mid-grey, less towards black and white,
    at every size), ``size_px`` 0..4 (standard deviation of the grain's blur in px of a
    1080-line frame, scaled to the frame: the same grain at every resolution; 0 = one pixel's
    noise), ``chroma`` 0..1 (0 = monochrome grain), ``seed`` 0..2**32-1.
    """

    amount: float = 0.0
    size_px: float = 1.0
    chroma: float = 0.0
    seed: int = 0

    name = "film_grain"
    params_use_frame_index = True
    RANGES = {"amount": (0.0, 1.0), "size_px": (0.0, 4.0), "chroma": (0.0, 1.0), "seed": (0, 2**32 - 1)}
    combine_function = "combine_film_grain"
    source_function = "op_grain_noise"
    kernel_source = "grain.h"

    def __post_init__(self):
        if not isinstance(self.seed, int):
            from render.errors import MoodgradeError
            raise MoodgradeError(f"film_grain.seed must be an integer, got {self.seed!r}")
        super().__post_init__()

    def is_identity(self) -> bool:
        return self.amount == 0.0

    def blur_sigma(self, ctx: FrameContext) -> float:
        return self.size_px * ctx.scale

    def frame_key(self, frame_index: int) -> int:
        """The hash key of one frame: hash32(hash32(seed) + frame_index) (32-bit wrap)."""
        h = int(hash32(np.array([self.seed]))[0])
        return int(hash32(np.array([(h + frame_index) & 0xFFFFFFFF]))[0])

    def params(self, ctx):
        """[0.1 * amount, chroma, frame key low 16 bits, high 16 bits, EDGE_FACTORS edge factors]."""
        key = self.frame_key(ctx.frame_index)
        factors = edge_factors(self.blur_sigma(ctx))
        return as_f32([0.1 * self.amount, self.chroma, key & 0xFFFF, key >> 16, factors])

    def source_reference(self, rgb, ctx):
        """The noise: per channel, luma noise moved towards the channel's own by ``chroma``."""
        p = self.params(ctx)
        key = np.uint32(int(p[2]) | (int(p[3]) << 16))
        pixel = np.arange(ctx.width * ctx.height, dtype=np.uint32).reshape(ctx.height, ctx.width)
        base = hash32(pixel ^ key)
        luma = grain_noise(base, 0)
        return np.stack([luma + (grain_noise(base, 1 + ch) - luma) * p[1] for ch in range(3)], axis=-1)

    def combine_reference(self, sharp, blurred, ctx):
        p = self.params(ctx)
        factors = p[4:]
        x, y = np.arange(ctx.width), np.arange(ctx.height)
        fx = factors[np.minimum(np.minimum(x, ctx.width - 1 - x), EDGE_FACTORS - 1)]
        fy = factors[np.minimum(np.minimum(y, ctx.height - 1 - y), EDGE_FACTORS - 1)]
        scale = fy[:, None] * (p[0] * fx[None, :])
        lum = np.clip(luma709(sharp), 0, 1)
        k = scale[..., None] * (F(4) * lum * (F(1) - lum))
        return (sharp + k * blurred).astype(F)
