"""The preview server's memory: one budget in bytes for everything it holds.

Two kinds of use share the budget. Cached frames (decoded and graded, of every
session) are evicted least recently used first, whenever room is needed;
frames marked precious (decoded ones: remaking one may mean decoding a whole
group of pictures, where a graded one costs one grade) keep at least half of
the room the cache has.
Reservations are what cannot be evicted while in use: open decoders, the
buffers of the grading backend, frames being graded, and replies being written
to clients. A reservation that does not fit after every cached frame is gone
is refused with ``busy``: an overloaded server says so instead of growing.
"""

import threading
from collections import OrderedDict
from collections.abc import Hashable

from render.io.source import VideoFrame
from render.server.protocol import ProtocolError


class Reservation:
    """Bytes taken from a :class:`MemoryBudget` until :meth:`release` (idempotent; ``with`` releases)."""

    def __init__(self, budget: "MemoryBudget", nbytes: int):
        self._budget, self.nbytes = budget, nbytes

    def release(self) -> None:
        if self._budget is not None:
            self._budget._release(self.nbytes)
            self._budget = None

    def __enter__(self) -> "Reservation":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class MemoryBudget:
    """``total_bytes`` shared by an LRU of frames (:class:`VideoFrame`, by pixel bytes) and reservations."""

    def __init__(self, total_bytes: int):
        self.total_bytes = int(total_bytes)
        self._lock = threading.Lock()
        self._lru = {False: OrderedDict(), True: OrderedDict()}     # by precious: key -> frame
        self._bytes = {False: 0, True: 0}
        self._reserved = 0
        self._standing: dict[str, int] = {}

    # ---------------------------------------------------------------- frames
    def get(self, key: Hashable) -> VideoFrame | None:
        """The cached frame for ``key`` (now the most recently used), or None."""
        with self._lock:
            for lru in self._lru.values():
                frame = lru.get(key)
                if frame is not None:
                    lru.move_to_end(key)
                    return frame
            return None

    def put(self, key: Hashable, frame: VideoFrame, precious: bool = False) -> None:
        """Cache ``frame`` (its pixels must not be modified afterwards), evicting the least recently
        used frames to make room; a frame that does not fit beside the reservations is not kept."""
        with self._lock:
            for kind, lru in self._lru.items():
                old = lru.pop(key, None)
                if old is not None:
                    self._bytes[kind] -= old.rgb.nbytes
            room = self.total_bytes - self._reserved - frame.rgb.nbytes
            if room < 0:
                return
            self._evict_to(room)
            self._lru[precious][key] = frame
            self._bytes[precious] += frame.rgb.nbytes

    def _evict_to(self, frame_bytes: int) -> None:
        """Evict until the cached frames take at most ``frame_bytes``: the least recently used
        ordinary frame while ordinary frames take at least half, else the oldest precious one."""
        while self._bytes[False] + self._bytes[True] > frame_bytes:
            kind = bool(self._lru[True]) and (self._bytes[True] > self._bytes[False] or not self._lru[False])
            _, evicted = self._lru[kind].popitem(last=False)
            self._bytes[kind] -= evicted.rgb.nbytes

    # ---------------------------------------------------------- reservations
    def reserve(self, nbytes: int, what: str) -> Reservation:
        """Take ``nbytes`` for ``what`` (named in the refusal), evicting cached frames as needed;
        ProtocolError ``busy`` when the reservations already in use leave too little."""
        nbytes = max(0, int(nbytes))
        with self._lock:
            self._take(nbytes, what)
        return Reservation(self, nbytes)

    def stand(self, name: str, nbytes: int) -> None:
        """Keep at least ``nbytes`` reserved for ``name`` from now on (memory that stays allocated once
        used, such as a backend's frame buffers): raises the standing reservation, never lowers it;
        ProtocolError ``busy`` as :meth:`reserve` when the rise does not fit."""
        with self._lock:
            grow = int(nbytes) - self._standing.get(name, 0)
            if grow > 0:
                self._take(grow, name)
                self._standing[name] = int(nbytes)

    def _take(self, nbytes: int, what: str) -> None:
        """Reserve ``nbytes`` (the lock held), evicting cached frames, or refuse with ``busy``."""
        if self._reserved + nbytes > self.total_bytes:
            raise ProtocolError("busy", f"the server's memory budget ({self.total_bytes >> 20} MiB) is in use; "
                                        f"no room for {what} ({nbytes >> 20} MiB); try again")
        self._reserved += nbytes
        self._evict_to(self.total_bytes - self._reserved)

    def _release(self, nbytes: int) -> None:
        with self._lock:
            self._reserved -= nbytes

    # ---------------------------------------------------------------- status
    @property
    def frame_bytes(self) -> int:
        with self._lock:
            return self._bytes[False] + self._bytes[True]

    @property
    def reserved_bytes(self) -> int:
        with self._lock:
            return self._reserved

    @property
    def used_bytes(self) -> int:
        with self._lock:
            return self._bytes[False] + self._bytes[True] + self._reserved
