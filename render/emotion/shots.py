"""Shot-boundary detection: content differences between downscaled frames.

Each frame is reduced to :data:`ANALYSIS_WIDTH_PX` pixels wide and converted
to HSV (OpenCV's 8-bit HSV: hue 0..179, saturation and value 0..255). The
*content difference* of two frames is the mean absolute difference of their
hue (circular), saturation and value, averaged over the three channels, on a
0..255 scale, as in PySceneDetect's ContentDetector.

:class:`CutDetector` is fed every frame in order (one pass, constant memory per
frame) and records difference series: to the previous frame (lag 1), to the
frame before it (lag 2) and to the frames ``gradual_lags_s`` earlier (lags K:
half a second for quick dissolves, two seconds for slow ones). These series
(:class:`CutScores`, a few floats per frame) can be measured in pieces: a
detector fed from :meth:`CutDetector.context_frames` frames before a piece
gives that piece's series exactly as one pass over the whole clip would, and
the pieces' series concatenate. :meth:`CutDetector.decide` then decides, offline,
over the whole clip's series:

* hard cuts: a lag-1 peak above an adaptive threshold, the local running
  median plus ``hard_mad_k`` robust deviations (MAD) of the lag-1 series, and
  ``hard_ratio`` times that median, and at least ``hard_min`` absolute; a flash
  (one odd frame) is rejected because the frames either side of it match;
* gradual transitions (dissolves, fades), for each lag K: a run of frames
  whose lag-K difference exceeds the lag-K change inside both shots either side
  (the larger median of windows a lag before and a lag after, times
  ``gradual_ratio`` and plus ``gradual_margin``), whose change is *monotone*
  (the lag-K difference is at least ``monotone_min`` of the summed lag-1
  differences over the same span, which a pan or shaking camera is not), and
  that is not the lag-K trace of a hard cut; it yields ONE boundary at the
  transition's middle;
* boundaries either side of black frames (fade out, black, fade in; a cut to
  black and a fade in) merge into one boundary in the middle of the black;
  black at the start or end of the clip is no boundary;
* boundaries closer than ``min_shot_s`` to a stronger one (or to the start)
  are dropped.

A cut is reported as the index of the first frame of the new shot.
"""

from array import array
from dataclasses import dataclass, field

import cv2
import numpy as np

ANALYSIS_WIDTH_PX = 160


@dataclass(frozen=True)
class CutSettings:
    """Bounds of the detector; content differences are on the 0..255 scale."""

    min_shot_s: float = 0.5
    median_window_s: float = 1.0      # half-width of the running median for hard cuts
    hard_mad_k: float = 6.0
    hard_ratio: float = 3.0
    hard_min: float = 10.0
    gradual_lags_s: tuple[float, ...] = (0.5, 2.0)
    gradual_window_s: float = 1.5     # half-width of the medians either side of a gradual change
    gradual_ratio: float = 1.5
    gradual_margin: float = 10.0
    gradual_min: float = 30.0         # a transition changes the picture as much as a cut (PySceneDetect: 27)
    monotone_min: float = 0.5
    dark_value_max: float = 18.0      # mean HSV value of a "black" frame, 0..255
    black_merge_s: float = 2.0


def downscale(rgb: np.ndarray, width_px: int = ANALYSIS_WIDTH_PX) -> np.ndarray:
    """Area-downscale an HxWx3 RGB frame to ``width_px`` wide (never up); uint16 becomes uint8."""
    if rgb.dtype == np.uint16:
        rgb = (rgb >> 8).astype(np.uint8)
    h, w = rgb.shape[:2]
    if w <= width_px:
        return np.ascontiguousarray(rgb)
    height = max(1, round(h * width_px / w))
    return cv2.resize(rgb, (width_px, height), interpolation=cv2.INTER_AREA)


def rgb_to_hsv(small_rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB -> uint8 HSV (hue 0..179, saturation and value 0..255)."""
    return cv2.cvtColor(small_rgb, cv2.COLOR_RGB2HSV)


# Per-channel table for the absolute difference of two HSV pixels: hue taken the short way
# round its 0..179 circle (at most 90), saturation and value as they are.
_CIRCULAR_HUE = np.stack([np.minimum(np.arange(256), np.maximum(180 - np.arange(256), 0)),
                          np.arange(256), np.arange(256)], axis=1).astype(np.uint8).reshape(256, 1, 3)


def content_difference(hsv_a: np.ndarray, hsv_b: np.ndarray) -> float:
    """Mean absolute HSV difference of two same-size frames, 0..255 (hue taken circularly)."""
    hue, saturation, value, _ = cv2.mean(cv2.LUT(cv2.absdiff(hsv_a, hsv_b), _CIRCULAR_HUE))
    return (hue * (255.0 / 90.0) + saturation + value) / 3.0


def _running_median_mad(x: np.ndarray, half_width: int, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Running median and MAD (scaled to a standard deviation) over ``x[i-hw : i+hw+1]``.

    Computed ``block`` frames at a time so a feature film needs little memory (a block's
    windows: about 2048 x 221 floats for the widest, 4 MB, and as much again for the median's copy).
    """
    median = np.zeros(x.size)
    mad = np.zeros(x.size)
    if x.size == 0:
        return median, mad
    padded = np.pad(x, half_width, mode="reflect" if x.size > half_width else "edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half_width + 1)
    for start in range(0, x.size, block):
        w = windows[start:start + block]
        m = np.median(w, axis=1)
        median[start:start + block] = m
        mad[start:start + block] = np.median(np.abs(w - m[:, None]), axis=1) * 1.4826
    return median, mad


@dataclass(frozen=True)
class CutScores:
    """The detector's per-frame series over a run of frames, all float64 and as long as the run:
    content difference to 1, 2 and each gradual lag K frames earlier (0..255; the first frames
    of a clip compare with what there is), and the mean HSV value (0..255)."""

    d1: np.ndarray
    d2: np.ndarray
    value: np.ndarray
    dk: dict[int, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.d1.size)

    def tail(self, start: int) -> "CutScores":
        """The series from frame ``start`` of the run on (context frames dropped)."""
        return CutScores(self.d1[start:], self.d2[start:], self.value[start:],
                         {k: v[start:] for k, v in self.dk.items()})

    @staticmethod
    def concatenate(parts: "list[CutScores]") -> "CutScores":
        """The series of consecutive runs, one after the other (at least one part)."""
        return CutScores(np.concatenate([p.d1 for p in parts]), np.concatenate([p.d2 for p in parts]),
                         np.concatenate([p.value for p in parts]),
                         {k: np.concatenate([p.dk[k] for p in parts]) for k in parts[0].dk})


class CutDetector:
    """Collects frame differences in one pass; :meth:`cuts` finds the shot boundaries."""

    def __init__(self, frame_rate: float, settings: CutSettings = CutSettings()):
        if frame_rate <= 0:
            raise ValueError("frame_rate must be positive")
        self.frame_rate = float(frame_rate)
        self.settings = settings
        self.lags = sorted({max(2, round(lag_s * self.frame_rate)) for lag_s in settings.gradual_lags_s})
        self._recent: list[np.ndarray] = []       # the last max(lags) HSV frames
        self._d1, self._d2, self._value = array("d"), array("d"), array("d")   # 8 bytes a frame each
        self._dk: dict[int, array] = {k: array("d") for k in self.lags}

    def push(self, hsv: np.ndarray) -> None:
        """Add the next frame (uint8 HSV from :func:`rgb_to_hsv`, same size for every frame)."""
        recent = self._recent
        self._d1.append(content_difference(hsv, recent[-1]) if recent else 0.0)
        self._d2.append(content_difference(hsv, recent[-2]) if len(recent) >= 2 else self._d1[-1])
        for k, series in self._dk.items():
            # Early frames compare with the first frame: a shorter lag, but a baseline of the right kind.
            series.append(content_difference(hsv, recent[-min(k, len(recent))]) if recent else 0.0)
        self._value.append(cv2.mean(hsv)[2])
        recent.append(hsv)
        if len(recent) > self.lags[-1]:
            recent.pop(0)

    @property
    def frame_count(self) -> int:
        return len(self._d1)

    @property
    def context_frames(self) -> int:
        """Frames to push before a piece of a clip so that the piece's scores come out as in one
        pass over the whole clip (the frames its lags look back to)."""
        return self.lags[-1]

    def scores(self) -> CutScores:
        """The series of the frames pushed so far."""
        return CutScores(np.asarray(self._d1, np.float64), np.asarray(self._d2, np.float64),
                         np.asarray(self._value, np.float64),
                         {k: np.asarray(v, np.float64) for k, v in self._dk.items()})

    def cuts(self) -> list[int]:
        """Indices of the first frame of every shot but the first among the frames pushed, ascending."""
        return self.decide(self.scores())

    def decide(self, scores: CutScores) -> list[int]:
        """Indices of the first frame of every shot but the first, ascending, for a whole
        clip's ``scores`` (measured with this detector's frame rate and settings)."""
        s = self.settings
        n = len(scores)
        if n < 3:
            return []
        d1, d2 = scores.d1, scores.d2
        dark = scores.value < s.dark_value_max
        hard = self._hard_cuts(d1, d2)
        hard_positions = [i for i, _ in hard]
        gradual = [c for k in self.lags for c in self._gradual_cuts(d1, scores.dk[k], k, hard_positions)]
        candidates = self._merge_across_black(hard, gradual, dark)
        return self._enforce_min_length(candidates)

    def _hard_cuts(self, d1: np.ndarray, d2: np.ndarray) -> list[tuple[int, float]]:
        s = self.settings
        median, mad = _running_median_mad(d1, max(2, round(s.median_window_s * self.frame_rate)))
        threshold = np.maximum.reduce([median + s.hard_mad_k * np.maximum(mad, 1.0),
                                       s.hard_ratio * median, np.full_like(median, s.hard_min)])
        found = []
        for i in range(1, d1.size):
            if d1[i] <= threshold[i]:
                continue
            if i + 1 < d1.size and d1[i + 1] > d1[i]:
                continue                       # not the peak of this change
            if d2[i] < 0.5 * d1[i] or (i + 1 < d1.size and d2[i + 1] < 0.5 * d1[i]):
                continue                       # a flash: the frames either side of one frame match
            found.append((i, float(d1[i] / threshold[i])))
        return found

    def _gradual_cuts(self, d1: np.ndarray, dk: np.ndarray, k: int, hard: list[int]) -> list[tuple[int, float]]:
        """Gradual transitions seen at lag ``k``."""
        s = self.settings
        half = max(k, round(s.gradual_window_s * self.frame_rate))
        # The lag-K change inside the shots either side: medians of windows that end
        # a lag before frame i and start a lag after it, so the transition is in neither.
        median, _ = _running_median_mad(dk, half)
        index = np.arange(dk.size)
        before = median[np.clip(index - k - half - 1, 0, dk.size - 1)]
        after = median[np.clip(index + k + half + 1, 0, dk.size - 1)]
        baseline = np.maximum(before, after)
        threshold = np.maximum.reduce([s.gradual_ratio * baseline, baseline + s.gradual_margin,
                                       np.full_like(baseline, s.gradual_min)])
        noise, _ = _running_median_mad(d1, 2 * half + k)   # wide enough not to be raised by the transition
        above = dk > threshold
        above[:k] = False
        for h in hard:
            above[max(h - 2, 0):h + k] = False       # the lag-K trace of a hard cut
        found = []
        i = 0
        while i < dk.size:
            if not above[i]:
                i += 1
                continue
            start = i
            while i < dk.size and above[i]:
                i += 1
            end = i - 1                          # run of frames [start, end] with a large lag-K change
            if end - start + 1 < k // 2:
                continue                         # a transition keeps lag K up for >= K frames; a flash does not
            peak = start + int(np.argmax(dk[start:end + 1]))
            span = slice(peak - k + 1, peak + 1)
            summed = float(np.sum(np.maximum(d1[span] - noise[span], 0.0)))
            if summed <= 0 or dk[peak] / summed < s.monotone_min:
                continue                         # motion, not a transition
            # The run spans the transition plus the lag; its middle minus half a lag is the transition's middle.
            position = int(np.clip(round((start + end - k) / 2), 1, dk.size - 1))
            found.append((position, float(dk[peak] / threshold[peak])))
        return found

    def _merge_across_black(self, hard: list[tuple[int, float]], gradual: list[tuple[int, float]],
                            dark: np.ndarray) -> list[tuple[int, float]]:
        """Boundaries either side of black frames become one, in the middle of the black.

        A fade out, black, fade in (or a cut to black and a fade in, or back) is
        one boundary: two boundaries merge when black frames lie between them and
        each touches that black: a hard cut within two frames of it, a gradual
        one (whose position is the middle of its fade) within half of
        ``black_merge_s``. Black at the very start or end of the clip is no boundary.
        """
        reach = {False: 2, True: round(self.settings.black_merge_s * self.frame_rate / 2)}
        candidates = sorted([(p, st, False) for p, st in hard] + [(p, st, True) for p, st in gradual])
        merged: list[tuple[int, float, bool]] = []
        for pos, strength, is_gradual in candidates:
            if merged:
                prev, prev_strength, prev_gradual = merged[-1]
                black = prev + np.flatnonzero(dark[prev:pos])
                if (black.size and black[0] - prev <= reach[prev_gradual]
                        and pos - (black[-1] + 1) <= reach[is_gradual]):
                    first, last = int(black[0]), int(black[-1])
                    while first > 0 and dark[first - 1]:
                        first -= 1
                    while last + 1 < dark.size and dark[last + 1]:
                        last += 1
                    middle = (first + last + 1) // 2                # of the whole black run
                    merged[-1] = (middle, max(strength, prev_strength), False)   # now it sits in the black
                    continue
            merged.append((pos, strength, is_gradual))
        return [(p, st) for p, st, _ in merged if not dark[:p].all() and not dark[p:].all()]

    def _enforce_min_length(self, candidates: list[tuple[int, float]]) -> list[int]:
        min_frames = max(1, round(self.settings.min_shot_s * self.frame_rate))
        kept: list[int] = []
        for pos, _ in sorted(candidates, key=lambda c: -c[1]):
            if pos >= min_frames and all(abs(pos - q) >= min_frames for q in kept):
                kept.append(pos)
        return sorted(kept)


def detect_cuts(frames, frame_rate: float, settings: CutSettings = CutSettings()) -> list[int]:
    """Shot boundaries of a sequence of RGB frames (any size, uint8/uint16): first frame of each new shot."""
    detector = CutDetector(frame_rate, settings)
    for rgb in frames:
        detector.push(rgb_to_hsv(downscale(rgb)))
    return detector.cuts()
