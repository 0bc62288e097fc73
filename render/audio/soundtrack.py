"""The soundtrack pass: mood chain, then loudness normalisation under a true-peak ceiling,
streamed in blocks from decode to encode.

Loudness to a target needs the integrated loudness of the finished sound, so the
track is read several times, a block at a time, and nothing but a few blocks and a
few compact measurements (one number per 100 ms, one per scene) is ever held:

1. the input's loudness (it places the compressor's threshold) and its length;
2. the mood chain, measuring its make-up gain (each scene's level; see
   render.audio.chain) and its loudness per 100 ms step, from which the loudness
   after the make-up is estimated;
3. the chain with its gain, metered through the limiter at a few normalisation
   gains around the estimate; the gain that meets the target through
   the limiter is interpolated between them (the limiter eats part of each dB);
4. the chain, that gain and the two-stage true-peak limiter: the blocks that are
   encoded (``encode_soundtrack``: into an audio file of its own, which is then
   decoded and measured, and made again with a corrected gain if the encoder moved
   its loudness or peaks off target).

``shape_soundtrack`` runs the passes over an :class:`AudioTrack` and yields the
final blocks; ``encode_soundtrack`` encodes them; ``soundtrack_processor`` wraps
that as the ``audio=`` function of ``render.job.render_file``; ``process_soundtrack``
runs the passes over a clip in memory.
"""

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from render.audio.automation import CONTROL_STEP, AutomationTrack, Moods
from render.audio.chain import Makeup, MoodChain
from render.audio.loudness import STEP_S, LoudnessMeter, gated_lufs
from render.audio.style import SoundtrackStyle
from render.audio.true_peak import LimiterStage, PeakEnvelope, TruePeakLimiter
from render.errors import MoodgradeError
from render.heap import give_back_freed_memory
from render.io.audio_file import AudioEncoding, encode_audio_file
from render.io.source import AUDIO_BLOCK_SAMPLES, AudioClip, AudioTrack, open_source

LOUDNESS_RANGE_LUFS = (-50.0, -5.0)
TRUE_PEAK_RANGE_DBTP = (-20.0, 0.0)
TRUE_PEAK_MARGIN_DB = 0.1       # the limiter aims this far under the ceiling, so meters with
                                # coarser oversampling (FFmpeg's ebur128) read under it too
CANDIDATE_OFFSETS_DB = (-0.5, 0.25, 1.0, 2.0)   # normalisation gains tried through the limiter,
                                                # around the estimate from pass 2
LOUDNESS_TOLERANCE_LU = 0.1     # a result further than this from the target is noted
ENCODED_TOLERANCE_LU = 0.05     # an encoded result further than this is made again ...
MAX_ENCODES = 3                 # ... this many times at most
LOSSY_HEADROOM_DB = 0.5         # lossy encoders (AAC, Opus) overshoot the peaks they are given by
                                # a few tenths of a dB: the first try aims this much lower
READS = 4                       # passes over the track when its loudness can be normalised


@dataclass(frozen=True)
class SoundtrackResult:
    """What the soundtrack pass measured; ``clip`` is the processed clip (same length, rate
    and layout as the input) from :func:`process_soundtrack`, None when streamed.

    measured_lufs: integrated loudness of the result, LUFS (-inf silent, None shorter than
    0.4 s); measured_true_peak_dbtp: its true peak on audio oversampled 4x (to >= 192 kHz),
    dBTP (-inf silent); input_lufs: the input's loudness; gain_db: the normalisation gain;
    limiter_reduction_db: the largest true-peak gain reduction; passes: reads of the track;
    notes: what was skipped or could not be reached, in words.
    """

    clip: AudioClip | None
    measured_lufs: float | None
    measured_true_peak_dbtp: float
    input_lufs: float | None
    gain_db: float
    limiter_reduction_db: float
    passes: int
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _Plan:
    """What passes 1-3 decide for the last one."""

    n_samples: int
    automation: AutomationTrack
    makeup: Makeup
    gain_db: float
    input_lufs: float | None
    passes: int
    notes: tuple[str, ...]


def shape_soundtrack(track: AudioTrack, moods: Moods, style: SoundtrackStyle | None = None,
                     loudness_lufs: float = -14.0, true_peak_dbtp: float = -1.0, block_size: int = 1024,
                     on_result: Callable[[SoundtrackResult], None] | None = None) -> Iterator[np.ndarray]:
    """``track`` shaped to ``moods``, normalised to ``loudness_lufs`` (-50..-5, e.g. -14 for
    streaming, -23 for broadcast) with its true peak at most ``true_peak_dbtp`` (-20..0):
    float32 (channels, n) blocks in order, as many samples in all as the track has.

    ``moods``: MoodSegments or a MoodCurve (an empty list leaves the chain transparent);
    ``block_size``: samples per pedalboard call (32..65536), which does not change the result.
    The track is read ``READS`` times (see the module docstring); the first block comes
    after the first three reads. ``on_result`` receives the measurements after the last block.
    """
    style = style or SoundtrackStyle()
    check_soundtrack_options(loudness_lufs, true_peak_dbtp, block_size)
    ceiling = true_peak_dbtp - TRUE_PEAK_MARGIN_DB
    plan = _plan(track, moods, style, loudness_lufs, ceiling, block_size)
    final = _Final(track, plan, style, block_size, plan.gain_db, ceiling)
    yield from final.blocks()
    if on_result is not None:
        lufs, peak = final.measured()
        on_result(_result(plan, final, lufs, peak, loudness_lufs, true_peak_dbtp, reads=plan.passes))


def encode_soundtrack(track: AudioTrack, moods: Moods, encoding: AudioEncoding, path: str | os.PathLike,
                      style: SoundtrackStyle | None = None, loudness_lufs: float = -14.0,
                      true_peak_dbtp: float = -1.0, block_size: int = 1024) -> SoundtrackResult:
    """:func:`shape_soundtrack` encoded to the audio file ``path`` (render.io.audio_file) and
    measured as encoded, since lossy encoders move loudness and peaks: while the encoded
    result misses the target by more than ENCODED_TOLERANCE_LU, or its true peak the
    ceiling, it is made again with the gain (and the limiter's ceiling) corrected by the
    miss, at most MAX_ENCODES times. The result's figures are those of the file."""
    style = style or SoundtrackStyle()
    check_soundtrack_options(loudness_lufs, true_peak_dbtp, block_size)
    ceiling = true_peak_dbtp - TRUE_PEAK_MARGIN_DB - (LOSSY_HEADROOM_DB if encoding.lossy else 0.0)
    plan = _plan(track, moods, style, loudness_lufs, ceiling, block_size)
    gain_db, reads = plan.gain_db, plan.passes - 1
    for _ in range(MAX_ENCODES):
        final = _Final(track, plan, style, block_size, gain_db, ceiling)
        encode_audio_file(path, final.blocks(), encoding)
        lufs, peak = measure_file(path)
        give_back_freed_memory()
        reads += 2
        normalised = plan.notes == ()
        loud_ok = not normalised or abs(lufs - loudness_lufs) <= ENCODED_TOLERANCE_LU
        if loud_ok and peak <= true_peak_dbtp:
            break
        if normalised:
            gain_db += loudness_lufs - lufs
        if peak > true_peak_dbtp:
            ceiling -= peak - true_peak_dbtp + TRUE_PEAK_MARGIN_DB
    return _result(plan, final, lufs, peak, loudness_lufs, true_peak_dbtp, reads=reads, gain_db=gain_db)


def measure_file(path: str | os.PathLike) -> tuple[float | None, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of the audio file at ``path``, decoded."""
    with open_source(path) as source:
        track = source.audio_track()
        meter = LoudnessMeter(track.sample_rate, track.layout, track.channels)
        envelope = PeakEnvelope(track.sample_rate, track.channels)
        peak = 0.0
        for block in track.read():
            meter.push(block)
            peak = max(peak, float(envelope.push(block)[1].max(initial=0.0)))
        peak = max(peak, float(envelope.finish()[1].max(initial=0.0)))
    return meter.integrated_lufs(), float(20.0 * np.log10(peak)) if peak > 0 else float("-inf")


class _Final:
    """The last read: the chain with its gain, normalised and limited; metered as it goes."""

    def __init__(self, track: AudioTrack, plan: "_Plan", style: SoundtrackStyle, block_size: int, gain_db: float,
                 ceiling_dbtp: float):
        self._track, self._gain = track, np.float32(10.0 ** (gain_db / 20.0))
        self._chain = _chain(track, plan, style, block_size)
        self.limiter = TruePeakLimiter(track.sample_rate, track.channels, ceiling_dbtp,
                                       style.limiter_lookahead_ms, style.limiter_release_ms)
        self._meter = LoudnessMeter(track.sample_rate, track.layout, track.channels)

    def blocks(self) -> Iterator[np.ndarray]:
        for block in self._track.read():
            out = self.limiter.push(self._chain.process(block) * self._gain)
            self._meter.push(out)
            yield out
        out = self.limiter.finish()
        self._meter.push(out)
        yield out

    def measured(self) -> tuple[float | None, float]:
        """(integrated loudness, true peak) of what :meth:`blocks` gave."""
        return self._meter.integrated_lufs(), self.limiter.true_peak_dbtp


def _result(plan: "_Plan", final: _Final, lufs: float | None, peak_dbtp: float, target_lufs: float,
            ceiling_dbtp: float, reads: int, gain_db: float | None = None) -> SoundtrackResult:
    notes = plan.notes
    if not notes and abs(lufs - target_lufs) > LOUDNESS_TOLERANCE_LU:
        notes = (f"loudness reached {lufs:.2f} LUFS, not {target_lufs:g}: the {ceiling_dbtp:g} dBTP "
                 "ceiling holds it down",)
    return SoundtrackResult(clip=None, measured_lufs=lufs, measured_true_peak_dbtp=peak_dbtp,
                            input_lufs=plan.input_lufs, gain_db=plan.gain_db if gain_db is None else gain_db,
                            limiter_reduction_db=final.limiter.reduction_db, passes=reads, notes=notes)


def _chain(track: AudioTrack, plan: _Plan, style: SoundtrackStyle, block_size: int) -> MoodChain:
    """The chain with the make-up gain that ``plan`` measured."""
    return MoodChain(track.sample_rate, track.layout, track.channels, plan.automation, style, plan.n_samples,
                     block_size, makeup=plan.makeup)


def _plan(track: AudioTrack, moods: Moods, style: SoundtrackStyle, loudness_lufs: float,
          ceiling_dbtp: float, block_size: int) -> _Plan:
    """Reads 1-3 (see the module docstring); ``ceiling_dbtp``: the limiter's."""
    rate = track.sample_rate
    n, input_lufs = _input_loudness(track)
    give_back_freed_memory()
    automation = AutomationTrack(moods, n, rate, style, input_lufs)
    makeup, lufs, momentary_lufs, step_gain_db = _chain_steps(track, automation, style, n, block_size)
    give_back_freed_memory()
    partial = _Plan(n, automation, makeup, 0.0, input_lufs, 2, ())
    if lufs is None or lufs == -math.inf:
        note = "the clip is shorter than 0.4 s" if lufs is None else "the clip is silent"
        return _Plan(n, automation, makeup, 0.0, input_lufs, 3, (f"loudness not normalised: {note}",))
    estimate = _estimate_lufs(momentary_lufs, step_gain_db, makeup, rate)
    candidates = [loudness_lufs - estimate + offset for offset in CANDIDATE_OFFSETS_DB]
    measured = _limited_lufs(track, partial, style, block_size, candidates, ceiling_dbtp)
    give_back_freed_memory()
    return _Plan(n, automation, makeup, _normalisation_gain(candidates, measured, loudness_lufs), input_lufs,
                 READS, ())


def _input_loudness(track: AudioTrack) -> tuple[int, float | None]:
    """Read 1: the track's length (samples) and integrated loudness (LUFS)."""
    meter = LoudnessMeter(track.sample_rate, track.layout, track.channels)
    n = 0
    for block in track.read():
        meter.push(block)
        n += block.shape[1]
    return n, meter.integrated_lufs()


def _chain_steps(track: AudioTrack, automation: AutomationTrack, style: SoundtrackStyle, n_samples: int,
                 block_size: int) -> tuple[Makeup, float | None, np.ndarray, np.ndarray]:
    """Read 2: the make-up gain, and the chain's loudness without it: integrated (LUFS), per
    400 ms block ending every 100 ms (LUFS), and the mood gain at each block's centre (dB)."""
    rate, channels = track.sample_rate, track.channels
    chain = MoodChain(rate, track.layout, channels, automation, style, n_samples, block_size, measure_makeup=True)
    steps = LoudnessMeter(rate, track.layout, channels, momentary=True)
    step_gain_db = []
    done = 0
    for block in track.read():
        steps.push(chain.process(block))
        first, stop = done // CONTROL_STEP, -(-(done + block.shape[1]) // CONTROL_STEP)
        at = _step_points(first, stop, rate)
        step_gain_db.append(automation.window(first, stop).gain_db[at - first])
        done += block.shape[1]
    gains = np.concatenate(step_gain_db) if step_gain_db else np.zeros(0)
    return chain.makeup(), steps.integrated_lufs(), np.asarray(steps.momentary_lufs), gains


def _limited_lufs(track: AudioTrack, partial: _Plan, style: SoundtrackStyle, block_size: int,
                  gains_db: list[float], ceiling_dbtp: float) -> list[float]:
    """Read 3: the integrated loudness (LUFS) of the chain through the limiter at each of ``gains_db``."""
    rate, channels = track.sample_rate, track.channels
    chain = _chain(track, partial, style, block_size)
    envelope = PeakEnvelope(rate, channels)
    limiters = [(np.float32(10.0 ** (g / 20.0)),
                 LimiterStage.for_rate(rate, channels, ceiling_dbtp, style.limiter_lookahead_ms,
                                       style.limiter_release_ms),
                 LoudnessMeter(rate, track.layout, channels)) for g in gains_db]

    def limit(samples, peaks, final=False) -> None:
        for gain, stage, candidate_meter in limiters:
            candidate_meter.push(stage.push(samples * gain, peaks * gain, final=final)[0])

    for block in track.read():
        limit(*envelope.push(chain.process(block)))
    limit(*envelope.finish(), final=True)
    return [candidate_meter.integrated_lufs() for _, _, candidate_meter in limiters]


def _step_points(first: int, stop: int, sample_rate: int) -> np.ndarray:
    """The automation points, within ``first <= k < stop``, at the centres of the meter's
    400 ms blocks (one ends every 100 ms)."""
    per_step = STEP_S * sample_rate / CONTROL_STEP
    points = _step_centres(np.arange(max(0, int(first / per_step) - 2), int(stop / per_step) + 2), sample_rate)
    return points[(points >= first) & (points < stop)]


def _step_centres(steps: np.ndarray, sample_rate: int) -> np.ndarray:
    """The automation point at the centre of the 400 ms block that ends with each 100 ms
    step (``steps``: step numbers from 0), int64."""
    per_step = STEP_S * sample_rate / CONTROL_STEP
    return np.maximum((steps - 1) * per_step, 0.0).astype(np.int64)


def _estimate_lufs(momentary_lufs: np.ndarray, step_gain_db: np.ndarray, makeup: Makeup, sample_rate: int) -> float:
    """The chain's loudness once its gain is applied, from its 400 ms block loudnesses
    without it: each block moved by the gain (mood, ``step_gain_db``, and make-up, mean over
    channels) at its centre, then gated as BS.1770 does."""
    count = min(len(momentary_lufs), len(step_gain_db))
    points = _step_centres(np.arange(count), sample_rate)
    moved = momentary_lufs[:count] + step_gain_db[:count] + makeup.at(points).mean(axis=0)
    return gated_lufs(moved)


def _normalisation_gain(gains_db: list[float], measured_lufs: list[float], target_lufs: float) -> float:
    """The gain whose limited loudness meets ``target_lufs``, interpolated through the
    (gain, loudness) pairs measured (loudness rises with gain, by less than the gain
    where the limiter works); below them the limiter's loss is taken as constant, above
    them the last slope (0.1..1 LU per dB) is extended."""
    gains, lufs = np.asarray(gains_db), np.asarray(measured_lufs)
    if target_lufs <= lufs[0]:
        return float(gains[0] + target_lufs - lufs[0])
    if target_lufs <= lufs[-1]:
        return float(np.interp(target_lufs, lufs, gains))
    slope = float(np.clip((lufs[-1] - lufs[-2]) / (gains[-1] - gains[-2]), 0.1, 1.0))
    return float(gains[-1] + (target_lufs - lufs[-1]) / slope)


def soundtrack_processor(moods: Moods, style: SoundtrackStyle | None = None, loudness_lufs: float = -14.0,
                         true_peak_dbtp: float = -1.0,
                         on_result: Callable[[SoundtrackResult], None] | None = None
                         ) -> Callable[[AudioTrack, AudioEncoding, Path], SoundtrackResult]:
    """``encode_soundtrack`` as the ``audio=`` function of ``render.job.render_file``;
    ``on_result`` receives the measurements. The options are checked here, before any work."""
    check_soundtrack_options(loudness_lufs, true_peak_dbtp)

    def process(track: AudioTrack, encoding: AudioEncoding, path: Path) -> SoundtrackResult:
        result = encode_soundtrack(track, moods, encoding, path, style, loudness_lufs, true_peak_dbtp)
        if on_result is not None:
            on_result(result)
        return result

    return process


def process_soundtrack(clip: AudioClip, moods: Moods, style: SoundtrackStyle | None = None,
                       loudness_lufs: float = -14.0, true_peak_dbtp: float = -1.0,
                       block_size: int = 1024) -> SoundtrackResult:
    """:func:`shape_soundtrack` over a clip in memory (short clips, tests, benchmarks);
    the result carries the processed clip."""
    check_soundtrack_options(loudness_lufs, true_peak_dbtp, block_size)
    samples = np.asarray(clip.samples)
    if samples.ndim != 2 or samples.shape[0] == 0 or not np.isfinite(samples).all():
        raise MoodgradeError("audio: samples must be a finite (channels, n) array with channels >= 1")
    samples = np.ascontiguousarray(samples, np.float32)

    def read() -> Iterator[np.ndarray]:
        for start in range(0, samples.shape[1], AUDIO_BLOCK_SAMPLES):
            yield samples[:, start:start + AUDIO_BLOCK_SAMPLES]

    track = AudioTrack(clip.sample_rate, clip.layout, samples.shape[0], read)
    results: list[SoundtrackResult] = []
    blocks = list(shape_soundtrack(track, moods, style, loudness_lufs, true_peak_dbtp, block_size, results.append))
    out = np.concatenate(blocks, axis=1)
    result = results[0]
    return SoundtrackResult(clip=AudioClip(out, clip.sample_rate, clip.layout), **{
        name: getattr(result, name) for name in ("measured_lufs", "measured_true_peak_dbtp", "input_lufs",
                                                 "gain_db", "limiter_reduction_db", "passes", "notes")})


def check_soundtrack_options(loudness_lufs: float, true_peak_dbtp: float, block_size: int = 1024) -> None:
    """One-line MoodgradeErrors for a loudness target, ceiling or block size out of range."""
    _check_option("loudness", loudness_lufs, LOUDNESS_RANGE_LUFS, "LUFS")
    _check_option("true peak", true_peak_dbtp, TRUE_PEAK_RANGE_DBTP, "dBTP")
    if not 32 <= block_size <= 65536:
        raise MoodgradeError(f"block size {block_size} is outside 32..65536 samples")


def _check_option(name: str, value: float, bounds: tuple[float, float], unit: str) -> None:
    if not (math.isfinite(value) and bounds[0] <= value <= bounds[1]):
        raise MoodgradeError(f"{name} {value:g} {unit} is outside {bounds[0]:g}..{bounds[1]:g} {unit}")
