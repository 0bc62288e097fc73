"""The PNG plot: drawn for long, one-frame and audio-only timelines alike."""

import cv2
import numpy as np
import pytest

from render.emotion.labels import EMOTIONS
from render.emotion.plot import EMOTION_COLOURS_BGR, render_timeline, write_plot
from render.errors import MoodgradeError
from tests.emotion.test_timeline import sample


def test_bands_show_the_dominant_emotion_and_cuts_are_drawn():
    t = sample(200)
    t.probs[:] = 0.0
    t.probs[:, EMOTIONS.index("happy")] = 1.0
    t.cuts, t.shot[:] = [100], np.r_[np.zeros(100), np.ones(100)]
    image = render_timeline(t, width_px=800)
    assert image.shape[1] == 800
    band = image[60:280, 80:600].reshape(-1, 3)
    happy = np.all(band == EMOTION_COLOURS_BGR["happy"], axis=1).mean()
    assert happy > 0.95                                           # all but the cut line
    cut_x = 70 + int(100 * (800 - 70 - 130) / 200)
    assert np.all(image[60:280, cut_x] == (30, 30, 30))


@pytest.mark.parametrize("n", [1, 2])
def test_tiny_timelines(n, tmp_path):
    t = sample(n)
    t.cuts, t.shot[:] = [], 0
    t.present = {"video": False, "audio": True, "faces": False}
    write_plot(t, tmp_path / "p.png")
    assert cv2.imread(str(tmp_path / "p.png")).shape[1] == 1200


def test_unwritable_plot(tmp_path):
    with pytest.raises(MoodgradeError, match="cannot write plot"):
        write_plot(sample(), tmp_path / "missing" / "p.png")
