"""The mood chain: transparent when neutral, click-free, block-size independent, length kept."""

import numpy as np
import pytest

from render.audio.automation import ChainAutomation, MoodSegment, chain_automation
from render.audio.chain import apply_mood_chain, channel_groups
from render.audio.style import SoundtrackStyle
from tests.audio.signals import music, sine

RATE = 48000
SAD = dict(valence=-0.9, arousal=-0.8, emotion="sad")
HAPPY = dict(valence=0.9, arousal=0.9, emotion="happy")
# The click bound: within +-ramp_ms of a mood change, no sample-to-sample change of the output
# is more than CLICK_BOUND times the largest one of the steady output before or after it.
CLICK_BOUND = 1.05


def run_chain(clip, moods, style=None, block_size=1024, reference_lufs=-20.0):
    style = style or SoundtrackStyle()
    auto = chain_automation(moods, clip.samples.shape[1], clip.sample_rate, style, reference_lufs)
    return apply_mood_chain(clip.samples, clip.sample_rate, clip.layout, auto, style, block_size)


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_neutral_and_empty_automation_is_identity(channels):
    clip = music(seconds=2.0, channels=channels)
    for moods in ([], [MoodSegment(0, 2, **HAPPY, intensity=0.0)]):
        out = run_chain(clip, moods)
        assert out.shape == clip.samples.shape
        assert np.abs(out - clip.samples).max() < 1e-6


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_length_is_kept_and_the_mood_is_heard(channels):
    clip = music(seconds=2.0, channels=channels)
    out = run_chain(clip, [MoodSegment(0, 1, **SAD), MoodSegment(1, 2, **HAPPY)])
    assert out.shape == clip.samples.shape and out.dtype == np.float32
    assert np.isfinite(out).all()
    assert np.abs(out - clip.samples).max() > 0.01


def test_no_latency():
    clip = music(seconds=2.0, channels=2)
    out = run_chain(clip, [MoodSegment(0, 2, valence=0.8, arousal=0.8, emotion="happy")])
    x, y = clip.samples[0], out[0]
    lags = range(-50, 51)
    best = max(lags, key=lambda lag: float(np.dot(x[100:-100], np.roll(y, -lag)[100:-100])))
    assert best == 0


def test_block_size_does_not_change_the_output():
    clip = music(seconds=2.0, channels=2)
    moods = [MoodSegment(0, 0.7, **SAD), MoodSegment(0.7, 1.3, **HAPPY), MoodSegment(1.3, 2, valence=-0.6,
                                                                                   arousal=0.8, emotion="fear")]
    reference = run_chain(clip, moods, block_size=1024)
    for block_size in (64, 333, 8192):
        assert np.abs(run_chain(clip, moods, block_size=block_size) - reference).max() < 1e-6


def largest_steps(out: np.ndarray, change_sample: int, ramp_samples: int) -> tuple[float, float]:
    """(largest step within +-ramp of the change, largest step of the steady output either side)."""
    steps = np.abs(np.diff(out, axis=1)).max(axis=0)
    edge = steps[change_sample - ramp_samples: change_sample + ramp_samples].max()
    settle = 6000          # the compressor settles after its release time
    before = steps[change_sample - 3 * ramp_samples: change_sample - ramp_samples].max()
    after = steps[change_sample + ramp_samples + settle: change_sample + 3 * ramp_samples + settle].max()
    return float(edge), float(max(before, after))


@pytest.mark.parametrize("frequency_hz", [60.0, 440.0, 3000.0, 9000.0])
def test_a_hard_mood_change_on_a_sine_shows_no_step(frequency_hz):
    style = SoundtrackStyle()
    clip = sine(3.0, frequency_hz)
    out = run_chain(clip, [MoodSegment(0, 1.5, **SAD), MoodSegment(1.5, 3, **HAPPY)], style)
    edge, steady = largest_steps(out, round(1.5 * RATE), round(style.ramp_ms * 1e-3 * RATE))
    assert edge <= CLICK_BOUND * steady


def test_the_click_check_catches_an_unramped_switch():
    """The same change applied as a hard step (no ramp) breaks the bound by far."""
    style = SoundtrackStyle()
    clip = sine(3.0, 440.0)
    moods = [MoodSegment(0, 1.5, **SAD), MoodSegment(1.5, 3, **HAPPY)]
    smooth = chain_automation(moods, clip.samples.shape[1], RATE, style, -20.0)
    first_half = np.arange(len(smooth)) < len(smooth) // 2
    stepped = ChainAutomation(**{name: np.where(first_half, values[0], values[-1])
                                 for name, values in vars(smooth).items()})
    out = apply_mood_chain(clip.samples, RATE, clip.layout, stepped, style)
    edge, steady = largest_steps(out, round(1.5 * RATE), round(style.ramp_ms * 1e-3 * RATE))
    assert edge > 1.5 * steady


def test_reverb_groups_follow_the_layout():
    assert channel_groups("5.1", 6) == [[0, 1], [2], [4, 5]]           # FL+FR, FC, BL+BR; no LFE
    assert channel_groups("mono", 1) == [[0]]
    assert channel_groups("stereo", 2) == [[0, 1]]


def test_lfe_gets_no_reverb():
    clip = music(seconds=2.0, channels=6)
    style = SoundtrackStyle(reverb_wet_max=1.0, gain_db_max=0.0, shelf_gain_db_max=0.0,
                            compressor_ratio_range=(1.0, 1.0))
    out = run_chain(clip, [MoodSegment(0, 2, **SAD)], style)
    assert np.abs(out[3] - clip.samples[3]).max() < 1e-6
    assert np.abs(out[0] - clip.samples[0]).max() > 0.01
