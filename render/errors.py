"""Errors that the command line reports as one clear line and a non-zero exit."""


def one_line(text: str) -> str:
    """``text`` on one printable line: line breaks and other control characters are escaped
    (as ``\\n``, ``\\x1b``, ...), lone surrogates as ``\\udcxx``. Domain: any str; range: a str with
    no line break, no control character and nothing UTF-8 cannot encode."""
    if text.isprintable():
        try:
            text.encode("utf-8")
            return text
        except UnicodeEncodeError:
            pass
    return "".join(c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else ascii(c)[1:-1] for c in text)


class MoodgradeError(Exception):
    """A user-facing failure: bad input, bad options, an unusable output path.

    The CLI prints ``moodgrade: error: <message>`` and exits with status 2;
    the message must make sense on its own, without a traceback. It is kept to one
    line: whatever a file name or a value quoted in it holds is escaped (:func:`one_line`).
    """

    def __init__(self, *args):
        super().__init__(*(one_line(a) if isinstance(a, str) else a for a in args))


class MediaError(MoodgradeError):
    """An input that cannot be opened or decoded, or an output that cannot be written."""
