"""The shipped looks: what make_luts.py generates, titled, in range, and doing what their names say."""

import importlib.util

import numpy as np
import pytest

from render.ops.lut import read_cube
from render.resources import presets_dir

LUTS = presets_dir() / "luts"


@pytest.fixture(scope="module")
def make_luts():
    spec = importlib.util.spec_from_file_location("make_luts", LUTS / "make_luts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def looks():
    return {path.stem: read_cube(path)[0] for path in LUTS.glob("*.cube")}


def grade(looks, name, *colours):
    return looks[name].apply_reference(np.array(colours, dtype=np.float32))


def saturation(rgb):
    return rgb.max(axis=-1) - rgb.min(axis=-1)


def test_committed_files_are_what_the_script_makes(make_luts, looks):
    assert sorted(looks) == sorted(make_luts.LOOKS)
    for name, (title, _look) in make_luts.LOOKS.items():
        np.testing.assert_allclose(looks[name].table, make_luts.build_look(name).table, atol=6e-7)
        assert f'TITLE "{title}"' in (LUTS / f"{name}.cube").read_text().splitlines()


def test_looks_are_33_cubed_in_range_and_keep_tone_order(looks):
    grey = np.repeat(np.linspace(0, 1, 256, dtype=np.float32)[:, None], 3, axis=1)
    for name, lut in looks.items():
        assert lut.size == 33 and lut.table.min() >= 0.0 and lut.table.max() <= 1.0, name
        luma = lut.apply_reference(grey) @ np.float32([0.2126, 0.7152, 0.0722])
        assert np.all(np.diff(luma) > 0), f"{name} inverts tones on the grey ramp"


def test_teal_orange_splits_shadows_teal_and_skin_orange(looks):
    shadow, skin, sky = grade(looks, "teal_orange", (0.15, 0.15, 0.15), (0.8, 0.6, 0.5), (0.45, 0.6, 0.8))
    assert shadow[2] > shadow[0] and shadow[1] > shadow[0]  # teal: blue and green over red
    assert skin[0] - skin[2] > 0.8 - 0.5  # warmer than it was
    assert sky[1] > sky[0] and sky[2] > sky[0]


def test_bleach_bypass_desaturates_and_adds_contrast(looks):
    dark, light, red = grade(looks, "bleach_bypass", (0.25, 0.25, 0.25), (0.75, 0.75, 0.75), (0.8, 0.2, 0.2))
    assert dark[1] < 0.23 and light[1] > 0.77
    assert saturation(red) < 0.6 * saturation(np.array([0.8, 0.2, 0.2]))


def test_warm_print_is_warm_with_lifted_blacks(looks):
    black, grey, white = grade(looks, "warm_print", (0, 0, 0), (0.5, 0.5, 0.5), (1, 1, 1))
    assert 0.02 < black.min() and black[0] > black[2]
    assert grey[0] > grey[1] > grey[2]
    assert white.max() < 0.98 and white[0] > white[2]


def test_cool_night_is_darker_and_blue(looks):
    grey, white = grade(looks, "cool_night", (0.5, 0.5, 0.5), (1, 1, 1))
    assert grey[1] < 0.4 and grey[2] > grey[1] > grey[0]
    assert white[2] > white[0]
