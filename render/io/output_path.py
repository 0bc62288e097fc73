"""Output files are written beside their destination under a temporary name and renamed
into place only when complete, so a failed or interrupted render leaves nothing behind."""

import contextlib
import os
import tempfile
from pathlib import Path

from render.errors import MediaError, MoodgradeError

TEMP_MARKER = ".moodgrade-tmp-"


def check_output_path(output: str | os.PathLike, inputs: tuple[str | os.PathLike, ...] = (),
                      overwrite: bool = False) -> Path:
    """Validate ``output`` before any work starts; returns it as a Path.

    Refuses the path of any input (inputs are never modified), an existing file
    unless ``overwrite``, a directory, and a folder that does not exist.
    """
    out = Path(output)
    for source in inputs:
        source = Path(source)
        if out.resolve() == source.resolve() or (out.exists() and source.exists() and os.path.samefile(out, source)):
            raise MediaError(f"{out}: the output would overwrite the input")
    if out.is_dir():
        raise MediaError(f"{out}: is a directory; give a file name for the output")
    if out.exists() and not overwrite:
        raise MediaError(f"{out}: already exists (use --overwrite to replace it)")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise MediaError(f"{out}: the output folder {parent} does not exist")
    return out


def temporary_path(output: Path) -> Path:
    """The temporary name beside ``output`` (same suffix, so the container type is kept)."""
    return output.with_name(f".{output.stem}{TEMP_MARKER}{os.getpid()}{output.suffix}")


def commit(temporary: Path, output: Path) -> None:
    """Atomically move the finished temporary file to its destination."""
    try:
        os.replace(temporary, output)
    except OSError as exc:
        discard(temporary)
        raise MediaError(f"{output}: cannot be written ({exc.strerror})") from None


def discard(temporary: Path) -> None:
    """Remove a temporary file if it exists."""
    try:
        temporary.unlink()
    except FileNotFoundError:
        pass


def _process_umask() -> int:
    """The process's file-creation mask (read once: it is only changed by setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _process_umask()


@contextlib.contextmanager
def atomic_text_file(path: Path):
    """A text file (UTF-8) written under a temporary name beside ``path`` and renamed into place
    when the block ends without an error (removed otherwise); its mode follows the umask, as a
    plainly created file's would (mkstemp alone would make it 0600)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise MoodgradeError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
