"""Which files a preview client may open: regular files under the server's ``--root`` folders."""

import os
from pathlib import Path

from render.errors import MoodgradeError
from render.server.protocol import ProtocolError

MAX_PATH_CHARS = 4096


class Roots:
    """The folders given at start, resolved once (symlinks followed)."""

    def __init__(self, folders):
        self.folders: list[Path] = []
        for folder in folders:
            path = Path(folder).expanduser()
            if not path.is_dir():
                raise MoodgradeError(f"--root {folder}: not a folder")
            self.folders.append(path.resolve(strict=True))
        if not self.folders:
            raise MoodgradeError("give at least one --root folder that clients may open files from")

    def resolve(self, requested) -> Path:
        """The real path of ``requested`` (absolute, or relative to the first root).

        Refuses, with ProtocolError: non-strings, NUL bytes, any ``..`` component, and paths whose
        real location (after following every symlink) is not a regular file inside a root.
        """
        if not isinstance(requested, str) or not requested or len(requested) > MAX_PATH_CHARS:
            raise ProtocolError("bad_request", "field 'path' must be a non-empty string")
        if "\0" in requested:
            raise ProtocolError("bad_request", "field 'path' contains a NUL character")
        try:
            os.fsencode(requested)
        except UnicodeError:                # a lone surrogate (JSON "\ud800") names no file
            raise ProtocolError("bad_request", "field 'path' is not a valid file name (unpaired surrogate)") from None
        if ".." in Path(requested).parts:
            raise ProtocolError("forbidden", "paths may not contain '..'")
        candidate = Path(requested)
        if not candidate.is_absolute():
            candidate = self.folders[0] / candidate
        try:
            real = candidate.resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            raise ProtocolError("not_found", f"{requested}: no such file under the roots") from None
        if not any(real.is_relative_to(root) for root in self.folders):
            raise ProtocolError("forbidden", f"{requested}: outside the folders this server may open")
        if not real.is_file():
            raise ProtocolError("not_found", f"{requested}: not a regular file")
        if not os.access(real, os.R_OK):
            raise ProtocolError("forbidden", f"{requested}: not readable")
        return real
