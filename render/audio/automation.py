"""Mood in, chain settings out: the rules that turn valence/arousal/intensity into sound.

A mood is given per time segment (``MoodSegment``) or per video frame (``MoodCurve``);
neither depends on how the mood was found. ``chain_automation`` samples it every
``CONTROL_STEP`` samples, maps it to settings with the rules below, and ramps every
setting linearly over ``style.ramp_ms`` wherever the mood changes.

The rules (v = valence, a = arousal, both -1..1; i = intensity 0..1; every setting
is neutral, i.e. the chain is transparent, at i = 0):

- tension  t = clip(0.5 + 0.5 a - 0.25 max(v, 0), 0, 1)
  compressor ratio = 1 + i (lerp(ratio_range, t) - 1); attack and release go from slow
  (calm) to fast (tense) with t. Tense scenes are held tight, happy ones breathe.
- brightness = clip(0.6 a + 0.4 v, -1, 1): high shelf = i * shelf_gain_db_max * brightness.
  Tense and happy are brighter, sad and calm darker.
- warmth = clip(-0.5 v - 0.3 a, -1, 1): low shelf = i * shelf_gain_db_max * warmth.
  Sad scenes get a heavier low end, happy and excited ones a lighter one.
- space = clip(0.25 - 0.45 v - 0.3 a, 0, 1): reverb wet = i * reverb_wet_max * space.
  Sad and calm scenes sound bigger and further away; tense ones close and dry.
- level = clip(0.35 v + 0.65 a, -1, 1): gain = i * gain_db_max * level.
  Sad scenes sit lower than happy or tense ones (the overall loudness is normalised later).

The emotion label travels with a segment for reports only: the settings follow valence
and arousal, so any label set works.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from itertools import pairwise

import numpy as np

from render.audio.style import SoundtrackStyle
from render.errors import MoodgradeError

CONTROL_STEP = 32           # samples between automation points (1.5 kHz at 48 kHz)
NEUTRAL_REFERENCE_LUFS = -20.0   # compressor reference when the input's loudness is undefined


@dataclass(frozen=True)
class MoodSegment:
    """The mood from ``start_s`` to ``end_s`` (seconds): valence and arousal -1..1,
    intensity 0..1 (0 leaves the sound as it is), ``emotion`` a free label."""

    start_s: float
    end_s: float
    valence: float
    arousal: float
    emotion: str = "neutral"
    intensity: float = 1.0

    def __post_init__(self) -> None:
        where = f"mood segment {self.start_s:g}-{self.end_s:g} s"
        _check_finite(where, start_s=self.start_s, end_s=self.end_s, valence=self.valence,
                      arousal=self.arousal, intensity=self.intensity)
        if not 0.0 <= self.start_s < self.end_s:
            raise MoodgradeError(f"{where}: needs 0 <= start_s < end_s")
        _check_range(where, "valence", self.valence, -1.0, 1.0)
        _check_range(where, "arousal", self.arousal, -1.0, 1.0)
        _check_range(where, "intensity", self.intensity, 0.0, 1.0)


@dataclass(frozen=True, eq=False)
class MoodCurve:
    """The mood per video frame: frame n covers [n, n+1) / frame_rate_hz seconds.

    valence and arousal -1..1, intensity 0..1 (e.g. the timeline's confidence times the
    user's intensity); three 1-D arrays of one length. After the last frame: neutral.
    """

    frame_rate_hz: float
    valence: np.ndarray = field(repr=False)
    arousal: np.ndarray = field(repr=False)
    intensity: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.frame_rate_hz) and self.frame_rate_hz > 0):
            raise MoodgradeError(f"mood curve: frame_rate_hz must be > 0, got {self.frame_rate_hz}")
        object.__setattr__(self, "frame_rate_hz", float(self.frame_rate_hz))     # a Fraction works too
        arrays = {f.name: np.asarray(getattr(self, f.name), np.float64) for f in fields(self)[1:]}
        if len({a.shape for a in arrays.values()}) != 1 or arrays["valence"].ndim != 1:
            raise MoodgradeError("mood curve: valence, arousal and intensity must be 1-D arrays of one length")
        for name, (low, high) in {"valence": (-1, 1), "arousal": (-1, 1), "intensity": (0, 1)}.items():
            values = arrays[name]
            bad = np.flatnonzero(~((values >= low) & (values <= high)))
            if bad.size:
                raise MoodgradeError(f"mood curve: {name} at frame {bad[0]} = {values[bad[0]]} "
                                     f"is outside {low}..{high}")
            object.__setattr__(self, name, values)


Moods = Sequence[MoodSegment] | MoodCurve


@dataclass(frozen=True, eq=False)
class ChainAutomation:
    """Chain settings per automation point (arrays of one length; point k covers samples
    [k, k+1) * CONTROL_STEP), already ramped."""

    ratio: np.ndarray
    threshold_db: np.ndarray
    attack_ms: np.ndarray
    release_ms: np.ndarray
    low_shelf_db: np.ndarray
    high_shelf_db: np.ndarray
    reverb_wet: np.ndarray
    gain_db: np.ndarray

    def __len__(self) -> int:
        return len(self.ratio)

    def window(self, first: int, stop: int) -> "ChainAutomation":
        """Points ``first <= k < stop`` (clipped to the automation's length)."""
        return ChainAutomation(**{f.name: getattr(self, f.name)[max(0, first):stop] for f in fields(self)})


class AutomationTrack:
    """The ramped chain settings of a whole programme, computed a window at a time.

    ``window(first, stop)`` gives what the whole series would hold at those points (to
    rounding), reading the moods only around them (a ramp's width either side), so a
    feature-length soundtrack needs no array of its whole length. ``len()`` is the
    programme's number of automation points.
    """

    def __init__(self, moods: Moods, n_samples: int, sample_rate: int, style: SoundtrackStyle,
                 reference_lufs: float | None):
        self._moods, self._rate, self._style = moods, sample_rate, style
        self._points = -(-n_samples // CONTROL_STEP)
        self._reference = reference_lufs if reference_lufs is not None and math.isfinite(reference_lufs) \
            else NEUTRAL_REFERENCE_LUFS
        self._ramp_points = max(1, round(style.ramp_ms * 1e-3 * sample_rate / CONTROL_STEP))

    def __len__(self) -> int:
        return self._points

    def window(self, first: int, stop: int) -> ChainAutomation:
        """The settings of points ``first <= k < stop`` (clipped to 0..len)."""
        first, stop = max(0, first), min(self._points, stop)
        width = self._ramp_points
        before, after = width // 2, width - 1 - width // 2
        lo, hi = max(0, first - before), min(self._points, stop + after)
        raw = self._settings(np.arange(lo, hi))
        pad = (before - (first - lo), after - (hi - stop))
        return ChainAutomation(**{name: ramp(values, width, pad, (first - lo, stop - lo))
                                  for name, values in raw.items()})

    def _settings(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """The unramped settings at automation ``points`` (the rules in the module docstring)."""
        style = self._style
        times_s = (points + 0.5) * CONTROL_STEP / self._rate
        valence, arousal, intensity = mood_at(self._moods, times_s)
        tension = np.clip(0.5 + 0.5 * arousal - 0.25 * np.maximum(valence, 0.0), 0.0, 1.0)
        ratio_lo, ratio_hi = style.compressor_ratio_range
        fast_attack, slow_attack = style.compressor_attack_ms_range
        fast_release, slow_release = style.compressor_release_ms_range
        return {
            "ratio": 1.0 + intensity * (ratio_lo + tension * (ratio_hi - ratio_lo) - 1.0),
            "threshold_db": np.full(len(points), self._reference + style.compressor_threshold_lu),
            "attack_ms": slow_attack + tension * (fast_attack - slow_attack),
            "release_ms": slow_release + tension * (fast_release - slow_release),
            "low_shelf_db": intensity * style.shelf_gain_db_max * np.clip(-0.5 * valence - 0.3 * arousal, -1, 1),
            "high_shelf_db": intensity * style.shelf_gain_db_max * np.clip(0.6 * arousal + 0.4 * valence, -1, 1),
            "reverb_wet": intensity * style.reverb_wet_max * np.clip(0.25 - 0.45 * valence - 0.3 * arousal, 0, 1),
            "gain_db": intensity * style.gain_db_max * np.clip(0.35 * valence + 0.65 * arousal, -1, 1),
        }


def chain_automation(moods: Moods, n_samples: int, sample_rate: int, style: SoundtrackStyle,
                     reference_lufs: float | None) -> ChainAutomation:
    """The ramped chain settings for a clip of ``n_samples`` at ``sample_rate`` Hz, whole
    (for short clips; long ones take :class:`AutomationTrack` windows).

    ``reference_lufs``: the input's integrated loudness (the compressor threshold sits
    ``style.compressor_threshold_lu`` above it); None or -inf uses -20 LUFS.
    """
    track = AutomationTrack(moods, n_samples, sample_rate, style, reference_lufs)
    return track.window(0, len(track))


def mood_at(moods: Moods, times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(valence, arousal, intensity) at each time; neutral (0, 0, 0) where no mood is given."""
    valence, arousal, intensity = (np.zeros(len(times_s)) for _ in range(3))
    if isinstance(moods, MoodCurve):
        frame = np.floor(times_s * moods.frame_rate_hz).astype(np.int64)
        inside = frame < len(moods.valence)
        for out, values in ((valence, moods.valence), (arousal, moods.arousal), (intensity, moods.intensity)):
            out[inside] = values[frame[inside]]
        return valence, arousal, intensity
    ordered = sorted(moods, key=lambda s: s.start_s)
    for before, after in pairwise(ordered):
        if after.start_s < before.end_s:
            raise MoodgradeError(f"mood segments {before.start_s:g}-{before.end_s:g} s and "
                                 f"{after.start_s:g}-{after.end_s:g} s overlap")
    for segment in ordered:
        inside = (times_s >= segment.start_s) & (times_s < segment.end_s)
        valence[inside], arousal[inside], intensity[inside] = segment.valence, segment.arousal, segment.intensity
    return valence, arousal, intensity


def ramp(values: np.ndarray, width: int, pad: tuple[int, int] | None = None,
         keep: tuple[int, int] | None = None) -> np.ndarray:
    """``values`` through a centred moving average of ``width`` points: every step becomes a
    straight ramp ``width`` points long; constant stretches stay exactly as they were.

    For a window of a longer series: ``values`` holds the window with the context that
    exists either side, ``pad`` says how many points of edge padding stand in for the
    context that does not (the series' ends; default: all of it), and ``keep`` the
    (start, stop) of the window within ``values`` (default: all of it).
    """
    keep = keep or (0, len(values))
    pad = pad or (width // 2, width - 1 - width // 2)
    inner = values[keep[0]:keep[1]].astype(np.float64)
    if width <= 1 or len(inner) == 0:
        return inner
    padded = np.pad(values.astype(np.float64), pad, mode="edge")
    sums = np.concatenate(([0.0], np.cumsum(padded)))
    out = (sums[width:] - sums[:-width]) / width
    constant = np.convolve(np.diff(padded) != 0, np.ones(width - 1), "valid") == 0
    out[constant] = inner[constant]       # no rounding drift where nothing changes
    return out


def _check_finite(where: str, **values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value):
            raise MoodgradeError(f"{where}: {name} must be a finite number, got {value}")


def _check_range(where: str, name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise MoodgradeError(f"{where}: {name} = {value:g} is outside {low:g}..{high:g}")
