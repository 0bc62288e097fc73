"""The main job: read the moods of a video and grade picture and sound to them.

``grade_video`` is what ``moodgrade grade IN OUT --preset NAME`` runs:

1. the mood timeline: analysed (cached by content hash), forced to one emotion,
   or read from a timeline JSON / override CSV (``mood``);
2. the preset blended by the timeline into per-frame looks (render.looks);
3. the soundtrack shaped by the same moods with pedalboard and normalised to
   the loudness target (render.audio);
4. every frame graded on the chosen backend and encoded (render.job).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from render.audio.automation import MoodCurve
from render.backends import select_backend
from render.audio.soundtrack import SoundtrackResult, soundtrack_processor
from render.audio.style import SoundtrackStyle
from render.emotion.analyze import analyze_file
from render.emotion.labels import EMOTIONS
from render.emotion.overrides import Override, apply_overrides
from render.emotion.timeline import MoodTimeline
from render.errors import MoodgradeError
from render.grading import GradeRecipe, make_process
from render.heap import give_back_freed_memory
from render.io.output_path import check_output_path
from render.io.sink import EncodeSettings, check_codecs_fit
from render.job import RenderResult, render_file
from render.looks.preset import Preset, load_preset
from render.looks.schedule import build_schedule
from render.ops.grade_file import build_grade, grade_from_assignments
from render.pipeline import Progress


@dataclass(frozen=True)
class GradeOptions:
    """What to grade with. ``mood``: "auto" (analyse), an emotion name (forced on the whole
    clip), or a file: a timeline JSON from ``moodgrade analyze --json`` or an override CSV.
    ``intensity`` 0..1 scales the mood response. ``loudness_lufs``: -70..0, the soundtrack's
    integrated loudness target; ``audio=False`` drops the soundtrack."""

    preset: str | None = None
    mood: str = "auto"
    intensity: float = 1.0
    lut: str | None = None
    lut_interpolation: str = "tetrahedral"
    cdl: str | None = None
    cdl_id: str | None = None
    grade_file: str | None = None
    assignments: tuple[str, ...] = ()
    backend: str | None = None
    audio: bool = True
    loudness_lufs: float = -14.0
    true_peak_dbtp: float = -1.0
    cache_dir: str | None = None


@dataclass(frozen=True)
class GradeReport:
    render: RenderResult
    preset: str | None
    timeline: MoodTimeline | None
    soundtrack: SoundtrackResult | None
    picture_notes: tuple[str, ...] = ()   # what the user should know about how the picture was graded


def mood_timeline(input_path, mood: str, *, cache_dir=None,
                  progress: Callable[[int, int | None], None] | None = None) -> MoodTimeline:
    """The timeline for ``mood`` ("auto", an emotion, or a .json timeline / .csv override file)."""
    if mood.endswith(".json"):
        return MoodTimeline.read_json(mood)
    overrides = None if mood == "auto" or mood in EMOTIONS else mood
    if overrides is not None and not Path(mood).is_file():
        raise MoodgradeError(f"--mood {mood!r}: not auto, an emotion ({', '.join(EMOTIONS)}) or an existing file")
    timeline = analyze_file(input_path, progress=progress, cache_dir=cache_dir, overrides=overrides)
    if mood in EMOTIONS:
        whole = Override(start=0, end=timeline.frame_count, in_frames=True, emotion=mood, intensity=1.0, line=0)
        timeline = apply_overrides(timeline, [whole])
    return timeline


def grade_recipe(options: GradeOptions, timeline: MoodTimeline | None, preset: Preset | None) -> GradeRecipe:
    """The picture side: fixed ops from the options, then the preset's mood-driven look."""
    fixed = build_grade(grade_file=options.grade_file, lut=options.lut, lut_interpolation=options.lut_interpolation,
                        cdl=options.cdl, cdl_id=options.cdl_id)
    if preset is None:
        return GradeRecipe(ops=grade_from_assignments(options.assignments, base=fixed), backend=options.backend)
    # --op values change the preset's own ops (its base look), or add ops to it.
    preset = dataclasses.replace(preset, look=grade_from_assignments(options.assignments, base=preset.look))
    return GradeRecipe(ops=fixed, schedule=build_schedule(preset, timeline, options.intensity),
                       backend=options.backend)


def read_moods(input_path, options: GradeOptions,
               on_analysis: Callable[[int, int | None], None] | None = None
               ) -> tuple[Preset | None, MoodTimeline | None]:
    """The preset and, when there is one, the mood timeline it is driven by."""
    if not 0.0 <= options.intensity <= 1.0:
        raise MoodgradeError(f"--intensity {options.intensity}: must be within 0..1")
    preset = load_preset(options.preset) if options.preset else None
    timeline = mood_timeline(input_path, options.mood, cache_dir=options.cache_dir,
                             progress=on_analysis) if preset else None
    return preset, timeline


def mood_curve(timeline: MoodTimeline, intensity: float) -> MoodCurve:
    """The soundtrack's automation input: valence, arousal and confidence x intensity per frame."""
    return MoodCurve(frame_rate_hz=timeline.frame_rate, valence=timeline.valence.clip(-1, 1),
                     arousal=timeline.arousal.clip(-1, 1),
                     intensity=(timeline.confidence * intensity).clip(0, 1))


def grade_video(input_path, output_path, options: GradeOptions, settings: EncodeSettings = EncodeSettings(), *,
                overwrite: bool = False, workers: int = 2,
                on_analysis: Callable[[int, int | None], None] | None = None,
                on_progress: Callable[[Progress], None] | None = None,
                on_phase: Callable[[str], None] | None = None) -> GradeReport:
    """Grade ``input_path`` into ``output_path``; see the module docstring."""
    check_output_path(output_path, inputs=(input_path,), overwrite=overwrite)
    check_codecs_fit(Path(output_path), settings)
    if options.backend is not None:
        select_backend(options.backend)     # a forced backend that is missing fails before any work
    preset, timeline = read_moods(input_path, options, on_analysis)
    style = SoundtrackStyle.from_mapping(preset.soundtrack, f"{preset.path} [soundtrack]") if preset else None
    recipe = grade_recipe(options, timeline, preset)
    give_back_freed_memory()        # the timeline's and the schedule's transients, before the render
    audio, soundtrack = None, []
    if not options.audio:
        settings = dataclasses.replace(settings, audio="none")
    elif preset is not None:      # render_file calls it only when the input has a soundtrack
        audio = soundtrack_processor(mood_curve(timeline, options.intensity), style, options.loudness_lufs,
                                     options.true_peak_dbtp, on_result=soundtrack.append)
    result = render_file(input_path, output_path, settings, process=make_process(recipe), audio=audio,
                         overwrite=overwrite, workers=workers, on_progress=on_progress, on_phase=on_phase)
    notes = []
    hdr = result.colour.hdr_curve()
    if hdr and not recipe.is_pass_through:
        notes.append(f"the source is HDR ({hdr}) and was graded with the SDR BT.709 curve (HDR is not modelled yet)")
    return GradeReport(render=result, preset=preset.name if preset else None, timeline=timeline,
                       soundtrack=soundtrack[0] if soundtrack else None, picture_notes=tuple(notes))
