"""Probing, sequential decode and random access against real and synthetic clips."""

import random

import numpy as np
import pytest

from render.errors import MediaError
from render.io.source import open_source
from tests.conftest import VFR_DURATIONS
from tests.helpers import decode_all


def test_probe_bigbuckbunny(bigbuckbunny):
    with open_source(bigbuckbunny) as source:
        v, a = source.info.video, source.info.audio
    assert (v.width, v.height, v.frame_count, v.frame_rate) == (1280, 720, 132, 25)
    assert v.codec == "h264" and v.bit_depth == 8 and v.pix_fmt == "yuv420p"
    assert v.duration_s == pytest.approx(5.28, abs=0.04)
    assert (a.codec, a.sample_rate, a.channels, a.layout) == ("aac", 48000, 6, "5.1")


def test_probe_ten_bit(make_clip):
    path = make_clip("ten_bit.mkv", codec="libx265", pix_fmt="yuv420p10le", frames=6)
    with open_source(path) as source:
        frame = source.frame(0)
        assert source.info.video.bit_depth == 10
    assert frame.rgb.dtype == np.uint16 and frame.rgb.max() > 60000


def test_vfr_timestamps_are_reported(make_clip):
    path = make_clip("vfr.mkv", frame_durations=VFR_DURATIONS, frames=16)
    frames = decode_all(path)
    steps = np.diff([f.time_s for f in frames])
    assert list(np.round(steps * 1000).astype(int)) == [VFR_DURATIONS[i % 4] for i in range(15)]
    with open_source(path) as source:
        assert source.info.video.variable_frame_rate


def test_rotation_is_reported(make_clip):
    with open_source(make_clip("rot.mp4", rotation_deg=90, audio_channels=0)) as source:
        assert source.info.video.rotation_deg == 90


def test_sequential_frames_are_distinct_and_timed(carphone):
    frames = decode_all(carphone)
    assert [f.index for f in frames] == list(range(120))
    assert frames[1].time_s == pytest.approx(1001 / 30000)
    assert not np.array_equal(frames[10].rgb, frames[11].rgb)


@pytest.mark.parametrize("clip", ["bikes", "carphone", "open_gop"])
def test_random_access_matches_sequential_decode(clip, request, make_clip):
    """frame(n) == n-th sequential frame for every n, visited in a shuffled order."""
    if clip == "open_gop":
        path = make_clip("open_gop.mp4", gop=8, bframes=3, open_gop=True, frames=48, audio_channels=0)
    else:
        path = request.getfixturevalue(clip)
    sequential = decode_all(path)
    order = list(range(len(sequential)))
    random.Random(7).shuffle(order)
    with open_source(path) as source:
        for n in order:
            frame = source.frame(n)
            assert frame.index == n and frame.pts == sequential[n].pts
            assert np.array_equal(frame.rgb, sequential[n].rgb), f"frame {n} differs"


def test_frames_range_starts_mid_clip(bikes):
    with open_source(bikes) as source:
        part = list(source.frames(start=100, stop=110))
        whole = {f.index: f for f in source.frames(start=95, stop=112)}
    assert [f.index for f in part] == list(range(100, 110))
    assert all(np.array_equal(f.rgb, whole[f.index].rgb) for f in part)


def test_scaled_decode(bikes):
    with open_source(bikes) as source:
        frame = next(source.frames(size=(160, 68)))
    assert frame.rgb.shape == (68, 160, 3)


def test_read_audio_duration(bigbuckbunny):
    with open_source(bigbuckbunny) as source:
        clip = source.read_audio()
    assert clip.samples.shape[0] == 6 and clip.samples.dtype == np.float32
    assert clip.duration_s == pytest.approx(5.312, abs=0.03)
    assert 0.01 < np.abs(clip.samples).max() <= 1.0


def test_audio_only_file(make_clip):
    with open_source(make_clip("audio_only.m4a", video=False, audio_channels=1)) as source:
        assert source.info.video is None and source.info.audio.channels == 1
        with pytest.raises(MediaError, match="no video stream"):
            source.frame(0)


def test_frame_out_of_range(carphone):
    with open_source(carphone) as source, pytest.raises(MediaError, match="out of range"):
        source.frame(120)


def test_frames_carry_the_transfer_function_of_their_tags(make_clip):
    """Grading linearises with the stream's own curve: sRGB where tagged so, else BT.709."""
    for transfer, want in ((13, "srgb"), (1, "bt709"), (2, "bt709")):
        clip = make_clip(f"trc{transfer}.mp4", frames=3, audio_channels=0, transfer=transfer)
        with open_source(clip) as src:
            assert src.info.video.colour.transfer == transfer
            assert src.frame(1).transfer == want
            assert all(f.transfer == want for f in src.frames())


def test_mono_audio_read_is_the_mean_of_the_channels(make_clip):
    clip = make_clip("surround.mp4", frames=10, audio_channels=6)
    with open_source(clip) as src:
        full, mono = src.read_audio(), src.read_audio(mono=True)
    assert full.samples.shape[0] == 6 and mono.samples.shape == (1, full.samples.shape[1])
    assert mono.layout == "mono" and mono.sample_rate == full.sample_rate
    assert np.array_equal(mono.samples[0], full.samples.mean(axis=0, dtype=np.float32))
