"""The ``moodgrade`` command line: parses arguments and calls the layers below.

Each sub-command lives in its own module here and registers itself on
:data:`cli`. Errors of type :class:`render.errors.MoodgradeError` become one
line on stderr and exit status 2; Ctrl-C exits with status 130.
"""


import click

from render import __version__
from render.errors import MoodgradeError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="moodgrade")
def cli() -> None:
    """Mood-driven grading of picture and sound."""


def _register() -> None:
    # Imported for their side effect: each module adds its command to `cli`.
    from render.cli import analyze, demo, farm, grade, presets, probe, serve  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``moodgrade`` script; returns the exit status."""
    _register()
    try:
        cli.main(args=argv, prog_name="moodgrade", standalone_mode=False)
    except MoodgradeError as exc:
        click.echo(f"moodgrade: error: {exc}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("moodgrade: interrupted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("moodgrade: interrupted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return 0
