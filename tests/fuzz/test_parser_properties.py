"""Property tests of every text format a user hands us: whatever the bytes, a parser either
returns or raises its declared error (a MoodgradeError subclass) with a one-line message.

Formats: .cube (LutError), .cdl/.cc/.ccc (CdlError), grade TOML and --op (MoodgradeError),
preset TOML (PresetError), override CSV and timeline JSON/CSV (MoodgradeError), preview
protocol requests and paths (ProtocolError).
"""

import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from render.emotion.overrides import read_overrides
from render.emotion.timeline import MoodTimeline
from render.errors import MoodgradeError
from render.looks.preset import PresetError, load_preset
from render.ops.cdl import CdlError, read_cdl
from render.ops.grade_file import grade_from_assignments, load_grade_toml
from render.ops.lut import LutError, read_cube
from render.server import protocol
from render.server.protocol import ProtocolError
from render.server.roots import Roots
from tests.emotion.test_timeline import sample

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WORK = Path(tempfile.mkdtemp(prefix="moodgrade-props-"))


def _only(error_type, parse, *args):
    """Run ``parse``; a raised error must be ``error_type`` with one non-empty line."""
    try:
        return parse(*args)
    except error_type as exc:
        message = str(exc)
        assert message.strip() and "\n" not in message and "\r" not in message, repr(message)
        return None


def _file(name: str, data: bytes | str) -> Path:
    path = WORK / name
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


# ------------------------------------------------------------- building blocks

numbers = st.one_of(
    st.integers(-10, 10).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e39", "-1e39", "3.4e38", "1e308", "1e-320", "1e100000000", "9" * 5000, "0x10", "1_000",
                     "nan", "inf", "-0", ".5", "5.", "+1", "1e", "--1", ""]))
junk = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(["\0", "\ufeff", "\r", "\x1b[2J", "#"])
toml_scalar = numbers | st.sampled_from(['"exposure"', '"lut"', '"cdl"', "true", "false", '"x"', "[1]", "[]", "{}",
                                          '"\\ud800"', "1979-05-27", '"' + "a" * 300 + '"'])
toml_value = st.recursive(toml_scalar, lambda inner: st.lists(inner, max_size=4).map(lambda v: f"[{', '.join(v)}]")
                          | st.dictionaries(st.sampled_from(["a", "x", "center_x", "exposure_ev"]), inner,
                                            max_size=3).map(lambda d: "{" + ", ".join(f"{k} = {v}" for k, v in d.items()) + "}"),
                          max_leaves=8)
op_keys = st.sampled_from(["type", "exposure_ev", "saturation", "gain", "lift", "points", "regions", "path", "id",
                           "interpolation", "slope", "offset", "power", "seed", "sigma_px", "amount", "focus_regions",
                           "temperature_k", "hue_deg", '"odd key"', '"a\\nb"', "x" * 70])
op_types = st.sampled_from(['"exposure"', '"saturation"', '"lift_gamma_gain"', '"curves"', '"relight"', '"film_grain"',
                            '"depth_of_field"', '"cdl"', '"lut"', '"vignette"', "[1]", "7", '"nope"'])


@st.composite
def grade_toml(draw):
    lines = []
    for _ in range(draw(st.integers(0, 3))):
        lines.append(draw(st.sampled_from(["[[op]]", "[[look.op]]", "[op]", "[[op.x]]"])))
        lines.append(f"type = {draw(op_types)}")
        for _ in range(draw(st.integers(0, 3))):
            lines.append(f"{draw(op_keys)} = {draw(toml_value)}")
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(junk))
    if draw(st.booleans()):
        lines.append("deep = " + "[" * draw(st.integers(1, 3000)) + "]" * draw(st.integers(0, 3000)))
    return "\n".join(lines)


@st.composite
def preset_toml(draw):
    schema = draw(st.sampled_from(['"moodgrade.preset/1"', '"x"', "1"]))
    head = [f"schema = {schema}"]
    for key in draw(st.lists(st.sampled_from(["name", "description", "extends", "expect.saturation", "response.strength",
                                              "response.ramp_s", "faces.relight_warmth", "soundtrack.x",
                                              "mood.happy.exposure.exposure_ev", "valence.saturation.saturation",
                                              "arousal.exposure", "mood.ecstatic.x", "type"]), max_size=5)):
        head.append(f"{key} = {draw(toml_value)}")
    return "\n".join(head) + "\n" + draw(grade_toml()).replace("[[op]]", "[[look.op]]")


# ------------------------------------------------------------------ .cube

cube_keywords = st.sampled_from(["TITLE", "LUT_3D_SIZE", "LUT_1D_SIZE", "DOMAIN_MIN", "DOMAIN_MAX",
                                 "LUT_3D_INPUT_RANGE", "LUT_1D_INPUT_RANGE", "LUT_IN_VIDEO_RANGE", "#"])


@st.composite
def cube_text(draw):
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        lines.append(" ".join([draw(cube_keywords), *draw(st.lists(numbers | junk, max_size=4))]))
    size = draw(st.sampled_from([2, 3]))
    kind = draw(st.sampled_from(["LUT_3D_SIZE", "LUT_1D_SIZE"]))
    lines.append(f"{kind} {size}")
    count = size ** 3 if kind == "LUT_3D_SIZE" else size
    count += draw(st.integers(-2, 2))
    for _ in range(max(count, 0)):
        lines.append(" ".join(draw(st.lists(numbers, min_size=2, max_size=4)) if draw(st.integers(0, 9)) == 0
                              else ["0.5", "0.25", draw(numbers)]))
    return draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)


@SETTINGS
@given(cube_text() | st.binary(max_size=600).map(lambda b: b.decode("latin-1")))
def test_cube_files_raise_only_lut_errors(text):
    luts = _only(LutError, read_cube, _file("x.cube", text))
    for lut in luts or ():
        assert np.all(np.isfinite(lut.table))
        assert np.all(np.isfinite(np.float32(lut.domain_max) - np.float32(lut.domain_min)))


# ------------------------------------------------------------------- .cdl

encodings = st.sampled_from(["UTF-8", "utf-16", "utf-7", "UTF-32", "EBCDIC", "latin-1", "x-unknown", "ascii", ""])


@st.composite
def cdl_text(draw):
    encoding = draw(encodings)
    decl = f'<?xml version="1.0" encoding="{encoding}"?>' if encoding else ""
    sop = "".join(f"<{tag}>{' '.join(draw(st.lists(numbers, max_size=4)))}</{tag}>"
                  for tag in draw(st.lists(st.sampled_from(["Slope", "Offset", "Power"]), max_size=3)))
    sat = f"<SatNode><Saturation>{draw(numbers)}</Saturation></SatNode>" if draw(st.booleans()) else ""
    body = f'<ColorCorrection id="{draw(st.text(max_size=5))}"><SOPNode>{sop}</SOPNode>{sat}</ColorCorrection>'
    wrap = draw(st.sampled_from(["{}", "<ColorCorrectionCollection>{}</ColorCorrectionCollection>",
                                 "<a>" * 50 + "{}" + "</a>" * 50, "<!DOCTYPE x>{}", "{}{}", "&amp;" * 100 + "{}"]))
    return decl + wrap.replace("{}", body, 2)


@SETTINGS
@given(cdl_text() | st.binary(max_size=600).map(lambda b: b.decode("latin-1")), st.none() | st.text(max_size=4))
def test_cdl_files_raise_only_cdl_errors(text, cdl_id):
    cdl = _only(CdlError, read_cdl, _file("x.cdl", text), cdl_id)
    if cdl is not None:
        assert all(abs(v) <= 3.4028235e38 for v in (*cdl.slope, *cdl.offset, *cdl.power, cdl.saturation))


# ------------------------------------------------------ grade TOML, --op, presets

@SETTINGS
@given(grade_toml() | st.binary(max_size=400).map(lambda b: b.decode("latin-1")))
def test_grade_files_raise_only_moodgrade_errors(text):
    _only(MoodgradeError, load_grade_toml, _file("grade.toml", text))


@SETTINGS
@given(st.lists(st.builds(lambda op, key, value: f"{op}.{key}={value}",
                          st.sampled_from(["exposure", "saturation", "curves", "relight", "film_grain", "nope", ""]),
                          op_keys, toml_value | junk) | junk, max_size=4))
def test_op_assignments_raise_only_moodgrade_errors(assignments):
    _only(MoodgradeError, grade_from_assignments, assignments)


@SETTINGS
@given(preset_toml() | st.binary(max_size=400).map(lambda b: b.decode("latin-1")))
def test_presets_raise_only_preset_errors(text):
    _only(PresetError, load_preset, str(_file("look.toml", text)))


def test_preset_invalid_utf8_and_long_names():
    for data in (b"name = '\xff\xfe'", b"\xc3\x28 = 1"):
        _only(PresetError, load_preset, str(_file("bad.toml", data)))
    _only(PresetError, load_preset, "x" * 5000)
    _only(PresetError, load_preset, "x" * 5000 + ".toml")


# ------------------------------------------------------------ timelines, overrides

def _mutate(doc, path, value):
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


_PATHS = [("frame_rate",), ("cuts",), ("present",), ("frames", "time_s"), ("frames", "shot"), ("frames", "valence"),
          ("frames", "probs", "happy"), ("frames", "probs"), ("frames", "face_box"), ("frames", "overridden"),
          ("frames", "faces"), ("frames", "confidence"), ("frames",), ("schema",), ("shots",), ("source",)]
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
                           | st.sampled_from(["1/0", "0", "-25", "1e100000000", "25/1", "24000/1001", "x/y"]),
                           lambda inner: st.lists(inner, max_size=12) | st.dictionaries(st.text(max_size=4), inner,
                                                                                         max_size=3), max_leaves=15)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(_PATHS), json_values), min_size=1, max_size=3))
def test_timeline_json_raises_only_moodgrade_errors(mutations):
    doc = sample(6).to_dict()
    for path, value in mutations:
        doc = _mutate(doc, path, value) if isinstance(_get(doc, path[:-1]), dict) else doc
    text = json.dumps(doc, allow_nan=True)
    timeline = _only(MoodgradeError, MoodTimeline.read_json, _file("t.json", text))
    if timeline is not None:
        assert timeline.frame_count >= 1 and np.all(np.isfinite(timeline.probs))
        _only(MoodgradeError, timeline.write_json, WORK / "again.json")


def _get(doc, path):
    for key in path:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


@SETTINGS
@given(st.binary(max_size=500) | st.sampled_from([b'{"schema": "moodgrade.timeline/1", "frame_rate": 1e100000000}',
                                                   b"[" * 100000, b"1" * 5000, b'{"a": NaN}']))
def test_timeline_json_bytes(data):
    _only(MoodgradeError, MoodTimeline.read_json, _file("t.json", data))


@SETTINGS
@given(st.lists(st.text(st.characters(codec="utf-8"), max_size=20), max_size=8))
def test_timeline_csv_raises_only_moodgrade_errors(rows):
    sample(3).write_csv(WORK / "t.csv")
    lines = (WORK / "t.csv").read_text().splitlines()
    text = "\n".join(lines[:2] + rows + lines[2:])
    _only(MoodgradeError, MoodTimeline.read_csv, _file("t2.csv", text))


time_text = numbers | st.sampled_from(["1:02.5", "0:01:02.5", "300f", "9" * 400 + "f", "1:" * 5, "-1f", "f", ":"])


@SETTINGS
@given(st.lists(st.builds(lambda *f: ",".join(f), time_text, time_text,
                          st.sampled_from(["happy", "sad", "x", ""]) | junk, numbers) | junk, max_size=6))
def test_override_csv_raises_only_moodgrade_errors(lines):
    _only(MoodgradeError, read_overrides, _file("o.csv", "\n".join(lines)))


def test_override_csv_odd_lines():
    for text in ('"' * 200000, "1,2,happy,1\0", "1f," + "9" * 400 + "f,happy,1", "x" * 200000 + ",1,happy,1"):
        _only(MoodgradeError, read_overrides, _file("o.csv", text))


# ---------------------------------------------------------------- protocol

@SETTINGS
@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps({"op": "set", "ops": v, "path": v}).encode()))
def test_protocol_requests_raise_only_protocol_errors(body):
    request = _only(ProtocolError, protocol.parse_request, body)
    if request is not None:
        for kind in (int, float, str, bool):
            _only(ProtocolError, protocol.field, request, "ops", kind, None)


@SETTINGS
@given(st.text(max_size=40) | st.sampled_from(["\ud800", "a\udcffb", "../x", "/etc/passwd", "\0", "x" * 5000]))
def test_paths_from_clients_raise_only_protocol_errors(requested):
    roots = Roots([WORK])
    _only(ProtocolError, roots.resolve, requested)


# ----------------------------------------------------- float32 at the boundary

def test_values_finite_in_float64_but_not_float32_are_refused():
    cube = "LUT_3D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1e39 1 1\n" + "0 0 0\n" * 8
    assert _only(LutError, read_cube, _file("wide.cube", cube)) is None
    huge_span = "LUT_1D_SIZE 2\nDOMAIN_MIN -3e38 0 0\nDOMAIN_MAX 3e38 1 1\n0 0 0\n1 1 1\n"
    assert _only(LutError, read_cube, _file("span.cube", huge_span)) is None
    cdl = "<ColorCorrection><SatNode><Saturation>1e308</Saturation></SatNode></ColorCorrection>"
    assert _only(CdlError, read_cdl, _file("sat.cdl", cdl)) is None
    assert _only(MoodgradeError, grade_from_assignments, ["exposure.exposure_ev=1e39"]) is None
    grade = "[[op]]\ntype = \"cdl\"\nsaturation = 1e308\n"
    assert _only(MoodgradeError, load_grade_toml, _file("sat.toml", grade)) is None
