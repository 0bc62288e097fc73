"""Programmes, not clips: the grade's memory must not grow with the programme's length.

Two synthetic programmes with 5.1 sound at 48 kHz (a 64x36 picture, so the sound is
most of the work: the old whole-soundtrack path held 12.5 MB per second of it), of 1
and 4 minutes, graded by the command as a user runs it; their peak resident memory
(of the whole process, measured by the kernel) may differ by at most
GROWTH_BOUND_MIB. The longer one's sound must also meet its loudness target and end
with its picture.
"""

import os
import subprocess
import sys

import pytest

from render.io.source import open_source
from render.io.synthetic import ProgrammeSpec, write_programme
from tests.audio.ffmpeg_meter import ebur128

GROWTH_BOUND_MIB = 30       # measured: 275 -> 278 MiB (2026-12-04, 2-core Intel); 3 more minutes
                            # of 5.1 held whole would be about 2,250 MiB


def peak_rss_mib(command: list[str]) -> float:
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    assert status == 0, child.stderr.read().decode()[-2000:]
    return usage.ru_maxrss / 1024


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """minutes -> (peak RSS MiB, output path) for 1- and 4-minute programmes."""
    folder = tmp_path_factory.mktemp("long_form")
    results = {}
    for minutes in (1, 4):
        source = write_programme(folder / f"programme_{minutes}min.mp4", ProgrammeSpec(minutes=minutes))
        out = folder / f"graded_{minutes}min.mkv"
        rss = peak_rss_mib([sys.executable, "-m", "render", "grade", str(source), str(out), "--preset", "natural",
                            "--audio-codec", "flac", "--speed-preset", "ultrafast", "--quiet",
                            "--cache-dir", str(folder / "cache")])
        results[minutes] = rss, out
    return results


def test_memory_does_not_grow_with_the_programme(graded):
    (short_mib, _), (long_mib, _) = graded[1], graded[4]
    assert long_mib - short_mib < GROWTH_BOUND_MIB, (short_mib, long_mib)


def test_the_long_programme_meets_its_loudness_and_ends_in_sync(graded):
    out = graded[4][1]
    meter = ebur128(out)
    assert abs(meter.integrated_lufs - -14.0) <= 0.1 and meter.true_peak_dbtp <= -1.0, meter
    with open_source(out) as source:
        video, audio = source.info.video, source.info.audio
        assert abs(audio.duration_s - video.duration_s) <= 1.0 / float(video.frame_rate)
