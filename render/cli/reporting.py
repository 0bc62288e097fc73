"""How commands report progress: a rich progress bar on a terminal, nothing with
``--quiet``, or one JSON object per line with ``--log-json`` (for farm jobs)."""

import json
import sys
import time
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

from render.pipeline import Progress, progress_at

_JSON_INTERVAL_S = 1.0


class Reporter:
    """Receives progress, warnings and the result of a command and shows them."""

    def __init__(self, mode: str):
        self.mode = mode            # "bar", "quiet" or "json"
        self._bar = None
        self._task = None
        self._last_json = 0.0
        self._counting_since: float | None = None

    def progress(self, p: Progress) -> None:
        if self.mode == "bar" and self._bar is not None:
            fps = f"{p.fps:5.1f} fps" if p.fps else ""
            self._bar.update(self._task, completed=p.frames_done, total=p.frames_total, fps=fps)
        elif self.mode == "json":
            now = time.monotonic()
            if now - self._last_json >= _JSON_INTERVAL_S or p.frames_done == p.frames_total:
                self._last_json = now
                self.emit("progress", frames_done=p.frames_done, frames_total=p.frames_total,
                          fps=round(p.fps, 3) if p.fps else None,
                          eta_s=round(p.eta_s, 2) if p.eta_s is not None else None)

    def analysis_progress(self, done: int, expected: int | None) -> None:
        """Progress of a pass that only counts frames (the analysis): ``expected`` may be None."""
        if self._counting_since is None:
            self._counting_since = time.monotonic()
        self.progress(progress_at(done, expected or done, time.monotonic() - self._counting_since))

    def warning(self, message: str) -> None:
        if self.mode == "json":
            self.emit("warning", message=message)
        else:
            click.echo(f"moodgrade: warning: {message}", err=True)

    def result(self, text: str, **fields) -> None:
        if self.mode == "json":
            self.emit("result", **fields)
        elif self.mode != "quiet":
            click.echo(text)

    @staticmethod
    def emit(event: str, **fields) -> None:
        sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
        sys.stdout.flush()

    @contextmanager
    def task(self, description: str, total: int):
        """Show a bar for the duration of the block (terminal mode only)."""
        if self.mode != "bar":
            yield self
            return
        self._bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[fps]}"), TimeElapsedColumn(), TextColumn("ETA"),
                        TimeRemainingColumn(), transient=True, disable=not sys.stderr.isatty(),
                        console=Console(stderr=True))
        with self._bar:
            self._task = self._bar.add_task(description, total=total, fps="")
            yield self
        self._bar = None


def reporter_options(command):
    """Add --quiet and --log-json to a command; it receives a ``reporter`` argument."""
    command = click.option("--log-json", "log_json", is_flag=True,
                           help="Print progress, warnings and the result as JSON lines.")(command)
    command = click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")(command)
    return command


def make_reporter(quiet: bool, log_json: bool) -> Reporter:
    """The reporter for the chosen flags."""
    return Reporter("json" if log_json else "quiet" if quiet else "bar")
