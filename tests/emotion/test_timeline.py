"""MoodTimeline files (JSON, CSV), content hashing and the cache location."""

import json
from fractions import Fraction

import numpy as np
import pytest

from render.emotion import timeline as tl
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
    assert doc["schema"] == "moodgrade.timeline/1"
    assert doc["frames"]["face_box"][0] is None and doc["frames"]["face_box"][3] == [0.1, 0.2, 0.3, 0.4]
    back = MoodTimeline.read_json(tmp_path / "t.json")
    assert_same(t, back)
    assert back.dominant(0) == t.dominant(0)
    assert back.frame_at(0.05) == 1


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
