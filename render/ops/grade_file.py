"""Grades as data: TOML files, plain mappings and command-line assignments.

A grade file is an ordered list of op tables::

    [[op]]
    type = "exposure"
    exposure_ev = 0.5

    [[op]]
    type = "lut"                 # a .cube file (path relative to the grade file)
    path = "looks/warm.cube"
    interpolation = "tetrahedral"
    mix = 0.8                    # 0..1: how much of the LUT (default 1; a mood may drive it)

    [[op]]
    type = "relight"
    regions = [{center_x = 0.4, center_y = 0.35, radius_x = 0.1, radius_y = 0.15, exposure_ev = 0.5}]

Op types are the ``name`` of each op class (see ``OP_TYPES``), plus ``lut`` (path,
interpolation, mix) and ``cdl`` (path and optional id, or slope/offset/power/saturation).
Keys are the op's dataclass fields; (r, g, b) values are arrays of three numbers,
curves arrays of [x, y] pairs, regions arrays of tables. Every error is one
``MoodgradeError`` line naming the file, the op and the key (and the allowed range).

On the command line ``exposure.exposure_ev=0.5`` sets one key of one op
(values in TOML syntax: ``lift_gamma_gain.gain=[1.1,1,0.9]``).
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from render.errors import MoodgradeError
from render.io.bounded_read import display_path, read_text_file
from render.numbers import float32_value
from render.ops.cdl import CDL, read_cdl
from render.ops.colour import (Contrast, Curves, Exposure, HueRotate, LiftGammaGain, Saturation, SplitTone, Vibrance,
                               WhiteBalance)
from render.ops.focus import DepthOfField, GaussianBlur, Unsharp
from render.ops.grain import FilmGrain
from render.ops.lighting import Bloom, HighlightRolloff, Relight, RelightRegion, Vignette
from render.ops.lut import INTERPOLATIONS, read_cube
from render.ops.regions import Ellipse
from render.ops.soft_clip import SoftClip

OP_TYPES = {cls.name: cls for cls in (
    Exposure, WhiteBalance, LiftGammaGain, Contrast, Saturation, Vibrance, HueRotate, SplitTone, Curves,
    FilmGrain, Vignette, HighlightRolloff, SoftClip, Relight, Bloom, GaussianBlur, Unsharp, DepthOfField)}
REGION_TYPES = {(Relight, "regions"): RelightRegion, (DepthOfField, "focus_regions"): Ellipse}
FILE_TYPES = ("lut", "cdl")
MAX_TOML_BYTES = 1 << 20        # a grade file or a preset: a few KiB in practice


def parse_toml(text: str, origin: str, error: type[MoodgradeError] = MoodgradeError) -> dict:
    """``text`` parsed as TOML; any failure (syntax, nesting too deep for the parser, integers of
    more digits than Python converts) raises ``error`` with one line naming ``origin``.

    Range: the TOML document as a dict.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{origin}: not valid TOML ({exc})") from None
    except RecursionError:
        raise error(f"{origin}: not valid TOML (nested too deeply)") from None
    except ValueError as exc:                     # e.g. an integer of more than 4300 digits
        raise error(f"{origin}: not valid TOML ({str(exc).splitlines()[0][:120]})") from None


def load_toml_file(path, what: str, error: type[MoodgradeError] = MoodgradeError) -> dict:
    """The TOML document in the file ``path`` (a regular UTF-8 file of at most 1 MiB)."""
    return parse_toml(read_text_file(path, MAX_TOML_BYTES, what, error), display_path(path), error)


def load_grade_toml(path) -> tuple:
    """Read a grade file (TOML, ``[[op]]`` tables in order) -> tuple of ops."""
    path = Path(path)
    data = load_toml_file(path, "grade file")
    return grade_from_mapping(data, source=display_path(path), base_dir=path.parent)


def grade_from_mapping(mapping, source: str = "grade", base_dir: Path | None = None) -> tuple:
    """``{"op": [{"type": ..., key: value, ...}, ...]}`` -> tuple of ops, in order.

    ``source`` names the origin in error messages; ``base_dir`` resolves relative
    LUT/CDL paths (default: the working directory).
    """
    if not isinstance(mapping, dict):
        raise MoodgradeError(f"{source}: a grade must be a table with an 'op' array")
    unknown = sorted(set(mapping) - {"op"})
    if unknown:
        raise MoodgradeError(f"{source}: unknown top-level key {unknown[0]!r}; a grade holds only [[op]] tables")
    tables = mapping.get("op", [])
    if not isinstance(tables, list):
        raise MoodgradeError(f"{source}: 'op' must be an array of tables ([[op]])")
    grade = []
    for index, table in enumerate(tables, start=1):
        where = f"{source}: op {index}"
        if not isinstance(table, dict) or not isinstance(table.get("type"), str):
            raise MoodgradeError(f"{where}: each [[op]] needs a 'type' string (one of {', '.join(all_types())})")
        grade.extend(op_from_table(table, f"{where} ({table['type']})", base_dir))
    return tuple(grade)


def all_types() -> list[str]:
    return [*OP_TYPES, *FILE_TYPES]


def op_from_table(table: dict, where: str, base_dir: Path | None = None) -> tuple:
    """One op table (with its 'type') -> a tuple of one op (a .cube file may give two)."""
    kind = table["type"]
    values = {k: v for k, v in table.items() if k != "type"}
    if kind == "lut":
        return _lut(values, where, base_dir)
    if kind == "cdl":
        return (_cdl(values, where, base_dir),)
    cls = OP_TYPES.get(kind)
    if cls is None:
        raise MoodgradeError(f"{where}: unknown op type {kind!r}; known: {', '.join(all_types())}")
    return (build_op(cls, values, where),)


def build_op(cls, values: dict, where: str, base=None):
    """An instance of op class ``cls`` from ``values`` (over ``base``'s values if given)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise MoodgradeError(f"{where}: unknown key {key!r}; {getattr(cls, 'name', cls.__name__)} takes {', '.join(fields)}")
        default = fields[key].default
        kwargs[key] = _coerce(cls, key, value, default, f"{where}: {key}")
    try:
        return dataclasses.replace(base, **kwargs) if base is not None else cls(**kwargs)
    except MoodgradeError as exc:
        raise MoodgradeError(f"{where}: {exc}") from None


def _coerce(cls, key: str, value, default, where: str):
    """Convert a TOML value to the type of the field's default."""
    region_cls = REGION_TYPES.get((cls, key))
    if region_cls is not None:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise MoodgradeError(f"{where} must be an array of tables (regions)")
        return tuple(build_op(region_cls, v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(default, bool) or isinstance(value, bool):
        raise MoodgradeError(f"{where} must be a number, got {_short(value)}")
    if isinstance(default, int) and not isinstance(default, bool):
        if not isinstance(value, int):
            raise MoodgradeError(f"{where} must be an integer, got {_short(value)}")
        return value
    if isinstance(default, float):
        return float32_value(value, where)
    if isinstance(default, tuple):
        if not isinstance(value, list):
            raise MoodgradeError(f"{where} must be an array, got {_short(value)}")
        if default and isinstance(default[0], tuple):  # curves: [[x, y], ...]
            if not all(isinstance(p, list) and len(p) == 2 for p in value):
                raise MoodgradeError(f"{where} must be an array of [x, y] pairs, got {_short(value)}")
            return tuple((_number(p[0], where), _number(p[1], where)) for p in value)
        if len(value) != len(default):
            raise MoodgradeError(f"{where} must hold {len(default)} numbers (r, g, b), got {_short(value)}")
        return tuple(_number(v, where) for v in value)
    return value


def _number(value, where: str) -> float:
    return float32_value(value, where)


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _resolve(path_value, where: str, base_dir: Path | None) -> Path:
    if not isinstance(path_value, str) or not path_value:
        raise MoodgradeError(f"{where}: 'path' must be a file name")
    path = Path(path_value).expanduser()
    return path if path.is_absolute() or base_dir is None else base_dir / path


def _lut(values: dict, where: str, base_dir: Path | None) -> tuple:
    unknown = sorted(set(values) - {"path", "interpolation", "mix"})
    if unknown:
        raise MoodgradeError(f"{where}: unknown key {unknown[0]!r}; lut takes path, interpolation, mix")
    if "path" not in values:
        raise MoodgradeError(f"{where}: 'path' is required")
    interpolation = values.get("interpolation", "tetrahedral")
    if interpolation not in INTERPOLATIONS:
        raise MoodgradeError(f"{where}: interpolation must be one of {', '.join(INTERPOLATIONS)}, "
                             f"got {interpolation!r}")
    try:
        luts = read_cube(_resolve(values["path"], where, base_dir))
        return tuple(dataclasses.replace(lut, mix=values.get("mix", 1.0),
                                         **({"interpolation": interpolation} if hasattr(lut, "interpolation") else {}))
                     for lut in luts)
    except MoodgradeError as exc:
        raise MoodgradeError(f"{where}: {exc}") from None


def _cdl(values: dict, where: str, base_dir: Path | None) -> CDL:
    if "path" in values:
        unknown = sorted(set(values) - {"path", "id"})
        if unknown:
            raise MoodgradeError(f"{where}: unknown key {unknown[0]!r}; a CDL file takes path, id")
        try:
            return read_cdl(_resolve(values["path"], where, base_dir), id=values.get("id"))
        except MoodgradeError as exc:
            raise MoodgradeError(f"{where}: {exc}") from None
    return build_op(CDL, values, where)


def parse_assignment(text: str) -> tuple[str, str, object]:
    """``"exposure.exposure_ev=0.5"`` -> ("exposure", "exposure_ev", 0.5); values in TOML syntax."""
    op_key, sep, raw = text.partition("=")
    op, dot, key = op_key.strip().partition(".")
    if not sep or not dot or not op or not key or not text.isprintable():
        raise MoodgradeError(f"--op {_short(text)}: expected OP.KEY=VALUE on one line, e.g. exposure.exposure_ev=0.5")
    try:
        value = parse_toml(f"v = {raw.strip()}", f"--op {_short(text)}")["v"]
    except MoodgradeError:
        value = raw.strip()  # a bare word, e.g. interpolation=trilinear
    return op, key.strip(), value


def grade_from_assignments(assignments, base: tuple = ()) -> tuple:
    """Apply ``OP.KEY=VALUE`` assignments to ``base``: an op already in the grade is updated
    (the first of its type), a new op type is appended (in the order first named)."""
    grade = list(base)
    for text in assignments:
        op_name, key, value = parse_assignment(text)
        cls = OP_TYPES.get(op_name)
        if cls is None:
            raise MoodgradeError(f"--op {text!r}: unknown op {op_name!r}; known: {', '.join(OP_TYPES)}")
        where = f"--op {text!r}"
        index = next((i for i, op in enumerate(grade) if type(op) is cls), None)
        if index is None:
            grade.append(build_op(cls, {key: value}, where))
        else:
            grade[index] = build_op(cls, {key: value}, where, base=grade[index])
    return tuple(grade)


def build_grade(grade_file=None, lut=None, lut_interpolation: str = "tetrahedral", cdl=None,
                cdl_id: str | None = None, assignments=()) -> tuple:
    """The grade of the ``grade`` command's options, in this order: CDL (``--cdl``),
    LUT (``--lut``), the grade file's ops (``--grade-file``), then ``--op`` assignments
    (which update an op of the same type or append one). Empty when nothing is given."""
    grade = []
    if cdl is not None:
        grade.append(_cdl({"path": str(cdl), **({"id": cdl_id} if cdl_id else {})}, f"--cdl {cdl}", None))
    if lut is not None:
        grade.extend(_lut({"path": str(lut), "interpolation": lut_interpolation}, f"--lut {lut}", None))
    if grade_file is not None:
        grade.extend(load_grade_toml(grade_file))
    return grade_from_assignments(assignments, base=tuple(grade))
