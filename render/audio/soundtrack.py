"""The soundtrack pass: mood chain, then loudness normalisation under a true-peak ceiling.

``process_soundtrack`` is the one entry point; ``soundtrack_processor`` wraps it as the
``audio=`` function of ``render.job.render_file``.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from render.audio.automation import Moods, chain_automation
from render.audio.chain import apply_mood_chain
from render.audio.loudness import integrated_lufs
from render.audio.style import SoundtrackStyle
from render.audio.true_peak import Limited, limit_true_peak
from render.errors import MoodgradeError
from render.io.source import AudioClip

LOUDNESS_RANGE_LUFS = (-50.0, -5.0)
TRUE_PEAK_RANGE_DBTP = (-20.0, 0.0)
LOUDNESS_TOLERANCE_LU = 0.1     # normalisation stops once this close to the target
TRUE_PEAK_MARGIN_DB = 0.1       # the limiter aims this far under the ceiling, so meters with
                                # coarser oversampling (FFmpeg's ebur128) read under it too
MAX_LOUDNESS_PASSES = 5


@dataclass(frozen=True)
class SoundtrackResult:
    """The processed clip (same length, rate and layout as the input) and what it measures.

    measured_lufs: integrated loudness, LUFS (-inf silent, None shorter than 0.4 s);
    measured_true_peak_dbtp: true peak on 4x-oversampled audio, dBTP (-inf silent);
    input_lufs: the input's loudness; gain_db: the normalisation gain; limiter_reduction_db:
    the largest true-peak gain reduction; passes: normalise-and-limit passes; notes: what
    was skipped or could not be reached, in words.
    """

    clip: AudioClip
    measured_lufs: float | None
    measured_true_peak_dbtp: float
    input_lufs: float | None
    gain_db: float
    limiter_reduction_db: float
    passes: int
    notes: tuple[str, ...] = field(default=())


def process_soundtrack(clip: AudioClip, moods: Moods, style: SoundtrackStyle | None = None,
                       loudness_lufs: float = -14.0, true_peak_dbtp: float = -1.0,
                       block_size: int = 1024) -> SoundtrackResult:
    """Shape ``clip`` to ``moods``, normalise it to ``loudness_lufs`` (-50..-5, e.g. -14 for
    streaming, -23 for broadcast) with its true peak at most ``true_peak_dbtp`` (-20..0).

    ``moods``: MoodSegments or a MoodCurve (an empty list leaves the chain transparent);
    ``block_size``: samples per pedalboard call (32..65536), which does not change the result.
    """
    style = style or SoundtrackStyle()
    _check_option("loudness", loudness_lufs, LOUDNESS_RANGE_LUFS, "LUFS")
    _check_option("true peak", true_peak_dbtp, TRUE_PEAK_RANGE_DBTP, "dBTP")
    if not 32 <= block_size <= 65536:
        raise MoodgradeError(f"block size {block_size} is outside 32..65536 samples")
    samples = np.ascontiguousarray(clip.samples, dtype=np.float32)
    if samples.ndim != 2 or not np.isfinite(samples).all():
        raise MoodgradeError("audio: samples must be a finite (channels, n) array")
    rate, layout = clip.sample_rate, clip.layout
    input_lufs = integrated_lufs(samples, rate, layout)
    automation = chain_automation(moods, samples.shape[1], rate, style, input_lufs)
    shaped = apply_mood_chain(samples, rate, layout, automation, style, block_size)

    notes = []
    lufs = integrated_lufs(shaped, rate, layout)
    gain_db, passes = 0.0, 1
    if lufs is None or lufs == -math.inf:
        notes.append("loudness not normalised: " + ("the clip is shorter than 0.4 s" if lufs is None
                                                    else "the clip is silent"))
        limited = _limit(shaped, rate, true_peak_dbtp, style)
    else:
        gain_db = loudness_lufs - lufs
        for passes in range(1, MAX_LOUDNESS_PASSES + 1):
            limited = _limit(shaped * np.float32(10.0 ** (gain_db / 20.0)), rate, true_peak_dbtp, style)
            lufs = integrated_lufs(limited.samples, rate, layout)
            if abs(lufs - loudness_lufs) <= LOUDNESS_TOLERANCE_LU:
                break
            gain_db += loudness_lufs - lufs
        else:
            notes.append(f"loudness reached {lufs:.2f} LUFS, not {loudness_lufs:g}: the {true_peak_dbtp:g} dBTP "
                         "ceiling holds it down")
    return SoundtrackResult(clip=replace(clip, samples=limited.samples), measured_lufs=lufs,
                            measured_true_peak_dbtp=limited.true_peak_dbtp, input_lufs=input_lufs,
                            gain_db=gain_db, limiter_reduction_db=limited.reduction_db, passes=passes,
                            notes=tuple(notes))


def soundtrack_processor(moods: Moods, style: SoundtrackStyle | None = None, loudness_lufs: float = -14.0,
                         true_peak_dbtp: float = -1.0,
                         on_result: Callable[[SoundtrackResult], None] | None = None
                         ) -> Callable[[AudioClip], AudioClip]:
    """``process_soundtrack`` as an AudioClip -> AudioClip function (``render_file(audio=...)``);
    ``on_result`` receives the measurements."""
    def process(clip: AudioClip) -> AudioClip:
        result = process_soundtrack(clip, moods, style, loudness_lufs, true_peak_dbtp)
        if on_result is not None:
            on_result(result)
        return result.clip

    return process


def _limit(samples, rate, ceiling_dbtp, style) -> Limited:
    return limit_true_peak(samples, rate, ceiling_dbtp - TRUE_PEAK_MARGIN_DB,
                           style.limiter_lookahead_ms, style.limiter_release_ms)


def _check_option(name: str, value: float, bounds: tuple[float, float], unit: str) -> None:
    if not (math.isfinite(value) and bounds[0] <= value <= bounds[1]):
        raise MoodgradeError(f"{name} {value:g} {unit} is outside {bounds[0]:g}..{bounds[1]:g} {unit}")
