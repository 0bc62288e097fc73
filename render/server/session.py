"""One client's preview session: an open clip, its grade settings, and graded frames on demand.

Sessions own no decoder and no frame memory: they borrow decoders of their
clip from the server's :class:`render.server.decoders.DecoderPool` and keep
frames in its :class:`render.server.memory.MemoryBudget`, decoded frames keyed
by clip and index, graded ones by clip, grade and index, so fifty clients on the
same clip decode each frame once, and clients with the same grade grade it
once. Closing a session frees nothing but its settings; what it cached stays,
within the budget, for the next client. While a client plays (asks for n, then
n + 1), the next ``prefetch_frames`` frames are decoded and graded as
background work of the server's scheduler, so playback is served from memory.
"""

import dataclasses
import hashlib
import pickle
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from render.emotion.labels import EMOTIONS
from render.emotion.timeline import MoodTimeline
from render.errors import MoodgradeError
from render.grading import GradeRecipe, make_process
from render.io.source import SourceInfo, VideoFrame
from render.looks.preset import load_preset
from render.mood_grade import GradeOptions, grade_recipe, mood_timeline
from render.server.decoders import DecoderPool
from render.server.memory import MemoryBudget, Reservation
from render.server.protocol import ProtocolError
from render.server.scheduler import FairScheduler

PRESET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")     # a name, never a path
BACKENDS = ("auto", "cuda", "opencl", "numpy")
WORK_FRAMES = 3            # a frame being graded or encoded: its output, a scaled copy, the encoding
BUFFER_FRAMES = 22         # a GPU/OpenCL backend's standing buffers: in + out + 5 float32 RGB planes


@dataclass(frozen=True)
class Shared:
    """What every session of a server shares."""

    budget: MemoryBudget
    decoders: DecoderPool
    scheduler: FairScheduler
    prefetch_frames: int = 8


def grade_id(recipe: GradeRecipe) -> str:
    """A digest naming what ``recipe`` does to frames (equal recipes, equal digests)."""
    return hashlib.blake2b(pickle.dumps(recipe, protocol=5), digest_size=16).hexdigest()


class Session:
    """An open clip with its grade; thread-safe."""

    def __init__(self, path: Path, options: GradeOptions, shared: Shared):
        self.path = path
        self._shared = shared
        self.clip = shared.decoders.clip(path)
        self._state_lock = threading.Lock()     # users, prefetch ticket, closing; never held for long
        self._prefetch_ticket = 0
        self._last_request = -2
        self._closed = False
        self._users = 1
        self._timelines: dict[str, MoodTimeline] = {}   # by mood option ("auto", or a forced emotion)
        self.timeline: MoodTimeline | None = None       # the one the current grade follows
        self.options = options
        recipe = self._recipe(options)
        self._grade = (0, grade_id(recipe), make_process(recipe), recipe.is_pass_through)

    # ------------------------------------------------------------------ info
    @property
    def info(self) -> SourceInfo:
        return self.clip.info

    @property
    def frame_count(self) -> int:
        return self.clip.info.video.frame_count

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
            self.options = options
            self._grade = (self._grade[0] + 1, grade_id(recipe), process, recipe.is_pass_through)
            self._prefetch_ticket += 1
        return self.settings()

    # ---------------------------------------------------------------- frames
    def frame(self, n: int) -> VideoFrame:
        """Frame ``n`` graded with the session's current grade (read-only pixels; cached)."""
        if not 0 <= n < self.frame_count:
            raise ProtocolError("out_of_range", f"frame {n} out of range (the clip has {self.frame_count} frames)")
        if self._closed:
            raise ProtocolError("no_clip", "the session was closed")
        _, grade, process, pass_through = self._grade
        budget = self._shared.budget
        key = ("graded", self.clip.key, grade, n)
        graded = budget.get(key)
        if graded is not None:
            return graded
        decoded = self._shared.decoders.frame(self.clip, n)
        if pass_through:
            return decoded
        budget.stand("grading buffers", BUFFER_FRAMES * decoded.rgb.nbytes)
        with budget.reserve(WORK_FRAMES * decoded.rgb.nbytes, "grading a frame"):
            try:
                rgb = process(decoded)
            except MoodgradeError as exc:
                raise ProtocolError("grade", str(exc)) from None
        if rgb is decoded.rgb:              # nothing changed the pixels: the decoded frame is cached already
            return decoded
        rgb.flags.writeable = False
        graded = dataclasses.replace(decoded, rgb=rgb)
        budget.put(key, graded)
        return graded

    def encoded(self, n: int, encode: Callable[[np.ndarray], bytes]) -> tuple[VideoFrame, bytes, Reservation]:
        """Frame ``n`` graded, its pixels made a reply payload by ``encode(rgb)``, and the payload's
        reservation of the memory budget (release it once the payload is sent)."""
        frame = self.frame(n)
        budget = self._shared.budget
        with budget.reserve(WORK_FRAMES * frame.rgb.nbytes, "encoding a frame"):
            payload = encode(frame.rgb)
            return frame, payload, budget.reserve(len(payload), "a reply being sent")

    def prefetch_after(self, n: int) -> None:
        """After a request for ``n``: when it follows the previous request (playback), decode and grade
        the next frames in the background; after a jump (scrubbing), stop reading ahead, since the
        read-ahead of a random position mostly competes with the next request for the CPU."""
        with self._state_lock:
            self._prefetch_ticket += 1
            ticket = self._prefetch_ticket
            playing, self._last_request = n == self._last_request + 1, n
        if self._shared.prefetch_frames <= 0 or not playing:
            return
        stop = min(n + 1 + self._shared.prefetch_frames, self.frame_count)
        self._shared.scheduler.submit_background(self, self._prefetch, range(n + 1, stop), ticket)

    def _prefetch(self, indices: range, ticket: int) -> None:
        for k in indices:
            if self._closed or ticket != self._prefetch_ticket:
                return
            self.frame(k)

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
        """Drop one user; the last one closes the session (its read-ahead stops)."""
        with self._state_lock:
            self._users -= 1
            if self._users > 0 or self._closed:
                return
            self._closed = True
            self._prefetch_ticket += 1
        self._shared.scheduler.forget(self)
