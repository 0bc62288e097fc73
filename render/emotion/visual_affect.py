"""Visual affect: per-frame picture statistics and their per-shot summaries.

Measured on the downscaled analysis frame (see :mod:`render.emotion.shots`),
uint8 RGB, values taken as display-encoded 0..1:

* ``brightness``: mean Rec.709 luma, 0..1;
* ``contrast``: standard deviation of luma, 0..0.5;
* ``colourfulness``: Hasler and Suesstrunk (2003) metric M on the 0..255
  scale: ``sqrt(sd_rg^2 + sd_yb^2) + 0.3 * sqrt(mean_rg^2 + mean_yb^2)`` with
  ``rg = R - G`` and ``yb = (R + G) / 2 - B``; 0 for grey, about 33
  "moderately", 59 "quite", 82+ "highly" colourful;
* ``saturation``: mean HSV saturation, 0..1;
* ``warmth``: mean ``(R - B)``, -1 (blue) .. 1 (red/orange);
* ``motion``: mean absolute luma difference to the previous frame of the same
  shot, 0..1 (a cut is no motion: the first frame of a shot takes the value of
  the next one).

``cut_rate_per_min`` (the rhythm term of Hanjalic and Xu 2005) counts the cuts
within ``window_s`` either side of each frame.
"""

from array import array

import cv2
import numpy as np

_LUMA_709 = np.array([0.2126, 0.7152, 0.0722], np.float32)
FEATURES = ("brightness", "contrast", "colourfulness", "saturation", "warmth", "motion")
# Planes the statistics are taken of: Rec.709 luma (0..1), then the opponent
# channels rg = R - G and yb = (R + G) / 2 - B (-255..255).
_PLANES = np.array([_LUMA_709 / 255.0, [1.0, -1.0, 0.0], [0.5, 0.5, -1.0]], np.float32)


def _planes(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB -> float32 (luma, rg, yb) planes, H x W x 3."""
    return cv2.transform(rgb.astype(np.float32), _PLANES)


def _colourfulness(mean: np.ndarray, sd: np.ndarray) -> float:
    """Hasler and Suesstrunk's M from the means and standard deviations of the (luma, rg, yb) planes."""
    return float(np.hypot(sd[1], sd[2]) + 0.3 * np.hypot(mean[1], mean[2]))


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler and Suesstrunk (2003) colourfulness of a uint8 RGB image, 0 (grey) .. about 150."""
    mean, sd = cv2.meanStdDev(_planes(rgb))
    return _colourfulness(mean.ravel(), sd.ravel())


class VisualAffect:
    """Accumulates the per-frame statistics in one pass; :meth:`features` returns them."""

    def __init__(self) -> None:
        self._rows = array("f")          # len(FEATURES) float32 a frame, one after the other
        self._previous_luma: np.ndarray | None = None

    def push(self, small_rgb: np.ndarray, hsv: np.ndarray) -> None:
        """Add the next frame: uint8 RGB and its uint8 HSV (same size for every frame)."""
        planes = _planes(small_rgb)
        mean, sd = (v.ravel() for v in cv2.meanStdDev(planes))
        luma = np.ascontiguousarray(planes[..., 0])
        motion = 0.0 if self._previous_luma is None else cv2.mean(cv2.absdiff(luma, self._previous_luma))[0]
        self._previous_luma = luma
        red, _, blue, _ = cv2.mean(small_rgb)
        self._rows.extend((float(mean[0]), float(sd[0]), _colourfulness(mean, sd),
                           cv2.mean(hsv)[1] / 255.0, (red - blue) / 255.0, motion))

    def table(self) -> np.ndarray:
        """The raw statistics so far, float32 (frames, len(FEATURES)), columns as in :data:`FEATURES`
        (motion still to the previous frame pushed, whatever the shot)."""
        return np.frombuffer(self._rows, np.float32).reshape(-1, len(FEATURES)).copy()

    def features(self, cuts: list[int]) -> dict[str, np.ndarray]:
        """Per-frame arrays (float32, one entry per frame) named as in :data:`FEATURES`."""
        return visual_features(self.table(), cuts)


def visual_features(table: np.ndarray, cuts: list[int]) -> dict[str, np.ndarray]:
    """Per-frame arrays (float32) named as in :data:`FEATURES` from a clip's :meth:`VisualAffect.table`
    (tables of consecutive pieces concatenate) and its cuts: motion across a cut is no motion."""
    out = {name: table[:, k].copy() for k, name in enumerate(FEATURES)}
    motion = out["motion"]
    for start in [0, *cuts]:
        if start + 1 < motion.size and start + 1 not in cuts:
            motion[start] = motion[start + 1]
        elif start < motion.size:
            motion[start] = 0.0
    return out


def cut_rate_per_min(cuts: list[int], frame_count: int, frame_rate: float, window_s: float = 5.0) -> np.ndarray:
    """Cuts per minute within ``window_s`` either side of each frame (window clipped to the clip), float32."""
    rate = np.zeros(frame_count, np.float32)
    if frame_count == 0:
        return rate
    half = max(1, round(window_s * frame_rate))
    marks = np.zeros(frame_count + 1, np.float32)
    marks[np.asarray(cuts, int) + 1] = 1.0
    cumulative = np.cumsum(marks)
    idx = np.arange(frame_count)
    lo = np.clip(idx - half, 0, frame_count)
    hi = np.clip(idx + half + 1, 0, frame_count)
    counts = cumulative[hi] - cumulative[lo]
    span_min = np.maximum(hi - lo, 1) / frame_rate / 60.0
    rate[:] = counts / span_min
    return rate


def shot_summaries(features: dict[str, np.ndarray], cuts: list[int]) -> list[dict[str, float | int]]:
    """Per shot: first and last+1 frame and the mean of every feature."""
    n = next(iter(features.values())).size if features else 0
    bounds = [0, *cuts, n]
    shots = []
    for start, end in zip(bounds, bounds[1:]):
        if end <= start:
            continue
        row: dict[str, float | int] = {"start": start, "end": end}
        row.update({name: round(float(values[start:end].mean()), 4) for name, values in features.items()})
        shots.append(row)
    return shots
