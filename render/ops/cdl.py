"""ASC CDL v1.2 (slope, offset, power, saturation) and its NumPy reference.

The ASC Color Decision List v1.2 defines, per channel on display-referred values,

    out = clamp(in * slope + offset) ** power          (clamp to [0, 1])
    luma = 0.2126 R + 0.7152 G + 0.0722 B              (Rec.709 weights)
    out = clamp(luma + saturation * (out - luma))

which is what OpenColorIO's ``CDLTransform`` computes in its ``CDL_ASC`` style.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

import numpy as np

from render.errors import MoodgradeError
from render.io.bounded_read import display_path, read_bytes_file
from render.numbers import float32_array, float32_value, is_float32_finite

REC709_LUMA = (0.2126, 0.7152, 0.0722)
MAX_CDL_BYTES = 16 << 20      # a .ccc of thousands of corrections is a few MiB


class CdlError(MoodgradeError):
    """A colour decision that cannot be used: a malformed CDL file or out-of-range values."""


def _triple(value, name: str) -> tuple[float, float, float]:
    arr = float32_array(value, f"CDL {name}", CdlError).reshape(-1)
    if arr.size != 3:
        raise CdlError(f"CDL {name} must be three finite numbers, got {value!r:.80}")
    return tuple(float(v) for v in arr)


@dataclass(frozen=True)
class CDL:
    """One ASC CDL colour correction.

    ``slope`` >= 0 (identity 1), ``offset`` any (identity 0), ``power`` > 0
    (identity 1), each per R, G, B; ``saturation`` >= 0 (identity 1).
    """

    slope: tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    power: tuple[float, float, float] = (1.0, 1.0, 1.0)
    saturation: float = 1.0

    def __post_init__(self):
        for name in ("slope", "offset", "power"):
            object.__setattr__(self, name, _triple(getattr(self, name), name))
        if min(self.slope) < 0:
            raise CdlError(f"CDL slope must be >= 0, got {self.slope}")
        if min(self.power) <= 0:
            raise CdlError(f"CDL power must be > 0, got {self.power}")
        saturation = float32_value(self.saturation, "CDL saturation", CdlError)
        if saturation < 0:
            raise CdlError(f"CDL saturation must be a finite number >= 0, got {self.saturation!r}")
        object.__setattr__(self, "saturation", saturation)

    def apply_reference(self, rgb: np.ndarray) -> np.ndarray:
        """Apply the correction with the standard's clamping.

        ``rgb``: float array (..., 3), any values (NaN counts as 0). Returns
        float32 (..., 3) in [0, 1].
        """
        x = np.asarray(rgb, dtype=np.float32)
        sop = x * np.float32(self.slope) + np.float32(self.offset)
        sop = np.fmin(np.fmax(sop, np.float32(0.0)), np.float32(1.0))  # fmax/fmin drop NaN
        sop = sop ** np.float32(self.power)
        luma = (sop @ np.float32(REC709_LUMA))[..., None]
        saturation = np.float32(self.saturation)
        out = saturation * sop + (np.float32(1.0) - saturation) * luma  # exact at saturation 1
        return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)


# --- .cdl / .cc / .ccc files (ASC CDL XML) ---


@dataclass
class _Element:
    """An XML element with the line it starts on (ElementTree keeps no line numbers)."""

    tag: str
    attrs: dict[str, str]
    line: int
    children: list[_Element] = field(default_factory=list)
    chunks: list[str] = field(default_factory=list)   # character data as expat hands it over

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def iter(self, tag: str):
        """Elements named ``tag`` in document order, this one included (no recursion: any depth)."""
        pending = [self]
        while pending:
            element = pending.pop()
            if element.tag == tag:
                yield element
            pending.extend(reversed(element.children))

    def child(self, tag: str) -> _Element | None:
        return next((c for c in self.children if c.tag == tag), None)


def _parse_xml(path: Path, data: bytes) -> _Element:
    """Parse with the standard library's expat parser; refuse DTDs and entity declarations."""
    parser = expat.ParserCreate()
    root = _Element("", {}, 0)
    stack = [root]
    where = display_path(path)

    def refuse(*_):
        raise CdlError(f"{where}:{parser.CurrentLineNumber}: DTDs and entity declarations are not allowed")

    def start(tag, attrs):
        element = _Element(tag.rsplit(":", 1)[-1], attrs, parser.CurrentLineNumber)  # drop any prefix
        stack[-1].children.append(element)
        stack.append(element)

    def end(_tag):
        stack.pop()

    def text(chunk):
        stack[-1].chunks.append(chunk)    # joined once when read: appending to a str is quadratic

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise CdlError(f"{where}:{exc.lineno}: malformed XML: {expat.ErrorString(exc.code)}") from None
    except (LookupError, ValueError) as exc:      # an encoding expat or Python does not know
        raise CdlError(f"{where}:1: unusable XML encoding ({exc})") from None
    return root.children[0]


def _values(parent: _Element, tag: str, count: int, path: Path) -> tuple[list[float], int]:
    """The ``count`` numbers in ``parent``'s child ``tag`` and its line, or a CdlError naming the line."""
    element = parent.child(tag)
    where = display_path(path)
    if element is None:
        raise CdlError(f"{where}:{parent.line}: {parent.tag:.60} has no {tag}")
    text = element.text
    tokens = text.split()
    try:
        values = [float(t) for t in tokens if len(t) <= 64]
    except ValueError:
        values = []
    if len(values) != count or len(tokens) != count or not all(map(is_float32_finite, values)):
        beyond = " (beyond float32's range)" if len(values) == count == len(tokens) else ""
        raise CdlError(f"{where}:{element.line}: {tag} needs {count} number{'s' * (count > 1)}, "
                       f"got {text.strip()[:80]!r}{beyond}")
    return values, element.line


def read_cdl(path, id: str | None = None) -> CDL:
    """Read one colour correction from a ``.cdl``, ``.cc`` or ``.ccc`` file (ASC CDL XML).

    ``id`` picks the ColorCorrection with that ``id`` attribute; without it the
    first one in the file is used. A missing SOPNode or SatNode means identity
    for that part (at least one must be there). Raises ``CdlError`` naming the
    file and line for malformed XML, missing or non-numeric values, a negative
    slope or power, or an unknown id.
    """
    path = Path(path)
    where = display_path(path)
    data = read_bytes_file(path, MAX_CDL_BYTES, "CDL file", CdlError)
    corrections = list(_parse_xml(path, data).iter("ColorCorrection"))
    if id is not None:
        known = [c.attrs.get("id", "") for c in corrections]
        corrections = [c for c in corrections if c.attrs.get("id") == id]
        if not corrections:
            known_text = ", ".join(map(repr, known[:20])) + (", ..." if len(known) > 20 else "") or "none"
            raise CdlError(f"{where}:1: no ColorCorrection with id {id!r:.80} (ids: {known_text})")
    if not corrections:
        raise CdlError(f"{where}:1: no ColorCorrection element")
    correction = corrections[0]
    sop = correction.child("SOPNode")
    sat = correction.child("SatNode") or correction.child("SATNode")  # SATNode: ASC CDL 1.01 spelling
    if sop is None and sat is None:
        raise CdlError(f"{where}:{correction.line}: ColorCorrection has neither SOPNode nor SatNode")
    fields = {}  # CDL field -> (values, line)
    if sop is not None:
        fields = {name.lower(): _values(sop, name, 3, path) for name in ("Slope", "Offset", "Power")}
    if sat is not None:
        (saturation,), line = _values(sat, "Saturation", 1, path)
        fields["saturation"] = (saturation, line)
    for name, (value, line) in fields.items():  # range checks, each naming its own line
        try:
            CDL(**{name: value})
        except CdlError as exc:
            raise CdlError(f"{where}:{line}: {exc}") from None
    return CDL(**{name: value for name, (value, _line) in fields.items()})
