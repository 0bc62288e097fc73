"""Frames from the server are the frames ``moodgrade grade`` writes, bit for bit (lossless FFV1 RGB)."""

import random

import numpy as np
import pytest

from render.client import PreviewClient
from render.grading import make_process
from render.io.sink import EncodeSettings
from render.io.source import open_source
from render.job import render_file
from render.mood_grade import GradeOptions, grade_recipe
from render.server.server import ServerConfig, ServerThread
from tests.helpers import moodgrade

LOSSLESS = EncodeSettings(codec="ffv1", pix_fmt="bgr0", audio="none")
OPS = ("exposure.exposure_ev=0.4", "saturation.saturation=0.7", "vignette.amount=0.5")


@pytest.mark.parametrize("options", [GradeOptions(), GradeOptions(assignments=OPS)], ids=["pass-through", "ops"])
def test_random_access_into_a_real_clip(options, bikes, tmp_path, socket_dir):
    """bikes.mp4 has B-frames and 6 GOPs: frames asked for in any order equal the rendered ones."""
    start, stop = 40, 130
    rendered = tmp_path / "graded.mkv"
    render_file(bikes, rendered, LOSSLESS, process=make_process(grade_recipe(options, None, None)),
                frame_range=(start, stop))
    with open_source(rendered) as out:
        expected = {start + f.index: f.rgb for f in out.frames()}
    assert len(expected) == stop - start
    config = ServerConfig(roots=(str(bikes.parent),), socket_path=str(socket_dir / "p.sock"), grade=options,
                          memory_mb=256, workers=2)
    order = list(range(start, stop, 7)) + random.Random(1).sample(range(start, stop), 12)
    with ServerThread(config) as server, PreviewClient.connect(server.addresses[0]) as client:
        client.open(bikes.name)
        for n in order:
            header, rgb = client.frame(n)
            assert header["n"] == n
            assert np.array_equal(rgb, expected[n]), f"frame {n} differs from the rendered file"
        if options.assignments:
            client.set(ops=[])
            assert not np.array_equal(rgb, client.frame(n)[1]), "the ops changed nothing"


def test_the_grade_command_with_a_preset_mood_and_ops(media_root, tmp_path, socket_dir):
    """The literal check: ``moodgrade grade --preset --mood --intensity --op`` against a session set the
    same way, every frame, asked for backwards (each request a seek)."""
    out = tmp_path / "graded.mkv"
    cache = tmp_path / "cache"
    result = moodgrade("grade", media_root / "clip.mp4", out, "--preset", "noir", "--mood", "sad",
                       "--intensity", "0.6", "--op", OPS[0], "--cache-dir", cache,
                       "--codec", "ffv1", "--pix-fmt", "bgr0", "--quiet")
    assert result.returncode == 0, result.stderr
    config = ServerConfig(roots=(str(media_root),), socket_path=str(socket_dir / "p.sock"),
                          grade=GradeOptions(cache_dir=str(cache)))          # the analysis cached by `grade`
    with ServerThread(config) as server, open_source(out) as graded, \
            PreviewClient.connect(server.addresses[0]) as client:
        client.open("clip.mp4")
        plain = client.frame(29)[1]
        settings = client.set(preset="noir", mood="sad", intensity=0.6, ops=[OPS[0]])
        assert (settings["preset"], settings["mood"], settings["generation"]) == ("noir", "sad", 1)
        frames = list(graded.frames())
        assert len(frames) == 30
        assert not np.array_equal(frames[-1].rgb, plain)
        for frame in reversed(frames):
            header, rgb = client.frame(frame.index)
            assert header["generation"] == 1 and header["mood"]["dominant"] == "sad"
            assert np.array_equal(rgb, frame.rgb), f"frame {frame.index}"


def test_auto_mood_session_matches_a_cold_grade_frame_for_frame(media_root, tmp_path, socket_dir):
    """A preset following the analysed mood: the server analyses with its own, empty cache and must
    give the frames ``moodgrade grade`` made from a fresh analysis of its own."""
    out = tmp_path / "graded.mkv"
    result = moodgrade("grade", media_root / "clip.mp4", out, "--preset", "teal-orange", "--cache-dir",
                       tmp_path / "grade-cache", "--codec", "ffv1", "--pix-fmt", "bgr0", "--quiet")
    assert result.returncode == 0, result.stderr
    config = ServerConfig(roots=(str(media_root),), socket_path=str(socket_dir / "p.sock"),
                          grade=GradeOptions(cache_dir=str(tmp_path / "server-cache")))
    with ServerThread(config) as server, open_source(out) as graded, \
            PreviewClient.connect(server.addresses[0]) as client:
        client.open("clip.mp4")
        assert client.set(preset="teal-orange")["mood"] == "auto"
        for frame in graded.frames():
            assert np.array_equal(client.frame(frame.index)[1], frame.rgb), f"frame {frame.index}"
