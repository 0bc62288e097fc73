"""The grade of a farm job, decided once when the job is planned: analysis, recipe, soundtrack.

The planner (``farm render`` or ``farm plan``) reads the moods of the input once
(the mood timeline: analysed, forced or read from a file), builds the
GradeRecipe from it, the per-frame look schedule included, and records how the
join shapes the soundtrack. Workers only read the recipe from the job
directory; the join reads the timeline and the soundtrack entry. Nothing is
analysed twice, and every machine grades a frame with the same values.

These are the steps of ``render.mood_grade.grade_video``, taken apart so that
the picture can be rendered in chunks and the sound once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from render.audio.soundtrack import SoundtrackResult, soundtrack_processor
from render.audio.style import SoundtrackStyle
from render.emotion.analyze import Measure, analyze_file
from render.emotion.labels import EMOTIONS
from render.emotion.timeline import MoodTimeline
from render.farm.job_dir import TIMELINE, FarmJob
from render.grading import GradeRecipe
from render.io.sink import EncodeSettings
from render.job import AudioProcess
from render.looks.preset import load_preset
from render.mood_grade import GradeOptions, grade_recipe, mood_curve, read_moods


@dataclass(frozen=True)
class GradePlan:
    recipe: GradeRecipe
    timeline: MoodTimeline | None      # None when no preset asks for moods
    soundtrack: dict | None            # the manifest's soundtrack entry; None: the sound is kept as it is


def plan_grade(input_path, options: GradeOptions, settings: EncodeSettings, has_audio: bool,
               on_analysis: Callable[[int, int | None], None] | None = None,
               measure: Measure | None = None) -> GradePlan:
    """Read the moods once (when a preset asks for them) and decide the picture and sound grade.

    ``measure``: how the analysis measures the input (None: on this machine; see
    :func:`render.farm.analysis.ray_measure`). Its timeline goes to the analysis cache
    (``options.cache_dir``), where reading the moods finds it.
    """
    if measure is not None and _analyses(options):
        analyze_file(input_path, cache_dir=options.cache_dir, progress=on_analysis, measure=measure)
    preset, timeline = read_moods(input_path, options, on_analysis)
    soundtrack = None
    if preset is not None and has_audio and options.audio and settings.audio != "none":
        soundtrack = {"style": preset.soundtrack, "origin": f"{preset.path} [soundtrack]",
                      "intensity": options.intensity, "loudness_lufs": options.loudness_lufs,
                      "true_peak_dbtp": options.true_peak_dbtp}
    return GradePlan(grade_recipe(options, timeline, preset), timeline, soundtrack)


def _analyses(options: GradeOptions) -> bool:
    """Whether reading the moods for ``options`` analyses the input (and the request is otherwise
    sound: a preset that loads, a mood that is an emotion, "auto" or an override file)."""
    if not options.preset or options.mood.endswith(".json"):
        return False
    load_preset(options.preset)                 # a bad preset fails before any analysis
    return options.mood == "auto" or options.mood in EMOTIONS or Path(options.mood).is_file()


def soundtrack_hook(job: FarmJob, on_result: Callable[[SoundtrackResult], None] | None = None
                    ) -> AudioProcess | None:
    """The join's sound processing for ``job`` (mood-driven dynamics and loudness), or None
    when the job keeps the soundtrack as it is."""
    entry = job.manifest.get("soundtrack")
    if not entry:
        return None
    timeline = MoodTimeline.read_json(job.dir / TIMELINE)
    style = SoundtrackStyle.from_mapping(entry["style"], entry["origin"])
    return soundtrack_processor(mood_curve(timeline, entry["intensity"]), style, entry["loudness_lufs"],
                                entry["true_peak_dbtp"], on_result=on_result)
