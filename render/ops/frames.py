"""Frame checks and the reference conversions between frames and float values.

Frames are HxWx3 interleaved RGB: uint8 (0..255), uint16 (full range 0..65535)
or float32 (nominally 0..1). Loading maps them to float32 0..1 (float frames:
NaN -> 0, clamped to 0..1); storing clamps to 0..1 (NaN -> 0) and rounds to the
nearest code value. These match ``load_*``/``store_*`` in kernels/common.h.
"""

from __future__ import annotations

import numpy as np

from render.errors import MoodgradeError

KINDS = {np.dtype(np.uint8): "u8", np.dtype(np.uint16): "u16", np.dtype(np.float32): "f32"}
SCALES = {"u8": 255.0, "u16": 65535.0}


def frame_kind(frame) -> str:
    """Check a frame's shape and dtype; return its kind "u8", "u16" or "f32"."""
    shape, dtype = getattr(frame, "shape", None), getattr(frame, "dtype", None)
    if shape is None or len(shape) != 3 or shape[2] != 3 or shape[0] < 1 or shape[1] < 1:
        raise MoodgradeError(f"a frame must be an HxWx3 RGB array, got shape {shape}")
    kind = KINDS.get(np.dtype(dtype))
    if kind is None:
        raise MoodgradeError(f"a frame must be uint8, uint16 or float32, got {dtype}")
    return kind


def load_reference(frame: np.ndarray) -> np.ndarray:
    """Frame -> float32 HxWx3 in 0..1."""
    kind = frame_kind(frame)
    if kind == "f32":
        return np.fmin(np.fmax(frame, np.float32(0)), np.float32(1))
    return frame.astype(np.float32) / np.float32(SCALES[kind])


def store_reference(rgb: np.ndarray, kind: str) -> np.ndarray:
    """float32 HxWx3 -> frame of the given kind, clamped (NaN -> 0) and rounded."""
    v = np.fmin(np.fmax(rgb, np.float32(0)), np.float32(1)).astype(np.float32)
    if kind == "f32":
        return v
    dtype = np.uint8 if kind == "u8" else np.uint16
    return np.floor(v * np.float32(SCALES[kind]) + np.float32(0.5)).astype(dtype)
