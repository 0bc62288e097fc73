"""Soundtrack dynamics that follow the mood: a pedalboard chain, loudness, true peak.

    from render.audio import MoodSegment, SoundtrackStyle, process_soundtrack
    result = process_soundtrack(clip, [MoodSegment(0, 4, valence=-0.7, arousal=-0.4, emotion="sad")],
                                SoundtrackStyle(), loudness_lufs=-14.0, true_peak_dbtp=-1.0)
"""

from render.audio.automation import MoodCurve, MoodSegment
from render.audio.soundtrack import SoundtrackResult, process_soundtrack, soundtrack_processor
from render.audio.style import SoundtrackStyle

__all__ = ["MoodCurve", "MoodSegment", "SoundtrackResult", "SoundtrackStyle", "process_soundtrack",
           "soundtrack_processor"]
