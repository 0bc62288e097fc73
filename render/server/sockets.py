"""Local sockets for the preview server: where the Unix socket lives, and who may reach it."""

import asyncio
import os
import socket
import stat
from pathlib import Path

from render.errors import MoodgradeError


def default_socket_path() -> Path:
    """``$XDG_RUNTIME_DIR/moodgrade/preview.sock``, else ``/tmp/moodgrade-<uid>/preview.sock``."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(runtime) / "moodgrade" if runtime else Path(f"/tmp/moodgrade-{os.getuid()}")
    return folder / "preview.sock"


def private_folder(folder: Path) -> None:
    """Create ``folder`` with mode 0700, or check that it is ours, a real folder, and private."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError as exc:
        raise MoodgradeError(f"{folder}: cannot create the socket folder ({exc.strerror})") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise MoodgradeError(f"{folder}: the socket folder must be a folder owned by you with mode 0700")


def claim_socket_path(path: Path) -> None:
    """Remove a stale socket at ``path``; refuse when a server still answers there or it is not a socket."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise MoodgradeError(f"{path}: exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
        raise MoodgradeError(f"{path}: another server is listening there")
    except (ConnectionRefusedError, FileNotFoundError):
        os.unlink(path)
    finally:
        probe.close()


def size_send_buffer(writer: asyncio.StreamWriter, size_bytes: int) -> None:
    """Bound what a client may have waiting in user space, and let the kernel take large sends at once
    (a socket buffer near the frame size makes asyncio ~10x faster on 6 MB frames; Linux caps it at
    net.core.wmem_max)."""
    writer.transport.set_write_buffer_limits(high=size_bytes)
    sock = writer.get_extra_info("socket")
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size_bytes)
    except OSError:
        pass
