"""1D and 3D lookup tables (``.cube`` files) and their NumPy reference.

A LUT maps display-referred (encoded) RGB to display-referred RGB. Inputs are
clamped to the LUT's domain ``[domain_min, domain_max]`` (NaN goes to
``domain_min``), then scaled so the domain spans the table's sample points;
between sample points a 3D LUT interpolates tetrahedrally (default) or
trilinearly and a 1D LUT linearly. With ``domain_min = 0`` this is exactly
FFmpeg's ``lut3d`` filter (libavfilter/vf_lut3d.c) when ``domain_min`` is 0 and
``domain_max`` >= 1: FFmpeg ignores other domains, we honour them as the Adobe
specification says.

Table values are not clamped: a LUT may produce values outside [0, 1].
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from typing import ClassVar
from pathlib import Path

import numpy as np

from render.errors import MoodgradeError
from render.io.bounded_read import display_path, read_bytes_file
from render.numbers import float32_array, is_float32_finite
from render.ops.base import check_range

INTERPOLATIONS = ("tetrahedral", "trilinear")
MAX_3D_SIZE = 256
MAX_1D_SIZE = 65536
_CHUNK_PIXELS = 1 << 16
MAX_CUBE_BYTES = 768 << 20    # a 256^3 table at up to 48 characters an entry


class LutError(MoodgradeError):
    """A LUT that cannot be used: a malformed ``.cube`` file or inconsistent values."""


def _domain(value, name: str) -> tuple[float, float, float]:
    arr = float32_array(value, name, LutError).reshape(-1)
    if arr.size != 3:
        raise LutError(f"{name} must be three finite numbers, got {value!r:.80}")
    return tuple(float(v) for v in arr)


def _check_table_and_domain(lut, shape_ok: bool, shape_text: str) -> None:
    if not shape_ok:
        raise LutError(f"{type(lut).__name__} table must have shape {shape_text}, got {np.shape(lut.table)}")
    table = np.ascontiguousarray(lut.table, dtype=np.float32)
    if not np.all(np.isfinite(table)):
        raise LutError(f"{type(lut).__name__} table holds NaN or infinite values (or values beyond float32)")
    table.setflags(write=False)
    object.__setattr__(lut, "table", table)
    object.__setattr__(lut, "domain_min", _domain(lut.domain_min, "domain_min"))
    object.__setattr__(lut, "domain_max", _domain(lut.domain_max, "domain_max"))
    check_range("lut", "mix", lut.mix, *MIX_RANGE)
    object.__setattr__(lut, "mix", float(lut.mix))
    # The kernels scale by (size - 1) / (max - min) in float32: the span must be positive and finite there.
    span = np.float32(lut.domain_max) - np.float32(lut.domain_min)
    if not np.all(np.isfinite(span) & (span > 0)):
        raise LutError(f"domain_min {lut.domain_min} must be below domain_max {lut.domain_max} in every channel, "
                       "by a span finite in float32")


def _scaled_position(rgb: np.ndarray, domain_min, domain_max, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Split inputs into the lower sample index (0..size-2) and the fraction above it (0..1).

    ``rgb`` (..., 3) any float; clamped to the domain (NaN to ``domain_min``).
    """
    lo = np.asarray(domain_min, dtype=np.float32)
    hi = np.asarray(domain_max, dtype=np.float32)
    x = np.fmin(np.fmax(np.asarray(rgb, dtype=np.float32), lo), hi)  # fmax/fmin drop NaN
    pos = (x - lo) * np.float32(size - 1) / (hi - lo)
    index = np.minimum(pos.astype(np.intp), size - 2)
    return index, pos - index.astype(np.float32)


MIX_RANGE = (0.0, 1.0)   # a LUT's mix: 0 leaves the picture as it is, 1 (the default) is the LUT


def mixed(rgb: np.ndarray, looked_up: np.ndarray, mix: float) -> np.ndarray:
    """``looked_up`` at ``mix`` 1, else ``rgb + (looked_up - rgb) * mix`` in float32 (as the
    kernels' ``_mix`` variants in kernels/lut.h)."""
    if mix == 1.0:
        return looked_up
    rgb = np.asarray(rgb, np.float32)
    return (rgb + (looked_up - rgb) * np.float32(mix)).astype(np.float32)


@dataclass(frozen=True, eq=False)
class Lut3D:
    """A 3D LUT on display-referred (encoded) values.

    ``table``: float32, shape (N, N, N, 3) with 2 <= N <= 256, indexed
    ``[r_index, g_index, b_index]`` -> output RGB; sample ``i`` of a channel sits at
    ``domain_min + i * (domain_max - domain_min) / (N - 1)``.
    """

    table: np.ndarray
    domain_min: tuple[float, float, float] = (0.0, 0.0, 0.0)
    domain_max: tuple[float, float, float] = (1.0, 1.0, 1.0)
    interpolation: str = "tetrahedral"
    mix: float = 1.0

    RANGES: ClassVar[dict] = {"mix": MIX_RANGE}

    def __post_init__(self):
        shape = np.shape(self.table)
        n = shape[0] if shape else 0
        ok = len(shape) == 4 and shape == (n, n, n, 3) and 2 <= n <= MAX_3D_SIZE
        _check_table_and_domain(self, ok, f"(N, N, N, 3) with 2 <= N <= {MAX_3D_SIZE}")
        if self.interpolation not in INTERPOLATIONS:
            raise LutError(f"interpolation must be one of {', '.join(INTERPOLATIONS)}, got {self.interpolation!r}")

    @property
    def size(self) -> int:
        """N, the number of samples along each axis."""
        return self.table.shape[0]

    def apply_reference(self, rgb: np.ndarray) -> np.ndarray:
        """Look ``rgb`` up in the table.

        ``rgb``: float array (..., 3), any values (clamped to the domain, NaN to
        ``domain_min``). Returns float32 (..., 3) within the table's value range.
        """
        rgb = np.asarray(rgb)
        flat_in = rgb.reshape(-1, 3)
        out = np.empty(flat_in.shape, dtype=np.float32)
        for start in range(0, len(flat_in), _CHUNK_PIXELS):  # chunks keep temporaries in cache
            chunk = slice(start, start + _CHUNK_PIXELS)
            out[chunk] = self._lookup(flat_in[chunk])
        return mixed(rgb, out.reshape(rgb.shape), self.mix)

    def _lookup(self, rgb: np.ndarray) -> np.ndarray:
        n = self.size
        index, frac = _scaled_position(rgb, self.domain_min, self.domain_max, n)
        table = self.table.reshape(-1, 3)
        strides = np.array([n * n, n, 1], dtype=np.intp)
        base = index @ strides
        fr, fg, fb = frac[:, 0:1], frac[:, 1:2], frac[:, 2:3]
        if self.interpolation == "trilinear":
            c = [np.take(table, base + corner, axis=0) for corner in (0, 1, n, n + 1)]
            c += [np.take(table, base + n * n + corner, axis=0) for corner in (0, 1, n, n + 1)]
            # c[k] is the corner (r, g, b) = (k >> 2 & 1, k >> 1 & 1, k & 1)
            along_b = [c[k] + (c[k + 1] - c[k]) * fb for k in (0, 2, 4, 6)]
            along_g = [along_b[k] + (along_b[k + 1] - along_b[k]) * fg for k in (0, 2)]
            return along_g[0] + (along_g[1] - along_g[0]) * fr
        # Tetrahedral: walk from the lower corner to the upper one along the axes in
        # order of decreasing fraction f_max >= f_mid >= f_min (Kasson et al. 1995;
        # FFmpeg's interp_tetrahedral): out = c000 + f_max (c1 - c000)
        # + f_mid (c2 - c1) + f_min (c111 - c2), c1 = c000 + the f_max axis step and
        # c2 = c111 - the f_min axis step. Ties break consistently (max and min differ).
        r_max = (fr >= fg) & (fr >= fb)
        g_max = ~r_max & (fg >= fb)
        b_min = (fb <= fg) & (fb <= fr)
        g_min = ~b_min & (fg <= fr)
        f_max = np.where(r_max, fr, np.where(g_max, fg, fb))
        f_min = np.where(b_min, fb, np.where(g_min, fg, fr))
        f_mid = fr + fg + fb - f_max - f_min
        step_max = np.where(r_max, n * n, np.where(g_max, n, 1))[:, 0]
        step_min = np.where(b_min, 1, np.where(g_min, n, n * n))[:, 0]
        top = base + (n * n + n + 1)
        c000 = np.take(table, base, axis=0)
        c1 = np.take(table, base + step_max, axis=0)
        c2 = np.take(table, top - step_min, axis=0)
        c111 = np.take(table, top, axis=0)
        return c000 + f_max * (c1 - c000) + f_mid * (c2 - c1) + f_min * (c111 - c2)


@dataclass(frozen=True, eq=False)
class Lut1D:
    """A per-channel 1D LUT on display-referred (encoded) values.

    ``table``: float32, shape (M, 3) with 2 <= M <= 65536: per channel, M samples
    evenly spaced over ``[domain_min, domain_max]``.
    """

    table: np.ndarray
    domain_min: tuple[float, float, float] = (0.0, 0.0, 0.0)
    domain_max: tuple[float, float, float] = (1.0, 1.0, 1.0)
    mix: float = 1.0

    RANGES: ClassVar[dict] = {"mix": MIX_RANGE}

    def __post_init__(self):
        shape = np.shape(self.table)
        ok = len(shape) == 2 and shape[1] == 3 and 2 <= shape[0] <= MAX_1D_SIZE
        _check_table_and_domain(self, ok, f"(M, 3) with 2 <= M <= {MAX_1D_SIZE}")

    @property
    def size(self) -> int:
        """M, the number of samples per channel."""
        return self.table.shape[0]

    def apply_reference(self, rgb: np.ndarray) -> np.ndarray:
        """Look each channel of ``rgb`` up in its column of the table, linearly interpolated.

        ``rgb``: float array (..., 3), any values (clamped to the domain, NaN to
        ``domain_min``). Returns float32 (..., 3) within the table's value range.
        """
        index, frac = _scaled_position(rgb, self.domain_min, self.domain_max, self.size)
        flat_index = index * 3 + np.arange(3)  # table is C-ordered (M, 3)
        lower = np.take(self.table, flat_index)
        upper = np.take(self.table, flat_index + 3)
        return mixed(rgb, lower + (upper - lower) * frac, self.mix)


# --- .cube files (Adobe Cube LUT Specification 1.0, with Resolve's INPUT_RANGE keywords) ---

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_KEYWORD = re.compile(r"[A-Z][A-Z0-9_]*")
_KEYWORD_ARITY = {"LUT_1D_SIZE": 1, "LUT_3D_SIZE": 1, "DOMAIN_MIN": 3, "DOMAIN_MAX": 3,
                  "LUT_1D_INPUT_RANGE": 2, "LUT_3D_INPUT_RANGE": 2}


def _numbers(tokens: list[str], count: int, what: str, path: Path, line_no: int) -> list[float]:
    """``count`` finite numbers from ``tokens``, or a LutError naming the file and line."""
    values = [float(t) for t in tokens if len(t) <= 64 and _NUMBER.fullmatch(t)]
    if len(tokens) != count or len(values) != count or not all(map(is_float32_finite, values)):
        shown = " ".join(tokens)
        shown = shown if len(shown) <= 80 else shown[:80] + "..."
        beyond = " (beyond float32's range)" if len(values) == count == len(tokens) else ""
        raise LutError(f"{display_path(path)}:{line_no}: {what} {count} number{'s' * (count > 1)}, "
                       f"got {shown!r}{beyond}")
    return values


class _CubeHeader:
    """The keywords of one file, each with the line it came from."""

    def __init__(self, path: Path):
        self.path = path
        self.values: dict[str, tuple[list[float], int]] = {}

    def where(self, line_no: int) -> str:
        return f"{display_path(self.path)}:{line_no}"

    def take(self, keyword: str, args: list[str], line_no: int) -> None:
        if keyword not in _KEYWORD_ARITY:
            return  # other keywords (e.g. Resolve's LUT_IN_VIDEO_RANGE) carry nothing we use
        if keyword in self.values:
            raise LutError(f"{self.where(line_no)}: {keyword} given twice (first on line {self.values[keyword][1]})")
        numbers = _numbers(args, _KEYWORD_ARITY[keyword], f"{keyword} needs", self.path, line_no)
        if keyword.endswith("_SIZE"):
            limit = MAX_3D_SIZE if keyword == "LUT_3D_SIZE" else MAX_1D_SIZE
            if numbers[0] != int(numbers[0]) or not 2 <= numbers[0] <= limit:
                raise LutError(f"{self.where(line_no)}: {keyword} must be a whole number from 2 to {limit}, "
                               f"got {args[0]:.40}")
        self.values[keyword] = (numbers, line_no)

    def size(self, keyword: str) -> int:
        return int(self.values[keyword][0][0]) if keyword in self.values else 0

    def domain(self, range_keyword: str) -> tuple[tuple, tuple]:
        """Domain of one LUT: its INPUT_RANGE if given, else DOMAIN_MIN/MAX, else [0, 1]."""
        if range_keyword in self.values:
            (lo, hi), line_no = self.values[range_keyword]
            lows, highs, lines = [lo] * 3, [hi] * 3, (line_no,)
        else:
            lows, line_lo = self.values.get("DOMAIN_MIN", ([0.0] * 3, 0))
            highs, line_hi = self.values.get("DOMAIN_MAX", ([1.0] * 3, 0))
            lines = (line_lo, line_hi)
        if any(lo >= hi for lo, hi in zip(lows, highs)):
            raise LutError(f"{self.where(max(lines))}: domain minimum {tuple(lows)} is not below "
                           f"maximum {tuple(highs)}")
        return tuple(lows), tuple(highs)


def read_cube(path) -> tuple[Lut1D | Lut3D, ...]:
    """Read an Adobe/Resolve ``.cube`` file.

    Understands TITLE, ``#`` comments, blank lines, CRLF, LUT_1D_SIZE (2..65536),
    LUT_3D_SIZE (2..256), DOMAIN_MIN/DOMAIN_MAX (for both tables) and Resolve's
    LUT_1D_INPUT_RANGE/LUT_3D_INPUT_RANGE (one table each; they win over DOMAIN_*).
    Keywords precede the data; data lines hold three numbers, red varying
    fastest, the 1D table first. Returns ``(Lut1D,)``, ``(Lut3D,)`` or
    ``(Lut1D, Lut3D)``, to apply in that order. Raises ``LutError`` naming the
    file and line for anything malformed.
    """
    path = Path(path)
    data = read_bytes_file(path, MAX_CUBE_BYTES, "LUT file", LutError)
    text = data.decode("utf-8-sig", errors="replace")  # -sig: drop a BOM; comments may hold any bytes
    header = _CubeHeader(path)
    rows = array("f")  # flat float32 entries: compact even for a 256^3 table
    expected = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        if line.split(None, 1)[:1] == ["TITLE"]:  # its quoted text may hold '#'
            tokens = ["TITLE"]
        else:
            tokens = line.split("#", 1)[0].split()
        if not tokens:
            continue
        if _KEYWORD.fullmatch(tokens[0]):
            if rows:
                raise LutError(f"{header.where(line_no)}: {tokens[0]} after the table data")
            header.take(tokens[0], tokens[1:], line_no)
            continue
        if not rows:
            expected = header.size("LUT_1D_SIZE") + header.size("LUT_3D_SIZE") ** 3
            if not expected:
                raise LutError(f"{header.where(line_no)}: table data before any LUT_3D_SIZE or LUT_1D_SIZE")
        if len(rows) == 3 * expected:
            raise LutError(f"{header.where(line_no)}: more entries than the {expected} the sizes declare")
        rows.extend(_numbers(tokens, 3, "an entry needs", path, line_no))

    size_1d, size_3d = header.size("LUT_1D_SIZE"), header.size("LUT_3D_SIZE")
    if not size_1d and not size_3d:
        raise LutError(f"{header.where(1)}: no LUT_3D_SIZE or LUT_1D_SIZE in the file")
    if len(rows) != 3 * (size_1d + size_3d**3):
        size_line = header.values["LUT_3D_SIZE" if size_3d else "LUT_1D_SIZE"][1]
        raise LutError(f"{header.where(size_line)}: the sizes declare {size_1d + size_3d**3} entries "
                       f"but the file has {len(rows) // 3}")
    table = np.frombuffer(rows, dtype=np.float32).reshape(-1, 3)
    luts: list[Lut1D | Lut3D] = []
    if size_1d:
        luts.append(Lut1D(table[:size_1d], *header.domain("LUT_1D_INPUT_RANGE")))
    if size_3d:
        cube = table[size_1d:].reshape(size_3d, size_3d, size_3d, 3)  # [b, g, r]: red varies fastest
        luts.append(Lut3D(cube.transpose(2, 1, 0, 3), *header.domain("LUT_3D_INPUT_RANGE")))
    return tuple(luts)


def write_cube(path, lut: Lut1D | Lut3D, title: str = "", comments: tuple[str, ...] = ()) -> None:
    """Write one LUT as a ``.cube`` file that ``read_cube`` and FFmpeg's lut3d/lut1d read back.

    Values get 6 decimals (far below one 16-bit code value); DOMAIN_* lines
    follow the size line, where FFmpeg looks for them.
    """
    lines = [f"# {comment}" for comment in comments]
    if title:
        lines.append(f'TITLE "{title}"')
    if isinstance(lut, Lut3D):
        lines.append(f"LUT_3D_SIZE {lut.size}")
        data = lut.table.transpose(2, 1, 0, 3).reshape(-1, 3)  # red varies fastest
    else:
        lines.append(f"LUT_1D_SIZE {lut.size}")
        data = lut.table
    if lut.domain_min != (0.0, 0.0, 0.0) or lut.domain_max != (1.0, 1.0, 1.0):
        lines.append("DOMAIN_MIN " + " ".join(f"{v:.6f}" for v in lut.domain_min))
        lines.append("DOMAIN_MAX " + " ".join(f"{v:.6f}" for v in lut.domain_max))
    lines += ("%.6f %.6f %.6f" % tuple(row) for row in data.tolist())
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
