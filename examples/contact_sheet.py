"""Draw docs/contact-sheet.jpg: every built-in look on a real frame, per mood.

Rows are the presets, columns the moods (forced with full confidence); the frame
is the built-in example's astronaut shot (scikit-image's photograph).
Run: python examples/contact_sheet.py
"""

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from render.backends import select_backend
from render.demo import DEMO_CLIP
from render.io.source import open_source
from render.looks.preset import list_presets, load_preset
from render.looks.schedule import build_schedule, constant_timeline
from render.resources import presets_dir

MOODS = ("happy", "neutral", "sad", "fear", "angry")
TILE = (320, 180)
LABEL_W = 170
OUT = Path(__file__).resolve().parents[1] / "docs" / "contact-sheet.jpg"


def main() -> None:
    with open_source(DEMO_CLIP) as source:
        frame = source.frame(40, size=TILE).rgb
    backend = select_backend(None)
    names = [n for n in list_presets() if (presets_dir() / f"{n}.toml").exists()]
    header = np.full((28, LABEL_W + TILE[0] * len(MOODS), 3), 24, np.uint8)
    for k, mood in enumerate(MOODS):
        cv2.putText(header, mood, (LABEL_W + k * TILE[0] + 8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    (235, 235, 235), 1, cv2.LINE_AA)
    rows = [header]
    for name in names:
        preset = load_preset(name)
        label = np.full((TILE[1], LABEL_W, 3), 24, np.uint8)
        cv2.putText(label, name, (8, TILE[1] // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (235, 235, 235), 1, cv2.LINE_AA)
        tiles = [label]
        for mood in MOODS:
            schedule = build_schedule(preset, constant_timeline(1, Fraction(25), mood))
            tiles.append(backend.apply(frame, schedule.ops_at(0), frame_index=0))
        rows.append(np.concatenate(tiles, axis=1))
    sheet = np.concatenate(rows, axis=0)
    cv2.imwrite(str(OUT), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"wrote {OUT} ({sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
