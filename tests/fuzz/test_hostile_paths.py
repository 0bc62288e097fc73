"""Files that are not regular files, and names FFmpeg would read as protocols: one clear line, fast."""

import os
import threading

import pytest

from render.emotion.overrides import read_overrides
from render.emotion.timeline import MoodTimeline, content_hash
from render.errors import MoodgradeError
from render.io.source import open_source
from render.io.synthetic import ClipSpec, write_clip
from render.looks.preset import load_preset
from render.ops.cdl import read_cdl
from render.ops.grade_file import load_grade_toml
from render.ops.lut import read_cube

READERS = {
    "media": open_source, "hash": content_hash, "cube": read_cube, "cdl": read_cdl, "grade": load_grade_toml,
    "preset": lambda p: load_preset(str(p) if str(p).endswith(".toml") else f"{p}/x.toml"),
    "timeline": MoodTimeline.read_json, "timeline_csv": MoodTimeline.read_csv, "overrides": read_overrides,
}


def _refused_quickly(reader, path, *words):
    done = {}

    def run():
        try:
            reader(path)
            done["result"] = "accepted"
        except MoodgradeError as exc:
            done["result"] = str(exc)
        except BaseException as exc:  # noqa: BLE001
            done["result"] = f"escaped {type(exc).__name__}: {exc}"

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10)
    assert "result" in done, f"{reader} hung on {path}"
    message = done["result"]
    assert not message.startswith(("escaped", "accepted")), message
    assert "\n" not in message and any(w in message for w in words), message


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.toml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("kind", sorted(READERS))
def test_fifo_is_refused_without_blocking(kind, fifo):
    _refused_quickly(READERS[kind], fifo, "FIFO")


@pytest.mark.parametrize("kind", sorted(READERS))
def test_dev_zero_is_refused(kind, tmp_path):
    link = tmp_path / "zero.toml"
    link.symlink_to("/dev/zero")
    _refused_quickly(READERS[kind], link, "character device")


@pytest.mark.parametrize("kind", sorted(READERS))
def test_symlink_loop_and_directory(kind, tmp_path):
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    _refused_quickly(READERS[kind], loop, "symbolic links", "symlink loop", "no such preset")
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    _refused_quickly(READERS[kind], folder, "directory", "no such preset")


@pytest.mark.parametrize("kind", ["cube", "cdl", "grade", "timeline", "overrides"])
def test_oversized_files_are_refused_without_reading_them_whole(kind, tmp_path):
    path = tmp_path / "big.toml"
    with open(path, "wb") as f:
        f.truncate(1 << 40)                  # a sparse terabyte: reading it whole would never end
    _refused_quickly(READERS[kind], path, "larger than")


def test_names_like_protocols_open_the_file_they_name(tmp_path, monkeypatch):
    """'file:x.mp4' must be the file of that name, not x.mp4 (whose timeline would be cached for it)."""
    monkeypatch.chdir(tmp_path)
    write_clip(tmp_path / "x.mp4", ClipSpec(width=32, height=24, frames=5, audio_channels=0))
    for name, frames in (("file:x.mp4", 9), ("pipe:0", 7), ("concat:x.mp4|x.mp4", 8), ("subfile,,start,0,end,0,,:x.mp4", 6)):
        write_clip(tmp_path / "tmp.mp4", ClipSpec(width=32, height=24, frames=frames, audio_channels=0))
        os.replace(tmp_path / "tmp.mp4", tmp_path / name)
        with open_source(name) as source:
            assert source.info.video.frame_count == frames, name
            assert source.frame(frames - 1).index == frames - 1          # seeking works through file:
            assert source.info.path == name
        assert content_hash(name) != content_hash("x.mp4")


def test_lone_surrogate_and_nul_in_names(tmp_path):
    for reader in READERS.values():
        for name in (str(tmp_path / "a\udcff.toml"), str(tmp_path / "a\0.toml"), "x" * 5000 + ".toml"):
            _refused_quickly(reader, name, "no such", "not a usable file name", "too long", "not valid UTF-8")
