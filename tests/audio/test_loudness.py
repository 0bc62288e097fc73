"""Our BS.1770 meter (FFmpeg's ebur128 through PyAV) agrees with the ffmpeg tool's, layouts included."""

import numpy as np
import pytest

from render.audio.loudness import integrated_lufs
from render.io.source import AudioClip
from tests.audio.ffmpeg_meter import ebur128, write_wav
from tests.audio.signals import music

RATE = 48000


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_agrees_with_ffmpeg(channels, tmp_path):
    clip = music(seconds=3.0, channels=channels)
    ours = integrated_lufs(clip.samples, RATE, clip.layout)
    assert ours == pytest.approx(ebur128(write_wav(tmp_path / "m.wav", clip)).integrated_lufs, abs=0.1)


def test_surrounds_weigh_1_41_and_lfe_not_at_all():
    noise = (np.random.default_rng(0).standard_normal(RATE * 2) * 0.1).astype(np.float32)

    def lufs_with_noise_in(channel: int) -> float:
        samples = np.zeros((6, noise.size), np.float32)
        samples[channel] = noise
        return integrated_lufs(samples, RATE, "5.1")

    front, surround, lfe = lufs_with_noise_in(0), lufs_with_noise_in(4), lufs_with_noise_in(3)
    assert surround - front == pytest.approx(10 * np.log10(1.41), abs=0.01)
    assert lfe == float("-inf")


def test_silence_is_minus_infinity_and_short_clips_have_none():
    assert integrated_lufs(np.zeros((2, RATE), np.float32), RATE, "stereo") == float("-inf")
    assert integrated_lufs(np.ones((2, RATE // 4), np.float32) * 0.1, RATE, "stereo") is None


def test_7_1_side_and_back_channels_are_surrounds(tmp_path):
    noise = (np.random.default_rng(1).standard_normal(RATE * 2) * 0.1).astype(np.float32)
    levels = {}
    for channel in (0, 4, 6):        # FL, BL, SL
        samples = np.zeros((8, noise.size), np.float32)
        samples[channel] = noise
        levels[channel] = integrated_lufs(samples, RATE, "7.1")
    assert levels[4] - levels[0] == pytest.approx(10 * np.log10(1.41), abs=0.01)
    assert levels[6] == pytest.approx(levels[4], abs=0.01)
    clip = music(seconds=3.0, channels=8, layout="7.1")
    ours = integrated_lufs(clip.samples, RATE, clip.layout)
    assert ours == pytest.approx(ebur128(write_wav(tmp_path / "m.wav", clip)).integrated_lufs, abs=0.1)


def test_unnamed_layouts_take_ffmpegs_default_for_the_channel_count():
    samples = music(seconds=2.0, channels=6).samples
    assert integrated_lufs(samples, RATE, "6 channels") == integrated_lufs(samples, RATE, "5.1")
    assert integrated_lufs(samples, RATE, "bogus") == integrated_lufs(samples, RATE, "5.1")


def test_wav_writer_keeps_the_layout(tmp_path):
    import av
    clip = AudioClip(samples=np.zeros((6, 480), np.float32), sample_rate=RATE, layout="5.1")
    with av.open(str(write_wav(tmp_path / "s.wav", clip))) as container:
        assert container.streams.audio[0].layout.name == "5.1"
