"""The preview protocol's wire format (version 1), shared by the server and the client.

Every message, in both directions, is a 4-byte big-endian unsigned length
followed by that many bytes. Requests are JSON objects (UTF-8). Every reply
is a JSON object; a reply whose ``payload_bytes`` is N > 0 is followed by one
binary message of exactly N bytes (a frame). See ``docs/protocol.md``.
"""

import json
import struct

from render.errors import MoodgradeError

PROTOCOL_VERSION = 1
LENGTH = struct.Struct(">I")
MAX_REQUEST_BYTES = 64 * 1024            # a request larger than this is refused and the client dropped
MAX_REPLY_BYTES = 16 * 1024 * 1024       # JSON replies (a long timeline) stay under this
MAX_FRAME_BYTES = 256 * 1024 * 1024      # frame payloads (8K RGB48 is 199 MB) stay under this
FRAME_FORMATS = ("rgb", "png", "jpeg")


class ProtocolError(MoodgradeError):
    """A request that breaks the protocol; ``code`` is the machine-readable reason.

    Codes: ``bad_request`` (malformed), ``unauthorized``, ``unsupported_version``,
    ``unknown_op``, ``forbidden`` (path outside the roots), ``not_found``, ``no_clip``,
    ``out_of_range``, ``too_large``, ``too_large_message``, ``busy``, ``media`` (unreadable
    media), ``grade`` (the grade could not be built or run).
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def pack(body: bytes) -> bytes:
    """One message: length prefix + ``body``."""
    return LENGTH.pack(len(body)) + body


def pack_json(obj: dict) -> bytes:
    """One JSON message (compact, UTF-8)."""
    return pack(json.dumps(obj, separators=(",", ":"), allow_nan=False).encode())


def parse_request(body: bytes) -> dict:
    """A request body -> dict with a string ``op``; anything else raises ProtocolError(bad_request)."""
    try:
        request = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError("bad_request", f"not a JSON message ({type(exc).__name__})") from None
    if not isinstance(request, dict):
        raise ProtocolError("bad_request", "a request must be a JSON object")
    if not isinstance(request.get("op"), str):
        raise ProtocolError("bad_request", "a request needs a string field 'op'")
    return request


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def field(request: dict, name: str, kind, default=None, *, low=None, high=None, choices=None):
    """``request[name]`` checked to be of ``kind`` (and within [low, high] / in ``choices``).

    A missing field gives ``default``; a missing field without default, a wrong type or a value
    out of bounds raises ProtocolError(bad_request) naming the field.
    """
    if name not in request or request[name] is None:
        if default is ...:
            raise ProtocolError("bad_request", f"'{request['op']}' needs the field '{name}'")
        return default
    value = request[name]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value) if abs(value) < 2 ** 53 else float("inf")
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ProtocolError("bad_request", f"field '{name}' must be {kind.__name__}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ProtocolError("bad_request", f"field '{name}' must lie in [{low}, {high}], not {value}")
    if choices is not None and value not in choices:
        raise ProtocolError("bad_request", f"field '{name}' must be one of {', '.join(map(str, choices))}")
    return value
