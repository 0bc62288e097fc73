"""Reading the files a user names: regular files only, checked before any read, size-bounded.

Every file a user hands us (media, LUTs, CDLs, presets, grade files, timelines,
override lists) goes through here, so a FIFO, a device such as ``/dev/zero``, a
directory, a symlink loop or a file too large for its kind gives one clear
:class:`MoodgradeError` line instead of a hang, an exhausted memory or a traceback.

- :func:`check_regular_file` stats a path (following symlinks) without opening it:
  for files another library opens (FFmpeg).
- :func:`open_regular_file` opens without blocking (``O_NONBLOCK``: opening a FIFO
  must not wait for a writer), then checks the opened file, so what is read is what
  was checked.
- :func:`read_bytes_file` / :func:`read_text_file` read a whole file of at most
  ``limit_bytes``.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

from render.errors import MoodgradeError, one_line

KIB = 1 << 10
MIB = 1 << 20

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def _os_error_text(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "too many levels of symbolic links (a symlink loop?)"
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno == errno.ENAMETOOLONG:
        return "file name too long"
    return (exc.strerror or str(exc)).lower() if exc.strerror else str(exc)


def _checked(st: os.stat_result, path, what: str, error: type[MoodgradeError]) -> os.stat_result:
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "a special file")
        raise error(f"{display_path(path)}: cannot read {what}: is {kind}, not a regular file")
    return st


def _name_error(path, what: str, error) -> MoodgradeError:
    return error(f"{display_path(path)}: not a usable file name for a {what}")


def check_regular_file(path: str | os.PathLike, what: str = "file",
                       error: type[MoodgradeError] = MoodgradeError) -> os.stat_result:
    """The stat of ``path`` (symlinks followed) if it names a regular file; ``error`` otherwise.

    Domain: any path (str or PathLike). Range: an ``os.stat_result`` with ``S_ISREG``.
    Refused, with one line naming the path: missing files, symlink loops, directories,
    FIFOs, devices, sockets, names the OS cannot take (NUL, lone surrogates, too long).
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise error(f"{display_path(path)}: {_os_error_text(exc)}") from None
    except (ValueError, UnicodeError):                  # NUL bytes, lone surrogates
        raise _name_error(path, what, error) from None
    return _checked(st, path, what, error)


def open_regular_file(path: str | os.PathLike, what: str = "file",
                      error: type[MoodgradeError] = MoodgradeError) -> BinaryIO:
    """``path`` opened for binary reading, after checking the opened file is a regular file.

    Opening uses ``O_NONBLOCK`` so a FIFO cannot block the open; the check is on the
    open descriptor (``fstat``), then blocking mode is restored. Raises ``error`` with
    one line as :func:`check_regular_file` does.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise error(f"{display_path(path)}: cannot read {what}: {_os_error_text(exc)}") from None
    except (ValueError, UnicodeError):
        raise _name_error(path, what, error) from None
    try:
        _checked(os.fstat(fd), path, what, error)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes_file(path: str | os.PathLike, limit_bytes: int, what: str = "file",
                    error: type[MoodgradeError] = MoodgradeError) -> bytes:
    """The bytes of the regular file ``path``, refused if it holds more than ``limit_bytes``.

    Domain: ``limit_bytes`` >= 0. Range: at most ``limit_bytes`` bytes. Never reads more
    than ``limit_bytes + 1`` bytes, whatever the file claims its size is.
    """
    with open_regular_file(path, what, error) as f:
        try:
            # Asking for the file's size (+1) first keeps the buffer small: read(n) allocates n bytes.
            want = min(limit_bytes, os.fstat(f.fileno()).st_size) + 1
            data = f.read(want)
            if len(data) == want <= limit_bytes:         # it grew since: read on, still bounded
                data += f.read(limit_bytes + 1 - want)
        except OSError as exc:
            raise error(f"{display_path(path)}: cannot read {what}: {_os_error_text(exc)}") from None
    if len(data) > limit_bytes:
        raise error(f"{display_path(path)}: larger than the {_size_text(limit_bytes)} a {what} may have")
    return data


def read_text_file(path: str | os.PathLike, limit_bytes: int, what: str = "file",
                   error: type[MoodgradeError] = MoodgradeError, encoding: str = "utf-8") -> str:
    """The text of the regular file ``path`` (at most ``limit_bytes`` bytes), strictly decoded.

    ``encoding`` "utf-8-sig" drops a byte-order mark. Invalid text raises ``error``
    naming the byte offset. Range: a str.
    """
    data = read_bytes_file(path, limit_bytes, what, error)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise error(f"{display_path(path)}: a {what} must be UTF-8 text (invalid byte at offset {exc.start})") from None


def _size_text(n: int) -> str:
    if n >= MIB and n % MIB == 0:
        return f"{n // MIB} MiB"
    if n >= KIB and n % KIB == 0:
        return f"{n // KIB} KiB"
    return f"{n} bytes"


def display_path(path: str | os.PathLike) -> str:
    """``path`` as text safe to print on one line (see :func:`render.errors.one_line`)."""
    return one_line(os.fsdecode(path))
