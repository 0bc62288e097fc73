"""FFmpeg reads the server's y4m stream as it is, and the stream carries the server's frames."""

import os
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

from render.client import PreviewClient
from render.io.synthetic import pattern_frame
from render.server.y4m import rgb_to_ycbcr, y4m_header

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg_read(url: str, pix_fmt: str, timeout_s: float = 60) -> bytes:
    result = subprocess.run([FFMPEG, "-v", "error", "-nostdin", "-i", url, "-f", "rawvideo", "-pix_fmt", pix_fmt,
                             "-"], capture_output=True, timeout=timeout_s)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def planes(data: bytes, width: int, height: int, chroma_w: int, chroma_h: int, count: int, dtype=np.uint8):
    """Split raw planar frames into [[Y, Cb, Cr], ...]."""
    values = np.frombuffer(data, dtype=dtype)
    sizes = [width * height, chroma_w * chroma_h, chroma_w * chroma_h]
    assert values.size == count * sum(sizes), f"{values.size} samples for {count} frames"
    frames, offset = [], 0
    for _ in range(count):
        frame = []
        for size, shape in zip(sizes, [(height, width), (chroma_h, chroma_w), (chroma_h, chroma_w)]):
            frame.append(values[offset:offset + size].reshape(shape))
            offset += size
        frames.append(frame)
    return frames


@pytest.mark.parametrize("chroma, transport, pix_fmt", [("444", "tcp", "yuv444p"),
                                                        ("420jpeg", "unix", "yuv420p")])
def test_ffmpeg_receives_every_frame(server, chroma, transport, pix_fmt):
    start, stop = 3, 27
    with PreviewClient.connect(server.addresses[0]) as client:
        client.open("clip.mp4")
        stream = client.y4m(start, stop, chroma=chroma, transport=transport)
        assert stream["url"].startswith("tcp://127.0.0.1:" if transport == "tcp" else "unix:")
        data = ffmpeg_read(stream["url"], pix_fmt)
        raw = [client.frame(n)[1] for n in range(start, stop)]
    w, h = 320, 180
    cw, ch = (w, h) if chroma == "444" else (w // 2, h // 2)
    received = planes(data, w, h, cw, ch, stop - start)
    assert len(received) == stop - start
    for n, (got, rgb) in enumerate(zip(received, raw, strict=True), start=start):
        for plane, want in zip(got, rgb_to_ycbcr(rgb, stream["matrix"], chroma), strict=True):
            assert np.array_equal(plane, want), f"frame {n} differs"


def test_stream_can_be_read_once_only(server):
    import socket
    with PreviewClient.connect(server.addresses[0]) as client:
        client.open("clip.mp4")
        url = client.y4m(0, 2)["url"]
        port = int(url.rsplit(":", 1)[1])
        assert len(ffmpeg_read(url, "yuv444p")) == 2 * 320 * 180 * 3
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)


@pytest.mark.parametrize("matrix", ["bt601", "bt709"])
def test_conversion_matches_ffmpeg(matrix, tmp_path):
    """Our R'G'B' -> limited-range Y'CbCr agrees with swscale's within one code value."""
    rgb = pattern_frame(5, 96, 64)
    rgb[0, :8] = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0],
                  [0, 255, 255], [255, 0, 255]]
    (tmp_path / "in.rgb").write_bytes(rgb.tobytes())
    out = subprocess.run([FFMPEG, "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "96x64",
                          "-i", str(tmp_path / "in.rgb"), "-vf",
                          f"scale=out_color_matrix={matrix}:out_range=tv:flags=accurate_rnd+full_chroma_int",
                          "-f", "rawvideo", "-pix_fmt", "yuv444p", "-"], capture_output=True, check=True).stdout
    theirs = planes(out, 96, 64, 96, 64, 1)[0]
    ours = rgb_to_ycbcr(rgb, matrix, "444")
    for name, a, b in zip("Y Cb Cr".split(), ours, theirs):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1, name
    assert ours[0][0, 0] == 16 and ours[0][0, 1] == 235 and ours[1][0, 0] == 128   # black, white, neutral


def test_deep_clip_streams_16_bit(server):
    with PreviewClient.connect(server.addresses[0]) as client:
        client.open("deep.mkv")
        header, rgb = client.frame(2)
        assert header["dtype"] == "uint16" and rgb.dtype == np.uint16
        stream = client.y4m(0, 6)
        data = ffmpeg_read(stream["url"], "yuv444p16le")
        received = planes(data, 64, 36, 64, 36, 6, dtype=np.dtype("<u2"))
        for got, want in zip(received[2], rgb_to_ycbcr(rgb, stream["matrix"], "444")):
            assert np.array_equal(got, want)


def test_header_names_size_rate_and_chroma():
    from fractions import Fraction
    assert y4m_header(1920, 1080, Fraction(24000, 1001), "420jpeg", False) == \
        b"YUV4MPEG2 W1920 H1080 F24000:1001 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED\n"
    assert b" C444p16 " in y4m_header(64, 36, Fraction(25), "444", True)


def test_example_player_records_the_graded_stream(server, media_root, tmp_path):
    import sys
    from pathlib import Path

    from render.io.source import open_source
    from tests.helpers import psnr_db
    repo = Path(__file__).resolve().parents[2]
    out = tmp_path / "recorded.mkv"
    result = subprocess.run([sys.executable, str(repo / "examples" / "preview_player.py"), server.addresses[1],
                             "clip.mp4", "--token", "secret", "--start", "5", "--stop", "25", "--mood", "sad",
                             "--save", str(out)], capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "'mood': 'sad'" in result.stderr
    with open_source(out) as recorded, open_source(media_root / "clip.mp4") as source:
        got = list(recorded.frames())
        assert len(got) == 20
        for frame in got[::5]:
            assert psnr_db(frame.rgb, source.frame(5 + frame.index).rgb) > 35


def test_unread_streams_expire_and_leave_no_socket_files(media_root, socket_dir):
    import socket
    import time

    from render.server.server import ServerConfig, ServerThread
    config = ServerConfig(roots=(str(media_root),), socket_path=str(socket_dir / "p.sock"), y4m_accept_timeout_s=0.5)
    with ServerThread(config) as server, PreviewClient.connect(server.addresses[0]) as client:
        client.open("clip.mp4")
        expiring = client.y4m(0, 5, transport="tcp")["url"]
        waiting = client.y4m(0, 5, transport="unix")["url"].removeprefix("unix:")
        assert oct(os.stat(waiting).st_mode & 0o777) == "0o600"
        time.sleep(1.0)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", int(expiring.rsplit(":", 1)[1])), timeout=5)
        assert not os.path.exists(waiting)
        client.y4m(0, 5, transport="unix")                  # still waiting at shutdown
    assert sorted(p.name for p in socket_dir.iterdir()) == []


def test_a_set_during_playback_shows_on_later_frames(media_root, socket_dir, analysis_cache):
    """The stream follows the session live: black-and-white after ``set preset=noir``."""
    import socket

    from render.mood_grade import GradeOptions
    from render.server.server import ServerConfig, ServerThread
    config = ServerConfig(roots=(str(media_root),), socket_path=str(socket_dir / "p.sock"),
                          write_buffer_bytes=64 << 10, grade=GradeOptions(cache_dir=str(analysis_cache)))
    frame_bytes = len(b"FRAME\n") + 320 * 180 * 3
    with ServerThread(config) as server, PreviewClient.connect(server.addresses[0]) as client:
        client.open("clip.mp4")
        url = client.y4m(0, 30)["url"]
        reader = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=30)
        stream = reader.makefile("rb")
        assert stream.readline().startswith(b"YUV4MPEG2 W320 H180 ")
        first = stream.read(frame_bytes)
        client.set(preset="noir")
        frames = [first] + [stream.read(frame_bytes) for _ in range(29)]
        reader.close()
    chroma = [np.frombuffer(f[6:], np.uint8)[320 * 180:] for f in frames]
    assert np.abs(chroma[0].astype(int) - 128).max() > 20              # colour before
    assert np.abs(chroma[-1].astype(int) - 128).max() <= 1             # black and white after


@pytest.mark.parametrize("player", ["mpv", "ffplay"])
def test_players_read_the_stream_to_the_end(server, player, tmp_path):
    """mpv and ffplay (when installed) play the stream as they are; mpv writes out every frame it shows."""
    import shutil
    if shutil.which(player) is None:
        pytest.skip(f"{player} is not installed here")
    with PreviewClient.connect(server.addresses[0]) as client:
        client.open("clip.mp4")
        url = client.y4m(0, 12, chroma="420jpeg")["url"]
        if player == "mpv":
            command = ["mpv", "--no-config", "--untimed", "--ao=null", "--vo=image", "--vo-image-format=png",
                       f"--vo-image-outdir={tmp_path}", url]
        else:
            command = ["ffplay", "-v", "error", "-nodisp", "-autoexit", url]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    if player == "mpv":
        assert len(list(tmp_path.glob("*.png"))) == 12
