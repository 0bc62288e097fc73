"""Seeds for the fuzz tests, written once per session."""

import pytest

from render.io.damaged import write_seeds


@pytest.fixture(scope="session")
def seed_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-seeds")


@pytest.fixture(scope="session")
def seeds(seed_dir):
    return {seed.name: seed for seed in write_seeds(seed_dir)}
