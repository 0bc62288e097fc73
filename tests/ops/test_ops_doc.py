"""docs/ops.md states every op parameter's range as the op's RANGES declare it."""

import re
from pathlib import Path

import pytest

from render.ops.grade_file import OP_TYPES
from render.ops.lut import Lut1D, Lut3D
from render.ops.regions import Ellipse

DOC = Path(__file__).resolve().parents[2] / "docs" / "ops.md"


def _rows() -> dict[str, str]:
    """{first column: last column} of the page's tables."""
    rows = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2:
            rows[cells[0]] = cells[-1]
    return rows


def _shown(value) -> str:
    return "2^32-1" if value == 2**32 - 1 else f"{value:g}"


@pytest.mark.parametrize("name, cls", [*OP_TYPES.items(), ("ellipse", Ellipse), ("lut", Lut1D), ("lut", Lut3D)])
def test_the_page_states_each_range_as_declared(name, cls):
    row = _rows().get(name)
    assert row is not None, f"docs/ops.md has no row for {name}"
    for field, (lo, hi) in cls.RANGES.items():
        assert re.search(rf"\b{field} \({re.escape(_shown(lo))}\.\.{re.escape(_shown(hi))}\b", row), \
            f"docs/ops.md, {name}: {field} should read ({_shown(lo)}..{_shown(hi)})"
