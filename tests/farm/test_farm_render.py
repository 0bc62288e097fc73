"""Farm renders on a local Ray instance agree with a single-machine render, survive killed
workers, and retry failing chunks a bounded number of times."""

import os
import re
import signal
import threading
import time
from itertools import pairwise

import numpy as np
import pytest

from render.errors import MoodgradeError
from render.farm.job_dir import load_job
from render.farm.plan import plan_job
from render.farm.ray_driver import run_farm
from render.io.output_path import TEMP_MARKER
from render.io.sink import EncodeSettings
from render.io.source import open_source
from render.job import render_file
from tests.farm.conftest import LOSSLESS
from tests.farm.media import assert_same_render, audio_samples, frames_and_times, video_packets
from tests.helpers import psnr_db


def test_farm_render_matches_single_render_frame_for_frame(ray_local, farm_clip, single_render, tmp_path):
    job = plan_job(farm_clip, tmp_path / "farm.mkv", LOSSLESS, chunks=5)
    assert len(job.chunks) == 5
    events = []
    result = run_farm(job, on_chunk=events.append)
    assert result.join.frames == 80 and result.chunks_rendered == 5
    assert sorted(e.index for e in events if e.state == "done") == [0, 1, 2, 3, 4]
    assert_same_render(tmp_path / "farm.mkv", single_render, frame_rate=25)
    with open_source(farm_clip) as source:
        source_times = [round(f.time_s, 3) for f in source.frames(size=(32, 18))]
    assert frames_and_times(tmp_path / "farm.mkv")[1] == source_times      # no gap, no repeat


def test_mood_graded_farm_render_is_bit_identical_to_moodgrade_grade(ray_local, farm_clip, tmp_path):
    """Same preset, moods and grain on every worker as in a single `moodgrade grade` render,
    and the mood-driven soundtrack made once at the join, as the single render makes it."""
    from render.mood_grade import GradeOptions, grade_video

    options = GradeOptions(preset="vivid", mood="happy", backend="numpy", cache_dir=str(tmp_path / "cache"),
                           assignments=("film_grain.amount=0.4", "film_grain.seed=3"))
    single = grade_video(farm_clip, tmp_path / "single.mkv", options, LOSSLESS)
    job = plan_job(farm_clip, tmp_path / "farm.mkv", LOSSLESS, options, chunks=4, on_ray=True, analysis_range_s=0)
    assert job.manifest["analysis"]["frames"] == 80 and job.manifest["soundtrack"] is not None
    result = run_farm(job)
    assert (result.join.audio, single.render.audio) == ("encoded", "encoded")
    assert job.soundtrack_path.exists() and result.join.soundtrack == single.soundtrack     # made by its task
    assert_same_render(tmp_path / "farm.mkv", tmp_path / "single.mkv", frame_rate=25)
    graded, source = frames_and_times(tmp_path / "farm.mkv")[0], frames_and_times(farm_clip)[0]
    assert not np.array_equal(graded[7], source[7])
    farm_sound, single_sound = audio_samples(tmp_path / "farm.mkv"), audio_samples(tmp_path / "single.mkv")
    assert np.array_equal(farm_sound, single_sound)


def test_auto_mood_farm_render_is_bit_identical_to_a_cold_single_render(ray_local, farm_clip, tmp_path):
    """--mood auto: the farm analyses on its own (its cache empty) and must grade picture and sound
    exactly as a single render whose analysis was also fresh."""
    from render.mood_grade import GradeOptions, grade_video

    def options(cache: str) -> GradeOptions:
        return GradeOptions(preset="teal-orange", backend="numpy", cache_dir=str(tmp_path / cache))

    grade_video(farm_clip, tmp_path / "single.mkv", options("single-cache"), LOSSLESS)
    job = plan_job(farm_clip, tmp_path / "farm.mkv", LOSSLESS, options("farm-cache"), chunks=4, on_ray=True,
                   analysis_range_s=0)
    run_farm(job)
    assert_same_render(tmp_path / "farm.mkv", tmp_path / "single.mkv", frame_rate=25)
    assert np.array_equal(audio_samples(tmp_path / "farm.mkv"), audio_samples(tmp_path / "single.mkv"))


def test_b_frame_chunks_join_with_source_timestamps(ray_local, farm_clip, tmp_path):
    """libx264 chunks reorder B-frames; the joined MP4 keeps every pts and has increasing dts."""
    settings = EncodeSettings(speed_preset="veryfast", crf=16)
    job = plan_job(farm_clip, tmp_path / "farm.mp4", settings, chunk_seconds=0.8)
    assert len(job.chunks) == 4
    run_farm(job)
    render_file(farm_clip, tmp_path / "single.mp4", settings)
    farm_packets, single_packets = video_packets(tmp_path / "farm.mp4"), video_packets(tmp_path / "single.mp4")
    assert any(p != d for p, d in farm_packets), "the test needs reordered frames"
    assert sorted(p for p, _ in farm_packets) == sorted(p for p, _ in single_packets)
    dts = [d for _, d in farm_packets]
    assert all(b > a for a, b in pairwise(dts))
    assert all(d <= p for p, d in farm_packets)
    farm_frames, farm_times = frames_and_times(tmp_path / "farm.mp4")
    source_frames, source_times = frames_and_times(farm_clip)
    assert farm_times == source_times
    assert min(psnr_db(a, b) for a, b in zip(farm_frames, source_frames)) > 35


def _kill_first_chunk_writer(chunk_dir, stop: threading.Event, killed: list) -> None:
    """Kill (SIGKILL) the first worker process seen writing a chunk; the pid is in the temporary's name."""
    pattern = re.compile(rf"^\.(\d+){re.escape(TEMP_MARKER)}(\d+)\.")
    while not stop.is_set() and not killed:
        for entry in os.scandir(chunk_dir):
            match = pattern.match(entry.name)
            if match and entry.stat().st_size > 0:
                os.kill(int(match.group(2)), signal.SIGKILL)
                killed.append((int(match.group(1)), int(match.group(2))))
                return
        time.sleep(0.002)


def test_worker_killed_mid_chunk_the_job_still_completes(ray_local, farm_clip, single_render, tmp_path):
    job = plan_job(farm_clip, tmp_path / "farm.mkv", LOSSLESS, chunks=2)
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_first_chunk_writer, args=(job.dir / "chunks", stop, killed))
    killer.start()
    try:
        run_farm(job)
    finally:
        stop.set()
        killer.join()
    assert killed, "no worker was caught writing a chunk"
    index, pid = killed[0]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    chunk = load_job(job.dir).chunks[index]
    assert chunk["state"] == "done" and chunk["attempts"] == 2, chunk
    assert not any(TEMP_MARKER in p.name for p in (job.dir / "chunks").iterdir())
    assert_same_render(tmp_path / "farm.mkv", single_render, frame_rate=25)


def test_a_chunk_that_keeps_failing_fails_the_job_after_bounded_attempts(ray_local, farm_clip, tmp_path):
    job = plan_job(farm_clip, tmp_path / "farm.mkv", LOSSLESS, chunks=4)
    job.chunk_path(2).mkdir()          # the chunk cannot be written: every attempt fails
    events = []
    with pytest.raises(MoodgradeError, match=r"chunk 2 failed 2 times; last error: .*is a directory"):
        run_farm(job, max_attempts=2, on_chunk=events.append)
    chunk = load_job(job.dir).chunks[2]
    assert (chunk["state"], chunk["attempts"]) == ("failed", 2)
    assert [e.state for e in events if e.index == 2] == ["retry", "failed"]
    assert not (tmp_path / "farm.mkv").exists()


def test_processed_soundtrack_is_muxed_once_at_the_join(ray_local, farm_clip, tmp_path):
    """The join's audio hook: the track, streamed through it once, encoded beside the copied video."""
    from render.io.audio_file import encode_audio_file

    calls = []

    def halve(track, encoding, path):
        calls.append(track.channels)
        encode_audio_file(path, (block * 0.5 for block in track.read()), encoding)

    settings = EncodeSettings(codec="ffv1", pix_fmt="bgr0", audio="flac")
    job = plan_job(farm_clip, tmp_path / "farm.mkv", settings, chunks=3)
    run_farm(job, audio=halve)
    assert len(calls) == 1
    with open_source(farm_clip) as source:
        original = source.read_audio().samples
    joined = audio_samples(tmp_path / "farm.mkv")
    assert abs(joined.shape[1] - original.shape[1]) <= 48000 / 25
    n = min(joined.shape[1], original.shape[1])
    assert np.max(np.abs(joined[:, :n] - 0.5 * original[:, :n])) < 1e-3
