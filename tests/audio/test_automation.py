from fractions import Fraction

import numpy as np
import pytest

from render.audio.automation import CONTROL_STEP, MoodCurve, MoodSegment, chain_automation, mood_at, ramp
from render.audio.style import SoundtrackStyle
from render.errors import MoodgradeError

RATE = 48000
SAD = dict(valence=-0.7, arousal=-0.4, emotion="sad")
HAPPY = dict(valence=0.8, arousal=0.5, emotion="happy")
TENSE = dict(valence=-0.6, arousal=0.8, emotion="fear")


def settings(mood: dict, intensity: float = 1.0):
    """Chain settings in the middle of a 2 s clip with one mood."""
    auto = chain_automation([MoodSegment(0.0, 2.0, intensity=intensity, **mood)], 2 * RATE, RATE,
                            SoundtrackStyle(), reference_lufs=-20.0)
    middle = len(auto) // 2
    return {name: float(getattr(auto, name)[middle]) for name in vars(auto)}


def test_moods_move_the_settings_the_documented_way():
    sad, happy, tense = settings(SAD), settings(HAPPY), settings(TENSE)
    assert sad["high_shelf_db"] < 0 < happy["high_shelf_db"]          # sad darker, happy brighter
    assert tense["high_shelf_db"] > 0
    assert sad["reverb_wet"] > tense["reverb_wet"] and sad["reverb_wet"] > happy["reverb_wet"]
    assert sad["gain_db"] < 0 < happy["gain_db"]
    assert tense["ratio"] > happy["ratio"] > 1.0                       # tense held tighter
    assert tense["attack_ms"] < sad["attack_ms"]
    assert sad["low_shelf_db"] > 0 > happy["low_shelf_db"]


def test_intensity_zero_is_neutral():
    neutral = settings(TENSE, intensity=0.0)
    assert neutral["ratio"] == 1.0
    assert neutral["low_shelf_db"] == neutral["high_shelf_db"] == neutral["gain_db"] == neutral["reverb_wet"] == 0.0


def test_threshold_follows_the_input_loudness():
    auto = chain_automation([], RATE, RATE, SoundtrackStyle(compressor_threshold_lu=-3.0), reference_lufs=-30.0)
    assert np.all(auto.threshold_db == -33.0)


def test_a_mood_change_ramps_linearly_over_ramp_ms():
    style = SoundtrackStyle(ramp_ms=200.0)
    auto = chain_automation([MoodSegment(0, 1, **SAD), MoodSegment(1, 2, **HAPPY)], 2 * RATE, RATE, style, -20.0)
    gain = auto.gain_db
    moving = np.flatnonzero(np.diff(gain) != 0)
    ramp_s = (moving[-1] - moving[0] + 1) * CONTROL_STEP / RATE
    assert ramp_s == pytest.approx(0.2, abs=2 * CONTROL_STEP / RATE)
    centre_s = (moving[0] + moving[-1] + 2) / 2 * CONTROL_STEP / RATE
    assert centre_s == pytest.approx(1.0, abs=2 * CONTROL_STEP / RATE)
    steps = np.diff(gain[moving[0]:moving[-1] + 2])
    assert np.allclose(steps, steps[0])                                  # a straight line


def test_ramp_keeps_constant_stretches_exact():
    values = np.repeat([0.1, 0.7, 0.3], 1000)
    out = ramp(values, 50)
    assert np.array_equal(out[:900], values[:900]) and np.array_equal(out[1100:1900], values[1100:1900])


def test_mood_curve_per_frame_and_neutral_after_the_end():
    curve = MoodCurve(frame_rate_hz=Fraction(25), valence=np.array([0.5, -0.5]), arousal=np.array([0.1, 0.2]),
                      intensity=np.array([1.0, 0.5]))
    valence, _, intensity = mood_at(curve, np.array([0.01, 0.05, 0.09]))
    assert valence.tolist() == [0.5, -0.5, 0.0]
    assert intensity.tolist() == [1.0, 0.5, 0.0]


def test_gaps_between_segments_are_neutral():
    _, _, intensity = mood_at([MoodSegment(1, 2, **SAD)], np.array([0.5, 1.5, 2.5]))
    assert intensity.tolist() == [0.0, 1.0, 0.0]


@pytest.mark.parametrize("make, words", [
    (lambda: MoodSegment(2, 1, 0, 0), "needs 0 <= start_s < end_s"),
    (lambda: MoodSegment(0, 1, 1.5, 0), "valence = 1.5 is outside -1..1"),
    (lambda: MoodSegment(0, 1, 0, 0, intensity=2), "intensity = 2 is outside 0..1"),
    (lambda: MoodSegment(0, 1, float("nan"), 0), "valence must be a finite number"),
    (lambda: mood_at([MoodSegment(0, 2, 0, 0), MoodSegment(1, 3, 0, 0)], np.zeros(1)), "overlap"),
    (lambda: MoodCurve(25, np.zeros(3), np.zeros(3), np.full(3, 1.2)), "intensity at frame 0 = 1.2"),
    (lambda: MoodCurve(25, np.zeros(3), np.zeros(2), np.zeros(3)), "of one length"),
])
def test_bad_moods_are_one_line_errors(make, words):
    with pytest.raises(MoodgradeError, match=words):
        make()
