"""One non-trivial example of every op, and a fused chain of all of them, for agreement tests.

Blur sizes are in px of a 1080-line frame: sigma_px 45 is a 1.5 px blur on the 36-line test frames.
"""

import numpy as np

from render.ops.cdl import CDL
from render.ops.colour import (Contrast, Curves, Exposure, HueRotate, LiftGammaGain, Saturation, SplitTone, Vibrance,
                               WhiteBalance)
from render.ops.focus import DepthOfField, GaussianBlur, Unsharp
from render.ops.grain import FilmGrain
from render.ops.lighting import Bloom, HighlightRolloff, Relight, RelightRegion, Vignette
from render.ops.lut import Lut1D, Lut3D
from render.ops.regions import Ellipse
from render.ops.soft_clip import SoftClip


def _lut_table(n: int) -> np.ndarray:
    rng = np.random.default_rng(5)
    grid = np.stack(np.meshgrid(*[np.linspace(0, 1, n)] * 3, indexing="ij"), axis=-1)
    warm = grid ** np.array([0.9, 1.0, 1.2]) + 0.03 * rng.standard_normal(grid.shape)
    return warm.astype(np.float32)


LUT_TABLE = _lut_table(17)

OP_EXAMPLES = {
    "exposure": Exposure(exposure_ev=0.7),
    "white_balance": WhiteBalance(temperature_k=4300.0, tint=0.2),
    "lift_gamma_gain": LiftGammaGain(lift=(0.05, 0.0, -0.03), gamma=(1.1, 0.9, 1.0), gain=(1.1, 1.0, 0.95),
                                     offset=(0.0, 0.01, 0.02)),
    "contrast": Contrast(contrast=1.4, pivot=0.4),
    "saturation": Saturation(saturation=1.6),
    "vibrance": Vibrance(vibrance=0.6),
    "hue_rotate": HueRotate(hue_deg=25.0),
    "split_tone": SplitTone(shadow_hue_deg=210.0, shadow_saturation=0.6, highlight_hue_deg=35.0,
                            highlight_saturation=0.5, balance=0.2),
    "curves": Curves(master=((0.0, 0.0), (0.25, 0.2), (0.75, 0.82), (1.0, 1.0)),
                     blue=((0.0, 0.05), (1.0, 0.95))),
    "film_grain": FilmGrain(amount=0.6, size_px=4.0, chroma=0.4, seed=1234),
    "vignette": Vignette(amount=0.6, radius=0.3, feather=0.6, roundness=0.5),
    "highlight_rolloff": HighlightRolloff(knee=0.5, strength=0.9),
    "soft_clip": SoftClip(black_width=0.1, white_width=0.15, gamut_width=0.3),
    "relight": Relight(regions=(RelightRegion(center_x=0.3, center_y=0.4, radius_x=0.2, radius_y=0.3,
                                              angle_deg=20.0, feather=0.6, exposure_ev=1.0, warmth=0.5),
                                RelightRegion(center_x=0.7, center_y=0.6, radius_x=0.3, radius_y=0.2,
                                              feather=0.3, exposure_ev=-0.5, warmth=-0.3))),
    "lut1d": Lut1D(np.stack([np.linspace(0, 1, 33) ** p for p in (0.8, 1.0, 1.25)], axis=1).astype(np.float32)),
    "lut1d_mix": Lut1D(np.stack([np.linspace(0, 1, 33) ** p for p in (0.8, 1.0, 1.25)], axis=1).astype(np.float32),
                       mix=0.5),
    "lut3d_tetrahedral": Lut3D(LUT_TABLE),
    "lut3d_trilinear": Lut3D(LUT_TABLE, interpolation="trilinear"),
    "lut3d_tetrahedral_mix": Lut3D(LUT_TABLE, mix=0.6),
    "lut3d_trilinear_mix": Lut3D(LUT_TABLE, interpolation="trilinear", mix=0.35),
    "cdl": CDL(slope=(1.1, 0.95, 1.0), offset=(0.01, 0.0, -0.02), power=(1.2, 1.0, 0.9), saturation=0.8),
    "blur": GaussianBlur(sigma_px=45.0),
    "unsharp": Unsharp(sigma_px=30.0, amount=1.2),
    "bloom": Bloom(threshold=0.3, sigma_px=60.0, strength=1.5),
    "depth_of_field": DepthOfField(sigma_px=64.0, focus_regions=(Ellipse(0.4, 0.5, 0.2, 0.3, 10.0, 0.5),),
                                   band_center_y=0.7, band_half_height=0.1, band_feather=0.5,
                                   band_angle_deg=15.0),
}

# every op once, neighbourhood ops between colour ops (several passes, intermediates, epilogues)
FUSED_CHAIN = tuple(OP_EXAMPLES[name] for name in (
    "white_balance", "exposure", "lift_gamma_gain", "cdl", "lut1d", "lut3d_tetrahedral", "bloom", "contrast",
    "saturation", "vibrance", "soft_clip", "hue_rotate", "split_tone", "curves", "relight", "highlight_rolloff",
    "depth_of_field", "lut3d_trilinear", "vignette", "unsharp", "blur", "film_grain"))


def sample_frame(dtype, height=36, width=61, seed=0) -> np.ndarray:
    """Random pixels on top, ramps below (every code value of the grey ramp and each channel)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0.0, 1.0, width, dtype=np.float32)
    rows = [np.stack([ramp, ramp, ramp], -1), np.stack([ramp, ramp[::-1], ramp * 0.5], -1),
            np.stack([ramp * 0, ramp, ramp[::-1]], -1)]
    values = rng.random((height, width, 3), dtype=np.float32)
    values[-len(rows) * 4:] = np.repeat(np.stack(rows), 4, axis=0)
    if dtype == np.float32:
        return values
    top = 255 if dtype == np.uint8 else 65535
    return np.floor(values * top + 0.5).astype(dtype)


def full_ramp_u8() -> np.ndarray:
    """All 256 grey codes and all 256 codes per channel in a 4x256 frame."""
    v = np.arange(256, dtype=np.uint8)
    z = np.zeros_like(v)
    return np.stack([np.stack([v, v, v], -1), np.stack([v, z, z], -1), np.stack([z, v, z], -1),
                     np.stack([z, z, v], -1)])
