"""The built-in example: two shots of real photographs with a soundtrack (see
examples/make_demo_clip.py), a smiling face first and a cooler, darker shot after the cut."""

from pathlib import Path

DEMO_CLIP = Path(__file__).resolve().parent / "demo.mp4"
DEMO_PRESET = "teal-orange"
