"""The job directory: a JSON manifest (what to render, how it was split, each chunk's state),
the grade recipe, the mood timeline it was built from, and the rendered chunks.

Layout::

    JOBDIR/manifest.json        schema moodgrade.farm-job/2 (see docs/farm.md)
    JOBDIR/recipe.json          the GradeRecipe every worker grades with (render/farm/recipe_json.py)
    JOBDIR/timeline.json        the mood timeline, when the analysis ran
    JOBDIR/soundtrack.mka       the mood-shaped soundtrack, encoded, when a preset shapes it
    JOBDIR/chunks/0000.mp4 ...  one file per chunk, same container as the output

Chunk files are written under a temporary name and renamed when complete, and
a chunk is marked ``done`` only after that, so a crash never leaves a chunk
that looks complete but is not. Workers on several machines may update the
manifest at once: every update holds an exclusive lock on ``manifest.lock``
and replaces the file atomically. The directory must be on storage that every
worker sees (a shared file system on a cluster).
"""

import dataclasses
import fcntl
import hashlib
import json
import os
import socket
from contextlib import contextmanager
from pathlib import Path

from render.errors import MoodgradeError
from render.farm.chunks import ChunkSpan
from render.farm.recipe_json import recipe_from_json, recipe_to_json
from render.grading import GradeRecipe
from render.io.bounded_read import read_bytes_file
from render.io.output_path import TEMP_MARKER, atomic_text_file
from render.io.sink import EncodeSettings

SCHEMA = "moodgrade.farm-job/2"
_PICKLED = "moodgrade.farm-job/1"     # its recipe a pickle: not loaded
MANIFEST = "manifest.json"
RECIPE = "recipe.json"
MAX_RECIPE_BYTES = 1 << 30
TIMELINE = "timeline.json"
SOUNDTRACK = "soundtrack.mka"
CHUNK_DIR = "chunks"
_LOCK = "manifest.lock"
STATES = ("pending", "running", "done", "failed")


def input_identity(path: str | os.PathLike) -> dict:
    """What identifies the input between runs: absolute path, size and modification time."""
    path = Path(path).resolve()
    try:
        stat = path.stat()
    except OSError as exc:
        raise MoodgradeError(f"{path}: cannot read ({exc.strerror})") from None
    return {"path": str(path), "size_bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


class FarmJob:
    """A job directory as read from its manifest (a snapshot; call :func:`load_job` again to refresh)."""

    def __init__(self, directory: Path, manifest: dict):
        self.dir = directory
        self.manifest = manifest

    @property
    def input_path(self) -> Path:
        return Path(self.manifest["input"]["path"])

    @property
    def output_path(self) -> Path:
        return Path(self.manifest["output"])

    @property
    def settings(self) -> EncodeSettings:
        return EncodeSettings(**self.manifest["settings"])

    @property
    def chunks(self) -> list[dict]:
        """Chunk entries: index, start, stop, state, attempts, and after rendering frames, seconds, worker."""
        return self.manifest["chunks"]

    @property
    def frame_count(self) -> int:
        return self.manifest["video"]["frame_count"]

    def recipe(self) -> GradeRecipe:
        """The grade recipe every worker uses (read from the job directory)."""
        path = self.dir / RECIPE
        data = read_bytes_file(path, MAX_RECIPE_BYTES, "job recipe")
        if hashlib.sha256(data).hexdigest() != self.manifest["recipe"]["sha256"]:
            raise MoodgradeError(f"{path}: does not match the manifest (the job directory was altered)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise MoodgradeError(f"{path}: not UTF-8 text") from None
        return recipe_from_json(text, str(path))

    @property
    def soundtrack_path(self) -> Path:
        """Where the job's mood-shaped soundtrack is encoded (by its own task), for the join."""
        return self.dir / SOUNDTRACK

    def chunk_path(self, index: int) -> Path:
        return self.dir / CHUNK_DIR / f"{index:04d}{self.output_path.suffix}"

    def is_done(self, index: int) -> bool:
        """True when the manifest says the chunk is done and its file is there."""
        return self.chunks[index]["state"] == "done" and self.chunk_path(index).is_file()

    def missing(self) -> list[int]:
        """Indices of the chunks still to render."""
        return [c["index"] for c in self.chunks if not self.is_done(c["index"])]

    def check_input(self) -> None:
        """Raise MoodgradeError when the input changed since the job was planned."""
        recorded = self.manifest["input"]
        try:
            now = input_identity(recorded["path"])
        except MoodgradeError:
            raise MoodgradeError(f"{recorded['path']}: the job's input is gone") from None
        if now != recorded:
            raise MoodgradeError(f"{recorded['path']}: changed since the job was planned "
                                 f"(size or modification time differ); start a new job")


def job_request(input_path, output_path, settings: EncodeSettings, grade: dict, split: dict) -> dict:
    """What identifies a job (JSON values): the input as it is now, the output, the encode
    settings, the grade options (``grade``) and the chunking request (``split``)."""
    request = {"input": input_identity(input_path), "output": str(Path(output_path).resolve()),
               "settings": dataclasses.asdict(settings), "grade": grade, "split": split}
    return json.loads(json.dumps(request))


def find_job(job_dir: str | os.PathLike, request: dict) -> FarmJob | None:
    """The job in ``job_dir`` when it was planned from the same ``request`` (it is resumed as it
    is), None when ``job_dir`` has no job; MoodgradeError when it holds a different one."""
    directory = Path(job_dir)
    if not (directory / MANIFEST).exists():
        return None
    job = load_job(directory)
    for key, value in request.items():
        if job.manifest.get(key) != value:
            raise MoodgradeError(f"{directory}: holds a different job ({key} differs); "
                                 "remove it or choose another --job-dir")
    return job


def create_job(job_dir: str | os.PathLike, request: dict, *, recipe: GradeRecipe, spans: list[ChunkSpan],
               video: dict, timeline=None, soundtrack: dict | None = None) -> FarmJob:
    """Write a new job directory: the recipe every worker grades with, the mood ``timeline``
    (a MoodTimeline, when the grade was analysed), and the manifest with every chunk pending.

    ``video``: frame_count, frame_rate, time_base and duration of the source (for the record);
    ``soundtrack``: how the join shapes the sound (None: copied or re-encoded as it is).
    """
    directory = Path(job_dir)
    recipe_bytes = recipe_to_json(recipe).encode("utf-8")
    try:
        (directory / CHUNK_DIR).mkdir(parents=True, exist_ok=True)
        (directory / RECIPE).write_bytes(recipe_bytes)
    except OSError as exc:
        raise MoodgradeError(f"{directory}: cannot create the job directory ({exc.strerror})") from None
    analysis = None
    if timeline is not None:
        timeline.write_json(directory / TIMELINE)
        analysis = {"file": TIMELINE, "frames": timeline.frame_count}
    manifest = {"schema": SCHEMA, **request,
                "recipe": {"sha256": hashlib.sha256(recipe_bytes).hexdigest(), "backend": recipe.backend,
                           "ops": [type(op).__name__ for op in recipe.ops],
                           "mood_schedule": recipe.schedule is not None},
                "video": video, "analysis": analysis, "soundtrack": soundtrack,
                "chunks": [{"index": s.index, "start": s.start, "stop": s.stop, "state": "pending",
                            "attempts": 0} for s in spans]}
    _write_manifest(directory, manifest)
    return FarmJob(directory, manifest)


def load_job(job_dir: str | os.PathLike) -> FarmJob:
    """Read the job directory's manifest; a clear MoodgradeError when it is missing or broken."""
    directory = Path(job_dir)
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MoodgradeError(f"{directory}: not a farm job directory (no {MANIFEST})") from None
    except OSError as exc:
        raise MoodgradeError(f"{path}: cannot read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise MoodgradeError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if isinstance(manifest, dict) and manifest.get("schema") == _PICKLED:
        raise MoodgradeError(f"{directory}: planned by an older moodgrade ({_PICKLED}, its recipe a pickle, which "
                             "this version does not load); plan the job again in a new --job-dir")
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
        raise MoodgradeError(f"{path}: not a {SCHEMA} manifest")
    return FarmJob(directory, manifest)


def update_chunk(job_dir: str | os.PathLike, index: int, **fields) -> FarmJob:
    """Set fields of chunk ``index``'s entry under the manifest lock; returns the updated job."""
    with _locked(job_dir) as manifest:
        manifest["chunks"][index].update(fields)
    return load_job(job_dir)


def update_soundtrack(job_dir: str | os.PathLike, **fields) -> FarmJob:
    """Set fields of the manifest's soundtrack entry under the manifest lock."""
    with _locked(job_dir) as manifest:
        manifest["soundtrack"].update(fields)
    return load_job(job_dir)


def start_attempt(job_dir: str | os.PathLike, index: int) -> int:
    """Mark chunk ``index`` running on this host and process; returns its attempt number (1-based)."""
    with _locked(job_dir) as manifest:
        chunk = manifest["chunks"][index]
        chunk.update(state="running", attempts=chunk.get("attempts", 0) + 1,
                     worker=f"{socket.gethostname()}:{os.getpid()}", error=None)
        return chunk["attempts"]


def remove_job(job: FarmJob) -> None:
    """Delete what the job wrote in its directory (chunks, manifest, recipe, timeline), then the
    directory itself if nothing else is left in it."""
    for index in range(len(job.chunks)):
        job.chunk_path(index).unlink(missing_ok=True)
        remove_stale_temporaries(job.chunk_path(index))
    for name in (TIMELINE, RECIPE, MANIFEST, _LOCK):
        (job.dir / name).unlink(missing_ok=True)
    for directory in (job.dir / CHUNK_DIR, job.dir):
        try:
            directory.rmdir()
        except OSError:
            pass


def remove_stale_temporaries(path: Path) -> None:
    """Delete temporaries of ``path`` left by a worker that died while writing it."""
    for stale in path.parent.glob(f".{path.stem}{TEMP_MARKER}*"):
        stale.unlink(missing_ok=True)


@contextmanager
def _locked(job_dir: str | os.PathLike):
    directory = Path(job_dir)
    with open(directory / _LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            manifest = load_job(directory).manifest
            yield manifest
            _write_manifest(directory, manifest)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_manifest(directory: Path, manifest: dict) -> None:
    with atomic_text_file(directory / MANIFEST) as out:
        json.dump(manifest, out, indent=1)
        out.write("\n")
