"""One client's preview session: an open clip, its grade settings, and graded frames on demand.

Each session owns its decoder (a :class:`render.io.source.Source`): PyAV
containers are not thread-safe, and editors scrub different places of a clip,
so a shared decoder would have to seek back and forth under one lock and
clients would wait on each other. What sessions share is the server's cache of
decoded frames (keyed by the file's real path, size and mtime, and the frame
index), so fifty clients on the same clip decode each frame once. Graded
frames go to a second cache keyed by session and grade generation. While a
client plays (asks for n, then n + 1), the next ``prefetch_frames`` frames are
decoded and graded on a background thread, so playback is served from memory.
"""

import dataclasses
import itertools
import re
import threading
from concurrent.futures import Executor
from pathlib import Path

import numpy as np

from render.emotion.labels import EMOTIONS
from render.emotion.timeline import MoodTimeline
from render.errors import MoodgradeError
from render.grading import GradeRecipe, make_process
from render.io.source import VideoFrame, open_source
from render.looks.preset import load_preset
from render.mood_grade import GradeOptions, grade_recipe, mood_timeline
from render.server.frames import FrameCache
from render.server.protocol import ProtocolError

PRESET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")     # a name, never a path
BACKENDS = ("auto", "cuda", "opencl", "numpy")
_session_ids = itertools.count(1)


class Session:
    """An open clip with its grade; thread-safe (decoding and grading hold the session's decode lock)."""

    def __init__(self, path: Path, options: GradeOptions, decoded: FrameCache, graded: FrameCache,
                 prefetch_pool: Executor, prefetch_frames: int = 8):
        self.id = next(_session_ids)
        self.path = path
        self.source = open_source(path)
        if self.source.info.video is None:
            self.source.close()
            raise ProtocolError("media", f"{path.name}: has no video stream")
        stat = path.stat()
        self._clip_key = (str(path), stat.st_size, stat.st_mtime_ns)
        self._decoded, self._graded = decoded, graded
        self._prefetch_pool, self._prefetch_frames = prefetch_pool, prefetch_frames
        self._decode_lock = threading.Lock()    # the decoder and the grade; held for a whole frame
        self._state_lock = threading.Lock()     # users, prefetch ticket, closing; never held for long
        self._prefetch_ticket = 0
        self._last_request = -2
        self._closed = False
        self._users = 1
        self._timelines: dict[str, MoodTimeline] = {}   # by mood option ("auto", or a forced emotion)
        self.timeline: MoodTimeline | None = None       # the one the current grade follows
        self.options = options
        try:
            recipe = self._recipe(options)
            self._grade = (0, recipe, make_process(recipe))
        except BaseException:
            self.source.close()
            raise

    # ------------------------------------------------------------------ info
    @property
    def frame_count(self) -> int:
        return self.source.info.video.frame_count

    def settings(self) -> dict:
        """The session's grade settings as the protocol reports them."""
        o = self.options
        return {"generation": self._grade[0], "preset": o.preset, "intensity": o.intensity, "mood": o.mood,
                "ops": list(o.assignments), "lut": o.lut, "cdl": o.cdl, "cdl_id": o.cdl_id,
                "grade_file": o.grade_file, "backend": o.backend or "auto"}

    # ----------------------------------------------------------------- grade
    def _recipe(self, options: GradeOptions) -> GradeRecipe:
        """The recipe ``moodgrade grade`` builds for these options (render.mood_grade), timeline cached."""
        try:
            preset = load_preset(options.preset) if options.preset else None
            timeline = self.load_timeline(options.mood) if preset else None
            return grade_recipe(options, timeline, preset)
        except MoodgradeError as exc:
            raise ProtocolError("grade", str(exc)) from None

    def configure(self, options: GradeOptions) -> dict:
        """Grade with ``options`` from now on; the new process is built before it replaces the old one,
        so a refused change leaves the session as it was. May analyse the clip (slow the first time)."""
        recipe = self._recipe(options)
        try:
            process = make_process(recipe)
        except MoodgradeError as exc:
            raise ProtocolError("grade", str(exc)) from None
        with self._state_lock:
            generation = self._grade[0] + 1
            self.options = options
            self._grade = (generation, recipe, process)
            self._prefetch_ticket += 1
        self._graded.discard(lambda key: key[0] != self.id or key[1] == generation)
        return self.settings()

    # ---------------------------------------------------------------- frames
    def frame(self, n: int) -> VideoFrame:
        """Frame ``n`` graded with the session's current grade (cached)."""
        if not 0 <= n < self.frame_count:
            raise ProtocolError("out_of_range", f"frame {n} out of range (the clip has {self.frame_count} frames)")
        generation, _, process = self._grade
        key = (self.id, generation, n)
        graded = self._graded.get(key)
        if graded is not None:
            return graded
        with self._decode_lock:
            if self._closed:
                raise ProtocolError("no_clip", "the session was closed")
            graded = self._graded.get(key)
            if graded is None:
                decoded = self._decoded_frame(n)
                try:
                    rgb = process(decoded)
                except MoodgradeError as exc:
                    raise ProtocolError("grade", str(exc)) from None
                graded = decoded if rgb is decoded.rgb else dataclasses.replace(decoded, rgb=rgb)
                self._graded.put(key, graded)
        return graded

    def _decoded_frame(self, n: int) -> VideoFrame:
        key = (self._clip_key, n)
        frame = self._decoded.get(key)
        if frame is None:
            frame = self.source.frame(n)
            frame.rgb.flags.writeable = False       # shared between sessions: nobody may modify it
            self._decoded.put(key, frame)
        return frame

    def prefetch_after(self, n: int) -> None:
        """After a request for ``n``: when it follows the previous request (playback), decode and grade
        the next frames in the background; after a jump (scrubbing), stop reading ahead, since the
        read-ahead of a random position mostly competes with the next request for the CPU."""
        with self._state_lock:
            self._prefetch_ticket += 1
            ticket = self._prefetch_ticket
            playing, self._last_request = n == self._last_request + 1, n
        if self._prefetch_frames <= 0 or not playing:
            return
        stop = min(n + 1 + self._prefetch_frames, self.frame_count)
        self._prefetch_pool.submit(self._prefetch, range(n + 1, stop), ticket)

    def _prefetch(self, indices: range, ticket: int) -> None:
        for k in indices:
            if self._closed or ticket != self._prefetch_ticket:
                return
            try:
                self.frame(k)
            except MoodgradeError:
                return

    # ------------------------------------------------------------------ mood
    def load_timeline(self, mood: str | None = None) -> MoodTimeline:
        """The clip's mood timeline for ``mood`` ("auto", or an emotion forced on the whole clip;
        default: the session's); analysed once (and cached on disk by the analysis)."""
        mood = mood or self.options.mood
        if mood not in self._timelines:
            self._timelines[mood] = mood_timeline(self.path, mood, cache_dir=self.options.cache_dir)
        self.timeline = self._timelines[mood]
        return self.timeline

    def mood_at(self, n: int) -> dict | None:
        """The mood that travels with frame ``n`` (None until the timeline is loaded)."""
        tl = self.timeline
        if tl is None or not 0 <= n < tl.frame_count:
            return None
        return {"dominant": tl.dominant(n), "valence": round(float(tl.valence[n]), 4),
                "arousal": round(float(tl.arousal[n]), 4), "confidence": round(float(tl.confidence[n]), 4),
                "shot": int(tl.shot[n])}

    def mood_summary(self) -> dict | None:
        """Whole-clip mood: dominant emotion, mean valence/arousal, shot count (None before analysis)."""
        tl = self.timeline
        if tl is None or tl.frame_count == 0:
            return None
        mean = tl.probs.mean(axis=0)
        return {"dominant": EMOTIONS[int(np.argmax(mean))],
                "probs": {e: round(float(p), 4) for e, p in zip(EMOTIONS, mean)},
                "valence": round(float(tl.valence.mean()), 4), "arousal": round(float(tl.arousal.mean()), 4),
                "shots": len(tl.cuts) + 1, "present": tl.present}

    # -------------------------------------------------------------- lifetime
    def acquire(self) -> "Session":
        """One more user (a y4m stream) keeps the session open until it calls :meth:`release`."""
        with self._state_lock:
            self._users += 1
        return self

    def release(self) -> None:
        """Drop one user; the last one closes the session. Never waits for a decode in progress
        (it is called from the server's event loop): the decoder is closed on a thread of its own."""
        with self._state_lock:
            self._users -= 1
            if self._users > 0 or self._closed:
                return
            self._closed = True
            self._prefetch_ticket += 1
        threading.Thread(target=self._close_decoder, name="moodgrade-close", daemon=True).start()
        self._graded.discard(lambda key: key[0] != self.id)

    def _close_decoder(self) -> None:
        with self._decode_lock:
            self.source.close()
