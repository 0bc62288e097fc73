"""Audio affect: loudness, spectral centroid, spectral flux and onset rate per video frame.

The soundtrack (float32 samples, channels x n, nominally -1..1) is mixed to
mono and cut into short-time spectra (Hann window about 43 ms, hop a quarter
of it), processed in blocks so a feature film needs little memory. For each
video frame time ``t`` the spectra within ``window_s`` around ``t`` give:

* ``loudness_db``: RMS level in dBFS (-80 .. 0; a full-scale sine is -3);
* ``centroid_hz``: magnitude-weighted mean frequency (0 in silence);
* ``flux``: mean positive change of the log-compressed magnitude spectrum
  from one spectrum to the next, 0 .. about 3 (sudden, changing sound is high);
* ``onset_rate_per_s``: peaks of the flux (new notes, hits, cuts in the sound)
  per second within ``onset_window_s`` either side of ``t``.
"""

import numpy as np

FEATURES = ("loudness_db", "centroid_hz", "flux", "onset_rate_per_s")
SILENCE_DB = -80.0
_BLOCK_SPECTRA = 4096


def _spectral_frames(mono: np.ndarray, sample_rate: int) -> tuple[np.ndarray, ...]:
    """Per spectrum: centre time (s), mean power, centroid (Hz), flux."""
    n_fft = 1 << int(np.ceil(np.log2(0.042 * sample_rate)))
    hop = n_fft // 4
    if mono.size < n_fft:
        mono = np.pad(mono, (0, n_fft - mono.size))
    window = np.hanning(n_fft).astype(np.float32)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(mono, n_fft)[::hop]
    power, centroid, flux = [], [], []
    previous = None
    for start in range(0, frames.shape[0], _BLOCK_SPECTRA):
        block = frames[start:start + _BLOCK_SPECTRA]
        magnitude = np.abs(np.fft.rfft(block * window, axis=1)).astype(np.float32)
        power.append(np.mean(block.astype(np.float32) ** 2, axis=1))
        total = magnitude.sum(axis=1)
        centroid.append(np.where(total > 1e-6, magnitude @ freqs / np.maximum(total, 1e-6), 0.0))
        compressed = np.log1p(100.0 * magnitude)
        before = np.vstack([compressed[:1] if previous is None else previous, compressed[:-1]])
        flux.append(np.maximum(compressed - before, 0.0).mean(axis=1))
        previous = compressed[-1:]
    times = (np.arange(frames.shape[0]) * hop + n_fft / 2) / sample_rate
    return times, np.concatenate(power), np.concatenate(centroid), np.concatenate(flux)


def _onsets(flux: np.ndarray, spectra_per_s: float) -> np.ndarray:
    """Indices of onset peaks: local maxima above the running median by 1.5 robust deviations."""
    if flux.size < 3:
        return np.zeros(0, int)
    half = max(1, round(0.25 * spectra_per_s))
    padded = np.pad(flux, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    median = np.median(windows, axis=1)
    spread = np.median(np.abs(windows - median[:, None]), axis=1) * 1.4826
    min_gap = max(1, round(0.05 * spectra_per_s))
    local = np.lib.stride_tricks.sliding_window_view(np.pad(flux, min_gap, mode="edge"), 2 * min_gap + 1)
    peaks = np.flatnonzero((flux >= local.max(axis=1)) & (flux > median + 1.5 * spread + 0.05))
    kept: list[int] = []
    for p in peaks:
        if not kept or p - kept[-1] >= min_gap:
            kept.append(int(p))
    return np.asarray(kept, int)


def _window_mean(values: np.ndarray, times_s: np.ndarray, at_s: np.ndarray, half_s: float,
                 weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` over ``|times_s - at_s| <= half_s`` (weighted), and the weight in each window."""
    w = np.ones_like(values) if weights is None else weights
    cum_w = np.concatenate([[0.0], np.cumsum(w, dtype=np.float64)])
    cum_v = np.concatenate([[0.0], np.cumsum(values * w, dtype=np.float64)])
    lo = np.searchsorted(times_s, at_s - half_s, side="left")
    hi = np.searchsorted(times_s, at_s + half_s, side="right")
    total = cum_w[hi] - cum_w[lo]
    mean = np.where(total > 0, (cum_v[hi] - cum_v[lo]) / np.maximum(total, 1e-12), 0.0)
    return mean, total


def audio_features(samples: np.ndarray, sample_rate: int, frame_times_s: np.ndarray, *,
                   window_s: float = 0.4, onset_window_s: float = 1.0) -> dict[str, np.ndarray]:
    """Per video frame (at ``frame_times_s``, seconds) the features of :data:`FEATURES`, float32.

    ``samples``: float32 (channels, n) or (n,), -1..1; frames past the end of the
    sound read as silence.
    """
    mono = np.asarray(samples, np.float32)
    if mono.ndim == 2:
        mono = mono.mean(axis=0)
    times, power, centroid, flux = _spectral_frames(mono, sample_rate)
    at = np.asarray(frame_times_s, np.float64)
    mean_power, count = _window_mean(power, times, at, window_s / 2)
    loudness = np.where(count > 0, 10.0 * np.log10(np.maximum(mean_power, 1e-12)), SILENCE_DB)
    centroid_at, _ = _window_mean(centroid, times, at, window_s / 2, weights=power + 1e-12)
    flux_at, _ = _window_mean(flux, times, at, window_s / 2)
    spectra_per_s = 1.0 / (times[1] - times[0]) if times.size > 1 else 1.0
    onset_times = times[_onsets(flux, spectra_per_s)]
    lo = np.searchsorted(onset_times, at - onset_window_s, side="left")
    hi = np.searchsorted(onset_times, at + onset_window_s, side="right")
    span_s = np.clip(at + onset_window_s, 0, times[-1]) - np.clip(at - onset_window_s, 0, times[-1])
    onset_rate = (hi - lo) / np.maximum(span_s, 0.1)
    return {
        "loudness_db": np.clip(loudness, SILENCE_DB, 0.0).astype(np.float32),
        "centroid_hz": centroid_at.astype(np.float32),
        "flux": flux_at.astype(np.float32),
        "onset_rate_per_s": onset_rate.astype(np.float32),
    }
