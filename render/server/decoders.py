"""Decoders shared by every preview session: a few open files per clip, not one per client.

A clip is opened once (its frame index and probe are read once) and known by
its real path, size and modification time. To decode frame n, a session
borrows an idle decoder of the clip (preferably one already positioned just
before n in the same group of pictures, so playback and short jumps decode
forward without seeking), or a new one while fewer than ``max_decoders`` are
open, closing the least recently used idle decoder of another clip when
needed. Each open decoder holds a reservation of the server's memory budget
(its reference frames); decoded frames go to the budget's frame cache, shared
by every session.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from render.io.source import Source, SourceInfo, VideoFrame
from render.server.memory import MemoryBudget, Reservation
from render.server.protocol import ProtocolError

DECODER_FRAMES = 18        # reference frames H.264/HEVC may keep (16) + the frame being decoded + slack
MAX_CLIPS = 64             # clips whose index is kept (a few hundred bytes per minute of video each)


def decoder_bytes(info: SourceInfo) -> int:
    """What one open decoder of this clip is counted for: DECODER_FRAMES coded pictures."""
    v = info.video
    sample_bytes = 1 if v.bit_depth <= 8 else 2
    chroma = 3.0 if "444" in v.pix_fmt or v.pix_fmt.startswith(("rgb", "gbr")) else 2.0 if "422" in v.pix_fmt else 1.5
    return int(DECODER_FRAMES * v.width * v.height * sample_bytes * chroma)


@dataclass(eq=False)
class Clip:
    """One file as the sessions share it: ``key`` = (real path, size, mtime in ns); ``template``:
    its first Source (maybe closed since), whose index and probe later decoders copy."""

    key: tuple
    path: Path
    template: Source
    idle: list = field(default_factory=list)       # (Source, Reservation), least recently used first

    @property
    def info(self) -> SourceInfo:
        return self.template.info

    @property
    def rgb_format(self) -> str:
        return self.template.rgb_format


class DecoderPool:
    """Open clips and their decoders (:class:`render.io.source.Source`), bounded in count and bytes."""

    def __init__(self, budget: MemoryBudget, max_decoders: int):
        self.budget, self.max_decoders = budget, max(1, max_decoders)
        self._lock = threading.Condition()
        self._clips: OrderedDict[tuple, Clip] = OrderedDict()
        self._open = 0                  # decoders open (idle or lent) or being opened
        self._closed = False

    def clip(self, path: Path) -> Clip:
        """The shared clip of ``path`` (a checked regular file); opened, indexed and probed the first
        time. MediaError (one line) when FFmpeg cannot read it."""
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            clip = self._clips.get(key)
            if clip is not None:
                self._clips.move_to_end(key)
                return clip
            self._take_place()
        source, reservation = self._open_decoder(path, None)
        with self._lock:
            clip = self._clips.setdefault(key, Clip(key, path, source))
            self._clips.move_to_end(key)
            while len(self._clips) > MAX_CLIPS:
                _, gone = self._clips.popitem(last=False)
                self._close_idle(gone)
        self.give_back(clip, source, reservation)
        return clip

    def frame(self, clip: Clip, n: int) -> VideoFrame:
        """Decoded frame ``n`` of ``clip`` (read-only pixels), from the budget's cache or a decoder."""
        key = ("decoded", clip.key, n)
        frame = self.budget.get(key)
        if frame is not None:
            return frame
        source, reservation = self._borrow(clip, n)
        try:
            frame = source.frame(n)
        except BaseException:
            self._close(source, reservation)        # its position is unknown after a failure
            raise
        self.give_back(clip, source, reservation)
        frame.rgb.flags.writeable = False           # shared between sessions: nobody may modify it
        self.budget.put(key, frame, precious=True)
        return frame

    def _borrow(self, clip: Clip, n: int) -> tuple[Source, Reservation]:
        """An idle decoder of ``clip``, the one positioned nearest before ``n`` first, else a new one."""
        with self._lock:
            if self._closed:
                raise ProtocolError("busy", "the server is shutting down")
            if clip.idle:
                ahead = [i for i, (s, _) in enumerate(clip.idle) if s.continues_to(n)]
                return clip.idle.pop(ahead[-1] if ahead else -1)
            self._take_place()
        return self._open_decoder(clip.path, clip.template)

    def _take_place(self) -> None:
        """Count one more decoder (called holding the lock), closing the least recently used idle
        decoder of any clip when all places are taken, or waiting for one to come back."""
        while self._open >= self.max_decoders:
            victim = next((c for c in self._clips.values() if c.idle), None)
            if victim is not None:
                self._close(*victim.idle.pop(0), locked=True)
            else:
                self._lock.wait()
        self._open += 1

    def _open_decoder(self, path: Path, like: Source | None) -> tuple[Source, Reservation]:
        """A new decoder of ``path`` (its place taken) with its reservation; the place is given back
        when opening fails, or when the file has no video."""
        try:
            source = Source(path, like=like, thread_type="SLICE")
            try:
                if source.info.video is None:
                    raise ProtocolError("media", f"{path.name}: has no video stream")
                return source, self.budget.reserve(decoder_bytes(source.info), f"a decoder of {path.name}")
            except BaseException:
                source.close()
                raise
        except BaseException:
            with self._lock:
                self._free_place()
            raise

    def give_back(self, clip: Clip, source: Source, reservation: Reservation) -> None:
        """Return a borrowed decoder to the clip's idle list (closed instead once the clip is gone)."""
        with self._lock:
            if self._closed or self._clips.get(clip.key) is not clip:
                self._close(source, reservation, locked=True)
            else:
                clip.idle.append((source, reservation))
                self._lock.notify()

    def _close_idle(self, clip: Clip) -> None:
        while clip.idle:
            self._close(*clip.idle.pop(), locked=True)

    def _close(self, source: Source, reservation: Reservation, locked: bool = False) -> None:
        source.close()
        reservation.release()
        if locked:
            self._free_place()
        else:
            with self._lock:
                self._free_place()

    def _free_place(self) -> None:
        """One decoder fewer (called holding the lock); a waiting borrower may take the place."""
        self._open -= 1
        self._lock.notify()

    def close(self) -> None:
        """Close every idle decoder now; lent ones are closed when they come back."""
        with self._lock:
            self._closed = True
            for clip in self._clips.values():
                self._close_idle(clip)
            self._clips.clear()
