"""Fusion: circumplex priors, cut-respecting smoothing, faces dominating the scene."""

import numpy as np
import pytest

from render.emotion.faces import FaceResult
from render.emotion.fusion import (
    EMOTION_VALENCE_AROUSAL,
    emotion_priors,
    fuse,
    scene_valence_arousal,
    smooth_within_shots,
)
from render.emotion.labels import EMOTIONS

N = 96
FPS = 24.0


def face(emotion, weight=1.0):
    probs = np.full(7, 0.02, np.float32)
    probs[EMOTIONS.index(emotion)] = 1 - 0.02 * 6
    return FaceResult((10, 10, 60, 60), np.zeros((5, 2), np.float32), 0.99, 1, weight, probs)


def flat_scene(**values):
    return {k: np.full(N, v, np.float32) for k, v in values.items()}


def test_priors_follow_the_circumplex():
    places = np.array([EMOTION_VALENCE_AROUSAL[e] for e in EMOTIONS], np.float32)
    p = emotion_priors(places[:, 0], places[:, 1])
    assert p.sum(axis=1) == pytest.approx(np.ones(7), abs=1e-5)
    assert [EMOTIONS[k] for k in p.argmax(axis=1)] == list(EMOTIONS)


def test_smoothing_never_crosses_a_cut():
    step = np.r_[np.zeros(48), np.ones(48)].astype(np.float32)
    smoothed, _ = smooth_within_shots(step, [48], sigma_frames=12)
    assert np.array_equal(smoothed, step)
    blurred, _ = smooth_within_shots(step, [], sigma_frames=12)
    assert 0.1 < blurred[45] < 0.5 < blurred[50] < 0.9


def test_scene_valence_and_arousal_directions():
    bright = scene_valence_arousal(flat_scene(brightness=0.7, saturation=0.6, colourfulness=70, warmth=0.2), N)
    dark = scene_valence_arousal(flat_scene(brightness=0.1, saturation=0.05, colourfulness=5, warmth=-0.1), N)
    assert bright[0][0] > 0.5 and dark[0][0] < -0.5
    busy = scene_valence_arousal(flat_scene(motion=0.1, cut_rate_per_min=40, loudness_db=-10), N)
    calm = scene_valence_arousal(flat_scene(motion=0.001, cut_rate_per_min=0, loudness_db=-50), N)
    assert busy[1][0] > 0.5 and calm[1][0] < -0.5


def test_faces_dominate_and_stop_at_the_cut():
    scene = flat_scene(brightness=0.1, saturation=0.05, colourfulness=5, warmth=-0.1, contrast=0.2)
    faces = {i: [face("happy")] for i in range(0, 48, 5)}         # faces in the first shot only
    faces.update({i: [] for i in range(50, N, 5)})
    mood = fuse(N, FPS, [48], scene, faces, has_video=True, has_audio=False)
    assert all(EMOTIONS[k] == "happy" for k in mood.probs[:48].argmax(axis=1))
    assert mood.valence[:48].min() > 0.3
    assert np.all(mood.face_share[48:] == 0)
    assert mood.valence[48:].max() < 0                             # the dark second shot
    assert mood.confidence[:48].min() > mood.confidence[48:].max()
    assert mood.probs.sum(axis=1) == pytest.approx(np.ones(N), abs=1e-5)


def test_without_any_evidence_values_stay_in_range():
    mood = fuse(1, FPS, [], {}, None, has_video=False, has_audio=False)
    assert mood.confidence[0] == 0 and mood.probs.sum() == pytest.approx(1)
    assert -1 <= mood.valence[0] <= 1 and -1 <= mood.arousal[0] <= 1
