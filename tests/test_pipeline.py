"""The frame server: order, bounded memory, and clean stops on errors."""

import threading
import time

import numpy as np
import pytest

from render.io.source import VideoFrame
from render.job import render_file
from render.pipeline import run_frames


def _frames(count, produced):
    for i in range(count):
        produced.append(i)
        yield VideoFrame(index=i, pts=i, time_s=i / 25, rgb=np.full((4, 4, 3), i % 256, np.uint8))


def test_order_is_kept_with_many_workers():
    written = []

    def slow_on_even(frame):
        time.sleep(0.004 if frame.index % 2 == 0 else 0)
        return frame.rgb

    count = run_frames(_frames(60, []), slow_on_even, lambda f, rgb: written.append(int(rgb[0, 0, 0])),
                       frames_total=60, workers=4)
    assert count == 60 and written == list(range(60))


def test_frames_in_flight_are_bounded():
    produced, written = [], []
    ahead = []

    def write(frame, rgb):
        time.sleep(0.002)
        ahead.append(len(produced) - len(written))
        written.append(frame.index)

    run_frames(_frames(200, produced), lambda f: f.rgb, write, frames_total=200, workers=2, queue_frames=8)
    assert max(ahead) <= 8 + 2, max(ahead)


def test_error_in_process_stops_every_stage():
    produced = []

    def fail_at_ten(frame):
        if frame.index == 10:
            raise ValueError("boom at frame 10")
        return frame.rgb

    before = threading.active_count()
    with pytest.raises(ValueError, match="boom"):
        run_frames(_frames(10_000, produced), fail_at_ten, lambda f, rgb: None, frames_total=10_000, workers=2)
    assert len(produced) < 100
    assert threading.active_count() == before


def test_error_in_decode_stops_every_stage():
    def broken():
        yield from _frames(3, [])
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        run_frames(broken(), lambda f: f.rgb, lambda f, rgb: None, frames_total=10)


def test_failed_render_leaves_no_output(make_clip, tmp_path):
    src = make_clip("plain.mp4", frames=5, audio_channels=0)

    def fail(frame):
        raise RuntimeError("kernel failed")

    with pytest.raises(RuntimeError):
        render_file(src, tmp_path / "out.mp4", process=fail)
    assert list(tmp_path.iterdir()) == []


def test_frames_are_graded_with_their_own_transfer_function():
    from render.backends.numpy_backend import NumpyBackend
    from render.grading import GradeRecipe, make_process
    from render.ops.colour import Exposure

    grade = (Exposure(exposure_ev=1.0),)
    rgb = np.tile(np.arange(0, 256, 16, dtype=np.uint8)[None, :, None], (2, 1, 3))
    process = make_process(GradeRecipe(ops=grade, backend="numpy"))
    for transfer in ("bt709", "srgb"):
        got = process(VideoFrame(index=0, pts=0, time_s=0.0, rgb=rgb, transfer=transfer))
        assert np.array_equal(got, NumpyBackend().apply(rgb, grade, transfer=transfer))
    srgb, bt709 = (process(VideoFrame(0, 0, 0.0, rgb, t)) for t in ("srgb", "bt709"))
    assert not np.array_equal(srgb, bt709)
