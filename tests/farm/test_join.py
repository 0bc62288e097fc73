"""Chunks rendered one by one (as a farm manager runs them) and joined: hard sources keep every frame
and timestamp."""

import numpy as np
import pytest

from render.farm.chunk_render import render_chunk
from render.farm.join import join_chunks
from render.farm.plan import plan_job
from render.job import render_file
from tests.farm.conftest import LOSSLESS
from tests.farm.media import audio_samples, frames_and_times


@pytest.mark.parametrize("name, spec", [
    ("open-gop.mp4", {"frames": 60, "gop": 10, "open_gop": True, "bframes": 3}),   # leading B-frames at cuts
    ("vfr.mp4", {"frames": 60, "gop": 10, "frame_durations": (33, 40, 50, 27)}),   # uneven frame durations
])
def test_hard_sources_join_frame_exact(make_clip, tmp_path, name, spec):
    clip = make_clip(name, **spec)
    job = plan_job(clip, tmp_path / "farm.mkv", LOSSLESS, chunks=4)
    assert len(job.chunks) == 4
    for chunk in job.chunks:
        render_chunk(job.dir, chunk["index"])
    join_chunks(job.dir)
    render_file(clip, tmp_path / "single.mkv", LOSSLESS)
    farm_frames, farm_times = frames_and_times(tmp_path / "farm.mkv")
    single_frames, single_times = frames_and_times(tmp_path / "single.mkv")
    assert farm_times == single_times == frames_and_times(clip)[1]
    assert all(np.array_equal(a, b) for a, b in zip(farm_frames, single_frames, strict=True))
    assert audio_samples(tmp_path / "farm.mkv").shape == audio_samples(tmp_path / "single.mkv").shape
