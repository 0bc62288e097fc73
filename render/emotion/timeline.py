"""The mood timeline: per-frame mood of a clip, its JSON/CSV files and its sidecar cache.

JSON schema ``moodgrade.timeline/1`` (columnar: one list per field, one entry
per frame; described in ``docs/mood-model.md``)::

    {"schema": "moodgrade.timeline/1",
     "source": {"path", "size_bytes", "content_hash", "duration_s", "width", "height", ...},
     "analysis": {"settings_version", "sample_fps", ...},
     "frame_rate": "24000/1001",           # of the frames below (nominal 25 for audio-only files)
     "present": {"video": bool, "audio": bool, "faces": bool},
     "cuts": [first frame of each shot after the first],
     "shots": [{"start", "end", <mean visual features>}],
     "overrides": [{"start_s", "end_s", "emotion", "intensity"}],
     "frames": {"time_s": [...], "shot": [...], "probs": {"angry": [...], ...},
                "valence": [...], "arousal": [...], "confidence": [...],
                "faces": [...], "face_box": [[x0, y0, x1, y1] or null, ...], "overridden": [...]}}

``faces`` is the face count of the nearest sampled frame of the same shot,
``face_box`` that frame's main face (largest weight) in 0..1 frame units.

The sidecar cache is keyed by :func:`content_hash` of the input and a hash of
the analysis settings; it lives in a cache folder (never beside the input).
"""

import contextlib
import csv
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from render.emotion.labels import EMOTIONS
from render.errors import MoodgradeError

SCHEMA = "moodgrade.timeline/1"
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
        """The JSON document (schema :data:`SCHEMA`), values rounded to 4 decimals."""

        def column(values: np.ndarray) -> list:
            return np.round(values.astype(np.float64), 4).tolist()

        boxes = [None if np.isnan(b).any() else np.round(b.astype(np.float64), 4).tolist() for b in self.face_box]
        return {
            "schema": SCHEMA,
            "source": self.source,
            "analysis": self.analysis,
            "frame_rate": str(self.frame_rate),
            "present": self.present,
            "cuts": list(self.cuts),
            "shots": self.shots,
            "overrides": self.overrides,
            "frames": {
                "time_s": np.round(self.time_s, 6).tolist(),
                "shot": self.shot.tolist(),
                "probs": {name: column(self.probs[:, k]) for k, name in enumerate(EMOTIONS)},
                "valence": column(self.valence),
                "arousal": column(self.arousal),
                "confidence": column(self.confidence),
                "faces": self.faces.tolist(),
                "face_box": boxes,
                "overridden": self.overridden.tolist(),
            },
        }

    @classmethod
    def from_dict(cls, doc: dict, origin: str = "timeline") -> "MoodTimeline":
        """Rebuild from :meth:`to_dict` output; a wrong schema or field raises MoodgradeError naming ``origin``."""
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            found = doc.get("schema") if isinstance(doc, dict) else None
            raise MoodgradeError(f"{origin}: not a {SCHEMA} document (schema: {found!r})")
        try:
            frames = doc["frames"]
            boxes = [[np.nan] * 4 if b is None else b for b in frames["face_box"]]
            return cls(
                frame_rate=Fraction(doc["frame_rate"]),
                time_s=np.asarray(frames["time_s"], np.float64),
                probs=np.stack([np.asarray(frames["probs"][e], np.float32) for e in EMOTIONS], axis=1),
                valence=np.asarray(frames["valence"], np.float32),
                arousal=np.asarray(frames["arousal"], np.float32),
                confidence=np.asarray(frames["confidence"], np.float32),
                shot=np.asarray(frames["shot"], np.int32),
                faces=np.asarray(frames["faces"], np.int32),
                face_box=np.asarray(boxes, np.float32).reshape(-1, 4),
                overridden=np.asarray(frames["overridden"], bool),
                cuts=[int(c) for c in doc["cuts"]],
                present={k: bool(v) for k, v in doc["present"].items()},
                source=doc.get("source", {}),
                analysis=doc.get("analysis", {}),
                shots=doc.get("shots", []),
                overrides=doc.get("overrides", []),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MoodgradeError(f"{origin}: malformed {SCHEMA} document ({type(exc).__name__}: {exc})") from None

    def write_json(self, path: str | os.PathLike) -> None:
        """Write the JSON document to ``path`` (atomically)."""
        _atomic_write_text(Path(path), json.dumps(self.to_dict(), separators=(",", ":")))

    @classmethod
    def read_json(cls, path: str | os.PathLike) -> "MoodTimeline":
        """Read a timeline JSON file; unreadable or invalid files raise MoodgradeError naming the file."""
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise MoodgradeError(f"{path}: cannot read ({exc.strerror})") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            raise MoodgradeError(f"{path}{f':{line}' if line else ''}: not valid JSON") from None
        return cls.from_dict(doc, str(path))

    # --- CSV ------------------------------------------------------------------------------

    CSV_COLUMNS = ("frame", "time_s", "shot", *EMOTIONS, "valence", "arousal", "confidence",
                   "faces", "face_x0", "face_y0", "face_x1", "face_y1", "overridden")

    def write_csv(self, path: str | os.PathLike) -> None:
        """One row per frame (:data:`CSV_COLUMNS`) after a ``# schema=... frame_rate=... present=...`` line."""
        present = ",".join(k for k, v in self.present.items() if v) or "none"
        with _atomic_writer(Path(path)) as out:
            out.write(f"# schema={SCHEMA} frame_rate={self.frame_rate} present={present}\n")
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
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise MoodgradeError(f"{path}: cannot read ({exc})") from None
        if not lines or not lines[0].startswith(f"# schema={SCHEMA} "):
            raise MoodgradeError(f"{path}:1: not a {SCHEMA} CSV file")
        meta = dict(part.split("=", 1) for part in lines[0][2:].split())
        rows = list(csv.reader(lines[1:]))
        if not rows or tuple(rows[0]) != cls.CSV_COLUMNS:
            raise MoodgradeError(f"{path}:2: expected the header {','.join(cls.CSV_COLUMNS)}")
        table = []
        for number, row in enumerate(rows[1:], start=3):
            try:
                if len(row) != len(cls.CSV_COLUMNS):
                    raise ValueError(f"{len(row)} fields, expected {len(cls.CSV_COLUMNS)}")
                table.append([float(v) if v != "" else np.nan for v in row])
            except ValueError as exc:
                raise MoodgradeError(f"{path}:{number}: {exc}") from None
        data = np.asarray(table, np.float64).reshape(-1, len(cls.CSV_COLUMNS))
        col = {name: data[:, k] for k, name in enumerate(cls.CSV_COLUMNS)}
        shot = col["shot"].astype(np.int32)
        present = {k: k in meta.get("present", "").split(",") for k in ("video", "audio", "faces")}
        return cls(
            frame_rate=Fraction(meta.get("frame_rate", "25")),
            time_s=col["time_s"],
            probs=np.stack([col[e] for e in EMOTIONS], axis=1).astype(np.float32),
            valence=col["valence"].astype(np.float32),
            arousal=col["arousal"].astype(np.float32),
            confidence=col["confidence"].astype(np.float32),
            shot=shot,
            faces=col["faces"].astype(np.int32),
            face_box=np.stack([col[c] for c in ("face_x0", "face_y0", "face_x1", "face_y1")], axis=1)
            .astype(np.float32),
            overridden=col["overridden"].astype(bool),
            cuts=(np.flatnonzero(np.diff(shot)) + 1).tolist(),
            present=present,
        )


# --- sidecar cache --------------------------------------------------------------------------


def content_hash(path: str | os.PathLike) -> str:
    """A key for the bytes of ``path``: BLAKE2b-128 hex, prefixed by how it was taken.

    Files up to :data:`FULL_HASH_MAX_BYTES` are hashed whole (``"full:..."``).
    Larger files hash their size and 64 blocks of 1 MiB spread evenly from the
    first byte to the last (``"sampled:..."``), so a feature film is keyed in
    milliseconds; an edit that keeps the size and touches none of those blocks
    would go unnoticed (re-encodes and trims change the size and the headers).
    """
    path = Path(path)
    digest = hashlib.blake2b(digest_size=16)
    size = path.stat().st_size
    with path.open("rb") as f:
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


@contextlib.contextmanager
def _atomic_writer(path: Path):
    """Text file written under a temporary name beside ``path``, renamed into place on success."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise MoodgradeError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _atomic_write_text(path: Path, text: str) -> None:
    with _atomic_writer(path) as out:
        out.write(text)
