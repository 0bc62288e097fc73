"""ASC CDL v1.2 (slope, offset, power, saturation) and its NumPy reference.

The ASC Color Decision List v1.2 defines, per channel on display-referred values,

    out = clamp(in * slope + offset) ** power          (clamp to [0, 1])
    luma = 0.2126 R + 0.7152 G + 0.0722 B              (Rec.709 weights)
    out = clamp(luma + saturation * (out - luma))

which is what OpenColorIO's ``CDLTransform`` computes in its default (ASC) style.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from render.errors import MoodgradeError

REC709_LUMA = (0.2126, 0.7152, 0.0722)


class CdlError(MoodgradeError):
    """A colour decision that cannot be used: a malformed CDL file or out-of-range values."""


def _triple(value, name: str) -> tuple[float, float, float]:
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size != 3 or not np.all(np.isfinite(arr)):
        raise CdlError(f"CDL {name} must be three finite numbers, got {value!r}")
    return tuple(float(v) for v in arr)


@dataclass(frozen=True)
class CDL:
    """One ASC CDL colour correction.

    ``slope`` >= 0 (identity 1), ``offset`` any (identity 0), ``power`` > 0
    (identity 1), each per R, G, B; ``saturation`` >= 0 (identity 1).
    """

    slope: tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    power: tuple[float, float, float] = (1.0, 1.0, 1.0)
    saturation: float = 1.0

    def __post_init__(self):
        for name in ("slope", "offset", "power"):
            object.__setattr__(self, name, _triple(getattr(self, name), name))
        if min(self.slope) < 0:
            raise CdlError(f"CDL slope must be >= 0, got {self.slope}")
        if min(self.power) <= 0:
            raise CdlError(f"CDL power must be > 0, got {self.power}")
        saturation = float(self.saturation)
        if not np.isfinite(saturation) or saturation < 0:
            raise CdlError(f"CDL saturation must be a finite number >= 0, got {self.saturation!r}")
        object.__setattr__(self, "saturation", saturation)

    def apply_reference(self, rgb: np.ndarray) -> np.ndarray:
        """Apply the correction with the standard's clamping.

        ``rgb``: float array (..., 3), any values (NaN counts as 0). Returns
        float32 (..., 3) in [0, 1].
        """
        x = np.asarray(rgb, dtype=np.float32)
        sop = x * np.float32(self.slope) + np.float32(self.offset)
        sop = np.fmin(np.fmax(sop, np.float32(0.0)), np.float32(1.0))  # fmax/fmin drop NaN
        sop = sop ** np.float32(self.power)
        luma = (sop @ np.float32(REC709_LUMA))[..., None]
        out = luma + np.float32(self.saturation) * (sop - luma)
        return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)
