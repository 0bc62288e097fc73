"""The mood chain: pedalboard compressor -> low shelf -> high shelf -> reverb -> gain.

The compressor and the two shelves are pedalboard plugins automated per block: the
clip is processed in blocks of at most ``block_size`` samples with ``reset=False``
(effect state carries over), split further at every automation point where a setting
moves, so every plugin sees its ramped settings change in steps of one automation
point (``CONTROL_STEP`` samples) and never more than one point's worth of ramp.
The reverb (a pedalboard Reverb with a fixed room, fully wet) runs once over the
shelved signal; its level and the gain are sample-level envelopes (linear
interpolation between automation points), so they cannot step at all. The gain is
the mood gain plus a make-up gain that keeps each scene's level where it was
(``makeup_gain_db``): the chain shapes tone and dynamics, the mood gain sets the level.

Output length equals input length: these plugins report no latency, and the reverb
tail that would ring past the end is faded out over the last ``TAIL_FADE_MS``.
"""

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


def apply_mood_chain(samples: np.ndarray, sample_rate: int, layout: str, automation: ChainAutomation,
                     style: SoundtrackStyle, block_size: int = 1024) -> np.ndarray:
    """``samples`` float32 (channels, n) through the automated chain; same shape back.

    ``automation`` must cover the clip (``len(automation) * CONTROL_STEP >= n``);
    ``block_size`` (32..65536 samples) bounds each plugin call and does not change the result.
    """
    n = samples.shape[1]
    if n == 0:
        return samples.copy()
    shaped = _automated_plugins(samples, sample_rate, automation, style, block_size)
    envelope_at = np.arange(n) / CONTROL_STEP - 0.5           # sample position in automation points
    points = np.arange(len(automation))
    wet = np.interp(envelope_at, points, automation.reverb_wet).astype(np.float32)
    if wet.any():
        fade = min(n, round(TAIL_FADE_MS * 1e-3 * sample_rate))
        wet[n - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        reverb = _reverb(shaped, sample_rate, layout, style)
        reverb *= wet
        shaped += reverb
    gain_db = automation.gain_db + makeup_gain_db(samples, shaped, automation)
    for channel, channel_gain_db in zip(shaped, gain_db):
        channel *= (10.0 ** (np.interp(envelope_at, points, channel_gain_db) / 20.0)).astype(np.float32)
    return shaped


def makeup_gain_db(before: np.ndarray, after: np.ndarray, automation: ChainAutomation) -> np.ndarray:
    """Per channel and automation point (channels, points), the gain in dB (within
    +-MAKEUP_DB_MAX) that gives ``after`` the level of ``before`` where the chain holds
    still: the energy ratio over each stretch of unchanging settings at least
    MAKEUP_MIN_POINTS long, interpolated linearly across the ramps between stretches
    (so it moves exactly when the settings do); one ratio for the whole clip where the
    settings never hold still. 0 dB where either signal is silent.

    So the compressor, shelves and reverb change tone and dynamics within a scene, not
    its level or its balance between channels: the level follows the mood gain alone.
    """
    points = len(automation)
    energy_before, energy_after = _point_energy(before, points), _point_energy(after, points)
    table = np.stack([getattr(automation, name) for name in (*_PLUGIN_SETTINGS, "reverb_wet")], axis=1)
    starts = np.flatnonzero(np.concatenate(([True], np.any(table[1:] != table[:-1], axis=1))))
    ends = np.append(starts[1:], points)
    anchors = [(start, end) for start, end in zip(starts, ends) if end - start >= MAKEUP_MIN_POINTS]
    if not anchors:
        return _ratio_db(energy_before.sum(axis=1), energy_after.sum(axis=1))[:, None].repeat(points, axis=1)
    at = np.concatenate([np.arange(start, end) for start, end in anchors])
    values = np.concatenate([_ratio_db(energy_before[:, start:end].sum(axis=1),
                                       energy_after[:, start:end].sum(axis=1))[:, None].repeat(end - start, axis=1)
                             for start, end in anchors], axis=1)
    return np.array([np.interp(np.arange(points), at, channel) for channel in values])


def _point_energy(samples: np.ndarray, points: int, block_points: int = 1 << 15) -> np.ndarray:
    """Sum of squares per channel and automation point (channels, points), float64; taken
    ``block_points`` at a time so a feature film needs no float64 copy of its soundtrack."""
    channels, n = samples.shape
    energy = np.zeros((channels, points), np.float64)
    for start in range(0, points, block_points):
        stop = min(start + block_points, points)
        block = np.zeros((channels, (stop - start) * CONTROL_STEP), np.float64)
        part = samples[:, start * CONTROL_STEP:stop * CONTROL_STEP]
        block[:, :part.shape[1]] = part
        energy[:, start:stop] = np.square(block).reshape(channels, stop - start, CONTROL_STEP).sum(axis=2)
    return energy


def _ratio_db(energy_before: np.ndarray, energy_after: np.ndarray) -> np.ndarray:
    audible = (energy_before > 1e-12) & (energy_after > 1e-12)
    ratio = np.divide(energy_before, energy_after, out=np.ones_like(energy_before), where=audible)
    return np.clip(10.0 * np.log10(ratio), -MAKEUP_DB_MAX, MAKEUP_DB_MAX)


def _automated_plugins(samples, sample_rate, automation, style, block_size) -> np.ndarray:
    compressor = pedalboard.Compressor()
    low = pedalboard.LowShelfFilter(cutoff_frequency_hz=style.low_shelf_hz)
    high = pedalboard.HighShelfFilter(cutoff_frequency_hz=min(style.high_shelf_hz, 0.45 * sample_rate))
    board = pedalboard.Pedalboard([compressor, low, high])
    # Plugins re-prepare (and lose their state) when a call is longer than any before it:
    # one silent block of the largest size first keeps every later call state-preserving.
    board.process(np.zeros((samples.shape[0], block_size), np.float32), sample_rate, reset=False)
    table = np.stack([getattr(automation, name) for name in _PLUGIN_SETTINGS], axis=1)
    changes = np.flatnonzero(np.any(table[1:] != table[:-1], axis=1)) + 1
    starts = (np.concatenate(([0], changes)) * CONTROL_STEP).tolist()
    ends = np.minimum(np.concatenate((changes * CONTROL_STEP, [samples.shape[1]])), samples.shape[1]).tolist()
    out = np.empty_like(samples)
    for start, end, values in zip(starts, ends, table[np.concatenate(([0], changes))].tolist()):
        ratio, threshold_db, attack_ms, release_ms, low_db, high_db = values
        compressor.ratio, compressor.threshold_db = ratio, threshold_db
        compressor.attack_ms, compressor.release_ms = attack_ms, release_ms
        low.gain_db, high.gain_db = low_db, high_db
        for block in range(start, end, block_size):
            stop = min(block + block_size, end)
            out[:, block:stop] = board.process(samples[:, block:stop], sample_rate, reset=False)
    return out


def _reverb(samples: np.ndarray, sample_rate: int, layout: str, style: SoundtrackStyle) -> np.ndarray:
    """The fully wet reverb of each channel group: left/right pairs in stereo, other
    channels in mono, none on LFE."""
    wet = np.zeros_like(samples)
    for group in channel_groups(layout, samples.shape[0]):
        reverb = pedalboard.Reverb(room_size=style.reverb_room_size, damping=style.reverb_damping,
                                   wet_level=1.0, dry_level=0.0, width=1.0)
        wet[group] = reverb.process(samples[group], sample_rate)
    return wet


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
