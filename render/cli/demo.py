"""``moodgrade demo [OUT]``: grade the built-in example clip."""

from pathlib import Path

import click

from render.cli import cli
from render.cli.reporting import make_reporter, reporter_options
from render.demo import DEMO_CLIP, DEMO_PRESET
from render.mood_grade import GradeOptions, grade_video


@cli.command()
@click.argument("output_path", metavar="[OUT]", required=False, default="moodgrade-demo.mp4",
                type=click.Path())
@reporter_options
def demo(output_path: str, quiet: bool, log_json: bool) -> None:
    """Grade the built-in example into OUT (default ./moodgrade-demo.mp4) with the teal-orange look.

    The example has a smiling face, then a cut to a darker, cooler shot, and a soundtrack that
    turns from a major chord to a low minor drone: the grade and the sound follow the mood change.
    """
    reporter = make_reporter(quiet, log_json)
    with reporter.task("grading"):
        report = grade_video(DEMO_CLIP, output_path, GradeOptions(preset=DEMO_PRESET), overwrite=True,
                             on_analysis=reporter.analysis_progress, on_progress=reporter.progress,
                             on_phase=reporter.begin)
    output = Path(report.render.output).resolve()
    moods = ", ".join(f"{m['start_s']:.1f} s {m['emotion']}" for m in report.timeline.shot_moods())
    reporter.result(f"wrote {output}: the built-in example graded with the {DEMO_PRESET} preset "
                    f"({report.render.frames} frames; moods by shot: {moods}; soundtrack "
                    f"{report.soundtrack.measured_lufs:.1f} LUFS)",
                    output=str(output), frames=report.render.frames, preset=DEMO_PRESET)
