"""Manual mood overrides: ranges of a clip forced to an emotion, winning over inference.

The file is plain CSV, one range per line; ``#`` starts a comment, blank lines
are ignored and an optional header ``start,end,emotion,intensity`` may come
first::

    # start, end, emotion, intensity
    start,end,emotion,intensity
    12.5,18,happy,0.8            # seconds
    0:01:02.5,0:01:10,sad,1      # [h:]mm:ss[.fff]
    300f,420f,fear,0.6           # frame numbers

A range covers ``start <= t < end`` (frames ``start <= n < end``). ``emotion``
is one of :data:`render.emotion.labels.EMOTIONS`; ``intensity`` (0..1) is how
strongly it is felt: probabilities become ``intensity`` on the emotion and the
rest on ``neutral``, valence and arousal ``intensity`` times the emotion's
circumplex place, and confidence 1. Later lines win over earlier ones.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from render.emotion.fusion import EMOTION_VALENCE_AROUSAL
from render.emotion.labels import EMOTIONS
from render.emotion.timeline import MoodTimeline
from render.errors import MoodgradeError
from render.io.bounded_read import display_path, read_text_file

MAX_OVERRIDE_BYTES = 16 << 20       # hand-written ranges: a few KiB in practice
MAX_TIME_S = 1e9                    # about 32 years: anything above is a typo
HEADER = ("start", "end", "emotion", "intensity")


@dataclass(frozen=True)
class Override:
    """One range: ``start``/``end`` in seconds, or in frames when ``in_frames``."""

    start: float
    end: float
    in_frames: bool
    emotion: str
    intensity: float
    line: int


def _parse_time(text: str) -> tuple[float, bool]:
    """'12.5' -> (12.5, False); '1:02.5' / '0:01:02.5' -> seconds; '300f' -> (300, True)."""
    text = text.strip()
    try:
        if len(text) > 64:
            pass
        elif text.lower().endswith("f"):
            frame = int(text[:-1])
            if 0 <= frame <= 2 ** 31:
                return float(frame), True
        else:
            parts = text.split(":")
            seconds = 0.0
            for part in parts:
                seconds = seconds * 60 + float(part)
            if len(parts) <= 3 and 0 <= seconds <= MAX_TIME_S:
                return seconds, False
    except ValueError:
        pass
    raise ValueError(f"bad time {text[:40]!r} (seconds up to {MAX_TIME_S:g}, [h:]mm:ss[.fff], "
                     "or a frame number like 300f)")


def read_overrides(path: str | Path) -> list[Override]:
    """Parse an override file; any bad line raises MoodgradeError ``'<file>:<line>: <what is wrong>'``."""
    text = read_text_file(path, MAX_OVERRIDE_BYTES, "override file")
    shown = display_path(path)
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            fields = [f.strip() for f in next(csv.reader(io.StringIO(line)))]
        except (csv.Error, StopIteration) as exc:
            raise MoodgradeError(f"{shown}:{number}: not a CSV line ({exc})") from None
        if tuple(f.lower() for f in fields) == HEADER:
            continue
        try:
            if len(fields) != 4:
                raise ValueError(f"expected 4 fields (start,end,emotion,intensity), found {len(fields)}")
            start, start_frames = _parse_time(fields[0])
            end, end_frames = _parse_time(fields[1])
            if start_frames != end_frames:
                raise ValueError("start and end must both be frames (with 'f') or both times")
            if end <= start:
                raise ValueError(f"end {fields[1]!r} is not after start {fields[0]!r}")
            emotion = fields[2].lower()
            if emotion not in EMOTIONS:
                raise ValueError(f"unknown emotion {fields[2][:40]!r} (one of {', '.join(EMOTIONS)})")
            try:
                intensity = float(fields[3])
            except ValueError:
                intensity = float("nan")
            if not 0.0 <= intensity <= 1.0:
                raise ValueError(f"intensity {fields[3][:40]!r} is outside 0..1")
        except ValueError as exc:
            raise MoodgradeError(f"{shown}:{number}: {exc}") from None
        found.append(Override(start, end, start_frames, emotion, intensity, number))
    return found


def apply_overrides(timeline: MoodTimeline, overrides: list[Override]) -> MoodTimeline:
    """Force the ranges of ``overrides`` onto ``timeline`` (in place) and record them; returns it."""
    frames = np.arange(timeline.frame_count)
    fps = float(timeline.frame_rate)
    for o in overrides:
        if o.in_frames:
            inside = (frames >= o.start) & (frames < o.end)
            start_s, end_s = o.start / fps, o.end / fps
        else:
            inside = (timeline.time_s >= o.start) & (timeline.time_s < o.end)
            start_s, end_s = o.start, o.end
        probs = np.zeros(len(EMOTIONS), np.float32)
        probs[EMOTIONS.index("neutral")] = 1.0 - o.intensity
        probs[EMOTIONS.index(o.emotion)] += o.intensity
        valence, arousal = EMOTION_VALENCE_AROUSAL[o.emotion]
        timeline.probs[inside] = probs
        timeline.valence[inside] = o.intensity * valence
        timeline.arousal[inside] = o.intensity * arousal
        timeline.confidence[inside] = 1.0
        timeline.overridden[inside] = True
        timeline.overrides.append({"start_s": round(start_s, 6), "end_s": round(end_s, 6),
                                   "emotion": o.emotion, "intensity": o.intensity})
    return timeline
