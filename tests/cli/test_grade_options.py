"""The grade command's fixed ops (--cdl, --lut, --grade-file, --op) do what the NumPy reference does."""

import numpy as np
import pytest

from render.backends import select_backend
from render.io.source import open_source
from render.ops.grade_file import build_grade
from render.resources import presets_dir
from tests.helpers import moodgrade


@pytest.fixture(scope="module")
def cdl_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cdl") / "shot.cc"
    path.write_text('<ColorCorrection id="shot"><SOPNode><Slope>1.1 1.0 0.9</Slope><Offset>0.02 0 -0.01</Offset>'
                    '<Power>0.95 1 1.05</Power></SOPNode><SatNode><Saturation>0.8</Saturation></SatNode>'
                    '</ColorCorrection>\n')
    return path


def test_cdl_lut_grade_file_and_op_match_the_reference(make_clip, tmp_path, cdl_file):
    src = make_clip("plain.mp4", frames=5, audio_channels=0)
    lut = presets_dir() / "luts" / "warm_print.cube"
    grade_file = tmp_path / "grade.toml"
    grade_file.write_text('[[op]]\ntype = "vignette"\namount = 0.3\n\n[[op]]\ntype = "saturation"\nsaturation = 1.2\n')
    out = tmp_path / "graded.mkv"
    run = moodgrade("grade", src, out, "--codec", "ffv1", "--cdl", cdl_file, "--lut", lut, "--grade-file", grade_file,
                    "--op", "saturation.saturation=1.4", "--op", "exposure.exposure_ev=0.3", "--quiet")
    assert run.returncode == 0, run.stderr
    grade = build_grade(grade_file=grade_file, lut=lut, cdl=cdl_file,
                        assignments=("saturation.saturation=1.4", "exposure.exposure_ev=0.3"))
    assert [type(op).__name__ for op in grade] == ["CDL", "Lut3D", "Vignette", "Saturation", "Exposure"]
    reference = select_backend("numpy")
    with open_source(src) as a, open_source(out) as b:
        for n in (0, 4):
            expected = reference.apply(a.frame(n).rgb, grade, frame_index=n)
            got = b.frame(n).rgb
            assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1, f"frame {n}"
            assert np.abs(got.astype(int) - a.frame(n).rgb.astype(int)).mean() > 3   # it did change


def test_bad_op_and_lut_are_one_line_errors(make_clip, tmp_path):
    src = make_clip("plain.mp4", frames=5, audio_channels=0)
    bad_lut = tmp_path / "bad.cube"
    bad_lut.write_text("LUT_3D_SIZE 2\n0 0 0\n1 1 1\n")
    for args, message in ((("--op", "exposure.exposure_ev=99"), "exposure_ev"),
                          (("--op", "glow.amount=1"), "unknown op 'glow'"),
                          (("--lut", bad_lut), f"{bad_lut}")):
        run = moodgrade("grade", src, tmp_path / "o.mp4", *args)
        assert run.returncode == 2 and message in run.stderr, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1 and not (tmp_path / "o.mp4").exists()


def test_hdr_sources_are_graded_with_a_warning_and_passed_through_without(make_clip, tmp_path):
    pq = make_clip("pq.mp4", frames=4, audio_channels=0, transfer=16)
    graded = moodgrade("grade", pq, tmp_path / "graded.mp4", "--op", "exposure.exposure_ev=0.5")
    assert graded.returncode == 0, graded.stderr
    assert "warning: picture: the source is HDR (SMPTE ST 2084 (PQ))" in graded.stderr
    plain = moodgrade("grade", pq, tmp_path / "plain.mp4")   # nothing graded: nothing to warn about
    assert plain.returncode == 0 and "HDR" not in plain.stderr
    sdr = moodgrade("grade", make_clip("sdr.mp4", frames=4, audio_channels=0), tmp_path / "sdr.mp4",
                    "--op", "exposure.exposure_ev=0.5")
    assert sdr.returncode == 0 and "HDR" not in sdr.stderr


@pytest.mark.parametrize("args, named", [(("--mood", "sad"), "--mood"), (("--mood", "sadd"), "--mood"),
                                         (("--intensity", "0.5", "--loudness", "-23"), "--intensity, --loudness")])
def test_mood_options_without_a_look_are_refused_not_ignored(make_clip, tmp_path, args, named):
    src = make_clip("plain.mp4", frames=5, audio_channels=0)
    run = moodgrade("grade", src, tmp_path / "out.mp4", *args)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [f"moodgrade: error: {named} need{'s' * (',' not in named)} a look "
                                               "to drive: add --preset NAME (for instance --preset natural; "
                                               "`moodgrade presets` lists them)"]
    assert not (tmp_path / "out.mp4").exists()


def test_no_look_copies_the_picture_and_says_so(make_clip, tmp_path):
    src = make_clip("plain.mp4", frames=5, audio_channels=0)
    run = moodgrade("grade", src, tmp_path / "out.mkv", "--codec", "ffv1")
    assert run.returncode == 0, run.stderr
    assert "moodgrade: warning: no look given" in run.stderr and "was copied unchanged" in run.stderr
    with open_source(src) as a, open_source(tmp_path / "out.mkv") as b:
        assert np.array_equal(a.frame(3).rgb, b.frame(3).rgb)


@pytest.mark.parametrize("out, args, words", [
    ("out.mp4", ("--codec", "ffv1"), "--codec ffv1 does not belong in a .mp4 file; use libx264 or libx265"),
    ("out.mkv", ("--codec", "png"), "--codec png does not belong in a .mkv file"),
    ("out.mp4", ("--codec", "prores_ks"), "another container (.mov, .mkv)"),
    ("out.mkv", ("--codec", "ffv1", "--crf", "10"), "--crf: no effect with --codec ffv1"),
    ("out.mov", ("--codec", "png", "--bitrate", "900", "--speed-preset", "fast"),
     "--bitrate, --speed-preset: no effect with --codec png")])
def test_codecs_that_do_not_fit_are_refused_before_any_work(make_clip, tmp_path, out, args, words):
    src = make_clip("plain.mp4", frames=5, audio_channels=0)
    run = moodgrade("grade", src, tmp_path / out, "--preset", "natural", "--cache-dir", tmp_path / "cache", *args)
    assert run.returncode == 2 and words in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "cache").exists()                  # refused before the analysis
    assert list(tmp_path.iterdir()) == []


def test_an_audio_codec_that_does_not_fit_is_refused_before_any_work(make_clip, tmp_path):
    src = make_clip("plain.mp4", frames=5, audio_channels=0)
    run = moodgrade("grade", src, tmp_path / "out.mov", "--audio-codec", "flac")
    assert run.returncode == 2 and "--audio-codec flac does not belong in a .mov file" in run.stderr
    assert list(tmp_path.iterdir()) == []
