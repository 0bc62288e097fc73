import numpy as np
import pytest

from render.audio.true_peak import _forward_max, _released, limit_true_peak, peak_envelope, true_peak_dbtp

RATE = 48000


def test_inter_sample_peak_of_a_quarter_rate_sine():
    """fs/4 at 45 degrees: every sample is at 0.707 of the peak, the true peak is 3.01 dB higher."""
    n = np.arange(RATE)
    x = np.sin(np.pi / 2 * n + np.pi / 4)[None].astype(np.float32) * 0.5
    assert 20 * np.log10(np.abs(x).max() / 0.5) == pytest.approx(-3.01, abs=0.01)
    assert 20 * np.log10(peak_envelope(x)[100:-100].max() / 0.5) == pytest.approx(0.0, abs=0.02)


@pytest.mark.parametrize("frequency_hz", [997.0, 5000.0, 11025.3, 15000.0, 20000.0])
def test_sine_true_peak_within_0_02_db(frequency_hz):
    n = np.arange(RATE // 4)
    for phase in (0.3, 1.1, np.pi / 4):
        x = 0.5 * np.sin(2 * np.pi * frequency_hz * n / RATE + phase)[None].astype(np.float32)
        assert 20 * np.log10(peak_envelope(x)[100:-100].max() / 0.5) == pytest.approx(0.0, abs=0.02)


def test_silence_and_empty_are_minus_infinity():
    assert true_peak_dbtp(np.zeros((2, 100), np.float32)) == float("-inf")
    assert true_peak_dbtp(np.zeros((2, 0), np.float32)) == float("-inf")


def test_forward_max_matches_brute_force():
    values = np.random.default_rng(1).random(1003)
    for width in (1, 7, 64):
        expected = [values[m:m + width].max() for m in range(len(values))]
        assert np.array_equal(_forward_max(values, width), expected)


def test_release_is_instant_attack_exponential_decay():
    out = _released(np.array([0.0, 4.0, 0.0, 0.0, 1.0, 0.0]), 0.5)
    assert np.allclose(out, [0.0, 4.0, 2.0, 1.0, 1.0, 0.5])


def test_limiter_holds_the_ceiling_with_a_smooth_gain():
    """A tone (never near zero, so y / x is the gain) with one +3.5 dBFS spike: the gain
    dips ~4.5 dB around it, ramping down over the look-ahead and back over the release."""
    n = np.arange(RATE * 2)
    tone = (0.3 + 0.05 * np.sin(2 * np.pi * 1000 * n / RATE)).astype(np.float32)
    x = np.stack([tone, tone])
    x[:, RATE] = 1.5
    y, reduction_db, peak_dbtp = limit_true_peak(x, RATE, ceiling_dbtp=-1.0, lookahead_ms=5.0, release_ms=50.0)
    assert true_peak_dbtp(y) == peak_dbtp <= -1.0
    assert reduction_db == pytest.approx(20 * np.log10(1.5) + 1.0, abs=0.3)
    gain = y[0] / x[0]
    assert gain.min() == pytest.approx(10 ** (-reduction_db / 20), rel=1e-3)
    assert np.abs(np.diff(gain)).max() < 0.41 / 240                     # 4.5 dB (0.41) over 5 ms at most
    far = np.abs(n - RATE) > RATE // 2                                   # 10 release times away
    assert np.allclose(y[:, far], x[:, far], rtol=1e-4, atol=0)


def test_limiter_leaves_quiet_audio_alone():
    x = (np.random.default_rng(0).standard_normal((1, RATE)) * 0.01).astype(np.float32)
    y, reduction_db, _ = limit_true_peak(x, RATE, ceiling_dbtp=-1.0)
    assert reduction_db == 0.0 and np.array_equal(x, y)
