"""``moodgrade analyze IN``: the mood timeline of a clip, as JSON, CSV and a PNG plot."""

import click

from render.cli import cli
from render.cli.reporting import make_reporter, reporter_options
from render.emotion.analyze import DEFAULT_SAMPLE_FPS, analyze_file
from render.emotion.plot import check_plot_path, write_plot
from render.io.output_path import check_output_path


def _shot_lines(timeline) -> list[str]:
    return [f"shot {k:3d}  {m['start_s']:8.2f} s  {m['emotion']:8s} p={m['probability']:.2f}  "
            f"valence {m['valence']:+.2f}  arousal {m['arousal']:+.2f}  confidence {m['confidence']:.2f}"
            for k, m in enumerate(timeline.shot_moods())]


@cli.command()
@click.argument("input_path", metavar="IN", type=click.Path())
@click.option("--json", "json_path", type=click.Path(), help="Write the timeline as JSON (moodgrade.timeline/2).")
@click.option("--csv", "csv_path", type=click.Path(), help="Write the timeline as CSV, one row per frame.")
@click.option("--plot", "plot_path", type=click.Path(), help="Draw emotions, valence/arousal and cuts into a PNG.")
@click.option("--override", "override_path", type=click.Path(),
              help="CSV of start,end,emotion,intensity ranges that win over the analysis.")
@click.option("--no-cache", is_flag=True, help="Analyse again; neither read nor write the cached timeline.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              help="Where timelines are cached (default: $XDG_CACHE_HOME/moodgrade).")
@click.option("--sample-fps", type=click.FloatRange(0.1, 60.0), default=DEFAULT_SAMPLE_FPS, show_default=True,
              help="Frames per second searched for faces.")
@reporter_options
def analyze(input_path, json_path, csv_path, plot_path, override_path, no_cache, cache_dir, sample_fps,
            quiet, log_json) -> None:
    """Infer the mood of every frame of IN (faces, picture, sound); IN is never modified."""
    reporter = make_reporter(quiet, log_json)
    outputs = [p for p in (json_path, csv_path, plot_path) if p]
    for path in outputs:
        check_output_path(path, inputs=(input_path,), overwrite=True)
    if plot_path:
        check_plot_path(plot_path)
    with reporter.task("analysing"):
        timeline = analyze_file(input_path, sample_fps=sample_fps, progress=reporter.analysis_progress,
                                cache_dir=cache_dir, use_cache=not no_cache, overrides=override_path)
    if json_path:
        timeline.write_json(json_path)
    if csv_path:
        timeline.write_csv(csv_path)
    if plot_path:
        write_plot(timeline, plot_path)
    absent = [k for k, v in timeline.present.items() if not v]
    providers = sorted(set(timeline.analysis.get("providers", {}).values()))
    shots = len(timeline.cuts) + 1
    frames = timeline.frame_count
    summary = (f"{input_path}: {frames} frame{'s' * (frames != 1)}, {shots} shot{'s' * (shots != 1)}"
               + (f"; absent: {', '.join(absent)}" if absent else "")
               + (f"; faces ran on {', '.join(providers)}" if providers else ""))
    text = "\n".join([summary, *_shot_lines(timeline), *(f"wrote {p}" for p in outputs)])
    reporter.result(text, input=str(input_path), frames=timeline.frame_count, cuts=timeline.cuts,
                    absent=absent, outputs=[str(p) for p in outputs])
