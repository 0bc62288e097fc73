"""Frame storage and frame encodings for the preview server.

:class:`FrameCache` is a thread-safe LRU bounded in bytes. :func:`encode_frame`
turns a graded frame into a reply payload: raw RGB, PNG or JPEG, optionally
scaled down first.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import cv2
import numpy as np

from render.io.source import VideoFrame
from render.server.protocol import ProtocolError


class FrameCache:
    """Least-recently-used frames (:class:`VideoFrame`), at most ``capacity_bytes`` of pixels in total."""

    def __init__(self, capacity_bytes: int):
        self.capacity_bytes = max(0, int(capacity_bytes))
        self._items: OrderedDict[Hashable, VideoFrame] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> VideoFrame | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def put(self, key: Hashable, value: VideoFrame) -> None:
        """Store ``value`` (its pixels must not be modified afterwards); evicts the oldest entries to fit."""
        if value.rgb.nbytes > self.capacity_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.rgb.nbytes
            self._items[key] = value
            self._bytes += value.rgb.nbytes
            while self._bytes > self.capacity_bytes:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= evicted.rgb.nbytes

    def discard(self, keep: Callable[[Hashable], bool]) -> None:
        """Drop every entry whose key ``keep(key)`` rejects."""
        with self._lock:
            for key in [k for k in self._items if not keep(k)]:
                self._bytes -= self._items.pop(key).rgb.nbytes

    @property
    def size_bytes(self) -> int:
        return self._bytes


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
