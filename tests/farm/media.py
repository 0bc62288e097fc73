"""What the farm tests measure in output files."""

from itertools import pairwise

import av
import numpy as np

from render.io.source import open_source


def video_packets(path) -> list[tuple[int, int]]:
    """(pts, dts) of every video packet, in file order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [(p.pts, p.dts) for p in container.demux(stream) if p.size]


def audio_samples(path) -> np.ndarray:
    """The decoded soundtrack, float32 (channels, n)."""
    with open_source(path) as source:
        return source.read_audio().samples


def frames_and_times(path) -> tuple[list[np.ndarray], list[float]]:
    with open_source(path) as source:
        frames = list(source.frames())
    return [f.rgb for f in frames], [round(f.time_s, 3) for f in frames]


def assert_same_render(farm_out, single_out, frame_rate: float) -> None:
    """Same frames (bit for bit), same timestamps, same duration and soundtrack as the single render."""
    farm_frames, farm_times = frames_and_times(farm_out)
    single_frames, single_times = frames_and_times(single_out)
    assert len(farm_frames) == len(single_frames)
    assert farm_times == single_times
    for n, (a, b) in enumerate(zip(farm_frames, single_frames)):
        assert np.array_equal(a, b), f"frame {n} differs"
    with open_source(farm_out) as f, open_source(single_out) as s:
        assert f.info.video.frame_count == s.info.video.frame_count
        assert abs(f.info.video.duration_s - s.info.video.duration_s) < 1e-6
    farm_audio, single_audio = audio_samples(farm_out), audio_samples(single_out)
    assert abs(farm_audio.shape[1] - single_audio.shape[1]) <= 48000 / frame_rate
    dts = [d for _, d in video_packets(farm_out) if d is not None]
    assert all(b > a for a, b in pairwise(dts))
