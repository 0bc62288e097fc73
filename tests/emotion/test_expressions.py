"""Expression model: ONNX conversion against the original Keras model, alignment, batching."""

from pathlib import Path

import cv2
import numpy as np
import onnxruntime
import pytest
import skimage.data

from render.emotion.detector import detect_faces
from render.emotion.expressions import (CROP_PX, FACE_TEMPLATE, align_face, classify_expressions,
                                        expression_provider, similarity_transform)
from render.emotion.labels import EMOTIONS
from render.emotion.sessions import model_session

KERAS_REFERENCE = Path(__file__).parent / "data" / "fer_keras_reference.npz"


def test_onnx_reproduces_keras_on_real_face_crops():
    reference = np.load(KERAS_REFERENCE)
    crops, keras_probs = reference["crops"], reference["keras_probs"]
    assert crops.shape == (10, CROP_PX, CROP_PX) and keras_probs.shape == (10, len(EMOTIONS))
    onnx_probs = classify_expressions(crops)
    assert np.abs(onnx_probs - keras_probs).max() <= 1e-4
    # The reference itself is meaningful: Keras reads the smiling astronaut as happy.
    assert EMOTIONS[int(np.argmax(keras_probs[0]))] == "happy"
    assert keras_probs[0, EMOTIONS.index("happy")] > 0.97


def test_probabilities_are_distributions_and_batching_changes_nothing():
    crops = np.load(KERAS_REFERENCE)["crops"]
    many = np.concatenate([crops] * 7)                      # 70 crops: more than one batch
    together = classify_expressions(many)
    one_by_one = np.concatenate([classify_expressions(c[None]) for c in many])
    assert together.shape == (70, 7)
    np.testing.assert_allclose(together.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(together, one_by_one, atol=1e-6)
    assert classify_expressions(np.zeros((0, CROP_PX, CROP_PX), np.uint8)).shape == (0, 7)


def test_wrong_crop_size_is_refused():
    with pytest.raises(ValueError, match="64"):
        classify_expressions(np.zeros((2, 48, 48), np.uint8))


def test_similarity_transform_recovers_rotation_scale_and_shift():
    angle, scale, shift = np.deg2rad(30), 1.7, np.array([12.0, -5.0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = np.random.default_rng(3).uniform(0, 100, (5, 2))
    matrix = similarity_transform(src, src @ rotation.T + shift)
    np.testing.assert_allclose(matrix[:, :2], rotation, atol=1e-9)
    np.testing.assert_allclose(matrix[:, 2], shift, atol=1e-9)


def test_a_tilted_face_is_levelled_and_still_read_as_happy():
    astronaut = skimage.data.astronaut()
    tilt = cv2.getRotationMatrix2D((224.0, 120.0), 25.0, 1.0)
    tilted = cv2.warpAffine(astronaut, tilt, (512, 512), borderMode=cv2.BORDER_REFLECT)
    face = detect_faces(tilted)[0]
    eyes = face.landmarks[:2]
    assert abs(np.degrees(np.arctan2(*(eyes[1] - eyes[0])[::-1]))) > 15   # the eyes really are tilted
    matrix = similarity_transform(face.landmarks, FACE_TEMPLATE * CROP_PX)
    aligned_eyes = eyes @ matrix[:, :2].T + matrix[:, 2]
    assert abs(aligned_eyes[0, 1] - aligned_eyes[1, 1]) < 1.5                 # level in the crop (pixels)
    crop = align_face(tilted, face.landmarks)
    assert crop.shape == (CROP_PX, CROP_PX) and crop.dtype == np.uint8
    assert EMOTIONS[int(np.argmax(classify_expressions(crop[None])[0]))] == "happy"


def test_provider_is_reported_and_is_one_onnxruntime_offers():
    provider = expression_provider()
    assert model_session("fer_mini_xception.onnx") is model_session("fer_mini_xception.onnx")   # made once
    assert provider in onnxruntime.get_available_providers()
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        assert provider == "CPUExecutionProvider"
