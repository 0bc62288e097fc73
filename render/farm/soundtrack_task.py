"""The job's soundtrack as a unit of work of its own: shaped to the job's timeline,
normalised, encoded into the job directory (``soundtrack.mka``) beside the chunks, by a
Ray task that runs while the chunks render; the join then only copies its packets.

The same function runs at the join when no task made the file (a farm manager that runs
``render-chunk`` and ``join`` command lines), so the result is the same either way.
"""

import math
import os

from render.audio.soundtrack import SoundtrackResult
from render.farm.grade_plan import soundtrack_hook
from render.farm.job_dir import load_job, remove_stale_temporaries, update_soundtrack
from render.io.source import open_source
from render.job import audio_encoding

_MEASURES = ("measured_lufs", "measured_true_peak_dbtp", "input_lufs", "gain_db", "limiter_reduction_db", "passes")


def render_soundtrack(job_dir: str | os.PathLike) -> SoundtrackResult | None:
    """Make the job's soundtrack file unless it is there already; its measurements (stored
    in the manifest), or None when the job keeps the source's sound as it is."""
    job = load_job(job_dir)
    entry = job.manifest.get("soundtrack")
    if not entry:
        return None
    if job.soundtrack_path.exists() and "result" in entry:
        return _from_manifest(entry["result"])
    job.check_input()
    remove_stale_temporaries(job.soundtrack_path)
    with open_source(job.input_path) as source:
        track = source.audio_track()
        encoding = audio_encoding(job.settings, track, source.info.audio, job.output_path.suffix)
        result = soundtrack_hook(job)(track, encoding, job.soundtrack_path)
    update_soundtrack(job.dir, result={**{name: _finite(getattr(result, name)) for name in _MEASURES},
                                       "notes": list(result.notes)})
    return result


def _finite(value):
    """JSON keeps finite numbers; None stands for -inf (silence) and for no measurement."""
    return value if value is not None and math.isfinite(value) else None


def _from_manifest(stored: dict) -> SoundtrackResult:
    values = {name: stored[name] if stored[name] is not None else
              (None if name in ("measured_lufs", "input_lufs") else float("-inf")) for name in _MEASURES}
    return SoundtrackResult(clip=None, notes=tuple(stored["notes"]), **values)
