"""MoodTimeline files (JSON, CSV), content hashing and the cache location."""

import base64
import json
import zlib
from fractions import Fraction

import numpy as np
import pytest

from render.emotion import timeline as tl
from render.emotion.labels import EMOTIONS
from render.emotion.timeline import MoodTimeline, content_hash, default_cache_dir, sidecar_path
from render.errors import MoodgradeError


def sample(n=10):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(7), n).astype(np.float32)
    box = np.full((n, 4), np.nan, np.float32)
    box[min(3, n - 1)] = (0.1, 0.2, 0.3, 0.4)
    faces = np.zeros(n, np.int32)
    faces[min(3, n - 1)] = 1
    return MoodTimeline(frame_rate=Fraction(24000, 1001), time_s=np.arange(n) * 1001 / 24000, probs=probs,
                        valence=rng.uniform(-1, 1, n).astype(np.float32),
                        arousal=rng.uniform(-1, 1, n).astype(np.float32),
                        confidence=rng.uniform(0, 1, n).astype(np.float32),
                        shot=(np.arange(n) >= 4).astype(np.int32), faces=faces, face_box=box,
                        overridden=np.zeros(n, bool), cuts=[4] if n > 4 else [],
                        present={"video": True, "audio": False, "faces": True}, source={"path": "x.mp4"})


def assert_same(a, b):
    assert a.frame_rate == b.frame_rate and a.cuts == b.cuts and a.present == b.present
    for name in ("time_s", "probs", "valence", "arousal", "confidence", "face_box"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=1e-4)
    for name in ("shot", "faces", "overridden"):
        assert np.array_equal(getattr(a, name), getattr(b, name))


def test_json_round_trip_and_schema(tmp_path):
    t = sample()
    t.write_json(tmp_path / "t.json")
    doc = json.loads((tmp_path / "t.json").read_text())
    assert doc["schema"] == "moodgrade.timeline/2" and doc["frames"]["face_box"]["shape"] == [10, 4]
    back = MoodTimeline.read_json(tmp_path / "t.json")
    for name in ("time_s", "probs", "valence", "arousal", "confidence", "face_box", "shot", "faces", "overridden"):
        assert np.array_equal(getattr(back, name), getattr(t, name), equal_nan=True), name    # exactly
        assert getattr(back, name).dtype == getattr(t, name).dtype, name
    assert back.dominant(0) == t.dominant(0)
    assert back.frame_at(0.05) == 1


def test_list_documents_of_schema_1_still_read():
    t = sample()
    column = lambda values: np.round(values.astype(np.float64), 4).tolist()   # noqa: E731
    frames = {"time_s": t.time_s.tolist(), "shot": t.shot.tolist(), "faces": t.faces.tolist(),
              "probs": {e: column(t.probs[:, k]) for k, e in enumerate(EMOTIONS)},
              "valence": column(t.valence), "arousal": column(t.arousal), "confidence": column(t.confidence),
              "face_box": [None if np.isnan(b).any() else column(b) for b in t.face_box],
              "overridden": t.overridden.tolist()}
    doc = {"schema": "moodgrade.timeline/1", "frame_rate": str(t.frame_rate), "present": t.present,
           "cuts": t.cuts, "frames": frames}
    assert_same(t, MoodTimeline.from_dict(doc))


def test_a_two_hour_timeline_stays_a_few_megabytes(tmp_path):
    """180,000 frames (2 h at 25 fps) whose mood moves every frame: the JSON stays small."""
    n = 180_000
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(len(EMOTIONS)), n).astype(np.float32)
    t = MoodTimeline(frame_rate=Fraction(25), time_s=np.arange(n) / 25.0, probs=probs,
                     valence=np.sin(np.arange(n) / 500).astype(np.float32),
                     arousal=np.cos(np.arange(n) / 700).astype(np.float32),
                     confidence=np.full(n, 0.8, np.float32), shot=(np.arange(n) // 250).astype(np.int32),
                     faces=np.zeros(n, np.int32), face_box=np.full((n, 4), np.nan, np.float32),
                     overridden=np.zeros(n, bool), cuts=list(range(250, n, 250)),
                     present={"video": True, "audio": True, "faces": False})
    t.write_json(tmp_path / "long.json")
    assert (tmp_path / "long.json").stat().st_size < 12 << 20
    assert np.array_equal(MoodTimeline.read_json(tmp_path / "long.json").probs, probs)


@pytest.mark.parametrize("damage", [
    lambda doc: doc["frames"]["valence"].update(zlib_base64="!!"),
    lambda doc: doc["frames"]["valence"].update(shape=[3]),
    lambda doc: doc["frames"].update(frame_count=10 ** 9),
    lambda doc: doc["frames"]["probs"].update(zlib_base64=base64.b64encode(zlib.compress(b"x" * 10)).decode()),
])
def test_damaged_packed_columns_are_one_line_errors(damage):
    doc = sample().to_dict()
    damage(doc)
    with pytest.raises(MoodgradeError, match="malformed"):
        MoodTimeline.from_dict(doc)


def test_csv_round_trip(tmp_path):
    t = sample()
    t.write_csv(tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text().splitlines()[1].startswith("frame,time_s,shot,angry")
    assert_same(t, MoodTimeline.read_csv(tmp_path / "t.csv"))


def test_bad_files_name_the_file(tmp_path):
    (tmp_path / "other.json").write_text('{"schema": "something/2"}')
    with pytest.raises(MoodgradeError, match="other.json.*schema"):
        MoodTimeline.read_json(tmp_path / "other.json")
    (tmp_path / "broken.json").write_text('{\n"schema": ')
    with pytest.raises(MoodgradeError, match="broken.json:2: not valid JSON"):
        MoodTimeline.read_json(tmp_path / "broken.json")
    sample().write_csv(tmp_path / "t.csv")
    lines = (tmp_path / "t.csv").read_text().splitlines()
    lines[4] = lines[4].replace(",", ";", 1)
    (tmp_path / "t.csv").write_text("\n".join(lines))
    with pytest.raises(MoodgradeError, match=r"t.csv:5:"):
        MoodTimeline.read_csv(tmp_path / "t.csv")


def test_content_hash_full_and_sampled(tmp_path, monkeypatch):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    data = np.random.default_rng(1).bytes(3 << 20)
    a.write_bytes(data)
    b.write_bytes(data[:-1] + b"x")
    assert content_hash(a).startswith("full:") and content_hash(a) != content_hash(b)
    assert content_hash(a) == content_hash(a)
    monkeypatch.setattr(tl, "FULL_HASH_MAX_BYTES", 1 << 20)
    assert content_hash(a).startswith("sampled:") and content_hash(a) != content_hash(b)


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "moodgrade"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir().parts[-2:] == (".cache", "moodgrade")
    one = sidecar_path(tmp_path, "full:ab", {"sample_fps": 4})
    assert one.parent == tmp_path and one != sidecar_path(tmp_path, "full:ab", {"sample_fps": 5})


def test_shot_moods_summarise_each_shot():
    t = sample(10)                                   # cut at frame 4
    t.probs[:] = 0.0
    t.probs[:4, 3] = 1.0                             # happy
    t.probs[4:, 4] = 1.0                             # sad
    moods = t.shot_moods()
    assert [m["emotion"] for m in moods] == ["happy", "sad"]
    assert moods[1]["start_s"] == pytest.approx(t.time_s[4])
    assert moods[0]["valence"] == pytest.approx(float(t.valence[:4].mean()))
