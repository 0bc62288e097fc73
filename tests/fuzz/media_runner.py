"""Drive damaged media through the code the commands use, in-process, and classify what happened.

Each case is opened and probed (``moodgrade probe``), decoded in order and at
random (``Source.frames`` / ``Source.frame``), and graded for a few frames with
a NumPy grade through :func:`render.job.render_file` (``moodgrade grade``), the
soundtrack copied or decoded and re-encoded in turn. The only acceptable
failure is a :class:`MoodgradeError` with a one-line message; anything else is
a finding:

- ``traceback``: another exception escaped;
- ``hang``: the case ran past its time bound (``signal.alarm``);
- ``leftover``: a file was left in the output folder after a failure (or a
  temporary one after a success);
- ``modified``: the input's bytes changed;
- ``multiline``: an error message of more than one line.
"""

from __future__ import annotations

import hashlib
import json
import signal
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from render.errors import MoodgradeError
from render.grading import GradeRecipe, make_process
from render.io.audio_file import encode_audio_file
from render.io.output_path import TEMP_MARKER
from render.io.sink import EncodeSettings
from render.io.source import open_source
from render.job import render_file
from render.ops.colour import Exposure, Saturation

FINDINGS = ("traceback", "hang", "leftover", "modified", "multiline")
SETTINGS = EncodeSettings(codec="libx264", crf=30.0, speed_preset="ultrafast")
GRADE = make_process(GradeRecipe(ops=(Exposure(exposure_ev=0.3), Saturation(saturation=1.2)), backend="numpy"))
MAX_GRADED_FRAMES = 6


class CaseTimeout(Exception):
    """Raised in the main thread by SIGALRM when a case runs past its bound."""


@dataclass
class Tally:
    """Counts over a run: outcomes ("ok", "error", and the findings), per kind, and the findings' details."""

    files: int = 0
    outcomes: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)

    def add(self, kind: str, outcome: str, detail: str = "") -> None:
        self.files += 1
        self.kinds[kind] += 1
        self.outcomes[outcome] += 1
        if outcome in FINDINGS:
            self.details.append(detail)

    @property
    def findings(self) -> int:
        return sum(self.outcomes[f] for f in FINDINGS)


def _digest(path: Path) -> str:
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


def _passed_through(track, encoding, path) -> None:
    """An audio process that streams the track through unchanged (render_file's ``audio=``)."""
    encode_audio_file(path, track.read(), encoding)


def exercise(path: Path, out_dir: Path, number: int) -> None:
    """What the commands do with ``path``: probe, decode (in order and at random), grade a few frames."""
    with open_source(path) as source:
        json.dumps(source.info.to_dict(), allow_nan=False)          # probe --json
        video = source.info.video
        if video is not None:
            count = min(video.frame_count, MAX_GRADED_FRAMES)
            for _ in source.frames(0, count):
                pass
            source.frame(video.frame_count - 1)
            source.frame(video.frame_count // 2)
    if video is None:
        return
    settings = SETTINGS if number % 2 else EncodeSettings(**{**SETTINGS.__dict__, "audio": "aac"})
    render_file(path, out_dir / f"out{path.suffix if path.suffix != '.m4a' else '.mp4'}", settings,
                process=GRADE, audio=_passed_through if number % 4 == 0 else None,
                frame_range=(0, None if number % 3 else MAX_GRADED_FRAMES))


def run_case(path: Path, out_dir: Path, number: int, kind: str, tally: Tally, timeout_s: int = 20) -> str:
    """Run one damaged file; records and returns its outcome ("ok", "error" or a finding)."""
    before = _digest(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    outcome, detail = "ok", ""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(timeout_s)
    try:
        exercise(path, out_dir, number)
    except CaseTimeout:
        outcome, detail = "hang", f"{path.name}: over {timeout_s} s"
    except MoodgradeError as exc:
        outcome = "error"
        if "\n" in str(exc) or not str(exc).strip():
            outcome, detail = "multiline", f"{path.name}: {str(exc)!r}"
    except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
        where = traceback.extract_tb(exc.__traceback__)[-1]
        outcome = "traceback"
        detail = f"{path.name}: {type(exc).__name__}: {str(exc)[:200]} at {Path(where.filename).name}:{where.lineno}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    left = sorted(p.name for p in out_dir.iterdir())
    if outcome != "ok" and left or any(TEMP_MARKER in name for name in left):
        outcome, detail = (outcome if outcome in FINDINGS else "leftover"), f"{path.name}: left {left}"
    if outcome not in FINDINGS and _digest(path) != before:
        outcome, detail = "modified", f"{path.name}: input changed"
    for leftover in out_dir.iterdir():
        leftover.unlink()
    tally.add(kind, outcome, detail)
    return outcome


def _on_alarm(signum, frame):
    raise CaseTimeout()
