"""A Python client for the preview server (``moodgrade serve``), protocol version 1.

    with PreviewClient.connect("unix:/run/user/1000/moodgrade/preview.sock") as client:
        info = client.open("clips/shot01.mp4")
        header, rgb = client.frame(42)                  # HxWx3 uint8 (uint16 for deep clips)
        client.set(preset="noir", intensity=0.6)
        url = client.y4m(0, 100)["url"]                 # ffplay / mpv can read it

Addresses: ``unix:PATH`` (or a bare path) and ``tcp://127.0.0.1:PORT`` (needs the token).
"""

import json
import socket
from collections.abc import Iterator

import numpy as np

from render.errors import MoodgradeError
from render.server.protocol import LENGTH, MAX_FRAME_BYTES, MAX_REPLY_BYTES, PROTOCOL_VERSION, pack_json


class PreviewError(MoodgradeError):
    """The server answered with an error; ``code`` is its machine-readable reason."""

    def __init__(self, code: str, message: str):
        super().__init__(f"preview server: {message} ({code})")
        self.code = code


def decode_payload(header: dict, payload: bytearray):
    """A frame payload as the caller wants it: raw ``rgb`` -> HxWx3 ndarray, PNG/JPEG -> the bytes."""
    if header["format"] != "rgb":
        return payload
    dtype = np.dtype(header["dtype"]).newbyteorder("<")
    return np.frombuffer(payload, dtype=dtype).reshape(header["height"], header["width"], 3)


class PreviewClient:
    """One connection and its session. Methods block; errors raise :class:`PreviewError`."""

    def __init__(self, sock: socket.socket, token: str | None = None):
        self._sock = sock
        self._next_id = 0
        self.hello = self.request({"op": "hello", "version": PROTOCOL_VERSION, "token": token})[0]

    @classmethod
    def connect(cls, address: str, token: str | None = None, timeout_s: float = 60.0) -> "PreviewClient":
        """Connect to ``unix:PATH``, a socket path, or ``tcp://127.0.0.1:PORT``, and say hello."""
        if address.startswith("tcp://"):
            host, _, port = address[len("tcp://"):].rpartition(":")
            sock = socket.create_connection((host, int(port)), timeout=timeout_s)
        else:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout_s)
            sock.connect(address.removeprefix("unix:"))
        try:
            return cls(sock, token)
        except BaseException:
            sock.close()
            raise

    # ---------------------------------------------------------------- wire
    def _recv_exact(self, count: int) -> bytearray:
        buffer = bytearray(count)
        view, got = memoryview(buffer), 0
        while got < count:
            n = self._sock.recv_into(view[got:])
            if n == 0:
                raise PreviewError("closed", "the server closed the connection")
            got += n
        return buffer

    def _recv_message(self, limit: int) -> bytearray:
        (length,) = LENGTH.unpack(self._recv_exact(4))
        if length > limit:
            raise PreviewError("too_large", f"a message of {length} bytes exceeds the limit")
        return self._recv_exact(length)

    def _receive(self) -> tuple[dict, bytearray | None]:
        header = json.loads(self._recv_message(MAX_REPLY_BYTES))
        payload = self._recv_message(MAX_FRAME_BYTES) if header.get("payload_bytes") else None
        if not header.get("ok"):
            error = header.get("error", {})
            raise PreviewError(error.get("code", "unknown"), error.get("message", "request failed"))
        return header, payload

    def request(self, message: dict) -> tuple[dict, bytearray | None]:
        """Send one request (an ``id`` is added) and return its reply header and payload."""
        self._next_id += 1
        self._sock.sendall(pack_json({**message, "id": self._next_id}))
        return self._receive()

    # ----------------------------------------------------------------- ops
    def open(self, path: str, analyze: bool = False) -> dict:
        """Open a clip under the server's roots; returns ``info``, ``mood``, ``settings``."""
        return self.request({"op": "open", "path": str(path), "analyze": analyze})[0]

    def frame(self, n: int, format: str = "rgb", scale: float | None = None, max_width: int | None = None,
              quality: int = 90) -> tuple[dict, object]:
        """Frame ``n`` graded with the session's settings: (header, ndarray for rgb | encoded bytes)."""
        header, payload = self.request({"op": "frame", "n": n, "format": format, "scale": scale,
                                        "max_width": max_width, "quality": quality})
        return header, decode_payload(header, payload)

    def stream(self, start: int = 0, stop: int | None = None, format: str = "rgb",
               scale: float | None = None) -> Iterator[tuple[dict, object]]:
        """Frames ``start <= n < stop`` in order, as (header, frame); read it to the end."""
        self._next_id += 1
        self._sock.sendall(pack_json({"op": "stream", "id": self._next_id, "start": start, "stop": stop,
                                      "format": format, "scale": scale}))
        while True:
            header, payload = self._receive()
            if header.get("done"):
                return
            yield header, decode_payload(header, payload)

    def timeline(self) -> dict:
        """The clip's mood timeline document (``moodgrade.timeline/2``: columns packed, read
        them with ``render.emotion.timeline.MoodTimeline.from_dict``)."""
        return self.request({"op": "timeline"})[0]["timeline"]

    def set(self, **settings) -> dict:
        """Change the grade: ``preset``, ``intensity`` (0..1), ``mood`` (or None), ``ops``, ``backend``."""
        return self.request({"op": "set", **settings})[0]["settings"]

    def y4m(self, start: int = 0, stop: int | None = None, chroma: str = "444", matrix: str = "auto",
            transport: str = "tcp") -> dict:
        """A one-shot y4m stream of graded frames; the reply's ``url`` is for FFmpeg, ffplay or mpv."""
        return self.request({"op": "y4m", "start": start, "stop": stop, "chroma": chroma, "matrix": matrix,
                             "transport": transport})[0]

    def close(self) -> None:
        """End the session and the connection."""
        try:
            self.request({"op": "close"})
        except (OSError, PreviewError):
            pass
        finally:
            self._sock.close()

    def __enter__(self) -> "PreviewClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
