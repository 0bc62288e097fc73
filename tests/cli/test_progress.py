"""Progress as a user reads it: elapsed time, rate and ETA right from the first frame to the last."""

import io
import json

from rich.console import Console
from rich.progress import TimeElapsedColumn, TimeRemainingColumn

from render.cli.reporting import Reporter
from render.pipeline import progress_at


class Clock:
    def __init__(self, now_s: float = 1000.0):
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


def shown(column, task) -> str:
    return column.render(task).plain


def test_each_phase_counts_from_its_start_and_finishes_only_at_its_end():
    clock = Clock()
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    reporter = Reporter("bar", clock=clock, console=console)
    with reporter.task("grading"):
        bar = reporter._bar
        reporter.analysis_progress(1, None)                 # the analysis, its length not known yet
        analysing = bar.tasks[0]
        assert analysing.description == "analysing" and analysing.total is None and not analysing.finished
        clock.now_s += 3.0
        reporter.analysis_progress(31, None)
        assert shown(TimeElapsedColumn(), analysing) == "0:00:03" and not analysing.finished
        reporter.analysis_progress(31, 100)                 # now it is known
        for done in (51, 61, 71):
            clock.now_s += 1.0
            reporter.analysis_progress(done, 100)
        assert shown(TimeElapsedColumn(), analysing) == "0:00:06"
        assert 1 <= analysing.time_remaining <= 6, analysing.time_remaining      # 29 frames at 10 fps

        clock.now_s += 1.0                                  # the render starts: a bar of its own
        reporter.progress(progress_at(0, 200, 0.0))
        grading = bar.tasks[0]
        assert grading.description == "grading" and len(bar.tasks) == 1
        for second in range(1, 11):                         # 20 fps for 10 s
            clock.now_s += 1.0
            reporter.progress(progress_at(20 * second, 200, float(second)))
            if second == 5:
                assert shown(TimeElapsedColumn(), grading) == "0:00:05" and not grading.finished
                assert shown(TimeRemainingColumn(), grading) == "0:00:05"
        assert grading.finished and shown(TimeElapsedColumn(), grading) == "0:00:10"
        clock.now_s += 60.0                                 # finished: its time stops
        assert shown(TimeElapsedColumn(), grading) == "0:00:10"
        reporter.begin("finishing the soundtrack")          # no frames to count: it moves, no ETA
        sound = bar.tasks[0]
        clock.now_s += 4.0
        assert sound.description == "finishing the soundtrack" and sound.total is None
        assert shown(TimeElapsedColumn(), sound) == "0:00:04" and shown(TimeRemainingColumn(), sound) in ("", "-:--:--")


def test_json_lines_name_the_phase_and_its_elapsed_time(capsys):
    clock = Clock()
    reporter = Reporter("json", clock=clock)
    with reporter.task("grading"):
        reporter.analysis_progress(1, None)
        clock.now_s += 2.0
        reporter.analysis_progress(40, 40)
        clock.now_s += 1.0
        reporter.progress(progress_at(10, 100, 0.5))
        clock.now_s += 0.2
        reporter.progress(progress_at(20, 100, 0.7))         # within a second of the last line: not printed
        reporter.progress(progress_at(100, 100, 4.0))
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["phase"], e["frames_done"], e["frames_total"]) for e in events] == [
        ("analysing", 1, None), ("analysing", 40, 40), ("grading", 10, 100), ("grading", 100, 100)]
    assert events[1]["elapsed_s"] == 2.0 and events[1]["eta_s"] == 0.0
    assert events[3]["elapsed_s"] == 4.0 and events[3]["fps"] == 25.0
