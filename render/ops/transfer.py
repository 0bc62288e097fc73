"""Transfer functions between encoded (display-referred) values and linear light.

Video frames are decoded to linear light with the inverse of the ITU-R BT.709-6
OETF (``bt709_to_linear``; with the continuous constants alpha = 1.09929682680944,
beta = 0.018053968510807 of ITU-R BT.2020-2, which BT.709 rounds to 1.099 and
0.018, so that encode and decode are exact inverses), i.e. scene-linear light as the camera saw it; that is
the default for ``FrameContext.transfer``. Still images and computer graphics use
the IEC 61966-2-1 sRGB curve (``srgb_to_linear``). Both are exact inverse pairs;
negative inputs map to 0. The device versions live in ``kernels/common.h``.
"""

import numpy as np

ALPHA = np.float32(1.09929682681)
BETA = np.float32(0.018053968511)


def bt709_to_linear(v: np.ndarray) -> np.ndarray:
    """Inverse BT.709 OETF: encoded 0..1 -> scene-linear 0..1 (float32)."""
    v = np.maximum(np.asarray(v, np.float32), np.float32(0))
    hi = np.power((v + (ALPHA - 1)) / ALPHA, np.float32(1 / 0.45))
    return np.where(v < np.float32(0.081242859), v / np.float32(4.5), hi).astype(np.float32)


def bt709_from_linear(lin: np.ndarray) -> np.ndarray:
    """BT.709 OETF: scene-linear 0..1 -> encoded 0..1 (float32)."""
    lin = np.maximum(np.asarray(lin, np.float32), np.float32(0))
    hi = ALPHA * np.power(lin, np.float32(0.45)) - (ALPHA - 1)
    return np.where(lin < BETA, np.float32(4.5) * lin, hi).astype(np.float32)


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    """sRGB EOTF (IEC 61966-2-1): encoded 0..1 -> linear 0..1 (float32)."""
    v = np.maximum(np.asarray(v, np.float32), np.float32(0))
    hi = np.power((v + np.float32(0.055)) / np.float32(1.055), np.float32(2.4))
    return np.where(v <= np.float32(0.04045), v / np.float32(12.92), hi).astype(np.float32)


def srgb_from_linear(lin: np.ndarray) -> np.ndarray:
    """Inverse sRGB EOTF: linear 0..1 -> encoded 0..1 (float32)."""
    lin = np.maximum(np.asarray(lin, np.float32), np.float32(0))
    hi = np.float32(1.055) * np.power(lin, np.float32(1 / 2.4)) - np.float32(0.055)
    return np.where(lin <= np.float32(0.0031308), np.float32(12.92) * lin, hi).astype(np.float32)


TRANSFERS = {
    "bt709": (bt709_to_linear, bt709_from_linear),
    "srgb": (srgb_to_linear, srgb_from_linear),
}


def to_linear(v: np.ndarray, transfer: str) -> np.ndarray:
    """Decode with the named transfer function ("bt709" or "srgb")."""
    return TRANSFERS[transfer][0](v)


def from_linear(lin: np.ndarray, transfer: str) -> np.ndarray:
    """Encode with the named transfer function ("bt709" or "srgb")."""
    return TRANSFERS[transfer][1](lin)
