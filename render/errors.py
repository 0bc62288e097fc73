"""Errors that the command line reports as one clear line and a non-zero exit."""


class MoodgradeError(Exception):
    """A user-facing failure: bad input, bad options, an unusable output path.

    The CLI prints ``moodgrade: error: <message>`` and exits with status 2;
    the message must make sense on its own, without a traceback.
    """


class MediaError(MoodgradeError):
    """An input that cannot be opened or decoded, or an output that cannot be written."""
