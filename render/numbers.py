"""Numbers in the precision the kernels use.

The grade runs in float32 on every backend (NumPy reference, OpenCL, CUDA). A
value that is finite as a Python float (float64) but beyond float32's range
(about 3.4e38) turns into infinity on the device, and from there into a flat or
black picture; values are therefore checked here, once, as float32.
"""

from __future__ import annotations

import math

import numpy as np

from render.errors import MoodgradeError

FLOAT32_MAX = float(np.finfo(np.float32).max)    # 3.4028235e38


def is_float32_finite(value) -> bool:
    """True when ``value`` (a real number, bools excluded) is finite in float32.

    Domain: any object. Range: bool; never raises (huge ints, strings, NaN give False).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    try:
        as_float = float(value)
    except OverflowError:                           # an int beyond float64
        return False
    return math.isfinite(as_float) and abs(as_float) <= FLOAT32_MAX


def float32_value(value, what: str, error: type[MoodgradeError] = MoodgradeError) -> float:
    """``value`` as a Python float, refused with one line unless it is a number finite in float32.

    Domain: any object. Range: a float with ``|x| <= FLOAT32_MAX``. ``what`` names the
    value in the message (e.g. ``"CDL saturation"``).
    """
    if not is_float32_finite(value):
        raise error(f"{what} must be a number (finite, within float32's range |x| <= 3.4e38), "
                    f"got {_short(value)}")
    return float(value)


def float32_array(values, what: str, error: type[MoodgradeError] = MoodgradeError) -> np.ndarray:
    """``values`` (a number or a nested sequence of numbers) as a float64 array, refused with one
    line unless every entry is a number finite in float32 (the values keep their float64
    precision; the kernels round them once).

    Range: a float64 ndarray, every entry finite with ``|x| <= FLOAT32_MAX``.
    """
    try:
        wide = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise error(f"{what} must hold numbers, got {_short(values)}") from None
    if not np.all(np.isfinite(wide)) or (wide.size and np.max(np.abs(wide)) > FLOAT32_MAX):
        raise error(f"{what} must hold finite numbers within float32's range (|x| <= 3.4e38)")
    return wide


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
