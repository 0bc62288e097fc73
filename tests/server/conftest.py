"""Fixtures for the preview server tests: a media root with small clips, servers in a thread or a process."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from render.mood_grade import GradeOptions
from render.server.server import ServerConfig, ServerThread

SERVE = ["-c", "import render.cli.serve; from render.cli import main; raise SystemExit(main())", "serve"]


@pytest.fixture(scope="session")
def media_root(tmp_path_factory, make_clip):
    """A root folder with a 30-frame 320x180 clip (GOP 10, B-frames) and a 10-bit one."""
    root = tmp_path_factory.mktemp("root")
    for name, fields in {"clip.mp4": dict(frames=30, gop=10, bframes=2, audio_channels=0),
                         "deep.mkv": dict(frames=6, width=64, height=36, codec="libx265",
                                          pix_fmt="yuv420p10le", audio_channels=0)}.items():
        os.link(make_clip(name, **fields), root / name)
    return root


@pytest.fixture()
def socket_dir():
    """A short private folder for sockets (AF_UNIX paths are limited to 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="mg-"))
    os.chmod(folder, 0o700)
    yield folder
    for entry in folder.iterdir():
        entry.unlink()
    folder.rmdir()


@pytest.fixture(scope="session")
def analysis_cache(tmp_path_factory):
    """Mood timelines of the test clips, cached across tests (never in the user's cache)."""
    return tmp_path_factory.mktemp("analysis-cache")


@pytest.fixture()
def server(media_root, socket_dir, analysis_cache):
    """A server on a thread: Unix socket plus TCP with the token ``secret``."""
    config = ServerConfig(roots=(str(media_root),), socket_path=str(socket_dir / "p.sock"), tcp_port=0,
                          token="secret", memory_mb=256, workers=2, grade=GradeOptions(cache_dir=str(analysis_cache)))
    with ServerThread(config) as running:
        yield running


class ServerProcess:
    """``moodgrade serve`` in a subprocess, as users run it."""

    def __init__(self, args: list[str], env: dict | None = None):
        self.proc = subprocess.Popen([sys.executable, *SERVE, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
                                     cwd=Path(__file__).resolve().parents[2])
        self.addresses, self.token = [], None
        for line in self.proc.stdout:
            if "listening on" in line:
                self.addresses.append(line.split("listening on ", 1)[1].strip())
            elif " token " in line:
                self.token = line.rsplit(" ", 1)[1].strip()
            elif line.strip().endswith("ready"):
                return
        raise RuntimeError(f"the server did not start: {self.proc.stderr.read()}")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def stop(self) -> int:
        """SIGTERM, wait, and return the exit status; what it printed on stderr is kept in ``stderr``."""
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=20)
        finally:
            self.stderr = self.proc.stderr.read()
            self.proc.stdout.close()
            self.proc.stderr.close()
