"""Reading and writing .cube files; malformed files fail with one line naming file and line."""

import numpy as np
import pytest

from render.errors import MoodgradeError
from render.ops.lut import Lut1D, Lut3D, LutError, read_cube, write_cube

# Eight entries, red varying fastest: entry k is corner (r, g, b) = (k & 1, k >> 1 & 1, k >> 2 & 1).
CORNERS = "\n".join(f"{k / 10:.1f} {k / 10 + 0.01:.2f} {k / 10 + 0.02:.2f}" for k in range(8))


def write(tmp_path, text, name="look.cube", newline="\n", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


@pytest.mark.parametrize("newline, encoding", [("\n", "utf-8"), ("\r\n", "utf-8-sig")])  # Windows: CRLF, BOM
def test_reads_title_comments_blank_lines_and_red_fastest_order(tmp_path, newline, encoding):
    text = f'# made by hand\nTITLE "Look #1: corners"\n\nLUT_3D_SIZE 2\n# data follows\n{CORNERS}\n\n'
    (lut,) = read_cube(write(tmp_path, text, newline=newline, encoding=encoding))
    assert isinstance(lut, Lut3D) and lut.size == 2 and lut.interpolation == "tetrahedral"
    assert lut.domain_min == (0.0, 0.0, 0.0) and lut.domain_max == (1.0, 1.0, 1.0)
    for k in range(8):
        r, g, b = k & 1, k >> 1 & 1, k >> 2 & 1
        np.testing.assert_allclose(lut.table[r, g, b], [k / 10, k / 10 + 0.01, k / 10 + 0.02], atol=1e-7)


def test_domain_keywords(tmp_path):
    text = f"DOMAIN_MIN 0 -0.5 0\nLUT_3D_SIZE 2\nDOMAIN_MAX 1 1.5 2\n{CORNERS}\n"
    (lut,) = read_cube(write(tmp_path, text))
    assert lut.domain_min == (0.0, -0.5, 0.0) and lut.domain_max == (1.0, 1.5, 2.0)


def test_resolve_shaper_and_cube_with_input_ranges(tmp_path):
    text = (
        "LUT_1D_SIZE 3\nLUT_3D_SIZE 2\nLUT_1D_INPUT_RANGE -0.25 1.25\nLUT_3D_INPUT_RANGE 0.0 1.0\n"
        f"0 0 0\n0.6 0.5 0.4\n1 1 1\n{CORNERS}\n"
    )
    shaper, cube = read_cube(write(tmp_path, text))
    assert isinstance(shaper, Lut1D) and isinstance(cube, Lut3D)
    assert shaper.domain_min == (-0.25,) * 3 and shaper.domain_max == (1.25,) * 3
    assert cube.domain_max == (1.0,) * 3
    np.testing.assert_allclose(shaper.table[1], [0.6, 0.5, 0.4])
    np.testing.assert_allclose(cube.table[1, 1, 1], [0.7, 0.71, 0.72], atol=1e-7)


def test_1d_only_file(tmp_path):
    (lut,) = read_cube(write(tmp_path, "LUT_1D_SIZE 2\n0 0 0\n1 0.5 0.25\n"))
    assert isinstance(lut, Lut1D)
    np.testing.assert_allclose(lut.apply_reference(np.array([[0.5, 1.0, 1.0]])), [[0.5, 0.5, 0.25]])


@pytest.mark.parametrize("lut", [
    Lut3D(np.random.default_rng(0).random((5, 5, 5, 3), dtype=np.float32), (0.0, 0.0, 0.0), (1.0, 2.0, 4.0)),
    Lut1D(np.random.default_rng(1).random((16, 3), dtype=np.float32)),
])
def test_write_then_read_round_trips(tmp_path, lut):
    path = tmp_path / "round.cube"
    write_cube(path, lut, title="Round trip", comments=("two", "comments"))
    assert path.read_text().splitlines()[2] == 'TITLE "Round trip"'
    (back,) = read_cube(path)
    assert type(back) is type(lut)
    np.testing.assert_allclose(back.table, lut.table, atol=5e-7)
    assert back.domain_min == lut.domain_min and back.domain_max == lut.domain_max


def _corners_minus_last():
    return CORNERS.rsplit("\n", 1)[0]


MALFORMED = {
    "too few entries": (f'TITLE "t"\nLUT_3D_SIZE 2\n{_corners_minus_last()}\n', 2,
                        "declare 8 entries but the file has 7"),
    "too many entries": (f"LUT_3D_SIZE 2\n{CORNERS}\n0.5 0.5 0.5\n", 10, "more entries than the 8"),
    "non-number": (f"LUT_3D_SIZE 2\n0 0 0\n0.1 zero 0.1\n{CORNERS}\n", 3, "got '0.1 zero 0.1'"),
    "two numbers": ("LUT_3D_SIZE 2\n\n0 0\n", 3, "an entry needs 3 numbers"),
    "infinite number": ("LUT_1D_SIZE 2\n0 0 0\n1e999 1 1\n", 3, "an entry needs 3 numbers"),
    "size over 256": ("LUT_3D_SIZE 257\n0 0 0\n", 1, "LUT_3D_SIZE must be a whole number from 2 to 256, got 257"),
    "size under 2": ("# tiny\nLUT_3D_SIZE 1\n0 0 0\n", 2, "from 2 to 256, got 1"),
    "fractional size": ("LUT_3D_SIZE 2.5\n", 1, "whole number"),
    "size not a number": ("LUT_3D_SIZE big\n", 1, "LUT_3D_SIZE needs 1 number"),
    "1D size over 65536": ("LUT_1D_SIZE 65537\n", 1, "from 2 to 65536"),
    "missing size": (f"TITLE \"no size\"\n{CORNERS}\n", 2, "table data before any LUT_3D_SIZE"),
    "no size and no data": ("# only a comment\n", 1, "no LUT_3D_SIZE or LUT_1D_SIZE"),
    "size given twice": (f"LUT_3D_SIZE 2\nLUT_3D_SIZE 2\n{CORNERS}\n", 2, "given twice (first on line 1)"),
    "domain min above max": (f"LUT_3D_SIZE 2\nDOMAIN_MIN 0 0 1\nDOMAIN_MAX 1 1 1\n{CORNERS}\n", 3, "not below"),
    "domain with two numbers": ("LUT_3D_SIZE 2\nDOMAIN_MAX 1 1\n", 2, "DOMAIN_MAX needs 3 numbers"),
    "empty input range": (f"LUT_3D_SIZE 2\nLUT_3D_INPUT_RANGE 1 1\n{CORNERS}\n", 2, "not below"),
    "keyword after data": (f"LUT_3D_SIZE 2\n{CORNERS}\nDOMAIN_MAX 2 2 2\n", 10, "DOMAIN_MAX after the table data"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_files_name_file_and_line(tmp_path, case):
    text, line, message = MALFORMED[case]
    path = write(tmp_path, text)
    with pytest.raises(LutError) as err:
        read_cube(path)
    assert isinstance(err.value, MoodgradeError)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_missing_and_unreadable_files(tmp_path):
    for path in (tmp_path / "absent.cube", tmp_path):
        with pytest.raises(LutError, match=r"cannot read LUT file") as err:
            read_cube(path)
        assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)
