"""The numbers the kernels share with Python are written once, in Python, into every program."""

import re

import pytest

from render.backends.codegen import DIALECT_CONSTANTS, KERNEL_CONSTANTS, program_source
from render.ops.base import FrameContext
from render.ops.colour import Curves
from render.ops.lighting import Relight, RelightRegion
from render.ops.plan import build_plan, pack
from render.resources import kernels_dir

NAMES = set(KERNEL_CONSTANTS) | {name for d in DIALECT_CONSTANTS.values() for name in d}


@pytest.mark.parametrize("path", sorted(kernels_dir().glob("*.h")), ids=lambda p: p.name)
def test_no_kernel_file_defines_a_shared_constant(path):
    defined = set(re.findall(r"^\s*#\s*define\s+(\w+)", path.read_text(), re.M))
    assert not defined & NAMES, f"{path.name} defines {sorted(defined & NAMES)}: they come from codegen"


def test_every_program_defines_them_from_python():
    grade = (Curves(master=((0.0, 0.1), (1.0, 0.9))), Relight(regions=(RelightRegion(exposure_ev=1.0),)))
    plan = build_plan(grade, "u8")
    source = program_source(plan, pack(plan, FrameContext(8, 8)), "u8", "bt709")
    for name, value in KERNEL_CONSTANTS.items():
        assert f"#define {name} {value}\n" in source
    assert source.index("#define ELLIPSE_FLOATS") < source.index("MOODGRADE_COMMON_H")
