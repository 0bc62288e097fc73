"""Grades from TOML files, mappings and command-line assignments; one-line errors."""

import numpy as np
import pytest

from render.errors import MoodgradeError
from render.ops.cdl import CDL
from render.ops.colour import Curves, Exposure, LiftGammaGain, Saturation
from render.ops.focus import DepthOfField
from render.ops.grade_file import grade_from_assignments, grade_from_mapping, load_grade_toml, parse_assignment
from render.ops.lighting import Relight
from render.ops.lut import Lut3D, write_cube

GRADE = """
# a warm, punchy look
[[op]]
type = "exposure"
exposure_ev = 0.5

[[op]]
type = "lift_gamma_gain"
gain = [1.1, 1, 0.9]

[[op]]
type = "curves"
master = [[0, 0], [0.5, 0.6], [1, 1]]

[[op]]
type = "lut"
path = "look.cube"
interpolation = "trilinear"

[[op]]
type = "cdl"
slope = [1.1, 1.0, 0.9]
saturation = 0.9

[[op]]
type = "relight"
regions = [{center_x = 0.4, center_y = 0.35, radius_x = 0.1, radius_y = 0.15, exposure_ev = 0.5}]

[[op]]
type = "depth_of_field"
sigma_px = 8
focus_regions = [{center_x = 0.5, center_y = 0.5}]
"""


def test_load_grade_toml_in_order(tmp_path):
    grid = np.stack(np.meshgrid(*[np.linspace(0, 1, 5)] * 3, indexing="ij"), -1).astype(np.float32)
    write_cube(tmp_path / "look.cube", Lut3D(grid))
    (tmp_path / "grade.toml").write_text(GRADE)
    grade = load_grade_toml(tmp_path / "grade.toml")
    assert [type(op) for op in grade] == [Exposure, LiftGammaGain, Curves, Lut3D, CDL, Relight, DepthOfField]
    assert grade[0] == Exposure(0.5)
    assert grade[1].gain == (1.1, 1.0, 0.9)
    assert grade[2].master == ((0.0, 0.0), (0.5, 0.6), (1.0, 1.0))
    assert grade[3].interpolation == "trilinear"
    assert grade[4] == CDL(slope=(1.1, 1.0, 0.9), saturation=0.9)
    assert grade[5].regions[0].exposure_ev == 0.5 and grade[6].sigma_px == 8.0


@pytest.mark.parametrize("text, message", [
    ('[[op]]\ntype = "exposure"\nexposure_ev = 20\n',
     r"grade.toml: op 1 \(exposure\): exposure.exposure_ev = 20.0 is outside the allowed range \[-8.0, 8.0\]"),
    ('[[op]]\ntype = "exposur"\n', r"op 1 \(exposur\): unknown op type 'exposur'; known: exposure"),
    ('[[op]]\ntype = "exposure"\nev = 1\n', "unknown key 'ev'; exposure takes exposure_ev"),
    ('[[op]]\ntype = "exposure"\nexposure_ev = "bright"\n', "exposure_ev must be a number"),
    ('[[op]]\ntype = "film_grain"\nseed = 1.5\n', "seed must be an integer"),
    ('[[op]]\ntype = "lift_gamma_gain"\ngain = [1, 2]\n', r"gain must hold 3 numbers"),
    ('[[op]]\nexposure_ev = 1\n', "needs a 'type'"),
    ('looks = 1\n', "unknown top-level key 'looks'"),
    ('[[op]\n', "not valid TOML"),
    ('[[op]]\ntype = "lut"\npath = "missing.cube"\n', "missing.cube"),
    ('[[op]]\ntype = "relight"\nregions = [{center_x = 5}]\n', r"regions\[0\].*center_x"),
])
def test_bad_grade_files_fail_with_one_line_naming_file_and_key(tmp_path, text, message):
    path = tmp_path / "grade.toml"
    path.write_text(text)
    with pytest.raises(MoodgradeError, match=message) as info:
        load_grade_toml(path)
    assert "grade.toml" in str(info.value) and "\n" not in str(info.value)


def test_missing_file():
    with pytest.raises(MoodgradeError, match="cannot read grade file"):
        load_grade_toml("/nonexistent/grade.toml")


def test_mapping_is_the_same_as_toml():
    grade = grade_from_mapping({"op": [{"type": "saturation", "saturation": 1.2}]})
    assert grade == (Saturation(1.2),)


def test_command_line_assignments():
    assert parse_assignment("exposure.exposure_ev=0.5") == ("exposure", "exposure_ev", 0.5)
    assert parse_assignment("lift_gamma_gain.gain=[1.1,1,0.9]")[2] == [1.1, 1, 0.9]
    grade = grade_from_assignments(["saturation.saturation=1.3", "exposure.exposure_ev=1",
                                    "exposure.exposure_ev=-0.5"], base=(Exposure(2.0),))
    assert grade == (Exposure(-0.5), Saturation(1.3))
    with pytest.raises(MoodgradeError, match="expected OP.KEY=VALUE"):
        parse_assignment("exposure=1")
    with pytest.raises(MoodgradeError, match=r"--op 'exposure.exposure_ev=99'.*allowed range"):
        grade_from_assignments(["exposure.exposure_ev=99"])


def test_build_grade_from_command_line_options(tmp_path):
    grid = np.stack(np.meshgrid(*[np.linspace(0, 1, 3)] * 3, indexing="ij"), -1).astype(np.float32)
    write_cube(tmp_path / "look.cube", Lut3D(grid))
    (tmp_path / "g.toml").write_text('[[op]]\ntype = "saturation"\nsaturation = 1.5\n')
    from render.ops.grade_file import build_grade
    grade = build_grade(grade_file=tmp_path / "g.toml", lut=tmp_path / "look.cube", lut_interpolation="trilinear",
                        assignments=["saturation.saturation=0.5", "exposure.exposure_ev=1"])
    assert [type(op) for op in grade] == [Lut3D, Saturation, Exposure]
    assert grade[0].interpolation == "trilinear" and grade[1] == Saturation(0.5)
    assert build_grade() == ()
    with pytest.raises(MoodgradeError, match="--lut .*nope.cube"):
        build_grade(lut=tmp_path / "nope.cube")
