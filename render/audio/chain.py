"""The mood chain: pedalboard compressor -> low shelf -> high shelf -> reverb -> gain.

The compressor and the two shelves are pedalboard plugins automated per block: the
clip is processed in blocks of at most ``block_size`` samples with ``reset=False``
(effect state carries over), split further at every automation point where a setting
moves, so every plugin sees its ramped settings change in steps of one automation
point (``CONTROL_STEP`` samples) and never more than one point's worth of ramp.
The reverb (a pedalboard Reverb with a fixed room, fully wet) runs once over the
shelved signal; its level and the mood gain are sample-level envelopes (linear
interpolation between automation points), so they cannot step at all.

Output length equals input length: these plugins report no latency, and the reverb
tail that would ring past the end is faded out over the last ``TAIL_FADE_MS``.
"""

import av
import numpy as np
import pedalboard

from render.audio.automation import CONTROL_STEP, ChainAutomation
from render.audio.style import SoundtrackStyle

TAIL_FADE_MS = 20.0
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
        shaped = shaped + wet * _reverb(shaped, sample_rate, layout, style)
    gain = 10.0 ** (np.interp(envelope_at, points, automation.gain_db) / 20.0)
    return (shaped * gain.astype(np.float32)).astype(np.float32)


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
    starts = np.concatenate(([0], changes)) * CONTROL_STEP
    ends = np.concatenate((changes * CONTROL_STEP, [samples.shape[1]]))
    out = np.empty_like(samples)
    for start, end, values in zip(starts, ends, table[np.concatenate(([0], changes))]):
        end = min(end, samples.shape[1])
        ratio, threshold_db, attack_ms, release_ms, low_db, high_db = (float(v) for v in values)
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
    try:
        names = [c.name for c in av.AudioLayout(layout).channels]
    except (ValueError, av.FFmpegError):
        names = []
    if len(names) != channels:
        names = ["FL", "FR"] if channels == 2 else [f"C{i}" for i in range(channels)]
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
