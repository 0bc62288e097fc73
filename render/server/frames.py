"""Frame encodings for the preview server: :func:`encode_frame` turns a graded frame into a reply
payload (raw RGB, PNG or JPEG), :func:`resize` scales it down first."""

import cv2
import numpy as np

from render.server.protocol import ProtocolError


def scaled_size(width: int, height: int, scale: float | None, max_width: int | None) -> tuple[int, int]:
    """The output size for ``scale`` (0 < scale <= 1) or ``max_width`` px (never enlarges); at least 1x1."""
    factor = 1.0
    if scale is not None:
        factor = min(factor, scale)
    if max_width is not None:
        factor = min(factor, max_width / width)
    return max(1, round(width * factor)), max(1, round(height * factor))


def resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``rgb`` scaled to ``size`` = (width, height) by pixel-area averaging (no-op at the same size)."""
    if (rgb.shape[1], rgb.shape[0]) == size:
        return rgb
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def encode_frame(rgb: np.ndarray, fmt: str, quality: int = 90) -> bytes | memoryview:
    """``rgb`` (HxWx3 uint8 or uint16) as ``fmt`` bytes.

    ``rgb``: row-major R, G, B samples (uint16 little-endian for deep frames); ``png``: 8- or
    16-bit PNG; ``jpeg``: 8-bit baseline JPEG at ``quality`` (1..100).
    """
    if fmt == "rgb":   # no copy for the usual contiguous little-endian frame
        return memoryview(np.ascontiguousarray(rgb, dtype=rgb.dtype.newbyteorder("<"))).cast("B")
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    if fmt == "png":
        ok, data = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    elif fmt == "jpeg":
        if bgr.dtype == np.uint16:
            bgr = (bgr >> 8).astype(np.uint8)
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    else:
        raise ProtocolError("bad_request", f"unknown frame format {fmt!r}")
    if not ok:
        raise ProtocolError("media", f"the frame could not be encoded as {fmt}")
    return data.tobytes()
