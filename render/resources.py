"""Locate the data shipped with the package: kernel sources and presets.

An installed wheel carries them under ``render/_data``; a source checkout
(editable install, or running from the repository) has them at the top level.
"""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"moodgrade data folder {name!r} is missing from the installation")


def kernels_dir() -> Path:
    """Folder holding the device kernel sources (``*.h``, ``*.cl``/``*.cu``)."""
    return _data_dir("kernels")


def presets_dir() -> Path:
    """Folder holding the built-in looks (``*.toml`` and the LUT/CDL files they reference)."""
    return _data_dir("presets")
