"""How commands report progress: a rich progress bar on a terminal, nothing with
``--quiet``, or one JSON object per line with ``--log-json`` (for farm jobs)."""

import dataclasses
import json
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

from render.pipeline import Progress, progress_at

_JSON_INTERVAL_S = 1.0


class Reporter:
    """Receives progress, warnings and the result of a command and shows them.

    Progress comes in phases (the analysis, then the render): each phase has a bar of its
    own, whose elapsed time, rate and ETA count from that phase's start; a phase whose
    length is not known yet shows a moving bar and no ETA, never a finished one.
    ``clock``: seconds (monotonic), for tests.
    """

    def __init__(self, mode: str, clock: Callable[[], float] = time.monotonic, console: Console | None = None):
        self.mode = mode            # "bar", "quiet" or "json"
        self._clock = clock
        self._console = console or Console(stderr=True)
        self._bar: Bar | None = None
        self._render_phase = "rendering"
        self._phase: str | None = None
        self._task = None
        self._last_json = 0.0
        self._counting_since: float | None = None

    def progress(self, p: Progress) -> None:
        """Progress of the render (the phase the command's :meth:`task` names)."""
        self._show(self._render_phase, p)

    def analysis_progress(self, done: int, expected: int | None) -> None:
        """Progress of the analysis, which only counts frames: ``expected`` may be None (unknown)."""
        if self._counting_since is None:
            self._counting_since = self._clock()
        p = progress_at(done, expected or 0, self._clock() - self._counting_since)
        self._show("analysing", p if expected else dataclasses.replace(p, eta_s=None))

    def begin(self, phase: str) -> None:
        """A phase whose length is not known (its bar moves and counts its time, with no ETA)."""
        self._show(phase, Progress(0, 0, 0.0, None, None))

    def _show(self, phase: str, p: Progress) -> None:
        total = p.frames_total or None
        if self.mode == "bar" and self._bar is not None:
            if phase != self._phase:            # a new phase: a new bar, its clock starting now
                if self._task is not None:
                    self._bar.remove_task(self._task)
                self._task = self._bar.add_task(phase, total=total, fps="")
                self._phase = phase
            fps = f"{p.fps:5.1f} fps" if p.fps else ""
            self._bar.update(self._task, completed=p.frames_done, total=total, fps=fps)
        elif self.mode == "json":
            now = self._clock()
            finished = total is not None and p.frames_done >= total
            if phase != self._phase or finished or now - self._last_json >= _JSON_INTERVAL_S:
                self._phase, self._last_json = phase, now
                self.emit("progress", phase=phase, frames_done=p.frames_done, frames_total=total,
                          elapsed_s=round(p.elapsed_s, 2), fps=round(p.fps, 3) if p.fps else None,
                          eta_s=round(p.eta_s, 2) if p.eta_s is not None else None)

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
    def task(self, render_phase: str):
        """Show progress for the duration of the block; ``render_phase`` names the render's phase
        ("grading", "joining"...); the analysis, if any, shows as "analysing" before it."""
        self._render_phase = render_phase
        if self.mode != "bar":
            yield self
            return
        self._bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[fps]}"), TimeElapsedColumn(), TextColumn("ETA"),
                        TimeRemainingColumn(), transient=True, disable=not self._console.is_terminal,
                        console=self._console, get_time=self._clock)
        with self._bar:
            yield self
        self._bar, self._task, self._phase = None, None, None


def reporter_options(command):
    """Add --quiet and --log-json to a command; it receives a ``reporter`` argument."""
    command = click.option("--log-json", "log_json", is_flag=True,
                           help="Print progress, warnings and the result as JSON lines.")(command)
    command = click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")(command)
    return command


def make_reporter(quiet: bool, log_json: bool) -> Reporter:
    """The reporter for the chosen flags."""
    return Reporter("json" if log_json else "quiet" if quiet else "bar")
