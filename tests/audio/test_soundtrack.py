"""The must-shows, measured by the peer: FFmpeg's ebur128 (peak=true) on what we produce."""

import numpy as np
import pytest

from render.audio import MoodCurve, MoodSegment, SoundtrackStyle, process_soundtrack, soundtrack_processor
from render.audio.soundtrack import shape_soundtrack
from render.audio.loudness import integrated_lufs
from render.errors import MoodgradeError
from render.io.sink import EncodeSettings
from render.io.source import AUDIO_BLOCK_SAMPLES, AudioClip, AudioTrack, open_source
from render.job import render_file
from tests.audio.ffmpeg_meter import ebur128, write_wav
from tests.audio.signals import music, sine
from tests.audio.test_chain import CLICK_BOUND, largest_steps, worst_step_ratio

MOODS = [MoodSegment(0.0, 1.5, valence=-0.7, arousal=-0.4, emotion="sad"),
         MoodSegment(1.5, 3.0, valence=0.8, arousal=0.5, emotion="happy"),
         MoodSegment(3.0, 9.0, valence=-0.6, arousal=0.8, emotion="fear", intensity=0.8)]


def check_with_ffmpeg(result, clip: AudioClip, target_lufs: float, tmp_path) -> None:
    assert result.clip.samples.shape == clip.samples.shape                # A/V sync: same length
    assert result.clip.sample_rate == clip.sample_rate and result.clip.layout == clip.layout
    peer = ebur128(write_wav(tmp_path / "out.wav", result.clip))
    assert abs(peer.integrated_lufs - target_lufs) <= 0.5
    assert peer.true_peak_dbtp <= -1.0
    assert result.measured_lufs == pytest.approx(peer.integrated_lufs, abs=0.25)
    assert result.measured_true_peak_dbtp == pytest.approx(peer.true_peak_dbtp, abs=0.15)


@pytest.mark.parametrize("target_lufs", [-14.0, -23.0])
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_music_meets_loudness_and_true_peak(channels, target_lufs, tmp_path):
    clip = music(seconds=4.0, channels=channels)
    result = process_soundtrack(clip, MOODS, SoundtrackStyle(), loudness_lufs=target_lufs)
    check_with_ffmpeg(result, clip, target_lufs, tmp_path)
    assert result.notes == ()


def test_sad_scenes_end_up_quieter_and_darker_than_happy_ones():
    """The mood survives normalisation: the sad half is quieter and has less treble than the happy half.

    At -23 LUFS; at -14 this material (crest factor 14.5 dB) needs ~10 dB of true-peak
    limiting, which flattens the level difference (the tone difference stays)."""
    clip = music(seconds=6.0, channels=2)
    moods = [MoodSegment(0, 3, valence=-0.7, arousal=-0.4, emotion="sad"),
             MoodSegment(3, 6, valence=0.8, arousal=0.5, emotion="happy")]
    out = process_soundtrack(clip, moods, loudness_lufs=-23.0).clip.samples
    sad, happy = out[:, 24000:120000], out[:, 168000:264000]          # away from the ramp
    sad_in, happy_in = clip.samples[:, 24000:120000], clip.samples[:, 168000:264000]
    assert integrated_lufs(sad, 48000, "stereo") - integrated_lufs(sad_in, 48000, "stereo") < \
        integrated_lufs(happy, 48000, "stereo") - integrated_lufs(happy_in, 48000, "stereo") - 2.0

    def treble_share(x):
        spectrum = np.abs(np.fft.rfft(x[0])) ** 2
        return spectrum[len(spectrum) * 4000 // 24000:].sum() / spectrum.sum()

    assert treble_share(sad) / treble_share(sad_in) < 0.8
    assert treble_share(happy) / treble_share(happy_in) > 1.25


@pytest.mark.parametrize("sample_rate", [8000, 22050, 44100])
def test_other_sample_rates_meet_loudness_and_true_peak(sample_rate, tmp_path):
    """Below 48 kHz FFmpeg reads true peak at 192 kHz (more than 4x); so do we."""
    clip = music(seconds=3.0, channels=2, sample_rate=sample_rate)
    check_with_ffmpeg(process_soundtrack(clip, MOODS), clip, -14.0, tmp_path)


@pytest.fixture(scope="module")
def bbb_audio(bigbuckbunny):
    with open_source(bigbuckbunny) as source:
        return source.read_audio()


@pytest.mark.parametrize("target_lufs", [-14.0, -23.0])
def test_bigbuckbunny_5_1_meets_loudness_and_true_peak(bbb_audio, target_lufs, tmp_path):
    assert bbb_audio.samples.shape[0] == 6
    result = process_soundtrack(bbb_audio, MOODS, SoundtrackStyle(), loudness_lufs=target_lufs)
    check_with_ffmpeg(result, bbb_audio, target_lufs, tmp_path)


@pytest.mark.parametrize("frequency_hz", [60.0, 440.0, 9000.0])
def test_no_step_at_automation_points_after_normalisation(frequency_hz):
    style = SoundtrackStyle()
    moods = [MoodSegment(0, 1.5, valence=-0.9, arousal=-0.8), MoodSegment(1.5, 3, valence=0.9, arousal=0.9)]
    result = process_soundtrack(sine(3.0, frequency_hz), moods, style, loudness_lufs=-14.0)
    edge, steady = largest_steps(result.clip.samples, round(1.5 * 48000), round(style.ramp_ms * 48))
    assert edge <= CLICK_BOUND * steady


@pytest.mark.parametrize("frequency_hz", [100.0, 3000.0])
def test_a_flickering_per_frame_mood_stays_a_clean_sine(frequency_hz):
    """A random mood every video frame (25 fps): the ramps absorb the flicker."""
    rng = np.random.default_rng(3)
    curve = MoodCurve(25.0, rng.uniform(-1, 1, 100), rng.uniform(-1, 1, 100), rng.uniform(0, 1, 100))
    out = process_soundtrack(sine(4.0, frequency_hz), curve, loudness_lufs=-14.0).clip.samples
    assert worst_step_ratio(out, frequency_hz) <= CLICK_BOUND


def test_block_size_does_not_change_the_result():
    clip = music(seconds=3.0, channels=2)
    a = process_soundtrack(clip, MOODS, block_size=256).clip.samples
    b = process_soundtrack(clip, MOODS, block_size=4096).clip.samples
    assert np.abs(a - b).max() < 1e-5


def test_intensity_zero_is_a_pure_gain():
    """Neutral mood: the chain is transparent, so the output is the input times the normalisation gain."""
    clip = music(seconds=3.0, channels=2, level=0.05)
    result = process_soundtrack(clip, [MoodSegment(0, 3, valence=-0.9, arousal=0.9, intensity=0.0)],
                                loudness_lufs=-23.0)
    assert result.limiter_reduction_db == 0.0
    expected = clip.samples * 10 ** (result.gain_db / 20)
    assert np.abs(result.clip.samples - expected).max() < 1e-5


@pytest.mark.parametrize("samples", [0, 1, 10, 4800])
def test_very_short_clips_are_kept_and_noted(samples):
    clip = AudioClip(samples=np.full((2, samples), 0.9, np.float32), sample_rate=48000, layout="stereo")
    result = process_soundtrack(clip, MOODS)
    assert result.clip.samples.shape == (2, samples)
    assert result.measured_lufs is None
    assert "shorter than 0.4 s" in result.notes[0]
    assert result.measured_true_peak_dbtp <= -1.0


@pytest.mark.parametrize("channels", [1, 6])
def test_silence_is_kept_and_noted(channels):
    clip = AudioClip(samples=np.zeros((channels, 48000), np.float32), sample_rate=48000,
                     layout={1: "mono", 6: "5.1"}[channels])
    result = process_soundtrack(clip, MOODS)
    assert np.array_equal(result.clip.samples, clip.samples)
    assert result.measured_lufs == float("-inf") and "silent" in result.notes[0]


@pytest.mark.parametrize("kwargs, words", [
    (dict(loudness_lufs=0.0), "loudness 0 LUFS is outside -50..-5 LUFS"),
    (dict(true_peak_dbtp=3.0), "true peak 3 dBTP is outside -20..0 dBTP"),
    (dict(block_size=8), "block size 8 is outside 32..65536"),
])
def test_bad_options_are_one_line_errors(kwargs, words):
    with pytest.raises(MoodgradeError, match=words):
        process_soundtrack(music(seconds=1.0), MOODS, **kwargs)


@pytest.mark.parametrize("samples", [np.full((2, 4800), np.nan, np.float32), np.zeros((0, 4800), np.float32),
                                     np.zeros(4800, np.float32)])
def test_bad_samples_are_one_line_errors(samples):
    with pytest.raises(MoodgradeError, match="finite .channels, n. array"):
        process_soundtrack(AudioClip(samples=samples, sample_rate=48000, layout="stereo"), MOODS)


def test_render_file_keeps_audio_and_video_in_sync(make_clip, tmp_path):
    source = make_clip("audio_sync.mp4", frames=75, audio_channels=2)
    results = []
    out = tmp_path / "graded.mp4"
    render_file(source, out, EncodeSettings(speed_preset="ultrafast", audio="aac"),
                audio=soundtrack_processor(MOODS, loudness_lufs=-16.0, on_result=results.append))
    assert results and results[0].notes == ()
    with open_source(out) as graded:
        video_s = graded.info.video.frame_count / float(graded.info.video.frame_rate)
        audio = graded.read_audio()
    assert abs(audio.duration_s - video_s) <= 1.0 / 25
    assert abs(ebur128(out).integrated_lufs - -16.0) <= 0.5


def _streamed(clip: AudioClip, block_samples: int, moods) -> np.ndarray:
    """``clip`` through shape_soundtrack, read in blocks of ``block_samples``."""
    def read():
        for start in range(0, clip.samples.shape[1], block_samples):
            yield clip.samples[:, start:start + block_samples]

    track = AudioTrack(clip.sample_rate, clip.layout, clip.samples.shape[0], read)
    return np.concatenate(list(shape_soundtrack(track, moods, loudness_lufs=-14.0)), axis=1)


def test_the_stream_s_block_size_does_not_change_the_result():
    """The track streamed in blocks of 8192 or 65536 samples: the same sound (so nothing
    happens at a block edge), of the same length."""
    clip = music(seconds=4.0, channels=2)
    small, large = _streamed(clip, 8192, MOODS), _streamed(clip, 65536, MOODS)
    assert small.shape == large.shape == clip.samples.shape
    assert np.abs(small - large).max() < 1e-5


@pytest.mark.parametrize("frequency_hz", [60.0, 440.0])
def test_no_step_at_stream_block_edges(frequency_hz):
    """A steady sine under a steady mood, streamed: every edge between the 1.4 s blocks
    changes it by no more than the sine itself does (the automation tests' bound)."""
    style = SoundtrackStyle()
    out = _streamed(sine(4.0, frequency_hz), AUDIO_BLOCK_SAMPLES, [MoodSegment(0, 4, valence=-0.6, arousal=0.3)])
    for edge_sample in (AUDIO_BLOCK_SAMPLES, 2 * AUDIO_BLOCK_SAMPLES):
        edge, steady = largest_steps(out, edge_sample, round(style.ramp_ms * 48))
        assert edge <= CLICK_BOUND * steady
