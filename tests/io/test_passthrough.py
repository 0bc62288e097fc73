"""Pass-through renders: what goes in comes out, with its timing, depth, tags and sound."""

import subprocess

import av
import imageio_ffmpeg
import numpy as np
import pytest

from render.io.sink import EncodeSettings
from render.io.source import open_source
from render.job import render_file
from tests.conftest import VFR_DURATIONS
from tests.helpers import decode_all, psnr_db


def test_bigbuckbunny_to_h264_crf18(bigbuckbunny, tmp_path):
    out = render_file(bigbuckbunny, tmp_path / "bbb.mp4", EncodeSettings(codec="libx264", crf=18),
                      workers=2).output
    with open_source(bigbuckbunny) as a, open_source(out) as b:
        vin, vout = a.info.video, b.info.video
        assert vout.frame_count == vin.frame_count == 132
        assert abs(vout.duration_s - vin.duration_s) <= 1 / float(vin.frame_rate)
        assert abs(b.info.audio.duration_s - a.info.audio.duration_s) <= 0.025
        audio_in, audio_out = a.read_audio(), b.read_audio()
        assert abs(audio_out.duration_s - audio_in.duration_s) <= 0.025
        psnrs = [psnr_db(x.rgb, y.rgb) for x, y in zip(a.frames(), b.frames(), strict=True)]
    assert np.mean(psnrs) >= 40.0, f"mean PSNR {np.mean(psnrs):.2f} dB"


def test_ffv1_rgb_is_bit_identical(bigbuckbunny, tmp_path):
    out = render_file(bigbuckbunny, tmp_path / "bbb.mkv", EncodeSettings(codec="ffv1", pix_fmt="bgr0")).output
    with open_source(bigbuckbunny) as a, open_source(out) as b:
        for x, y in zip(a.frames(), b.frames(), strict=True):
            assert np.array_equal(x.rgb, y.rgb), f"frame {x.index} differs"


def _luma_mean_offset(source, output, frames: int) -> float:
    """Mean of output Y' minus source Y' over the first ``frames`` frames, in code values."""
    def luma(path):
        with av.open(str(path)) as container:
            for _, frame in zip(range(frames), container.decode(video=0)):
                plane = frame.planes[0]
                dtype = np.uint16 if frame.format.name.endswith("10le") else np.uint8
                yield np.frombuffer(plane, dtype).reshape(plane.height, -1)[:, :plane.width].mean()
    return float(np.mean([o - s for s, o in zip(luma(source), luma(output), strict=True)]))


def test_round_trip_through_rgb_keeps_the_level(bigbuckbunny, tmp_path):
    """Decoding to R'G'B' and encoding back (lossless, the source's 4:2:0) leaves luma where it
    was: swscale's default rounding moves it about -1 code value (FFmpeg's default RGB round trip)."""
    ten = tmp_path / "bbb_10bit.mkv"     # the same pictures at 10 bits, converted in Y'CbCr
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(bigbuckbunny), "-frames:v", "6",
                    "-pix_fmt", "yuv420p10le", "-c:v", "ffv1", "-an", str(ten)], check=True)
    for source, pix_fmt in ((bigbuckbunny, "yuv420p"), (ten, "yuv420p10le")):
        out = render_file(source, tmp_path / f"{pix_fmt}.mkv", frame_range=(0, 6),
                          settings=EncodeSettings(codec="ffv1", crf=None, audio="none", pix_fmt=pix_fmt)).output
        offset = _luma_mean_offset(source, out, frames=6)
        assert abs(offset) < 0.1, f"{pix_fmt}: Y' moved {offset:+.3f} code values"


def _first_packet_times_s(path) -> dict[str, float]:
    first = {}
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.pts is not None and packet.stream.type not in first:
                first[packet.stream.type] = float(packet.pts * packet.time_base)
    return first


def test_streams_start_where_ffmpegs_remux_starts_them(make_clip, tmp_path):
    """A copied AAC track begins with priming (a packet before zero): the video still starts at
    zero in every container, as in FFmpeg's remux (Matroska's default shift started it 21 ms late)."""
    src = make_clip("primed.mp4", frames=10)
    for suffix in ("mkv", "mp4", "mov"):
        ours = render_file(src, tmp_path / f"ours.{suffix}").output
        remux = tmp_path / f"remux.{suffix}"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(src), "-c", "copy", str(remux)],
                       check=True)
        got, expected = _first_packet_times_s(ours), _first_packet_times_s(remux)
        assert got["video"] == expected["video"] == 0.0, suffix
        assert abs(got["audio"] - expected["audio"]) <= 0.001, (suffix, got, expected)


def test_vfr_keeps_timestamps(make_clip, tmp_path):
    src = make_clip("vfr.mkv", frame_durations=VFR_DURATIONS, frames=16)
    for name in ("vfr_out.mkv", "vfr_out.mp4"):
        out = render_file(src, tmp_path / name).output
        times_in = [f.time_s for f in decode_all(src)]
        times_out = [f.time_s for f in decode_all(out)]
        assert np.allclose(times_in, times_out, atol=1e-3), name


@pytest.mark.parametrize("codec,suffix", [("libx265", "mkv"), ("ffv1", "mkv")])
def test_ten_bit_stays_ten_bit(make_clip, tmp_path, codec, suffix):
    src = make_clip("ten_bit.mkv", codec="libx265", pix_fmt="yuv420p10le", frames=6)
    out = render_file(src, tmp_path / f"ten.{suffix}", EncodeSettings(codec=codec)).output
    with open_source(src) as a, open_source(out) as b:
        assert b.info.video.bit_depth == 10
        x, y = a.frame(3).rgb, b.frame(3).rgb
    assert y.dtype == np.uint16 and psnr_db(x, y) > (60 if codec == "ffv1" else 35)


def test_odd_size_keeps_size(make_clip, tmp_path):
    src = make_clip("odd.mkv", codec="ffv1", pix_fmt="yuv420p", width=1279, height=719, frames=4, audio_channels=0)
    out = render_file(src, tmp_path / "odd.mp4").output
    with open_source(src) as a, open_source(out) as b:
        assert (b.info.video.width, b.info.video.height) == (1279, 719)
        assert psnr_db(a.frame(2).rgb, b.frame(2).rgb) > 40


def test_rotation_and_colour_tags_are_kept(make_clip, tmp_path):
    src = make_clip("rot.mp4", rotation_deg=90, audio_channels=0)
    out = render_file(src, tmp_path / "rot_out.mov", EncodeSettings(codec="prores_ks")).output
    with open_source(src) as a, open_source(out) as b:
        assert b.info.video.rotation_deg == 90
        assert b.info.video.colour.names() == a.info.video.colour.names()
        assert (b.info.video.width, b.info.video.height) == (320, 180)


def test_audio_reencode_and_channels(make_clip, tmp_path):
    src = make_clip("six_channels.mkv", audio_channels=6, frames=25)
    for codec, name in (("opus", "a.mkv"), ("flac", "b.mkv"), ("pcm", "c.mov"), ("aac", "d.mp4")):
        out = render_file(src, tmp_path / name, EncodeSettings(audio=codec)).output
        with open_source(src) as a, open_source(out) as b:
            assert b.info.audio.channels == 6, codec
            assert abs(b.read_audio().duration_s - a.read_audio().duration_s) < 0.03, codec


def test_png_in_mov_is_lossless(make_clip, tmp_path):
    src = make_clip("plain.mp4", frames=5, audio_channels=0)
    out = render_file(src, tmp_path / "png.mov", EncodeSettings(codec="png")).output
    assert all(np.array_equal(x.rgb, y.rgb) for x, y in zip(decode_all(src), decode_all(out), strict=True))


def test_input_is_not_modified(make_clip, tmp_path):
    src = make_clip("plain.mp4", frames=5, audio_channels=0)
    before = src.read_bytes()
    render_file(src, tmp_path / "copy.mp4")
    assert src.read_bytes() == before
