"""moodgrade: mood-driven grading of video (import package ``render``)."""

__version__ = "0.1.0"
