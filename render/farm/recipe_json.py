"""A grade recipe as JSON (schema ``moodgrade.grade-recipe/1``): what a farm job keeps on disk.

A pickle would run code when a worker loads it from a shared folder, and breaks on a class
rename. Here every value is data: a dataclass is ``{"$": "ClassName", field: value, ...}``
(only the recipe's own classes and the ops of render.ops are known; each is rebuilt
through its constructor, so its ranges are checked again), a NumPy array is
``{"$array": dtype, "shape": [...], "zlib": base64}`` (exact), a tuple is a list, and
numbers, strings, booleans, None and string-keyed tables are themselves.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import zlib

import numpy as np

from render.errors import MoodgradeError
from render.grading import GradeRecipe
from render.looks.schedule import GradeSchedule, Parameter
from render.ops.cdl import CDL
from render.ops.colour import GreyAffine
from render.ops.grade_file import OP_TYPES
from render.ops.lighting import RelightRegion
from render.ops.lut import Lut1D, Lut3D
from render.ops.regions import Ellipse

SCHEMA = "moodgrade.grade-recipe/1"
_CLASSES = {cls.__name__: cls for cls in (
    GradeRecipe, GradeSchedule, Parameter, CDL, GreyAffine, RelightRegion, Lut1D, Lut3D, Ellipse,
    *OP_TYPES.values())}
_DTYPES = ("float32", "float64", "int32", "int64", "bool")
MAX_ARRAY_BYTES = 1 << 30       # one array of a recipe, inflated (a 2-hour schedule is about 12 MB)


def recipe_to_json(recipe: GradeRecipe) -> str:
    """``recipe`` as JSON text (the same recipe gives the same text)."""
    return json.dumps({"schema": SCHEMA, "recipe": _encode(recipe)}, allow_nan=False, separators=(",", ":"))


def recipe_from_json(text: str, where: str) -> GradeRecipe:
    """The recipe in ``text``; MoodgradeError (one line, naming ``where``) when it is not one
    this version can read."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise MoodgradeError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else None
        raise MoodgradeError(f"{where}: not a {SCHEMA} recipe (schema {found!r:.60}); plan the job again")
    try:
        recipe = _decode(doc.get("recipe"))
    except MoodgradeError as exc:
        raise MoodgradeError(f"{where}: {exc}") from None
    except (TypeError, ValueError, KeyError, zlib.error) as exc:
        raise MoodgradeError(f"{where}: not a recipe this version can read ({type(exc).__name__}: "
                             f"{str(exc)[:120]}); plan the job again") from None
    if not isinstance(recipe, GradeRecipe):
        raise MoodgradeError(f"{where}: holds no grade recipe")
    return recipe


def _encode(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if _CLASSES.get(name) is not type(value):
            raise TypeError(f"{name} cannot be stored in a recipe")
        return {"$": name, **{f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, np.ndarray):
        if value.dtype.name not in _DTYPES:
            raise TypeError(f"arrays of {value.dtype} cannot be stored in a recipe")
        data = zlib.compress(np.ascontiguousarray(value).tobytes(), 6)
        return {"$array": value.dtype.name, "shape": list(value.shape), "zlib": base64.b64encode(data).decode()}
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) and not k.startswith("$") for k in value):
            raise TypeError("tables in a recipe need string keys")
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{type(value).__name__} cannot be stored in a recipe")


def _decode(value):
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    if not isinstance(value, dict):
        return value
    if "$array" in value:
        dtype = value["$array"]
        if dtype not in _DTYPES:
            raise ValueError(f"array dtype {dtype!r:.40}")
        shape = tuple(int(n) for n in value["shape"])
        size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        if min(shape, default=0) < 0 or size > MAX_ARRAY_BYTES:
            raise ValueError(f"array shape {shape!r:.60}")
        inflate = zlib.decompressobj()
        data = inflate.decompress(base64.b64decode(value["zlib"], validate=True), size + 1)
        if len(data) != size or inflate.unconsumed_tail:
            raise ValueError(f"array data of {len(data)} bytes for shape {shape!r:.60}")
        return np.frombuffer(data, dtype).reshape(shape).copy()
    if "$" in value:
        cls = _CLASSES.get(value["$"])
        if cls is None:
            raise MoodgradeError(f"unknown class {value['$']!r:.60} in the recipe")
        return cls(**{k: _decode(v) for k, v in value.items() if k != "$"})
    return {k: _decode(v) for k, v in value.items()}
