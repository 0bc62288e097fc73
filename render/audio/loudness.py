"""Integrated loudness (ITU-R BS.1770-4, gated) with pyloudnorm, for mono to 5.1 layouts.

BS.1770 weights left, right and centre 1.0 and the surrounds 1.41, and leaves LFE out;
pyloudnorm expects the channels in the order L, R, C, Ls, Rs, so the layout's channels
are put in that order here (a silent centre stands in where a layout has none).
"""

import warnings

import numpy as np

from render.audio.channels import channel_names
from render.errors import MoodgradeError

GATE_BLOCK_S = 0.4          # BS.1770's gating block: shorter audio has no integrated loudness
_FRONT = ("FL", "FR", "FC")
_SURROUND = ("BL", "BR", "SL", "SR", "BC")


def integrated_lufs(samples: np.ndarray, sample_rate: int, layout: str) -> float | None:
    """Integrated loudness of ``samples`` float32 (channels, n), LUFS.

    -inf for silence (nothing above BS.1770's -70 LUFS gate); None for audio shorter than
    one 400 ms gating block. Raises MoodgradeError for layouts beyond 5.1.
    """
    if samples.shape[1] <= round(GATE_BLOCK_S * sample_rate):
        return None
    ordered = _bs1770_order(samples, layout)
    import pyloudnorm   # here, not at the top: it imports SciPy (about 1 s), which only measuring needs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # (n, channels) in C order: pyloudnorm copies its input C-ordered, which is slow from F order
        lufs = pyloudnorm.Meter(sample_rate).integrated_loudness(np.ascontiguousarray(ordered.T, np.float64))
    return float(lufs) if np.isfinite(lufs) else float("-inf")


def _bs1770_order(samples: np.ndarray, layout: str) -> np.ndarray:
    channels = samples.shape[0]
    if channels <= 2:
        return samples
    names = channel_names(layout, channels)
    fronts = [names.index(n) for n in _FRONT if n in names]
    surrounds = [i for i, n in enumerate(names) if n in _SURROUND]
    others = [n for n in names if n not in _FRONT + _SURROUND + ("LFE",)]
    if others or len(surrounds) > 2:
        raise MoodgradeError(f"audio layout {layout!r}: loudness is measured for layouts up to 5.1")
    rows = [samples[i] for i in fronts]
    if surrounds:
        rows += [np.zeros_like(samples[0])] * (3 - len(rows)) + [samples[i] for i in surrounds]
    return np.stack(rows)
