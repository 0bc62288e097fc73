"""Bad input and interruptions: one clear line, non-zero exit, nothing left at the output path."""

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.helpers import moodgrade


def _assert_clean_failure(result, out_path, *, message):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("moodgrade: error:") and message in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert not out_path.exists()
    assert not [p for p in out_path.parent.iterdir() if "moodgrade-tmp" in p.name]


@pytest.fixture
def out(tmp_path):
    return tmp_path / "out.mp4"


def test_missing_file(tmp_path, out):
    _assert_clean_failure(moodgrade("grade", tmp_path / "nope.mp4", out), out, message="no such file")


def test_zero_byte_file(tmp_path, out):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    _assert_clean_failure(moodgrade("grade", empty, out), out, message="empty file")


def test_text_file_named_mp4(tmp_path, out):
    text = tmp_path / "notes.mp4"
    text.write_text("these are not the frames you are looking for\n" * 20)
    _assert_clean_failure(moodgrade("grade", text, out), out, message="not a media file")


@pytest.mark.parametrize("faststart", [False, True])
def test_truncated_mp4(make_clip, tmp_path, out, faststart):
    import av
    src = make_clip("plain_long.mp4", frames=60, audio_channels=2)
    if faststart:  # the index (moov) first, so the file opens but the frames run out
        moved = tmp_path / "faststart.mp4"
        with av.open(str(src)) as a, av.open(str(moved), "w", options={"movflags": "+faststart"}) as b:
            streams = {s.index: b.add_stream_from_template(s) for s in a.streams}
            for packet in a.demux():
                if packet.dts is not None:
                    packet.stream = streams[packet.stream.index]
                    b.mux(packet)
        src = moved
    data = src.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    _assert_clean_failure(moodgrade("grade", cut, out), out, message="cut.mp4")


def test_directory_as_input(tmp_path, out):
    _assert_clean_failure(moodgrade("grade", tmp_path, out), out, message="is a directory")


def test_output_folder_missing(make_clip, tmp_path):
    out = tmp_path / "missing" / "out.mp4"
    result = moodgrade("grade", make_clip("plain.mp4", frames=5, audio_channels=0), out)
    assert result.returncode != 0 and "does not exist" in result.stderr and not out.exists()


def test_unwritable_output_folder(make_clip, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    out = folder / "out.mp4"
    try:
        if os.access(folder, os.W_OK):  # root ignores permissions: /proc refuses new files even to root
            out = __import__("pathlib").Path("/proc/out.mp4")
        result = moodgrade("grade", make_clip("plain.mp4", frames=5, audio_channels=0), out)
        assert result.returncode != 0 and "cannot be written" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()
    finally:
        folder.chmod(0o700)


def test_output_equal_to_input(make_clip, tmp_path):
    src = make_clip("plain.mp4", frames=5, audio_channels=0)
    before = src.read_bytes()
    result = moodgrade("grade", src, src, "--overwrite")
    assert result.returncode != 0 and "overwrite the input" in result.stderr
    assert src.read_bytes() == before


def test_existing_output_needs_overwrite(make_clip, tmp_path):
    src = make_clip("plain.mp4", frames=5, audio_channels=0)
    out = tmp_path / "exists.mp4"
    out.write_bytes(b"keep me")
    result = moodgrade("grade", src, out)
    assert result.returncode != 0 and "--overwrite" in result.stderr and out.read_bytes() == b"keep me"
    assert moodgrade("grade", src, out, "--overwrite", "--quiet").returncode == 0
    assert out.stat().st_size > 1000


def test_audio_only_input_cannot_be_graded(make_clip, tmp_path, out):
    _assert_clean_failure(moodgrade("grade", make_clip("audio_only.m4a", video=False, audio_channels=1), out),
                          out, message="no video stream")


@pytest.mark.parametrize("signum,status,message", [(signal.SIGINT, 130, "moodgrade: interrupted"),
                                                    (signal.SIGTERM, 143, "moodgrade: terminated")])
def test_signal_halfway_leaves_nothing(make_clip, tmp_path, signum, status, message):
    src = make_clip("long.mp4", width=640, height=360, frames=400, audio_channels=2)
    out = tmp_path / "interrupted.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "render", "grade", str(src), str(out), "--log-json",
                             "--speed-preset", "slow"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        event = json.loads(line)
        if event["event"] == "progress" and event["frames_done"] >= 5:
            break
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert "Traceback" not in err and err.strip() == message
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if "moodgrade-tmp" in p.name]


def test_probe_json_and_table(bigbuckbunny):
    result = moodgrade("probe", bigbuckbunny, "--json")
    info = json.loads(result.stdout)
    assert info["video"]["frame_count"] == 132 and info["audio"]["layout"] == "5.1"
    table = moodgrade("probe", bigbuckbunny).stdout
    assert "frame_rate" in table and "1280" in table



def test_forced_backend_that_is_missing(make_clip, tmp_path, out):
    import importlib.util
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed here")
    _assert_clean_failure(moodgrade("grade", make_clip("plain.mp4", frames=5, audio_channels=0), out,
                                    "--backend", "cuda"), out, message="backend 'cuda' is not available")
