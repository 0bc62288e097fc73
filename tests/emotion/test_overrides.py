"""Manual overrides: the file format, errors naming the line, and winning over inference."""

import numpy as np
import pytest

from render.emotion.labels import EMOTIONS
from render.emotion.overrides import apply_overrides, read_overrides
from render.errors import MoodgradeError
from tests.emotion.test_timeline import sample


def write(tmp_path, text):
    path = tmp_path / "mood.csv"
    path.write_text(text)
    return path


def test_formats(tmp_path):
    path = write(tmp_path, "# my overrides\nstart,end,emotion,intensity\n\n12.5,18,happy,0.8\n"
                           "0:01:02.5,0:01:10,Sad,1   # a comment\n300f,420f,fear,0\n")
    found = read_overrides(path)
    assert [(o.start, o.end, o.in_frames, o.emotion, o.intensity, o.line) for o in found] == [
        (12.5, 18.0, False, "happy", 0.8, 4), (62.5, 70.0, False, "sad", 1.0, 5), (300, 420, True, "fear", 0.0, 6)]


@pytest.mark.parametrize("line, why", [
    ("1,2,happy", "expected 4 fields"),
    ("1,x,happy,0.5", "bad time 'x'"),
    ("2,1,happy,0.5", "not after start"),
    ("1,2,joyful,0.5", "unknown emotion 'joyful'"),
    ("1,2,happy,1.5", "outside 0..1"),
    ("10f,2,happy,0.5", "both be frames"),
    ("-1,2,happy,0.5", "bad time"),
])
def test_corrupt_file_names_file_and_line(tmp_path, line, why):
    path = write(tmp_path, f"start,end,emotion,intensity\n0,1,sad,1\n{line}\n")
    with pytest.raises(MoodgradeError, match=rf"mood.csv:3: .*{why}"):
        read_overrides(path)


def test_missing_file(tmp_path):
    with pytest.raises(MoodgradeError, match="nope.csv: cannot read"):
        read_overrides(tmp_path / "nope.csv")


def test_overrides_win_in_their_range_only(tmp_path):
    t = sample(48)                                  # 23.976 fps, about 2 s
    before = t.probs.copy()
    apply_overrides(t, read_overrides(write(tmp_path, "0.5,1.0,happy,1\n40f,44f,sad,0.5\n")))
    inside = (t.time_s >= 0.5) & (t.time_s < 1.0)
    assert np.all(t.probs[inside].argmax(axis=1) == EMOTIONS.index("happy"))
    assert np.all(t.confidence[inside] == 1) and np.all(t.valence[inside] == pytest.approx(0.81))
    assert t.probs[40, EMOTIONS.index("sad")] == 0.5 and t.probs[40, EMOTIONS.index("neutral")] == 0.5
    untouched = ~t.overridden
    assert untouched.sum() == 48 - inside.sum() - 4
    assert np.array_equal(t.probs[untouched], before[untouched])
    assert [o["emotion"] for o in t.overrides] == ["happy", "sad"]
