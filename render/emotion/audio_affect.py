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


class SpectralFrames:
    """Short-time spectra of a mono stream, reduced as they are made to what the features
    need: per spectrum its centre time, mean power, centroid and flux (float32, about 16
    bytes a spectrum: 11 MB for two hours at 48 kHz). ``push`` mono blocks in order, then
    :meth:`finish`."""

    def __init__(self, sample_rate: int):
        self._rate = sample_rate
        self._n_fft = 1 << int(np.ceil(np.log2(0.042 * sample_rate)))
        self._hop = self._n_fft // 4
        self._window = np.hanning(self._n_fft).astype(np.float32)
        self._freqs = np.fft.rfftfreq(self._n_fft, 1.0 / sample_rate).astype(np.float32)
        self._held = np.zeros(0, np.float32)      # samples from the next spectrum's start on
        self._seen = 0
        self._previous = None                      # the last log-compressed spectrum, for the flux
        self._parts: list[tuple[np.ndarray, ...]] = []

    @property
    def duration_s(self) -> float:
        """Seconds of sound pushed so far."""
        return self._seen / self._rate

    def push(self, mono: np.ndarray) -> None:
        """The next mono samples (float32 (n,), -1..1)."""
        self._seen += mono.size
        self._held = np.concatenate((self._held, np.asarray(mono, np.float32)))
        count = (self._held.size - self._n_fft) // self._hop + 1 if self._held.size >= self._n_fft else 0
        for start in range(0, count, _BLOCK_SPECTRA):
            stop = min(count, start + _BLOCK_SPECTRA)
            frames = np.lib.stride_tricks.sliding_window_view(self._held, self._n_fft)[::self._hop][start:stop]
            self._parts.append(self._reduce(frames))
        self._held = self._held[count * self._hop:]

    def finish(self) -> tuple[np.ndarray, ...]:
        """Per spectrum: centre time (s), mean power, centroid (Hz), flux. A stream shorter
        than one spectrum is padded with silence to one."""
        if not self._parts:
            self.push(np.zeros(self._n_fft - self._held.size, np.float32))
        if len(self._parts) > 1:            # joined once; the pieces are let go (8 MB for two hours)
            self._parts = [tuple(np.concatenate(column) for column in zip(*self._parts))]
        power, centroid, flux = self._parts[0]
        times = (np.arange(power.size) * self._hop + self._n_fft / 2) / self._rate
        return times, power, centroid, flux

    def _reduce(self, frames: np.ndarray) -> tuple[np.ndarray, ...]:
        magnitude = np.abs(np.fft.rfft(frames * self._window, axis=1)).astype(np.float32)
        power = np.mean(frames.astype(np.float32) ** 2, axis=1)
        total = magnitude.sum(axis=1)
        centroid = np.where(total > 1e-6, magnitude @ self._freqs / np.maximum(total, 1e-6), 0.0)
        compressed = np.log1p(100.0 * magnitude)
        before = np.vstack([compressed[:1] if self._previous is None else self._previous, compressed[:-1]])
        self._previous = compressed[-1:]
        flux = np.maximum(compressed - before, 0.0).mean(axis=1)
        return power.astype(np.float32), centroid.astype(np.float32), flux.astype(np.float32)


def _onsets(flux: np.ndarray, spectra_per_s: float) -> np.ndarray:
    """Indices of onset peaks: local maxima above the running median by 1.5 robust deviations
    (worked out a block of spectra at a time: memory stays a few blocks at any length)."""
    if flux.size < 3:
        return np.zeros(0, int)
    half = max(1, round(0.25 * spectra_per_s))
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(flux, half, mode="edge"), 2 * half + 1)
    min_gap = max(1, round(0.05 * spectra_per_s))
    local = np.lib.stride_tricks.sliding_window_view(np.pad(flux, min_gap, mode="edge"), 2 * min_gap + 1)
    peaks = []
    for start in range(0, flux.size, _BLOCK_SPECTRA):      # medians copy their windows
        part, here = windows[start:start + _BLOCK_SPECTRA], flux[start:start + _BLOCK_SPECTRA]
        median = np.median(part, axis=1).astype(np.float64)
        spread = np.median(np.abs(part - median[:, None]), axis=1) * 1.4826
        top = local[start:start + _BLOCK_SPECTRA].max(axis=1)
        peaks.append(start + np.flatnonzero((here >= top) & (here > median + 1.5 * spread + 0.05)))
    kept: list[int] = []
    for p in np.concatenate(peaks):
        if not kept or p - kept[-1] >= min_gap:
            kept.append(int(p))
    return np.asarray(kept, int)


def _prefix_sums(values: np.ndarray) -> np.ndarray:
    """0 then the running sums of ``values`` in float64 ((n + 1,), without a second copy)."""
    sums = np.empty(values.size + 1, np.float64)
    sums[0] = 0.0
    np.cumsum(values, dtype=np.float64, out=sums[1:])
    return sums


def _window_mean(values: np.ndarray, times_s: np.ndarray, at_s: np.ndarray, half_s: float,
                 weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` over ``|times_s - at_s| <= half_s`` (weighted), and the weight in each window."""
    cum_v = _prefix_sums(values if weights is None else values * weights)
    lo = np.searchsorted(times_s, at_s - half_s, side="left")
    hi = np.searchsorted(times_s, at_s + half_s, side="right")
    if weights is None:         # unweighted: the weight is the count, exactly as a sum of ones
        total = (hi - lo).astype(np.float64)
    else:
        cum_w = _prefix_sums(weights)
        total = cum_w[hi] - cum_w[lo]
    mean = np.where(total > 0, (cum_v[hi] - cum_v[lo]) / np.maximum(total, 1e-12), 0.0)
    return mean, total


def audio_features(samples: np.ndarray, sample_rate: int, frame_times_s: np.ndarray, *,
                   window_s: float = 0.4, onset_window_s: float = 1.0) -> dict[str, np.ndarray]:
    """:func:`stream_features` of a soundtrack in memory: ``samples`` float32 (channels, n)
    or (n,), -1..1 (mixed to mono here)."""
    mono = np.asarray(samples, np.float32)
    if mono.ndim == 2:
        mono = mono.mean(axis=0)
    spectra = SpectralFrames(sample_rate)
    spectra.push(mono)
    return stream_features(spectra, frame_times_s, window_s=window_s, onset_window_s=onset_window_s)


def track_spectra(blocks, sample_rate: int) -> SpectralFrames:
    """The spectra of a soundtrack streamed as mono float32 (1, n) blocks."""
    spectra = SpectralFrames(sample_rate)
    for block in blocks:
        spectra.push(block[0])
    return spectra


def stream_features(spectra: SpectralFrames, frame_times_s: np.ndarray, *, window_s: float = 0.4,
                    onset_window_s: float = 1.0) -> dict[str, np.ndarray]:
    """Per video frame (at ``frame_times_s``, seconds) the features of :data:`FEATURES`,
    float32, from the spectra of the whole soundtrack; frames past its end read as silence."""
    times, power, centroid, flux = spectra.finish()
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
