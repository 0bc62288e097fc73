"""The protocol as a client sees it: frames in every format, settings, errors, sockets, shutdown."""

import os
import signal
import stat
import subprocess
import sys

import cv2
import numpy as np
import pytest

from render.client import PreviewClient, PreviewError
from render.emotion.timeline import MoodTimeline
from render.io.source import open_source
from tests.helpers import psnr_db
from tests.server.conftest import SERVE, ServerProcess


@pytest.fixture(scope="module")
def reference(media_root):
    with open_source(media_root / "clip.mp4") as source:
        return [f.rgb for f in source.frames()]


def test_frames_in_every_format(server, reference):
    with PreviewClient.connect(server.addresses[0]) as client:
        opened = client.open("clip.mp4")
        assert opened["info"]["video"]["frame_count"] == 30 and opened["mood"] is None
        header, rgb = client.frame(17)
        assert (header["n"], header["width"], header["height"], header["dtype"]) == (17, 320, 180, "uint8")
        assert np.array_equal(rgb, reference[17])
        _, png = client.frame(17, format="png")
        assert np.array_equal(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[..., ::-1], reference[17])
        _, jpeg = client.frame(17, format="jpeg", quality=95)
        assert psnr_db(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)[..., ::-1], reference[17]) > 35
        header, half = client.frame(17, scale=0.5)
        assert half.shape == (90, 160, 3) and (header["width"], header["height"]) == (160, 90)
        assert np.array_equal(half, cv2.resize(reference[17], (160, 90), interpolation=cv2.INTER_AREA))
        assert client.frame(3, max_width=100)[1].shape == (56, 100, 3)


def test_stream_sends_the_range_in_order(server, reference):
    with PreviewClient.connect(server.addresses[0]) as client:
        client.open("clip.mp4")
        got = list(client.stream(25, 30))
        assert [h["n"] for h, _ in got] == [25, 26, 27, 28, 29]
        assert all(np.array_equal(rgb, reference[h["n"]]) for h, rgb in got)
        assert client.frame(0)[0]["n"] == 0       # the connection is usable afterwards


def test_set_changes_the_grade_and_rejects_bad_values(server, media_root):
    with PreviewClient.connect(server.addresses[0]) as client:
        client.open("clip.mp4")
        plain = client.frame(4)[1]
        settings = client.set(preset="noir", intensity=0.25, mood="sad", ops=["exposure.exposure_ev=0.3"])
        assert settings == {**settings, "preset": "noir", "intensity": 0.25, "mood": "sad",
                            "ops": ["exposure.exposure_ev=0.3"], "generation": 1}
        header, graded = client.frame(4)
        assert header["generation"] == 1 and header["mood"]["dominant"] == "sad"
        assert graded.std(axis=2).max() < 3 < plain.std(axis=2).max()     # noir is black and white
        assert client.set(mood=None)["mood"] == "auto"
        for bad, code in [({"intensity": 1.5}, "bad_request"), ({"intensity": "high"}, "bad_request"),
                          ({"mood": "elated"}, "bad_request"), ({"preset": "../x"}, "bad_request"),
                          ({"preset": "no-such-look"}, "grade"), ({"ops": ["exposure.exposure_ev=99"]}, "grade"),
                          ({"ops": "exposure.exposure_ev=1"}, "bad_request"), ({"ops": ["warp.speed=9"]}, "grade"),
                          ({"lut": "/etc/passwd"}, "forbidden"), ({"lut": "clip.mp4"}, "grade"),
                          ({"backend": "quantum"}, "bad_request")]:
            with pytest.raises(PreviewError) as error:
                client.set(**bad)
            assert error.value.code == code, bad
        assert client.set() == {**settings, "mood": "auto", "generation": 3}    # refused sets changed nothing
        client.set(preset=None, ops=[])
        assert np.array_equal(client.frame(4)[1], plain)


def test_errors_are_answered_and_the_session_goes_on(server):
    with PreviewClient.connect(server.addresses[0]) as client:
        with pytest.raises(PreviewError, match="open a clip first"):
            client.frame(0)
        for path, code in [("/etc/passwd", "forbidden"), ("../clip.mp4", "forbidden"), ("nope.mp4", "not_found")]:
            with pytest.raises(PreviewError) as error:
                client.open(path)
            assert error.value.code == code
        client.open("clip.mp4")
        for n in (30, -1):
            with pytest.raises(PreviewError) as error:
                client.frame(n)
            assert error.value.code in ("out_of_range", "bad_request")
        with pytest.raises(PreviewError) as error:
            client.request({"op": "rewind"})
        assert error.value.code == "unknown_op"
        assert client.frame(29)[0]["n"] == 29


def test_open_with_analysis_and_the_timeline(server):
    with PreviewClient.connect(server.addresses[0]) as client:
        opened = client.open("clip.mp4", analyze=True)
        assert opened["mood"]["dominant"] in client.hello["emotions"] and opened["mood"]["shots"] >= 1
        doc = client.timeline()
        timeline = MoodTimeline.from_dict(doc)
        assert doc["schema"] == "moodgrade.timeline/2" and timeline.frame_count == 30
        mood = client.frame(5)[0]["mood"]
        assert mood["valence"] == round(float(timeline.valence[5]), 4)


def test_tcp_needs_the_token(server):
    tcp = server.addresses[1]
    assert tcp.startswith("tcp://127.0.0.1:")
    for token in (None, "", "secreT", "secret" * 100):
        with pytest.raises(PreviewError) as error:
            PreviewClient.connect(tcp, token=token)
        assert error.value.code == "unauthorized"
    with PreviewClient.connect(tcp, token="secret") as client:
        assert client.open("clip.mp4")["ok"]


def test_process_socket_modes_token_and_sigterm(media_root, socket_dir):
    sock = socket_dir / "sub" / "preview.sock"
    server = ServerProcess(["--root", str(media_root), "--socket", str(sock), "--tcp", "0"],
                           env={"MOODGRADE_TOKEN": "from-env"})
    try:
        assert server.token is None                               # taken from the environment: not printed
        assert stat.S_IMODE(os.stat(sock.parent).st_mode) == 0o700
        assert stat.S_IMODE(os.lstat(sock).st_mode) == 0o600
        with PreviewClient.connect(server.addresses[1], token="from-env") as client:
            assert client.open("clip.mp4")["ok"]
            client.frame(1)
            with PreviewClient.connect(server.addresses[0]) as other:
                other.open("clip.mp4")
                server.proc.send_signal(signal.SIGTERM)
                assert server.proc.wait(timeout=20) == 0
    finally:
        if server.proc.poll() is None:
            server.stop()
    assert not sock.exists(), "the socket file is removed on SIGTERM"
    (sock.parent).rmdir()


def test_refuses_a_shared_socket_folder(media_root, tmp_path):
    os.chmod(tmp_path, 0o755)
    result = subprocess.run([sys.executable, *SERVE, "--root", str(media_root), "--socket", str(tmp_path / "p.sock")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "mode 0700" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "p.sock").exists()


def test_a_bad_look_is_refused_at_start(media_root, socket_dir):
    result = subprocess.run([sys.executable, *SERVE, "--root", str(media_root), "--socket",
                             str(socket_dir / "p.sock"), "--preset", "nope"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "unknown preset 'nope'" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
