"""Farm fixtures: one local Ray instance shared by the session, and farm test clips."""

import pytest

from render.io.sink import EncodeSettings

LOSSLESS = EncodeSettings(codec="ffv1", pix_fmt="bgr0")


@pytest.fixture(scope="session")
def ray_local():
    """A local two-CPU Ray instance for the whole session (started once, on loopback, as
    ``farm render`` starts one; shut down at the end)."""
    pytest.importorskip("ray")
    from render.farm.ray_cluster import ray_session

    with ray_session(workers=2) as ray:
        yield ray


@pytest.fixture(scope="session")
def farm_clip(make_clip):
    """80 frames, 320x180, a keyframe every 10 frames, B-frames, stereo AAC."""
    return make_clip("farm.mp4", frames=80, gop=10)


@pytest.fixture(scope="session")
def single_render(farm_clip, tmp_path_factory):
    """The same clip rendered on one machine by render_file, lossless (the reference)."""
    from render.job import render_file

    out = tmp_path_factory.mktemp("single") / "single.mkv"
    render_file(farm_clip, out, LOSSLESS)
    return out
