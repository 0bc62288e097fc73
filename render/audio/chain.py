"""The mood chain: pedalboard compressor -> low shelf -> high shelf -> reverb -> gain.

:class:`MoodChain` runs it on a stream of blocks (channels, n), in order, each block
starting on an automation point (``CONTROL_STEP``). The compressor and the two shelves
are pedalboard plugins automated per block: a block is processed in pieces of at most
``block_size`` samples with ``reset=False`` (effect state carries over), split further
at every automation point where a setting moves, so every plugin sees its ramped
settings change in steps of one automation point and never more than one point's worth
of ramp. The reverb (a pedalboard Reverb with a fixed room, fully wet, ``reset=False``
too) runs over the shelved signal; its level and the gain are sample-level envelopes
(linear interpolation between automation points), so they cannot step at all. The gain
is the mood gain plus a make-up gain that keeps each scene's level where it was
(:class:`Makeup`): the chain shapes tone and dynamics, the mood gain sets the level.

The make-up gain needs the whole programme (a scene's level is its energy over all of
it), so a stream runs the chain twice: once measuring (``measure_makeup=True``, gain
not applied), once with the :class:`Makeup` that the first pass measured.

Output length equals input length: these plugins report no latency, and the reverb
tail that would ring past the end is faded out over the last ``TAIL_FADE_MS``.
"""

from dataclasses import dataclass

import numpy as np
import pedalboard

from render.audio.automation import CONTROL_STEP, ChainAutomation
from render.audio.channels import channel_names
from render.audio.style import SoundtrackStyle

TAIL_FADE_MS = 20.0
MAKEUP_MIN_POINTS = 64      # automation points (64 x 32 samples: 43 ms at 48 kHz) a stretch
                            # of unchanging settings needs to anchor the make-up gain
MAKEUP_DB_MAX = 12.0
_PLUGIN_SETTINGS = ("ratio", "threshold_db", "attack_ms", "release_ms", "low_shelf_db", "high_shelf_db")
_STRETCH_SETTINGS = (*_PLUGIN_SETTINGS, "reverb_wet")
PRIME_SAMPLES = 1 << 16     # plugins re-prepare (and lose their state) on a call longer than any
                            # before: one silent call of this size first keeps later calls stateful


@dataclass(frozen=True, eq=False)
class Makeup:
    """The make-up gain, dB, per channel and automation point, that gives the chain's
    output the level of its input where the chain holds still.

    Each stretch of unchanging settings at least MAKEUP_MIN_POINTS long anchors it at
    the energy ratio (input over output) of that stretch, within +-MAKEUP_DB_MAX; across
    the ramps between stretches it moves linearly (exactly when the settings do); where
    the settings never hold still, one ratio for the whole programme; 0 dB where either
    signal is silent. So the compressor, shelves and reverb change tone and dynamics
    within a scene, not its level or its balance between channels.

    Stored as a piecewise linear function: ``at_points`` (sorted, two per anchor: its
    first and last point) and ``values_db`` (channels, len(at_points)), flat beyond the ends.
    """

    at_points: np.ndarray
    values_db: np.ndarray

    def at(self, points: np.ndarray) -> np.ndarray:
        """The make-up gain at ``points`` (automation point indices), (channels, len(points))."""
        return np.array([np.interp(points, self.at_points, channel) for channel in self.values_db])


class _MakeupMeter:
    """Energies before and after the chain per stretch of unchanging settings, as the
    blocks pass; :meth:`result` turns them into the :class:`Makeup`. Holds one entry per
    anchored stretch, not per sample."""

    def __init__(self, channels: int):
        self._row: np.ndarray | None = None       # the settings of the stretch under way
        self._start = 0
        self._sums = np.zeros((2, channels))      # its energy before and after
        self._total = np.zeros((2, channels))
        self._anchors: list[tuple[int, int, np.ndarray]] = []

    def push(self, first_point: int, before: np.ndarray, after: np.ndarray, table: np.ndarray) -> None:
        """A block starting at ``first_point``; ``table`` (points, settings) its settings."""
        energy = np.stack((_point_energy(before), _point_energy(after)))      # (2, channels, points)
        self._total += energy.sum(axis=2)
        previous = np.vstack((table[:1] if self._row is None else self._row[None], table[:-1]))
        changes = set(np.flatnonzero(np.any(table != previous, axis=1)).tolist())
        bounds = sorted({0, len(table), *changes})
        for a, b in zip(bounds, bounds[1:]):
            if a in changes:
                self._close(first_point + a)
            self._sums += energy[:, :, a:b].sum(axis=2)
        self._row = table[-1]

    def _close(self, stop: int) -> None:
        if stop - self._start >= MAKEUP_MIN_POINTS:
            self._anchors.append((self._start, stop, _ratio_db(*self._sums)))
        self._start, self._sums = stop, np.zeros_like(self._sums)

    def result(self, points: int) -> Makeup:
        """The make-up for a programme of ``points`` automation points (call once, at the end)."""
        self._close(points)
        if not self._anchors:
            return Makeup(np.array([0.0]), _ratio_db(*self._total)[:, None])
        at = np.array([p for start, stop, _ in self._anchors for p in (start, stop - 1)], np.float64)
        values = np.concatenate([np.repeat(ratio[:, None], 2, axis=1) for _, _, ratio in self._anchors], axis=1)
        return Makeup(at, values)


class MoodChain:
    """The automated chain over a stream of blocks (see the module docstring).

    ``automation``: an AutomationTrack or a ChainAutomation (anything with ``len()`` and
    ``window(first, stop)``) covering ``n_samples``; ``block_size`` (32..65536 samples)
    bounds each plugin call and does not change the result. ``makeup``: apply the gain
    with this make-up; None with ``measure_makeup``: measure it, leaving the gain off.
    """

    def __init__(self, sample_rate: int, layout: str, channels: int, automation, style: SoundtrackStyle,
                 n_samples: int, block_size: int = 1024, *, makeup: Makeup | None = None,
                 measure_makeup: bool = False):
        self._rate, self._automation, self._n = sample_rate, automation, n_samples
        self._block_size, self._makeup = block_size, makeup
        self._meter = _MakeupMeter(channels) if measure_makeup else None
        self._compressor = pedalboard.Compressor()
        self._low = pedalboard.LowShelfFilter(cutoff_frequency_hz=style.low_shelf_hz)
        self._high = pedalboard.HighShelfFilter(cutoff_frequency_hz=min(style.high_shelf_hz, 0.45 * sample_rate))
        self._board = pedalboard.Pedalboard([self._compressor, self._low, self._high])
        self._board.process(np.zeros((channels, block_size), np.float32), sample_rate, reset=False)
        self._reverbs = []
        if style.reverb_wet_max > 0:
            for group in channel_groups(layout, channels):
                reverb = pedalboard.Reverb(room_size=style.reverb_room_size, damping=style.reverb_damping,
                                           wet_level=1.0, dry_level=0.0, width=1.0)
                reverb.process(np.zeros((len(group), PRIME_SAMPLES), np.float32), sample_rate, reset=False)
                self._reverbs.append((group, reverb))
        self._fade = min(n_samples, round(TAIL_FADE_MS * 1e-3 * sample_rate))
        self._done = 0

    def process(self, block: np.ndarray) -> np.ndarray:
        """The next block through the chain, float32, same shape."""
        start, n = self._done, block.shape[1]
        if start % CONTROL_STEP or start + n > self._n:
            raise ValueError("mood chain: blocks must start on automation points and stay within n_samples")
        self._done += n
        if n == 0:
            return block.copy()
        first, stop = start // CONTROL_STEP, -(-(start + n) // CONTROL_STEP)
        # One point either side: the envelopes interpolate between neighbouring points.
        around = self._automation.window(first - 1, stop + 1)
        offset = 1 if first > 0 else 0
        inner = around.window(offset, offset + stop - first)
        shaped = self._plugins(block, inner)
        at = (start + np.arange(n)) / CONTROL_STEP - 0.5               # sample position in points
        points = np.arange(first - offset, first - offset + len(around))
        if self._reverbs:
            wet = np.interp(at, points, around.reverb_wet).astype(np.float32)
            fade_from = self._n - self._fade
            if start + n > fade_from:
                tail = np.arange(max(start, fade_from), start + n)
                wet[tail - start] *= np.linspace(1.0, 0.0, self._fade, dtype=np.float32)[tail - fade_from]
            for group, reverb in self._reverbs:
                shaped[group] += reverb.process(shaped[group], self._rate, reset=False) * wet
        if self._meter is not None:
            self._meter.push(first, block, shaped, _stretch_table(inner))
        if self._makeup is not None:
            gain_db = around.gain_db + self._makeup.at(points)
            for channel, channel_gain_db in zip(shaped, gain_db):
                channel *= (10.0 ** (np.interp(at, points, channel_gain_db) / 20.0)).astype(np.float32)
        return shaped

    def makeup(self) -> Makeup:
        """The make-up gain measured over the whole stream (``measure_makeup``, at the end)."""
        return self._meter.result(len(self._automation))

    def _plugins(self, block: np.ndarray, automation) -> np.ndarray:
        table = np.stack([getattr(automation, name) for name in _PLUGIN_SETTINGS], axis=1)
        changes = np.flatnonzero(np.any(table[1:] != table[:-1], axis=1)) + 1
        n = block.shape[1]
        starts = (np.concatenate(([0], changes)) * CONTROL_STEP).tolist()
        ends = np.minimum(np.concatenate((changes * CONTROL_STEP, [n])), n).tolist()
        out = np.empty_like(block)
        for start, end, values in zip(starts, ends, table[np.concatenate(([0], changes))].tolist()):
            ratio, threshold_db, attack_ms, release_ms, low_db, high_db = values
            self._compressor.ratio, self._compressor.threshold_db = ratio, threshold_db
            self._compressor.attack_ms, self._compressor.release_ms = attack_ms, release_ms
            self._low.gain_db, self._high.gain_db = low_db, high_db
            for piece in range(start, end, self._block_size):
                stop = min(piece + self._block_size, end)
                out[:, piece:stop] = self._board.process(block[:, piece:stop], self._rate, reset=False)
        return out


def apply_mood_chain(samples: np.ndarray, sample_rate: int, layout: str, automation: ChainAutomation,
                     style: SoundtrackStyle, block_size: int = 1024) -> np.ndarray:
    """``samples`` float32 (channels, n) through the automated chain; same shape back
    (both passes of :class:`MoodChain` over an array in memory, for short clips).

    ``automation`` must cover the clip (``len(automation) * CONTROL_STEP >= n``);
    ``block_size`` (32..65536 samples) bounds each plugin call and does not change the result.
    """
    channels, n = samples.shape

    def run(**kwargs) -> tuple[MoodChain, np.ndarray]:
        chain = MoodChain(sample_rate, layout, channels, automation, style, n, block_size, **kwargs)
        blocks = [chain.process(samples[:, a:a + PRIME_SAMPLES]) for a in range(0, n, PRIME_SAMPLES)]
        return chain, np.concatenate(blocks, axis=1) if blocks else samples.copy()

    measured, _ = run(measure_makeup=True)
    return run(makeup=measured.makeup())[1]


def _stretch_table(automation) -> np.ndarray:
    """(points, settings): the settings whose changes end a make-up stretch."""
    return np.stack([getattr(automation, name) for name in _STRETCH_SETTINGS], axis=1)


def _point_energy(samples: np.ndarray) -> np.ndarray:
    """Sum of squares per channel and automation point (channels, points), float64; a last
    partial point counts what it has."""
    channels, n = samples.shape
    points = -(-n // CONTROL_STEP)
    block = np.zeros((channels, points * CONTROL_STEP), np.float64)
    block[:, :n] = samples
    return np.square(block).reshape(channels, points, CONTROL_STEP).sum(axis=2)


def _ratio_db(energy_before: np.ndarray, energy_after: np.ndarray) -> np.ndarray:
    audible = (energy_before > 1e-12) & (energy_after > 1e-12)
    ratio = np.divide(energy_before, energy_after, out=np.ones_like(energy_before), where=audible)
    return np.clip(10.0 * np.log10(ratio), -MAKEUP_DB_MAX, MAKEUP_DB_MAX)


def channel_groups(layout: str, channels: int) -> list[list[int]]:
    """Indices of the channels that share a reverb: each left channel with its right
    twin (FL+FR, BL+BR, SL+SR, ...), every other channel alone; LFE in no group."""
    names = channel_names(layout, channels)
    groups, paired = [], set()
    for i, name in enumerate(names):
        if name == "LFE" or i in paired:
            continue
        twin = name[::-1].replace("L", "R", 1)[::-1] if "L" in name else None
        if twin in names and twin != name:
            j = names.index(twin)
            groups.append([i, j])
            paired.add(j)
        else:
            groups.append([i])
    return groups
