"""YUV4MPEG2 (y4m) output: the uncompressed stream FFmpeg, ffplay and mpv read as it is.

As VapourSynth's ``vspipe`` does: one header line
``YUV4MPEG2 W<w> H<h> F<num>:<den> Ip A1:1 C<chroma> XCOLORRANGE=LIMITED``, then per frame
``FRAME\\n`` and the Y', Cb, Cr planes. R'G'B' (full range) becomes limited-range Y'CbCr with
the BT.601 or BT.709 matrix; y4m cannot name the matrix, so ``auto`` chooses it the way players
guess it for untagged video (BT.709 from 720 lines up, BT.601 below).
"""

from fractions import Fraction

import cv2
import numpy as np

CHROMAS = ("444", "420jpeg", "420mpeg2")
MATRICES = ("auto", "bt601", "bt709")
_LUMA_WEIGHTS = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}   # (Kr, Kb)


def choose_matrix(matrix: str, height_px: int) -> str:
    """``bt601`` or ``bt709``; ``auto`` picks BT.709 for 720 lines or more."""
    if matrix == "auto":
        return "bt709" if height_px >= 720 else "bt601"
    return matrix


def _conversion(matrix: str, peak: float) -> np.ndarray:
    """3x4 affine matrix: full-range R'G'B' in 0..peak -> limited-range Y'CbCr in 0..peak (float)."""
    kr, kb = _LUMA_WEIGHTS[matrix]
    kg = 1.0 - kr - kb
    unit = (peak + 1) / 256                       # 1 for 8-bit, 256 for 16-bit code values
    luma = np.array([kr, kg, kb])
    cb = (np.array([0.0, 0.0, 1.0]) - luma) / (2 * (1 - kb))
    cr = (np.array([1.0, 0.0, 0.0]) - luma) / (2 * (1 - kr))
    rows = [219 * unit / peak * luma, 224 * unit / peak * cb, 224 * unit / peak * cr]
    offsets = [16 * unit, 128 * unit, 128 * unit]
    return np.array([[*r, o] for r, o in zip(rows, offsets)], dtype=np.float32)


def _subsample(plane: np.ndarray, chroma: str) -> np.ndarray:
    """Half-size chroma: ``420jpeg`` centred (2x2 mean); ``420mpeg2`` co-sited left ([1 2 1]/4, then rows paired)."""
    if plane.shape[0] % 2 or plane.shape[1] % 2:
        plane = cv2.copyMakeBorder(plane, 0, plane.shape[0] % 2, 0, plane.shape[1] % 2, cv2.BORDER_REPLICATE)
    if chroma == "420mpeg2":
        padded = cv2.copyMakeBorder(plane, 0, 0, 1, 1, cv2.BORDER_REPLICATE)
        plane = (padded[:, 0:-2:2] + 2 * padded[:, 1:-1:2] + padded[:, 2::2]) / 4
        return (plane[0::2] + plane[1::2]) / 2
    return (plane[0::2, 0::2] + plane[0::2, 1::2] + plane[1::2, 0::2] + plane[1::2, 1::2]) / 4


def rgb_to_ycbcr(rgb: np.ndarray, matrix: str = "bt709", chroma: str = "444") -> list[np.ndarray]:
    """Full-range R'G'B' (HxWx3 uint8 or uint16) -> [Y', Cb, Cr] limited-range planes, same dtype.

    ``matrix``: ``bt601`` or ``bt709``. ``chroma``: ``444`` (full-size Cb, Cr) or ``420jpeg`` /
    ``420mpeg2`` (ceil(W/2) x ceil(H/2)). Values are rounded to the nearest code value.
    """
    peak = float(np.iinfo(rgb.dtype).max)
    yuv = cv2.transform(rgb.astype(np.float32), _conversion(matrix, peak))
    planes = [yuv[..., 0], yuv[..., 1], yuv[..., 2]]
    if chroma != "444":
        planes[1:] = [_subsample(p, chroma) for p in planes[1:]]
    return [np.clip(np.rint(p), 0, peak).astype(rgb.dtype) for p in planes]


def y4m_colourspace(chroma: str, deep: bool) -> str:
    """The y4m ``C`` tag: 444, 420jpeg, 420mpeg2, or 444p16 / 420p16 for 16-bit samples."""
    if deep:
        return "444p16" if chroma == "444" else "420p16"
    return chroma


def y4m_header(width: int, height: int, frame_rate: Fraction, chroma: str, deep: bool) -> bytes:
    """The stream header line; ``frame_rate`` in frames per second."""
    rate = Fraction(frame_rate).limit_denominator(1_000_000)
    return (f"YUV4MPEG2 W{width} H{height} F{rate.numerator}:{rate.denominator} Ip A1:1 "
            f"C{y4m_colourspace(chroma, deep)} XCOLORRANGE=LIMITED\n").encode()


def y4m_frame(rgb: np.ndarray, matrix: str, chroma: str) -> bytes:
    """One ``FRAME`` record: the marker and the planes (16-bit samples little-endian)."""
    planes = rgb_to_ycbcr(rgb, matrix, chroma)
    return b"FRAME\n" + b"".join(p.astype(p.dtype.newbyteorder("<"), copy=False).tobytes() for p in planes)
