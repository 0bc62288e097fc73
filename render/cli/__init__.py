"""The ``moodgrade`` command line: parses arguments and calls the layers below.

Each sub-command lives in its own module here and registers itself on
:data:`cli`. Errors of type :class:`render.errors.MoodgradeError` become one
line on stderr and exit status 2; Ctrl-C exits with status 130.
"""


import signal

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


class Terminated(KeyboardInterrupt):
    """SIGTERM (a farm manager or service stopping us): unwinds like Ctrl-C, removing partial output."""


def _terminate(signum, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``moodgrade`` script; returns the exit status."""
    _register()
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cli.main(args=argv, prog_name="moodgrade", standalone_mode=False)
    except MoodgradeError as exc:
        click.echo(f"moodgrade: error: {exc}", err=True)
        return 2
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:
        # click turns KeyboardInterrupt (and so Terminated) into Abort, keeping it as the cause.
        if isinstance(exc, Terminated) or isinstance(exc.__cause__, Terminated):
            click.echo("moodgrade: terminated", err=True)
            return 143
        click.echo("moodgrade: interrupted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return 0
