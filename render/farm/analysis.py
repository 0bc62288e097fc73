"""The analysis artefact: computed once per job, read by every worker.

The driver analyses the input once and writes the mood timeline to
``JOBDIR/timeline.json``; workers read that file and never analyse on their
own, so every machine grades a frame from the same mood values.

PENDING (marked for the lead): the analysis, ``render.emotion.analyze.analyze_file``,
is on branch ``scene`` and not yet on main, and GradeRecipe has no mood input
yet. Until both land, :func:`write_analysis` records ``"analysis": null`` in the
manifest and :func:`worker_recipe` hands workers the recipe as planned.
"""

import importlib.util

from render.farm.job_dir import TIMELINE, FarmJob, set_analysis
from render.grading import GradeRecipe


def analysis_available() -> bool:
    """True when the mood analysis is installed in this checkout."""
    return importlib.util.find_spec("render.emotion.analyze") is not None


def write_analysis(job: FarmJob) -> dict | None:
    """Analyse the job's input once (skipped when the job directory already has the result).

    Returns the manifest's analysis entry ({"file", "frames"}), or None without the analysis module.
    """
    if job.manifest.get("analysis") and (job.dir / TIMELINE).is_file():
        return job.manifest["analysis"]
    if not analysis_available():
        return None
    from render.emotion.analyze import analyze_file

    timeline = analyze_file(job.input_path)
    timeline.write_json(job.dir / TIMELINE)
    entry = {"file": TIMELINE, "frames": timeline.frame_count}
    set_analysis(job.dir, entry)
    return entry


def worker_recipe(job: FarmJob) -> GradeRecipe:
    """The recipe a worker grades with: the job's recipe plus the shared analysis artefact.

    PENDING: when GradeRecipe gains its mood input, read ``job.dir / TIMELINE`` here
    (``MoodTimeline.read_json``) and attach it, e.g. ``dataclasses.replace(recipe, timeline=...)``.
    """
    return job.recipe()
