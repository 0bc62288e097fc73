"""Visual and audio affect features against values worked out by hand."""

import numpy as np
import pytest

from render.emotion.audio_affect import SILENCE_DB, audio_features
from render.emotion.shots import rgb_to_hsv
from render.emotion.visual_affect import VisualAffect, colourfulness, cut_rate_per_min, shot_summaries
from tests.emotion import clips


def solid(rgb, shape=(90, 160)):
    return np.broadcast_to(np.array(rgb, np.uint8), (*shape, 3)).copy()


def features_of(frames, cuts=()):
    affect = VisualAffect()
    for f in frames:
        affect.push(f, rgb_to_hsv(f))
    return affect.features(list(cuts))


def test_colourfulness_hasler_suesstrunk():
    assert colourfulness(solid((128, 128, 128))) == pytest.approx(0.0, abs=1e-6)
    # pure red: rg = 255, yb = 127.5, no spread -> 0.3 * |(255, 127.5)|
    assert colourfulness(solid((255, 0, 0))) == pytest.approx(0.3 * np.hypot(255, 127.5), rel=1e-5)
    muted = clips.textured_shot(1, 1)[0] // 4 + 96
    assert colourfulness(clips.textured_shot(1, 1)[0]) > colourfulness(muted)


def test_brightness_contrast_warmth_saturation():
    f = features_of([solid((0, 0, 0)), solid((255, 255, 255)), solid((255, 80, 0)), solid((0, 80, 255))])
    assert f["brightness"][:2] == pytest.approx([0.0, 1.0], abs=1e-6)
    assert f["contrast"][:2] == pytest.approx([0.0, 0.0], abs=1e-6)
    assert f["warmth"][2] == pytest.approx(1.0) and f["warmth"][3] == pytest.approx(-1.0)
    assert f["saturation"][1] == 0.0 and f["saturation"][2] == pytest.approx(1.0)


def test_motion_is_zero_when_still_and_ignores_cuts():
    still = features_of([solid((90, 90, 90))] * 5)["motion"]
    assert np.all(still == 0)
    panning = clips.textured_shot(2, 20, drift_px_per_frame=4)
    shots = np.concatenate([panning, clips.textured_shot(3, 20, drift_px_per_frame=4)])
    motion = features_of(shots, cuts=[20])["motion"]
    assert motion[5] > 0.005
    assert motion[20] == pytest.approx(motion[21])       # the cut itself is no motion


def test_cut_rate_per_min():
    rate = cut_rate_per_min([10, 20, 30], frame_count=600, frame_rate=10.0, window_s=5.0)
    assert rate[20] == pytest.approx(3 / (71 / 10 / 60))   # frames 0..70 seen, 3 cuts
    assert rate[300] == 0.0
    assert cut_rate_per_min([], 1, 25.0)[0] == 0.0


def test_shot_summaries_average_per_shot():
    f = {"brightness": np.array([0.0, 0.0, 1.0, 1.0, 1.0], np.float32)}
    assert shot_summaries(f, [2]) == [{"start": 0, "end": 2, "brightness": 0.0},
                                      {"start": 2, "end": 5, "brightness": 1.0}]


def test_audio_loudness_centroid_onsets():
    times = np.arange(0, 4, 1 / 24)
    steady = audio_features(clips.tone(4, level=1.0, freq_hz=440), 48000, times)
    mid = slice(20, 70)
    assert steady["loudness_db"][mid] == pytest.approx(-3.01, abs=0.05)     # full-scale sine
    assert steady["centroid_hz"][mid] == pytest.approx(440, rel=0.02)
    assert np.all(steady["onset_rate_per_s"][mid] == 0)
    beats = audio_features(clips.tone(4, beats_per_s=4, freq_hz=2000), 48000, times)
    assert beats["onset_rate_per_s"][30:70] == pytest.approx(4.0, abs=0.3)   # windows clear of t=0
    assert beats["flux"][mid].mean() > 10 * steady["flux"][mid].mean()


def test_audio_silence_short_and_past_the_end():
    times = np.arange(0, 2, 1 / 24)
    silent = audio_features(np.zeros((2, 48000), np.float32), 48000, times)
    assert np.all(silent["loudness_db"] == SILENCE_DB) and np.all(silent["centroid_hz"] == 0)
    short = audio_features(clips.tone(0.01), 48000, times)        # shorter than one spectrum
    assert short["loudness_db"][-1] == SILENCE_DB
    assert all(np.isfinite(v).all() for v in short.values())
