"""Colour ops: exposure, white balance, lift/gamma/gain/offset, contrast, saturation,
vibrance, hue rotation, split toning and 1D curves (film grain: render/ops/grain.py).

Domains: exposure and white balance work in linear light; everything else here
works on display-referred (encoded) values, the way colourists' controls do.
Device code: ``kernels/colour.h``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from render.ops.base import DISPLAY, LINEAR, PixelOp, apply_references, as_f32

F = np.float32
LUMA_709 = np.array([0.2126, 0.7152, 0.0722], np.float32)  # ITU-R BT.709-6 item 3.2


def luma709(rgb: np.ndarray) -> np.ndarray:
    """Rec.709 luma of float32 HxWx3 values, HxWx1 (same operation order as the kernels)."""
    return (F(0.2126) * rgb[..., 0:1] + F(0.7152) * rgb[..., 1:2] + F(0.0722) * rgb[..., 2:3]).astype(F)


@dataclass(frozen=True)
class Exposure(PixelOp):
    """Exposure in stops (EV), -8..8, applied in linear light: multiplies by 2**exposure_ev."""

    exposure_ev: float = 0.0

    name = "exposure"
    RANGES = {"exposure_ev": (-8.0, 8.0)}
    domain = LINEAR
    device_function = "op_exposure"
    kernel_source = "colour.h"
    per_channel = True

    def is_identity(self) -> bool:
        return self.exposure_ev == 0.0

    def params(self, ctx):
        return as_f32([2.0 ** self.exposure_ev])

    def apply_reference(self, rgb, ctx):
        return rgb * self.params(ctx)[0]


def cct_to_xy(temperature_k: float) -> tuple[float, float]:
    """Chromaticity of a light of colour temperature 1667..25000 K.

    Kim et al. (2002) cubic-spline fit of the Planckian locus (the formula quoted
    under "Planckian locus" in Wikipedia and used by colour-science's
    ``CCT_to_xy_Kang2002``).
    """
    t = float(temperature_k)
    if t <= 4000:
        x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
    else:
        x = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
    if t <= 2222:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    return x, y


# XYZ -> linear Rec.709 RGB (D65), IEC 61966-2-1.
XYZ_TO_RGB709 = np.array([[3.2404542, -1.5371385, -0.4985314],
                          [-0.9692660, 1.8760108, 0.0415560],
                          [0.0556434, -0.2040259, 1.0572252]])


def xy_to_rgb709(x: float, y: float) -> np.ndarray:
    """Linear Rec.709 RGB of the chromaticity (x, y) at luminance Y = 1."""
    xyz = np.array([x / y, 1.0, (1.0 - x - y) / y])
    return XYZ_TO_RGB709 @ xyz


@dataclass(frozen=True)
class WhiteBalance(PixelOp):
    """White balance in linear light.

    ``temperature_k`` (2000..15000) is the colour temperature the picture is
    balanced *for*: 6504 leaves it alone, lower values cool the picture (as if
    correcting tungsten light), higher values warm it. ``tint`` (-1..1) moves along
    green (negative) to magenta (positive). Gains keep the Rec.709 luminance of white.
    """

    temperature_k: float = 6504.0
    tint: float = 0.0

    name = "white_balance"
    RANGES = {"temperature_k": (2000.0, 15000.0), "tint": (-1.0, 1.0)}
    domain = LINEAR
    device_function = "op_white_balance"
    kernel_source = "colour.h"
    per_channel = True

    def is_identity(self) -> bool:
        return self.temperature_k == 6504.0 and self.tint == 0.0

    def gains(self) -> np.ndarray:
        """Per-channel linear gains (float64, 3)."""
        neutral = xy_to_rgb709(*cct_to_xy(6504.0))
        source = xy_to_rgb709(*cct_to_xy(self.temperature_k))
        g = neutral / source
        g = g * np.array([1.0, 2.0 ** (-0.5 * self.tint), 1.0])
        return g / float(LUMA_709.astype(np.float64) @ g)

    def params(self, ctx):
        return as_f32(self.gains())

    def apply_reference(self, rgb, ctx):
        return rgb * self.params(ctx)


def _rgb3(owner, name, value):
    if not (isinstance(value, tuple) and len(value) == 3):
        from render.errors import MoodgradeError
        raise MoodgradeError(f"{owner}.{name} must be three numbers (r, g, b), got {value!r}")


@dataclass(frozen=True)
class LiftGammaGain(PixelOp):
    """Lift / gamma / gain / offset per channel on display values.

    ``out = (gain * (v + lift * (1 - v))) ** (1 / gamma) + offset``; lift -1..1,
    gamma 0.1..10, gain 0..8, offset -1..1, each an (r, g, b) tuple.
    """

    lift: tuple[float, float, float] = (0.0, 0.0, 0.0)
    gamma: tuple[float, float, float] = (1.0, 1.0, 1.0)
    gain: tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)

    name = "lift_gamma_gain"
    RANGES = {"lift": (-1.0, 1.0), "gamma": (0.1, 10.0), "gain": (0.0, 8.0), "offset": (-1.0, 1.0)}
    domain = DISPLAY
    device_function = "op_lift_gamma_gain"
    kernel_source = "colour.h"
    per_channel = True

    def __post_init__(self):
        for n in ("lift", "gamma", "gain", "offset"):
            _rgb3(self.name, n, getattr(self, n))
        super().__post_init__()

    def is_identity(self) -> bool:
        return (self.lift, self.gamma, self.gain, self.offset) == ((0.0,) * 3, (1.0,) * 3, (1.0,) * 3, (0.0,) * 3)

    def params(self, ctx):
        return as_f32([self.lift, [1.0 / g for g in self.gamma], self.gain, self.offset])

    def apply_reference(self, rgb, ctx):
        p = self.params(ctx)
        lift, inv_gamma, gain, offset = p[0:3], p[3:6], p[6:9], p[9:12]
        v = gain * (rgb + lift * (F(1) - rgb))
        return np.power(np.maximum(v, F(0)), inv_gamma) + offset


@dataclass(frozen=True)
class Contrast(PixelOp):
    """Contrast 0..4 about ``pivot`` (0.01..0.99) on display values: ``pivot + (v - pivot) * contrast``."""

    contrast: float = 1.0
    pivot: float = 0.5

    name = "contrast"
    RANGES = {"contrast": (0.0, 4.0), "pivot": (0.01, 0.99)}
    domain = DISPLAY
    device_function = "op_contrast"
    kernel_source = "colour.h"
    per_channel = True

    def is_identity(self) -> bool:
        return self.contrast == 1.0

    def params(self, ctx):
        return as_f32([self.contrast, self.pivot])

    def grey_affine(self, ctx) -> tuple[float, float, float]:
        """(a, b, g) of this op as a c + b Y(c) + g (see GreyAffine)."""
        return self.contrast, 0.0, self.pivot * (1.0 - self.contrast)

    def apply_reference(self, rgb, ctx):
        c, pivot = self.params(ctx)
        return pivot + (rgb - pivot) * c


@dataclass(frozen=True)
class Saturation(PixelOp):
    """Saturation 0..4 (0 = grey, 1 = unchanged) about Rec.709 luma, on display values."""

    saturation: float = 1.0

    name = "saturation"
    RANGES = {"saturation": (0.0, 4.0)}
    domain = DISPLAY
    device_function = "op_saturation"
    kernel_source = "colour.h"

    def is_identity(self) -> bool:
        return self.saturation == 1.0

    def params(self, ctx):
        return as_f32([self.saturation])

    def grey_affine(self, ctx) -> tuple[float, float, float]:
        """(a, b, g) of this op as a c + b Y(c) + g (see GreyAffine)."""
        return self.saturation, 1.0 - self.saturation, 0.0

    def apply_reference(self, rgb, ctx):
        y = luma709(rgb)
        return y + (rgb - y) * self.params(ctx)[0]


@dataclass(frozen=True)
class GreyAffine(PixelOp):
    """A run of contrast and saturation ops folded into one step (the planner makes these):
    ``a c + b Y(c) + g`` on display values, Y the Rec.709 luma, a form closed under composition
    (the luma of ``a c + b Y + g`` is ``(a + b) Y + g``). One step costs 7 instructions a pixel
    where a contrast and a saturation cost 10; the reference runs the ops themselves."""

    steps: tuple[PixelOp, ...] = ()
    domain = DISPLAY
    device_function = "op_grey_affine"
    kernel_source = "colour.h"

    def structure(self):
        return ("GreyAffine",)

    def params(self, ctx):
        a, b, g = 1.0, 0.0, 0.0
        for step in self.steps:
            a2, b2, g2 = step.grey_affine(ctx)
            a, b, g = a2 * a, a2 * b + b2 * (a + b), (a2 + b2) * g + g2
        return as_f32([a, b, g])

    def apply_reference(self, rgb, ctx):
        return apply_references(self.steps, rgb, ctx)


@dataclass(frozen=True)
class Vibrance(PixelOp):
    """Vibrance -1..1: saturation change weighted towards muted colours.

    The factor is ``1 + vibrance * (1 - chroma)`` with chroma = max - min of the
    pixel (clamped 0..1), applied about Rec.709 luma on display values.
    """

    vibrance: float = 0.0

    name = "vibrance"
    RANGES = {"vibrance": (-1.0, 1.0)}
    domain = DISPLAY
    device_function = "op_vibrance"
    kernel_source = "colour.h"

    def is_identity(self) -> bool:
        return self.vibrance == 0.0

    def params(self, ctx):
        return as_f32([self.vibrance])

    def apply_reference(self, rgb, ctx):
        chroma = np.clip(rgb.max(axis=2, keepdims=True) - rgb.min(axis=2, keepdims=True), 0, 1)
        factor = F(1) + self.params(ctx)[0] * (F(1) - chroma)
        y = luma709(rgb)
        return y + (rgb - y) * factor


def hue_rotation_matrix(hue_deg: float) -> np.ndarray:
    """3x3 rotation about the grey axis (1,1,1)/sqrt(3) by ``hue_deg`` (Rodrigues' formula)."""
    a = math.radians(hue_deg)
    k = np.ones(3) / math.sqrt(3.0)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(a) * kx + (1 - math.cos(a)) * (kx @ kx)


def apply_matrix(rgb: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``m @ rgb`` per pixel in the kernels' operation order (m: 9 float32, row-major)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return np.stack([m[0] * r + m[1] * g + m[2] * b,
                     m[3] * r + m[4] * g + m[5] * b,
                     m[6] * r + m[7] * g + m[8] * b], axis=-1)


@dataclass(frozen=True)
class HueRotate(PixelOp):
    """Rotate hues by ``hue_deg`` (-180..180) about the grey axis, on display values (greys unchanged)."""

    hue_deg: float = 0.0

    name = "hue_rotate"
    RANGES = {"hue_deg": (-180.0, 180.0)}
    domain = DISPLAY
    device_function = "op_matrix"
    kernel_source = "colour.h"

    def is_identity(self) -> bool:
        return self.hue_deg == 0.0

    def params(self, ctx):
        return as_f32(hue_rotation_matrix(self.hue_deg))

    def apply_reference(self, rgb, ctx):
        return apply_matrix(rgb, self.params(ctx))


def hue_tint(hue_deg: float) -> np.ndarray:
    """Zero-mean RGB direction of a hue (0 = red, 120 = green, 240 = blue)."""
    h = (hue_deg % 360.0) / 60.0
    x = 1 - abs(h % 2 - 1)
    rgb = [(1, x, 0), (x, 1, 0), (0, 1, x), (0, x, 1), (x, 0, 1), (1, 0, x)][int(h) % 6]
    rgb = np.array(rgb, float)
    return rgb - rgb.mean()


@dataclass(frozen=True)
class SplitTone(PixelOp):
    """Split toning on display values: tint shadows and highlights with two hues.

    Hues in degrees (0..360), saturations 0..1 (1 shifts channels by up to 0.25),
    ``balance`` -1..1 moves the shadow/highlight split (positive: more highlights).
    The highlight weight is ``smoothstep(0, 1, luma + balance / 2)``.
    """

    shadow_hue_deg: float = 220.0
    shadow_saturation: float = 0.0
    highlight_hue_deg: float = 40.0
    highlight_saturation: float = 0.0
    balance: float = 0.0

    name = "split_tone"
    RANGES = {"shadow_hue_deg": (0.0, 360.0), "shadow_saturation": (0.0, 1.0),
              "highlight_hue_deg": (0.0, 360.0), "highlight_saturation": (0.0, 1.0),
              "balance": (-1.0, 1.0)}
    domain = DISPLAY
    device_function = "op_split_tone"
    kernel_source = "colour.h"

    def is_identity(self) -> bool:
        return self.shadow_saturation == 0.0 and self.highlight_saturation == 0.0

    def params(self, ctx):
        return as_f32([0.25 * self.shadow_saturation * hue_tint(self.shadow_hue_deg),
                       0.25 * self.highlight_saturation * hue_tint(self.highlight_hue_deg),
                       [0.5 * self.balance]])

    def apply_reference(self, rgb, ctx):
        p = self.params(ctx)
        from render.ops.regions import smoothstep
        w = smoothstep(0.0, 1.0, luma709(rgb) + p[6])
        return rgb + (F(1) - w) * p[0:3] + w * p[3:6]


CURVE_SAMPLES = 1024


def monotone_cubic(points: tuple[tuple[float, float], ...], x: np.ndarray) -> np.ndarray:
    """Fritsch-Carlson monotone cubic through ``points`` (sorted by x), flat beyond the ends."""
    px = np.array([p[0] for p in points], float)
    py = np.array([p[1] for p in points], float)
    if len(px) == 1:
        return np.full_like(x, py[0])
    d = np.diff(py) / np.diff(px)
    m = np.empty_like(py)
    m[0], m[-1] = d[0], d[-1]
    m[1:-1] = np.where(d[:-1] * d[1:] > 0, 2.0 / (1.0 / np.where(d[:-1] == 0, 1, d[:-1]) + 1.0 / np.where(d[1:] == 0, 1, d[1:])), 0.0)
    xc = np.clip(x, px[0], px[-1])
    i = np.clip(np.searchsorted(px, xc, side="right") - 1, 0, len(px) - 2)
    h = px[i + 1] - px[i]
    t = (xc - px[i]) / h
    h00, h10 = 2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t
    h01, h11 = -2 * t**3 + 3 * t**2, t**3 - t**2
    return h00 * py[i] + h10 * h * m[i] + h01 * py[i + 1] + h11 * h * m[i + 1]


IDENTITY_CURVE = ((0.0, 0.0), (1.0, 1.0))


@dataclass(frozen=True)
class Curves(PixelOp):
    """1D tone curves on display values: per-channel curves, then the master curve.

    Each curve is a tuple of (input, output) control points in 0..1 with strictly
    increasing inputs, interpolated by a monotone cubic; sampled into a
    1024-entry table per channel that the kernels read with linear interpolation.
    """

    master: tuple[tuple[float, float], ...] = IDENTITY_CURVE
    red: tuple[tuple[float, float], ...] = IDENTITY_CURVE
    green: tuple[tuple[float, float], ...] = IDENTITY_CURVE
    blue: tuple[tuple[float, float], ...] = IDENTITY_CURVE

    name = "curves"
    domain = DISPLAY
    device_function = "op_curves"
    kernel_source = "colour.h"
    per_channel = True

    def __post_init__(self):
        from render.errors import MoodgradeError
        for n in ("master", "red", "green", "blue"):
            pts = getattr(self, n)
            try:
                ok = len(pts) >= 2 and all(len(p) == 2 and all(0.0 <= float(v) <= 1.0 for v in p) for p in pts)
                ok = ok and all(pts[i][0] < pts[i + 1][0] for i in range(len(pts) - 1))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise MoodgradeError(f"curves.{n} must be 2 or more (x, y) points in [0, 1] with increasing x, got {pts!r}")
            object.__setattr__(self, n, tuple((float(x), float(y)) for x, y in pts))  # hashable, exact

    def structure(self):
        return ("Curves", CURVE_SAMPLES)

    def is_identity(self) -> bool:
        return all(getattr(self, n) == IDENTITY_CURVE for n in ("master", "red", "green", "blue"))

    def table(self, ctx=None):
        return _curve_table(self.master, self.red, self.green, self.blue)

    def apply_reference(self, rgb, ctx):
        return lookup_1d(rgb, self.table().reshape(-1, 3))


@lru_cache(maxsize=64)
def _curve_table(master, red, green, blue) -> np.ndarray:
    """CURVE_SAMPLES x 3 float32 table (flattened, [sample][channel]) of master(channel(x))."""
    x = np.linspace(0.0, 1.0, CURVE_SAMPLES)
    table = as_f32(np.stack([monotone_cubic(master, monotone_cubic(c, x)) for c in (red, green, blue)], axis=1))
    table.flags.writeable = False
    return table


def lookup_1d(rgb: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Per-channel linear interpolation in an (M, 3) table over 0..1 (inputs clamped), as ``lut1d`` in the kernels."""
    m = table.shape[0]
    out = np.empty_like(rgb)
    for ch in range(3):
        pos = np.clip(rgb[..., ch], 0, 1) * F(m - 1)
        i = np.minimum(np.floor(pos), F(m - 2)).astype(np.int32)
        f = pos - i.astype(F)
        a, b = table[i, ch], table[i + 1, ch]
        out[..., ch] = a + (b - a) * f
    return out
