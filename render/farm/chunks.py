"""Where to cut a video into chunks: at keyframes, so every chunk decodes on its own."""

import bisect
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

from render.errors import MoodgradeError

DEFAULT_CHUNK_SECONDS = 10.0


@dataclass(frozen=True)
class ChunkSpan:
    """Frames ``start <= index < stop`` of the source (presentation order)."""

    index: int
    start: int
    stop: int

    @property
    def frames(self) -> int:
        return self.stop - self.start


def plan_chunks(keyframes: list[int], frame_count: int, frame_rate: Fraction, *,
                chunks: int | None = None, chunk_seconds: float | None = None) -> list[ChunkSpan]:
    """Split frames ``0..frame_count`` into contiguous chunks that start at keyframes.

    ``keyframes``: sorted frame indices of the source's keyframes (0 first). Ask for
    ``chunks`` (>= 1) or ``chunk_seconds`` (> 0; default :data:`DEFAULT_CHUNK_SECONDS`);
    each wished-for cut moves to the nearest keyframe, so a clip with few keyframes
    gets fewer, longer chunks. Returns at least one chunk; together they cover every
    frame exactly once.
    """
    if chunks is not None and chunk_seconds is not None:
        raise MoodgradeError("give either a chunk count or a chunk length, not both")
    if frame_count < 1:
        raise MoodgradeError("the video has no frames to split")
    if chunks is not None:
        if chunks < 1:
            raise MoodgradeError(f"chunk count must be at least 1, not {chunks}")
        wished = [round(k * frame_count / chunks) for k in range(1, chunks)]
    else:
        seconds = DEFAULT_CHUNK_SECONDS if chunk_seconds is None else chunk_seconds
        if not seconds > 0:
            raise MoodgradeError(f"chunk length must be positive, not {seconds} s")
        step = max(1, round(seconds * float(frame_rate)))
        wished = list(range(step, frame_count, step))
    cuts = sorted({_nearest(keyframes, w) for w in wished} - {0} - {frame_count})
    bounds = [0, *[c for c in cuts if 0 < c < frame_count], frame_count]
    return [ChunkSpan(i, a, b) for i, (a, b) in enumerate(pairwise(bounds))]


def _nearest(keyframes: list[int], frame: int) -> int:
    i = bisect.bisect_left(keyframes, frame)
    candidates = keyframes[max(0, i - 1):i + 1]
    return min(candidates, key=lambda k: (abs(k - frame), k))
