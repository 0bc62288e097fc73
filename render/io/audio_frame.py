"""PyAV audio frames from float32 (channels, n) sample arrays, of any channel count."""

from fractions import Fraction

import av
import numpy as np


def audio_frame(samples: np.ndarray, sample_rate: int, layout: str, pts: int = 0) -> av.AudioFrame:
    """``samples`` (channels, n, -1..1) as an interleaved float frame at ``pts`` (in samples).

    Interleaved because PyAV fills at most 8 planes of a planar frame (7.1 has 9 slots);
    encoders and filters convert to the format they take.
    """
    interleaved = np.ascontiguousarray(np.asarray(samples, np.float32).T).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(interleaved, format="flt", layout=layout)
    frame.sample_rate, frame.pts, frame.time_base = sample_rate, pts, Fraction(1, sample_rate)
    return frame
