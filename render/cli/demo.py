"""``moodgrade demo [OUT]``: grade the built-in example clip."""

from pathlib import Path

import click

from render.cli import cli
from render.cli.reporting import make_reporter, reporter_options
from render.demo import DEMO_CLIP
from render.job import render_file


@cli.command()
@click.argument("output_path", metavar="[OUT]", required=False, default="moodgrade-demo.mp4",
                type=click.Path())
@reporter_options
def demo(output_path: str, quiet: bool, log_json: bool) -> None:
    """Grade the built-in example (a face, a cut, a soundtrack) into OUT (default ./moodgrade-demo.mp4)."""
    reporter = make_reporter(quiet, log_json)
    with reporter.task("demo", total=0):
        result = render_file(DEMO_CLIP, output_path, overwrite=True, on_progress=reporter.progress)
    reporter.result(f"wrote {Path(result.output).resolve()} ({result.frames} frames, audio {result.audio}) "
                    f"from the built-in example {DEMO_CLIP.name}",
                    output=str(Path(result.output).resolve()), frames=result.frames)
