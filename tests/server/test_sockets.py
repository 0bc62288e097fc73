"""Where the Unix socket lives and who may reach it."""

import os
import socket

import pytest

from render.errors import MoodgradeError
from render.server.sockets import claim_socket_path, default_socket_path, private_folder


def test_default_socket_path_follows_xdg_runtime_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert default_socket_path() == tmp_path / "moodgrade" / "preview.sock"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert default_socket_path().parent.name == f"moodgrade-{os.getuid()}"


def test_private_folder_is_created_0700_and_shared_or_linked_ones_refused(tmp_path):
    private_folder(tmp_path / "new" / "sock")
    assert os.stat(tmp_path / "new" / "sock").st_mode & 0o777 == 0o700
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    with pytest.raises(MoodgradeError, match="mode 0700"):
        private_folder(shared)
    os.symlink(tmp_path / "new" / "sock", tmp_path / "link")
    with pytest.raises(MoodgradeError, match="mode 0700"):
        private_folder(tmp_path / "link")


def test_claim_removes_stale_sockets_only(socket_dir):
    path = socket_dir / "s.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()                                   # bound, never listening: a crashed server's leftover
    claim_socket_path(path)
    assert not path.exists()
    live = socket.socket(socket.AF_UNIX)
    live.bind(str(path))
    live.listen()
    try:
        with pytest.raises(MoodgradeError, match="another server"):
            claim_socket_path(path)
    finally:
        live.close()
        path.unlink()
    path.write_text("precious")
    with pytest.raises(MoodgradeError, match="not a socket"):
        claim_socket_path(path)
    assert path.read_text() == "precious"
