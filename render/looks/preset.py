"""Presets: a look as a TOML file, validated, with per-emotion changes.

Schema ``moodgrade.preset/1`` (docs/presets.md describes every key)::

    schema = "moodgrade.preset/1"
    name = "teal-orange"
    description = "one line"
    extends = "natural"              # optional: a preset name or a path relative to this file

    [expect]                         # what forcing happy instead of sad does (checked by tests)
    saturation = "up"                # "up", "down" or "same"
    luminance = "up"

    [response]
    strength = 1.0                   # 0..2, scales every mood change
    confidence_weight = 0.7          # 0..1, 0 ignores the analysis confidence
    ramp_s = 0.8                     # 0.04..10, time a full mood swing takes within a shot

    [[look.op]]                      # the base look: ops in order (any op of render.ops)
    type = "exposure"
    exposure_ev = 0.0

    [mood.happy]                     # added to the base when the scene is happy (per unit probability)
    exposure.exposure_ev = 0.2
    [valence]                        # added per unit of valence (-1..1); [arousal] likewise
    saturation.saturation = 0.1

    [faces]                          # face-aware lighting and focus (optional)
    relight_exposure_ev = 0.25       # -2..2 on the main face
    relight_warmth = 0.1             # -1..1
    background_blur_sigma_px = 2.0   # 0..20, px of a 1080-line frame, outside the face

    [soft_clip]                      # the look's last step, keeping it inside the signal
    black_width = 0.007              # 0..0.25; 0 turns each roll-off off (render/ops/soft_clip.py)
    white_width = 0.012              # 0..0.25
    gamut_width = 0.05               # 0..0.5

    [soundtrack]                     # render.audio's SoundtrackStyle fields

Every mistake raises :class:`PresetError` naming the file, the key and the allowed values.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from render.emotion.labels import EMOTIONS
from render.errors import MoodgradeError
from render.io.bounded_read import display_path
from render.numbers import is_float32_finite
from render.ops.base import check_range
from render.ops.grade_file import grade_from_mapping, load_toml_file
from render.ops.soft_clip import LOOK_SOFT_CLIP, SoftClip
from render.resources import presets_dir

SCHEMA = "moodgrade.preset/1"
DIRECTIONS = ("up", "down", "same")
_RESPONSE = {"strength": (1.0, 0.0, 2.0), "confidence_weight": (0.7, 0.0, 1.0), "ramp_s": (0.8, 0.04, 10.0)}
_FACES = {"relight_exposure_ev": (0.0, -2.0, 2.0), "relight_warmth": (0.0, -1.0, 1.0),
          "background_blur_sigma_px": (0.0, 0.0, 20.0)}
_SOFT_CLIP = {f.name: (getattr(LOOK_SOFT_CLIP, f.name), *SoftClip.RANGES[f.name]) for f in fields(SoftClip)}
MAX_EXTENDS = 32
_TOP_KEYS = {"schema", "name", "description", "extends", "expect", "response", "look", "mood",
             "valence", "arousal", "faces", "soft_clip", "soundtrack"}


class PresetError(MoodgradeError):
    """A preset that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Preset:
    """A validated look. ``deltas`` maps a driver ("happy", ..., "valence", "arousal") to
    {(op name, field): change}; every op named there exists in ``look``. ``soft_clip`` is
    applied after everything else the look does (face relight and focus included)."""

    name: str
    description: str
    path: Path
    look: tuple
    deltas: dict[str, dict[tuple[str, str], tuple[float, ...]]]
    expect: dict[str, str]
    response: dict[str, float]
    faces: dict[str, float] | None
    soundtrack: dict = field(default_factory=dict)
    soft_clip: SoftClip = LOOK_SOFT_CLIP


def user_preset_dirs() -> list[Path]:
    """Folders searched for presets: ``$MOODGRADE_PRESETS`` (os.pathsep-separated), then the built-ins."""
    extra = [Path(p) for p in os.environ.get("MOODGRADE_PRESETS", "").split(os.pathsep) if p]
    return [*extra, presets_dir()]


def find_preset(name_or_path: str, relative_to: Path | None = None) -> Path:
    """The file of a preset given by name or by path.

    A name is searched beside ``relative_to`` (the extending preset's folder), then in
    :func:`user_preset_dirs`; a path is taken relative to ``relative_to``.
    """
    candidate = Path(name_or_path)
    if relative_to is not None and not candidate.is_absolute():
        candidate = relative_to / candidate
    if candidate.suffix == ".toml" or os.sep in name_or_path:
        if _exists(candidate):              # a FIFO or a folder is refused, naming what it is, when read
            return candidate
        raise PresetError(f"{display_path(name_or_path)}: no such preset file")
    folders = ([relative_to] if relative_to is not None else []) + user_preset_dirs()
    for folder in folders:
        path = folder / f"{name_or_path}.toml"
        if _is_file(path):
            return path
    raise PresetError(f"unknown preset {display_path(name_or_path)[:80]!r}; known: {', '.join(list_presets())}")


def _exists(path: Path) -> bool:
    """Whether ``path`` names anything; False for names the OS refuses (too long, NUL, loops)."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _is_file(path: Path) -> bool:
    """Whether ``path`` names a file; False for names the OS refuses (too long, NUL, loops)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def list_presets() -> list[str]:
    """Names of every preset found, built-ins included, sorted."""
    names = set()
    for folder in user_preset_dirs():
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.toml"))
    return sorted(names)


def load_preset(name_or_path: str) -> Preset:
    """Load, resolve ``extends`` and validate a preset."""
    return _load(find_preset(name_or_path), chain=())


def _read_toml(path: Path) -> dict:
    return load_toml_file(path, "preset", PresetError)


def _load(path: Path, chain: tuple[Path, ...]) -> Preset:
    where = display_path(path)
    try:
        real = path.resolve()
    except (OSError, RuntimeError):
        raise PresetError(f"{where}: cannot be resolved (a symlink loop?)") from None
    if real in chain:
        raise PresetError(f"{where}: 'extends' loops back to itself")
    if len(chain) >= MAX_EXTENDS:
        raise PresetError(f"{where}: 'extends' chains more than {MAX_EXTENDS} presets")
    doc = _read_toml(path)
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise PresetError(f"{where}: unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(_TOP_KEYS))}")
    if doc.get("schema", SCHEMA) != SCHEMA:
        raise PresetError(f"{where}: schema = {doc['schema']!r:.80}; this version reads {SCHEMA!r}")
    parent = None
    if "extends" in doc:
        if not isinstance(doc["extends"], str):
            raise PresetError(f"{where}: 'extends' must be a preset name or a path")
        parent = _load(find_preset(doc["extends"], relative_to=path.parent), chain + (real,))
    name = _string(doc, "name", where, default=parent.name if parent else path.stem)
    description = _string(doc, "description", where, default=parent.description if parent else "")
    look = _look(doc, path, parent)
    deltas = _deltas(doc, where, look, parent)
    expect = dict(parent.expect) if parent else {}
    for key, value in _table(doc, "expect", where).items():
        if key not in ("saturation", "luminance") or not isinstance(value, str) or value not in DIRECTIONS:
            raise PresetError(f"{where}: expect.{key:.40} = {value!r:.60}; allowed keys saturation and luminance, "
                              f"values {', '.join(DIRECTIONS)}")
        expect[key] = value
    response = _numbers(doc, "response", where, _RESPONSE, parent.response if parent else None)
    faces = None
    if "faces" in doc or (parent and parent.faces):
        faces = _numbers(doc, "faces", where, _FACES, parent.faces if parent else None)
    soundtrack = {**(parent.soundtrack if parent else {}), **_table(doc, "soundtrack", where)}
    soft_clip = SoftClip(**_numbers(doc, "soft_clip", where, _SOFT_CLIP,
                                    dataclasses.asdict(parent.soft_clip) if parent else None))
    return Preset(name=name, description=description, path=path, look=look, deltas=deltas,
                  expect=expect, response=response, faces=faces, soundtrack=soundtrack, soft_clip=soft_clip)


def _string(doc: dict, key: str, where: str, default: str) -> str:
    value = doc.get(key, default)
    if not isinstance(value, str):
        raise PresetError(f"{where}: {key} must be a string")
    return value


def _table(doc: dict, key: str, where: str) -> dict:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise PresetError(f"{where}: [{key}] must be a table")
    return value


def _numbers(doc, key, where, spec, inherited) -> dict[str, float]:
    out = {name: default for name, (default, _, _) in spec.items()}
    out.update(inherited or {})
    for name, value in _table(doc, key, where).items():
        if name not in spec:
            raise PresetError(f"{where}: unknown key {key}.{name}; allowed: {', '.join(spec)}")
        _, lo, hi = spec[name]
        try:
            check_range(key, name, value, lo, hi)   # the ops' own check and wording
        except MoodgradeError as exc:
            raise PresetError(f"{where}: {exc}") from None
        out[name] = float(value)
    return out


def _look(doc: dict, path: Path, parent: Preset | None) -> tuple:
    """The base ops; a child's op replaces the parent's op of the same type in place."""
    where = display_path(path)
    table = _table(doc, "look", where)
    if set(table) - {"op"}:
        raise PresetError(f"{where}: unknown key look.{sorted(set(table) - {'op'})[0]}; allowed: look.op")
    tables = table.get("op", [])
    if not isinstance(tables, list):
        raise PresetError(f"{where}: look.op must be an array of tables ([[look.op]])")
    try:
        own = grade_from_mapping({"op": tables}, source=f"{where}: look", base_dir=path.parent)
    except MoodgradeError as exc:
        raise PresetError(str(exc)) from None
    ops = list(parent.look) if parent else []
    for op in own:
        same = [i for i, existing in enumerate(ops) if op_key(existing) == op_key(op)]
        if same:
            ops[same[0]] = op
        else:
            ops.append(op)
    names = [op_key(op) for op in ops]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise PresetError(f"{where}: look.op: {sorted(duplicated)[0]!r} appears twice; give each op once")
    return tuple(ops)


def op_key(op) -> str:
    """The op's name in preset files ("exposure", ...; "lut3d", "lut1d", "cdl" for file ops)."""
    return getattr(op, "name", "") or type(op).__name__.lower()


def _deltas(doc, where, look, parent) -> dict:
    ops = {op_key(op): op for op in look}
    out = {driver: dict(values) for driver, values in (parent.deltas if parent else {}).items()}
    drivers = {f"mood.{e}": e for e in EMOTIONS} | {"valence": "valence", "arousal": "arousal"}
    moods = _table(doc, "mood", where)
    unknown = set(moods) - set(EMOTIONS)
    if unknown:
        raise PresetError(f"{where}: unknown emotion mood.{sorted(unknown)[0]}; allowed: {', '.join(EMOTIONS)}")
    for key, driver in drivers.items():
        table = moods.get(driver, {}) if key.startswith("mood.") else _table(doc, driver, where)
        if not isinstance(table, dict):
            raise PresetError(f"{where}: [{key}] must be a table of op.field = change")
        for op_name, changes in table.items():
            if op_name not in ops:
                raise PresetError(f"{where}: {key}.{op_name}: the op is not in the look; add it to "
                                  f"[[look.op]] (ops in the look: {', '.join(ops) or 'none'})")
            if not isinstance(changes, dict):
                raise PresetError(f"{where}: {key}.{op_name} must be a table of field = change")
            for field_name, change in changes.items():
                out.setdefault(driver, {})[(op_name, field_name)] = _delta(
                    ops[op_name], field_name, change, f"{where}: {key}.{op_name}.{field_name}")
    return out


def _delta(op, field_name: str, change, where: str) -> tuple[float, ...]:
    names = {f.name for f in dataclasses.fields(op)}
    ranges = getattr(type(op), "RANGES", {})
    if field_name not in names or field_name not in ranges:
        blendable = [n for n in names if n in ranges and n != "seed"]
        raise PresetError(f"{where}: not a parameter a mood can change; {op_key(op)} has: "
                          f"{', '.join(blendable) or 'none'}")
    current = getattr(op, field_name)
    width = len(current) if isinstance(current, tuple) else 1
    values = change if isinstance(change, list) else [change]
    lo, hi = ranges[field_name]
    if len(values) != width or not all(map(is_float32_finite, values)):
        raise PresetError(f"{where} = {change!r:.60}: expected {'a number' if width == 1 else f'{width} numbers'}")
    if any(abs(v) > hi - lo for v in values):
        raise PresetError(f"{where} = {change!r:.60}: a change larger than the parameter's range [{lo}, {hi}]")
    return tuple(float(v) for v in values)
