"""Frames from the server are the frames ``moodgrade grade`` writes, bit for bit (lossless FFV1)."""

import random

import numpy as np
import pytest

from render.client import PreviewClient
from render.grading import GradeRecipe, make_process
from render.io.sink import EncodeSettings
from render.io.source import open_source
from render.job import render_file
from render.server.server import ServerConfig, ServerThread

LOSSLESS = EncodeSettings(codec="ffv1", pix_fmt="bgr0", audio="none")


def graded_recipes():
    """Pass-through, and a real grade once the backends can run one (they land with the kernels branch)."""
    recipes = [pytest.param(GradeRecipe(), id="pass-through")]
    try:
        from render.ops.cdl import CDL
        recipe = GradeRecipe(ops=(CDL(slope=(1.1, 0.95, 0.9), offset=(0.02, 0.0, -0.01), saturation=0.8),),
                             backend="numpy")
        make_process(recipe)(_probe_frame())
        recipes.append(pytest.param(recipe, id="cdl-numpy"))
    except Exception as exc:  # noqa: BLE001 - no backend yet: say so in the test report
        recipes.append(pytest.param(None, id="cdl-numpy",
                                    marks=pytest.mark.skip(reason=f"no backend runs a CDL yet ({exc})")))
    return recipes


def _probe_frame():
    from render.io.source import VideoFrame
    return VideoFrame(index=0, pts=0, time_s=0.0, rgb=np.zeros((4, 4, 3), np.uint8))


@pytest.mark.parametrize("recipe", graded_recipes())
def test_server_frames_equal_rendered_frames(recipe, bikes, tmp_path, socket_dir):
    """Random access into a real clip with B-frames and 6 GOPs: every served frame equals the rendered one."""
    start, stop = 40, 130
    rendered = tmp_path / "graded.mkv"
    render_file(bikes, rendered, LOSSLESS, process=make_process(recipe), frame_range=(start, stop))
    with open_source(rendered) as out:
        expected = {start + f.index: f.rgb for f in out.frames()}
    assert len(expected) == stop - start
    config = ServerConfig(roots=(str(bikes.parent),), socket_path=str(socket_dir / "p.sock"), recipe=recipe,
                          cache_mb=32, workers=2)
    order = list(range(start, stop, 7)) + random.Random(1).sample(range(start, stop), 12)
    with ServerThread(config) as server, PreviewClient.connect(server.addresses[0]) as client:
        client.open(bikes.name)
        for n in order:
            header, rgb = client.frame(n)
            assert header["n"] == n
            assert np.array_equal(rgb, expected[n]), f"frame {n} differs from the rendered file"


def test_server_frames_equal_the_grade_command(server, media_root, tmp_path):
    """The literal check: ``moodgrade grade`` (default settings, FFV1 RGB) against the server, every frame."""
    from tests.helpers import moodgrade
    out = tmp_path / "graded.mkv"
    result = moodgrade("grade", media_root / "clip.mp4", out, "--codec", "ffv1", "--pix-fmt", "bgr0", "--quiet")
    assert result.returncode == 0, result.stderr
    with open_source(out) as graded, PreviewClient.connect(server.addresses[0]) as client:
        client.open("clip.mp4")
        frames = list(graded.frames())
        assert len(frames) == 30
        for frame in reversed(frames):                     # backwards: every request is a seek
            assert np.array_equal(client.frame(frame.index)[1], frame.rgb), f"frame {frame.index}"
