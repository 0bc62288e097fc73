"""Music-like test signals: chords with note envelopes, a bass line and noise-burst drums."""

import numpy as np

from render.io.source import AudioClip

CHORDS_HZ = ((261.6, 329.6, 392.0), (220.0, 261.6, 329.6), (174.6, 220.0, 261.6), (196.0, 246.9, 293.7))


def music(seconds: float = 4.0, channels: int = 2, sample_rate: int = 48000, level: float = 0.25,
          layout: str | None = None, seed: int = 0) -> AudioClip:
    """A four-chord loop (two chords per second) with bass and drums; float32 (channels, n).

    Channels get the mix with slightly different balance (and LFE only the bass) so the
    image is not plain mono; ``level`` scales the whole mix (peaks near 2 * level).
    """
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    beat = (t * 2.0).astype(int)                     # a chord every half second
    in_note = t * 2.0 - beat
    envelope = np.minimum(in_note / 0.01, 1.0) * np.exp(-3.0 * in_note)
    chords = np.array(CHORDS_HZ)[beat % len(CHORDS_HZ)]
    pad = sum(np.sin(2 * np.pi * chords[:, k] * t) + 0.3 * np.sin(4 * np.pi * chords[:, k] * t)
              for k in range(3)) * envelope / 4.0
    bass = 0.6 * np.sin(2 * np.pi * chords[:, 0] / 4.0 * t) * np.minimum(in_note / 0.02, 1.0)
    drum_phase = (t * 4.0) % 1.0
    drums = rng.standard_normal(n) * np.exp(-drum_phase / 0.03) * 0.5
    mix = pad + bass + drums
    layout = layout or {1: "mono", 2: "stereo", 6: "5.1"}[channels]
    rows = []
    for c in range(channels):
        if layout == "5.1" and c == 3:                # LFE: bass only
            rows.append(bass)
        else:
            rows.append(pad * (0.7 + 0.15 * (c % 3)) + bass * 0.8 + drums * (1.0 - 0.1 * c))
    samples = (level * np.array(rows) / np.abs(mix).max()).astype(np.float32)
    return AudioClip(samples=samples, sample_rate=sample_rate, layout=layout)


def sine(seconds: float, frequency_hz: float, channels: int = 2, amplitude: float = 0.3,
         sample_rate: int = 48000) -> AudioClip:
    """A steady sine in every channel, float32 (channels, n)."""
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    samples = np.tile(amplitude * np.sin(2 * np.pi * frequency_hz * t), (channels, 1)).astype(np.float32)
    return AudioClip(samples=samples, sample_rate=sample_rate, layout={1: "mono", 2: "stereo", 6: "5.1"}[channels])
