"""Reading .cdl / .cc / .ccc files; OpenColorIO's parser reads the same values; errors name file and line."""

from pathlib import Path

import numpy as np
import PyOpenColorIO as ocio
import pytest

from render.errors import MoodgradeError
from render.ops.cdl import CDL, CdlError, read_cdl

DATA = Path(__file__).parent / "data"


def test_reads_a_decision_list_by_id():
    assert read_cdl(DATA / "grade.cdl", id="shot_020") == CDL(
        slope=(0.9, 0.97, 1.12), offset=(-0.02, 0.005, 0.03), power=(0.92, 1.0, 1.2), saturation=1.3
    )


def test_without_id_the_first_correction_is_used():
    assert read_cdl(DATA / "grade.cdl") == read_cdl(DATA / "grade.cdl", id="shot_010")
    assert read_cdl(DATA / "looks.ccc").slope == (1.15, 1.02, 0.85)


def test_single_correction_with_the_cdl_1_01_satnode_spelling():
    assert read_cdl(DATA / "night.cc") == CDL((0.7, 0.8, 1.05), (-0.03, -0.01, 0.02), (1.25, 1.15, 1.0), 0.6)


def test_a_missing_sop_node_means_identity_sop():
    assert read_cdl(DATA / "looks.ccc", id="sat_only") == CDL(saturation=0.5)


@pytest.mark.parametrize(
    "name, id", [("grade.cdl", "shot_010"), ("grade.cdl", "shot_020"), ("night.cc", None),
                 ("looks.ccc", "golden_hour"), ("looks.ccc", "sat_only"), ("looks.ccc", None)]
)
def test_opencolorio_reads_the_same_correction(name, id):
    ours = read_cdl(DATA / name, id=id)
    theirs = ocio.CDLTransform.CreateFromFile(str(DATA / name), id or "")
    assert ours == CDL(tuple(theirs.getSlope()), tuple(theirs.getOffset()), tuple(theirs.getPower()),
                       theirs.getSat())
    theirs.setStyle(ocio.CDL_ASC)
    rgb = (np.random.default_rng(9).random((5000, 3)) * 1.6 - 0.3).astype(np.float32)
    expected = rgb.copy()
    processor = ocio.Config.CreateRaw().getProcessor(theirs)
    processor.getOptimizedCPUProcessor(ocio.OPTIMIZATION_LOSSLESS).applyRGB(expected)
    np.testing.assert_allclose(ours.apply_reference(rgb), expected, atol=1e-5, rtol=0)


def cc(sop="<Slope>1 1 1</Slope><Offset>0 0 0</Offset><Power>1 1 1</Power>", sat="<Saturation>1</Saturation>"):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ColorCorrection id="a">\n'
        "  <SOPNode>\n"
        f"    {sop}\n"
        "  </SOPNode>\n"
        "  <SatNode>\n"
        f"    {sat}\n"
        "  </SatNode>\n"
        "</ColorCorrection>\n"
    )


MALFORMED = {
    "malformed XML": (cc().replace("</SOPNode>", ""), 9, "malformed XML: mismatched tag"),
    "not XML at all": ("LUT_3D_SIZE 33\n", 1, "malformed XML: syntax error"),
    "empty file": ("", 1, "malformed XML: no element found"),
    "missing slope": (cc(sop="<Offset>0 0 0</Offset><Power>1 1 1</Power>"), 3, "SOPNode has no Slope"),
    "missing saturation": (cc(sat=""), 6, "SatNode has no Saturation"),
    "non-numeric offset": (cc(sop="<Slope>1 1 1</Slope>\n<Offset>0 zero 0</Offset><Power>1 1 1</Power>"), 5,
                           "Offset needs 3 numbers, got '0 zero 0'"),
    "two power values": (cc(sop="<Slope>1 1 1</Slope><Offset>0 0 0</Offset><Power>1 1</Power>"), 4,
                         "Power needs 3 numbers"),
    "empty saturation": (cc(sat="<Saturation></Saturation>"), 7, "Saturation needs 1 number"),
    "negative slope": (cc(sop="<Slope>1 -0.5 1</Slope><Offset>0 0 0</Offset><Power>1 1 1</Power>"), 4,
                       "slope must be >= 0"),
    "negative power": (cc(sop="<Slope>1 1 1</Slope><Offset>0 0 0</Offset>\n\n<Power>1 1 -2</Power>"), 6,
                       "power must be > 0"),
    "negative saturation": (cc(sat="<Saturation>-1</Saturation>"), 7, "saturation must be a finite number >= 0"),
    "no correction": ('<?xml version="1.0"?>\n<ColorDecisionList/>\n', 1, "no ColorCorrection element"),
    "neither node": ('<ColorCorrectionCollection>\n  <ColorCorrection id="x"/>\n</ColorCorrectionCollection>', 2,
                     "neither SOPNode nor SatNode"),
    "entity declarations": ('<?xml version="1.0"?>\n<!DOCTYPE c [\n<!ENTITY a "aaaa">\n]>\n<ColorCorrection/>', 2,
                            "DTDs and entity declarations are not allowed"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_files_name_file_and_line(tmp_path, case):
    text, line, message = MALFORMED[case]
    path = tmp_path / "bad.cc"
    path.write_text(text)
    with pytest.raises(CdlError) as err:
        read_cdl(path)
    assert isinstance(err.value, MoodgradeError)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unknown_id_lists_the_known_ones():
    with pytest.raises(CdlError) as err:
        read_cdl(DATA / "grade.cdl", id="shot_999")
    expected = "no ColorCorrection with id 'shot_999' (ids: 'shot_010', 'shot_020')"
    assert str(err.value) == f"{DATA / 'grade.cdl'}:1: {expected}"


def test_missing_and_unreadable_files(tmp_path):
    for path in (tmp_path / "absent.cdl", tmp_path):
        with pytest.raises(CdlError, match="cannot read CDL file") as err:
            read_cdl(path)
        assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)
