"""Small measurement helpers shared by the tests."""

import subprocess
import sys

import numpy as np

from render.io.source import open_source


def psnr_db(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two frames of the same dtype, in dB."""
    peak = 255.0 if a.dtype == np.uint8 else 65535.0
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(peak * peak / mse)


def decode_all(path) -> list:
    with open_source(path) as source:
        return list(source.frames())


def moodgrade(*args, timeout=300) -> subprocess.CompletedProcess:
    """Run the command line as a user would, in a separate process."""
    return subprocess.run([sys.executable, "-m", "render", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)
