"""The mood timeline: per-frame mood of a clip, its JSON/CSV files and its sidecar cache.

JSON schema ``moodgrade.timeline/2`` (columnar, one packed column per field;
described in ``docs/mood-model.md``)::

    {"schema": "moodgrade.timeline/2",
     "source": {"path", "size_bytes", "content_hash", "duration_s", "width", "height", ...},
     "analysis": {"settings_version", "sample_fps", ...},
     "frame_rate": "24000/1001",           # of the frames below (nominal 25 for audio-only files)
     "present": {"video": bool, "audio": bool, "faces": bool},
     "cuts": [first frame of each shot after the first],
     "shots": [{"start", "end", <mean visual features>}],
     "overrides": [{"start_s", "end_s", "emotion", "intensity"}],
     "frames": {"frame_count": n, "time_s": COLUMN, "shot": COLUMN, "probs": COLUMN (n x 7,
                EMOTIONS order), "valence", "arousal", "confidence", "faces": COLUMN,
                "face_box": COLUMN (n x 4, NaN rows where no face), "overridden": COLUMN}}

where a COLUMN is ``{"dtype": "<f4", "shape": [n] or [n, k], "zlib_base64": "..."}``:
the array's little-endian bytes, zlib-compressed, base64. The values are stored
exactly as analysed (a timeline read back grades exactly as the fresh one), and a
two-hour programme's timeline takes a few MB and loads in a fraction of a second.
``moodgrade.timeline/1`` (one JSON list per column, rounded to 4 decimals) is still read.

``faces`` is the face count of the nearest sampled frame of the same shot,
``face_box`` that frame's main face (largest weight) in 0..1 frame units.

The sidecar cache is keyed by :func:`content_hash` of the input and a hash of
the analysis settings; it lives in a cache folder (never beside the input).
"""

import base64
import csv
import hashlib
import json
import os
import re
import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from render.emotion.labels import EMOTIONS
from render.errors import MediaError, MoodgradeError
from render.io.bounded_read import display_path, open_regular_file, read_text_file
from render.io.output_path import atomic_text_file
from render.numbers import FLOAT32_MAX, float32_array

SCHEMA = "moodgrade.timeline/2"
LIST_SCHEMA = "moodgrade.timeline/1"        # columns as JSON lists; read, and the CSV files' schema
MAX_FRAMES = 10_000_000                     # 4.6 days at 25 fps
# column -> (dtype, width): width 0 for one number a frame
_PACKED = {"time_s": ("<f8", 0), "shot": ("<i4", 0), "probs": ("<f4", len(EMOTIONS)), "valence": ("<f4", 0),
           "arousal": ("<f4", 0), "confidence": ("<f4", 0), "faces": ("<i4", 0), "face_box": ("<f4", 4),
           "overridden": ("|u1", 0)}
FULL_HASH_MAX_BYTES = 64 << 20
_HASH_BLOCK_BYTES = 1 << 20
_HASH_BLOCKS = 64


@dataclass
class MoodTimeline:
    """Per-frame mood of one clip; arrays have one entry (row) per frame, in frame order."""

    frame_rate: Fraction
    time_s: np.ndarray           # float64 (n,)
    probs: np.ndarray            # float32 (n, 7), EMOTIONS order, rows sum to 1
    valence: np.ndarray          # float32 (n,), -1..1
    arousal: np.ndarray          # float32 (n,), -1..1
    confidence: np.ndarray       # float32 (n,), 0..1
    shot: np.ndarray             # int32 (n,), 0-based shot index
    faces: np.ndarray            # int32 (n,), faces in the nearest sampled frame of the shot
    face_box: np.ndarray         # float32 (n, 4), main face x0, y0, x1, y1 in 0..1; NaN where none
    overridden: np.ndarray       # bool (n,), set by a manual override
    cuts: list[int]
    present: dict[str, bool]     # "video", "audio", "faces"
    source: dict = field(default_factory=dict)
    analysis: dict = field(default_factory=dict)
    shots: list[dict] = field(default_factory=list)
    overrides: list[dict] = field(default_factory=list)

    @property
    def frame_count(self) -> int:
        return int(self.time_s.size)

    def dominant(self, frame: int) -> str:
        """The most probable emotion at ``frame``."""
        return EMOTIONS[int(np.argmax(self.probs[frame]))]

    def shot_moods(self) -> list[dict]:
        """Per shot: start_s, emotion (highest mean probability), probability, and mean
        valence, arousal and confidence."""
        bounds = [0, *self.cuts, self.frame_count]
        shots = []
        for a, b in zip(bounds, bounds[1:]):
            probs = self.probs[a:b].mean(axis=0)
            top = int(np.argmax(probs))
            shots.append({"start_s": float(self.time_s[a]), "emotion": EMOTIONS[top],
                          "probability": float(probs[top]), "valence": float(self.valence[a:b].mean()),
                          "arousal": float(self.arousal[a:b].mean()),
                          "confidence": float(self.confidence[a:b].mean())})
        return shots

    def frame_at(self, time_s: float) -> int:
        """Index of the frame shown at ``time_s`` seconds (clamped to the clip)."""
        index = int(np.searchsorted(self.time_s, time_s, side="right")) - 1
        return min(max(index, 0), self.frame_count - 1)

    # --- JSON -----------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The JSON document (schema :data:`SCHEMA`), every value as analysed."""
        columns = {name: getattr(self, name) for name in _PACKED}
        return {
            "schema": SCHEMA,
            "source": self.source,
            "analysis": self.analysis,
            "frame_rate": str(self.frame_rate),
            "present": self.present,
            "cuts": list(self.cuts),
            "shots": self.shots,
            "overrides": self.overrides,
            "frames": {"frame_count": self.frame_count,
                       **{name: _pack(values, _PACKED[name][0]) for name, values in columns.items()}},
        }

    @classmethod
    def from_dict(cls, doc: dict, origin: str = "timeline") -> "MoodTimeline":
        """Rebuild from :meth:`to_dict` output (or a ``moodgrade.timeline/1`` document); a wrong
        schema or field raises MoodgradeError naming ``origin``.

        Every column is checked: one entry per frame (at least one frame), numbers finite in
        float32 and within their range (probabilities and confidence 0..1, valence and
        arousal -1..1, times non-decreasing), cuts increasing inside the clip.
        """
        schema = doc.get("schema") if isinstance(doc, dict) else None
        if schema not in (SCHEMA, LIST_SCHEMA):
            raise MoodgradeError(f"{origin}: not a {SCHEMA} document (schema: {schema!r:.60})")
        frames = doc.get("frames")
        if not isinstance(frames, dict):
            raise MoodgradeError(f"{origin}: malformed {schema} document (no frames table)")
        columns = _unpacked(frames, origin) if schema == SCHEMA else _listed(frames, origin)
        timeline = _validated(origin, doc.get("frame_rate"), columns, doc.get("cuts"), doc.get("present"))
        for key, kind in (("source", dict), ("analysis", dict), ("shots", list), ("overrides", list)):
            value = doc.get(key, kind())
            if not isinstance(value, kind):
                raise MoodgradeError(f"{origin}: malformed {schema} document ({key} must be a {kind.__name__})")
            setattr(timeline, key, value)
        return timeline

    def write_json(self, path: str | os.PathLike) -> None:
        """Write the JSON document to ``path`` (atomically)."""
        try:
            text = json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)
        except ValueError:
            raise MoodgradeError(f"{path}: the timeline holds NaN or infinite values; not written") from None
        _atomic_write_text(Path(path), text)

    @classmethod
    def read_json(cls, path: str | os.PathLike) -> "MoodTimeline":
        """Read a timeline JSON file; unreadable or invalid files raise MoodgradeError naming the file."""
        text = read_text_file(path, MAX_TIMELINE_BYTES, "timeline file")
        shown = display_path(path)
        try:
            doc = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise MoodgradeError(f"{shown}:{exc.lineno}: not valid JSON") from None
        except RecursionError:
            raise MoodgradeError(f"{shown}: not valid JSON (nested too deeply)") from None
        except ValueError as exc:           # NaN/Infinity, integers of more than 4300 digits
            raise MoodgradeError(f"{shown}: not valid JSON ({str(exc)[:100]})") from None
        return cls.from_dict(doc, shown)

    # --- CSV ------------------------------------------------------------------------------

    CSV_COLUMNS = ("frame", "time_s", "shot", *EMOTIONS, "valence", "arousal", "confidence",
                   "faces", "face_x0", "face_y0", "face_x1", "face_y1", "overridden")

    def write_csv(self, path: str | os.PathLike) -> None:
        """One row per frame (:data:`CSV_COLUMNS`) after a ``# schema=... frame_rate=... present=...`` line."""
        present = ",".join(k for k, v in self.present.items() if v) or "none"
        with atomic_text_file(Path(path)) as out:
            out.write(f"# schema={LIST_SCHEMA} frame_rate={self.frame_rate} present={present}\n")
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(self.CSV_COLUMNS)
            for i in range(self.frame_count):
                box = ["" if np.isnan(v) else f"{v:.4f}" for v in self.face_box[i]]
                writer.writerow([i, f"{self.time_s[i]:.6f}", int(self.shot[i]),
                                 *(f"{p:.4f}" for p in self.probs[i]), f"{self.valence[i]:.4f}",
                                 f"{self.arousal[i]:.4f}", f"{self.confidence[i]:.4f}", int(self.faces[i]),
                                 *box, int(self.overridden[i])])

    @classmethod
    def read_csv(cls, path: str | os.PathLike) -> "MoodTimeline":
        """Read :meth:`write_csv` output (cuts come back from the shot column); errors name file and line."""
        shown = display_path(path)
        lines = read_text_file(path, MAX_TIMELINE_BYTES, "timeline file").splitlines()
        if not lines or not lines[0].startswith(f"# schema={LIST_SCHEMA} "):
            raise MoodgradeError(f"{shown}:1: not a {LIST_SCHEMA} CSV file")
        meta = dict(part.split("=", 1) for part in lines[0][2:].split() if "=" in part)
        try:
            rows = list(csv.reader(lines[1:]))
        except csv.Error as exc:
            raise MoodgradeError(f"{shown}: not a {LIST_SCHEMA} CSV file ({exc})") from None
        if not rows or tuple(rows[0]) != cls.CSV_COLUMNS:
            raise MoodgradeError(f"{shown}:2: expected the header {','.join(cls.CSV_COLUMNS)}")
        table = []
        for number, row in enumerate(rows[1:], start=3):
            try:
                if len(row) != len(cls.CSV_COLUMNS):
                    raise ValueError(f"{len(row)} fields, expected {len(cls.CSV_COLUMNS)}")
                table.append([float(v) if v != "" else np.nan for v in row])
            except ValueError as exc:
                raise MoodgradeError(f"{shown}:{number}: {str(exc)[:120]}") from None
        data = np.asarray(table, np.float64).reshape(-1, len(cls.CSV_COLUMNS))
        col = {name: data[:, k] for k, name in enumerate(cls.CSV_COLUMNS)}
        columns = {name: col[name] for name in _COLUMNS if name not in ("probs", "face_box")}
        columns.update(probs={e: col[e] for e in EMOTIONS},
                       face_box=np.stack([col[c] for c in ("face_x0", "face_y0", "face_x1", "face_y1")], axis=1))
        shot = col["shot"]
        cuts = (np.flatnonzero(np.diff(shot)) + 1).tolist()
        present = {k: k in meta.get("present", "").split(",") for k in ("video", "audio", "faces")}
        return _validated(shown, meta.get("frame_rate", "25"), columns, cuts, present)


MAX_TIMELINE_BYTES = 512 << 20      # a three-hour programme at 60 fps is about 130 MB of JSON
MAX_FRAME_RATE = 1000
_RATE = re.compile(r"[1-9][0-9]{0,9}(?:/[1-9][0-9]{0,9})?")
_COLUMNS = ("time_s", "shot", "probs", "valence", "arousal", "confidence", "faces", "face_box", "overridden")


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _frame_rate(value, origin: str) -> Fraction:
    """A positive rational of at most 10 digits over 10 digits, up to MAX_FRAME_RATE fps."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _RATE.fullmatch(text) or not 0 < Fraction(text) <= MAX_FRAME_RATE:
        raise MoodgradeError(f"{origin}: frame_rate must be a positive rational up to {MAX_FRAME_RATE} such as "
                             f"\"25\" or \"24000/1001\", got {value!r:.40}")
    return Fraction(text)


def _numbers(values, what: str, n: int | None, lo: float, hi: float, width: int = 0) -> np.ndarray:
    """``values``: n entries (``width`` numbers each when > 0), finite in float32, in [lo, hi] -> float64."""
    shape = (n, width) if width else (n,)
    if not isinstance(values, (list, np.ndarray)):
        raise MoodgradeError(f"{what} must be a list with one entry per frame")
    checked = float32_array(values, what) if width == 0 else None
    wide = np.asarray(values, np.float64) if checked is not None else _box_array(values, what)
    if (n is not None and wide.shape != shape) or (n is None and wide.ndim != len(shape)):
        raise MoodgradeError(f"{what} must hold {n} {'numbers' if not width else f'rows of {width}'}, "
                             f"got shape {wide.shape}")
    present = wide[~np.isnan(wide)] if width else wide
    if present.size and (present.min() < lo or present.max() > hi):
        raise MoodgradeError(f"{what} must lie within [{lo}, {hi}]")
    return wide


def _box_array(values, what: str) -> np.ndarray:
    """Face boxes: rows of 4 numbers, or rows of NaN where there is no face."""
    try:
        wide = np.asarray(values, np.float64)
    except (TypeError, ValueError, OverflowError):
        raise MoodgradeError(f"{what} must hold null or [x0, y0, x1, y1] per frame") from None
    if wide.ndim != 2 or wide.shape[1:] != (4,):
        raise MoodgradeError(f"{what} must hold null or [x0, y0, x1, y1] per frame")
    missing = np.isnan(wide)
    if np.any(missing.any(axis=1) != missing.all(axis=1)) or np.any(np.abs(wide[~missing]) > FLOAT32_MAX):
        raise MoodgradeError(f"{what} must hold null or four finite numbers per frame")
    return wide


def _pack(values: np.ndarray, dtype: str) -> dict:
    array = np.ascontiguousarray(values, dtype)
    return {"dtype": dtype, "shape": list(array.shape),
            "zlib_base64": base64.b64encode(zlib.compress(array.tobytes(), 6)).decode("ascii")}


def _unpacked(frames: dict, origin: str) -> dict:
    """The columns of a packed ``frames`` table as arrays (checked against :data:`_PACKED`)."""
    n = frames.get("frame_count")
    if not isinstance(n, int) or isinstance(n, bool) or not 0 < n <= MAX_FRAMES:
        raise MoodgradeError(f"{origin}: malformed {SCHEMA} document (frames.frame_count must be 1..{MAX_FRAMES})")
    columns = {}
    for name, (dtype, width) in _PACKED.items():
        entry = frames.get(name)
        shape = [n, width] if width else [n]
        if not isinstance(entry, dict) or entry.get("dtype") != dtype or entry.get("shape") != shape \
                or not isinstance(entry.get("zlib_base64"), str):
            raise MoodgradeError(f"{origin}: malformed {SCHEMA} document (frames.{name} must be a "
                                 f"{dtype} column of shape {shape})")
        size = int(np.prod(shape)) * np.dtype(dtype).itemsize
        try:
            inflater = zlib.decompressobj()
            raw = inflater.decompress(base64.b64decode(entry["zlib_base64"], validate=True), size + 1)
        except (ValueError, zlib.error):
            raise MoodgradeError(f"{origin}: malformed {SCHEMA} document (frames.{name} is not zlib and "
                                 "base64)") from None
        if len(raw) != size or not inflater.eof:
            raise MoodgradeError(f"{origin}: malformed {SCHEMA} document (frames.{name} holds the wrong "
                                 "number of bytes)")
        columns[name] = np.frombuffer(raw, dtype).reshape(shape)
    probs = columns["probs"]
    columns["probs"] = {e: probs[:, k] for k, e in enumerate(EMOTIONS)}
    return columns


def _listed(frames: dict, origin: str) -> dict:
    """The columns of a ``moodgrade.timeline/1`` frames table (JSON lists)."""
    if not isinstance(frames.get("probs"), dict):
        raise MoodgradeError(f"{origin}: malformed {LIST_SCHEMA} document (no frames table with probs)")
    boxes = frames.get("face_box")
    if isinstance(boxes, list):
        boxes = [[np.nan] * 4 if b is None else b for b in boxes]
    columns = {name: frames.get(name) for name in _COLUMNS if name != "probs"}
    columns.update(face_box=boxes, probs={e: frames["probs"].get(e) for e in EMOTIONS})
    return columns


def _validated(origin: str, frame_rate, columns: dict, cuts, present) -> MoodTimeline:
    """The timeline of checked ``columns`` (lists or arrays, one entry per frame)."""
    where = f"{origin}: malformed {SCHEMA} document:"
    if not isinstance(columns.get("time_s"), (list, np.ndarray)) or len(columns["time_s"]) == 0:
        raise MoodgradeError(f"{where} frames.time_s must list at least one frame")
    n = len(columns["time_s"])
    time_s = _numbers(columns["time_s"], f"{where} frames.time_s", n, -FLOAT32_MAX, FLOAT32_MAX)
    if np.any(np.diff(time_s) < 0):
        raise MoodgradeError(f"{where} frames.time_s must not decrease")
    probs = np.stack([_numbers(columns["probs"][e], f"{where} frames.probs.{e}", n, 0.0, 1.0) for e in EMOTIONS],
                     axis=1)
    ints = {}
    for name in ("shot", "faces"):
        values = _numbers(columns[name], f"{where} frames.{name}", n, 0, 2 ** 31 - 1)
        if np.any(values != np.round(values)):
            raise MoodgradeError(f"{where} frames.{name} must hold whole numbers")
        ints[name] = values.astype(np.int32)
    overridden = columns["overridden"]
    if isinstance(overridden, np.ndarray):
        valid = overridden.shape == (n,) and bool(np.isin(overridden, (0, 1)).all())
    else:
        valid = isinstance(overridden, list) and len(overridden) == n and all(
            isinstance(v, bool) or v in (0, 1) for v in overridden)
    if not valid:
        raise MoodgradeError(f"{where} frames.overridden must hold one true/false per frame")
    if not isinstance(cuts, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in cuts) \
            or any(not 0 < c < n for c in cuts) or any(b <= a for a, b in zip(cuts, cuts[1:])):
        raise MoodgradeError(f"{where} cuts must be increasing frame numbers inside the clip")
    if not isinstance(present, dict) or not all(isinstance(v, bool) for v in present.values()):
        raise MoodgradeError(f"{where} present must map video, audio and faces to true/false")
    return MoodTimeline(
        frame_rate=_frame_rate(frame_rate, origin),
        time_s=time_s,
        probs=probs.astype(np.float32),
        valence=_numbers(columns["valence"], f"{where} frames.valence", n, -1.0, 1.0).astype(np.float32),
        arousal=_numbers(columns["arousal"], f"{where} frames.arousal", n, -1.0, 1.0).astype(np.float32),
        confidence=_numbers(columns["confidence"], f"{where} frames.confidence", n, 0.0, 1.0).astype(np.float32),
        shot=ints["shot"], faces=ints["faces"],
        face_box=_numbers(columns["face_box"], f"{where} frames.face_box", n, -FLOAT32_MAX, FLOAT32_MAX,
                          width=4).astype(np.float32),
        overridden=np.asarray(overridden, bool),
        cuts=[int(c) for c in cuts],
        present={str(k): v for k, v in present.items()},
    )


# --- sidecar cache --------------------------------------------------------------------------


def content_hash(path: str | os.PathLike) -> str:
    """A key for the bytes of ``path``: BLAKE2b-128 hex, prefixed by how it was taken.

    Files up to :data:`FULL_HASH_MAX_BYTES` are hashed whole (``"full:..."``).
    Larger files hash their size and 64 blocks of 1 MiB spread evenly from the
    first byte to the last (``"sampled:..."``), so a feature film is keyed in
    milliseconds; an edit that keeps the size and touches none of those blocks
    would go unnoticed (re-encodes and trims change the size and the headers).
    Anything but a regular file (a FIFO, a device, a folder) raises MediaError before a read.
    """
    digest = hashlib.blake2b(digest_size=16)
    with open_regular_file(path, "media file", MediaError) as f:    # never a FIFO or a device: they never end
        size = os.fstat(f.fileno()).st_size
        if size <= FULL_HASH_MAX_BYTES:
            while block := f.read(_HASH_BLOCK_BYTES):
                digest.update(block)
            return "full:" + digest.hexdigest()
        digest.update(size.to_bytes(8, "little"))
        for k in range(_HASH_BLOCKS):
            f.seek((size - _HASH_BLOCK_BYTES) * k // (_HASH_BLOCKS - 1))
            digest.update(f.read(_HASH_BLOCK_BYTES))
    return "sampled:" + digest.hexdigest()


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/moodgrade``, or ``~/.cache/moodgrade`` when XDG_CACHE_HOME is unset."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "moodgrade"


def sidecar_path(cache_dir: str | os.PathLike, key: str, settings: dict) -> Path:
    """Where the timeline for content ``key`` analysed with ``settings`` is cached."""
    settings_hash = hashlib.blake2b(json.dumps(settings, sort_keys=True).encode(), digest_size=6).hexdigest()
    return Path(cache_dir) / f"{key.replace(':', '-')}.{settings_hash}.timeline.json"


def load_sidecar(path: Path) -> MoodTimeline | None:
    """The cached timeline at ``path``, or None when it is missing or unusable (it is then recomputed)."""
    try:
        return MoodTimeline.read_json(path)
    except MoodgradeError:
        return None


def store_sidecar(timeline: MoodTimeline, path: Path) -> None:
    """Cache ``timeline`` at ``path``; a cache that cannot be written is skipped, never an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        timeline.write_json(path)
    except (OSError, MoodgradeError):
        pass


def _atomic_write_text(path: Path, text: str) -> None:
    with atomic_text_file(path) as out:
        out.write(text)
