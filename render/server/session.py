"""One client's preview session: an open clip, its grade settings, and graded frames on demand.

Each session owns its decoder (a :class:`render.io.source.Source`): PyAV
containers are not thread-safe, and editors scrub different places of a clip,
so a shared decoder would have to seek back and forth under one lock and
clients would wait on each other. What sessions share is the server's cache of
decoded frames (keyed by the file's real path, size and mtime, and the frame
index), so fifty clients on the same clip decode each frame once. Graded
frames go to a second cache keyed by session and grade generation. After each
request the next ``prefetch_frames`` frames are decoded and graded on a
background thread, so sequential playback is served from memory.
"""

import dataclasses
import itertools
import re
import threading
from concurrent.futures import Executor
from pathlib import Path

import numpy as np

from render.errors import MoodgradeError
from render.grading import GradeRecipe, make_process
from render.io.source import VideoFrame, open_source
from render.server.frames import FrameCache
from render.server.protocol import ProtocolError

try:   # the emotion labels land with the mood timeline (branch `scene`)
    from render.emotion.labels import EMOTIONS
except ImportError:
    EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

PRESET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
BACKENDS = ("auto", "cuda", "opencl", "numpy")
# Session settings handed to GradeRecipe as soon as it has a field of that name.
LOOK_FIELDS = ("preset", "intensity", "mood")
_session_ids = itertools.count(1)


@dataclasses.dataclass(frozen=True)
class Look:
    """What the client chose: ``preset`` name, ``intensity`` 0..1 of the look, ``mood`` override."""

    preset: str | None = None
    intensity: float = 1.0
    mood: str | None = None          # one of EMOTIONS, or None to follow the clip's mood


def wired_look_fields() -> list[str]:
    """The look fields that reach the grade today (those GradeRecipe has)."""
    names = {f.name for f in dataclasses.fields(GradeRecipe)}
    return [k for k in LOOK_FIELDS if k in names]


def recipe_with_look(recipe: GradeRecipe, look: Look) -> GradeRecipe:
    """``recipe`` with the look's fields that GradeRecipe has (the others stay in the session)."""
    return dataclasses.replace(recipe, **{k: getattr(look, k) for k in wired_look_fields()})


def ops_from_values(values) -> tuple:
    """Op instances from the ``set`` request's ``ops`` (a mapping, as in a grade TOML file)."""
    try:
        from render.ops.grade_file import grade_from_mapping
    except ImportError:
        raise ProtocolError("not_available", "op values cannot be set yet: render.ops.grade_file "
                                             "is not in this build") from None
    if not isinstance(values, dict):
        raise ProtocolError("bad_request", "field 'ops' must be an object of op values")
    try:
        return tuple(grade_from_mapping(values))
    except MoodgradeError as exc:
        raise ProtocolError("grade", f"ops: {exc}") from None


class Session:
    """An open clip with its grade; thread-safe (decoding and grading hold the session's decode lock)."""

    def __init__(self, path: Path, recipe: GradeRecipe, decoded: FrameCache, graded: FrameCache,
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
        self._closed = False
        self._users = 1
        self.timeline = None
        self.base_recipe = recipe
        self.look = Look()
        graded_recipe = recipe_with_look(recipe, self.look)
        self._grade = (0, graded_recipe, make_process(graded_recipe))

    # ------------------------------------------------------------------ info
    @property
    def frame_count(self) -> int:
        return self.source.info.video.frame_count

    def settings(self) -> dict:
        """The session's grade settings as the protocol reports them."""
        generation, recipe, _ = self._grade
        return {"generation": generation, "preset": self.look.preset, "intensity": self.look.intensity,
                "mood": self.look.mood, "backend": recipe.backend or "auto", "ops": len(recipe.ops),
                "wired": ["backend", "ops", *wired_look_fields()]}

    # ----------------------------------------------------------------- grade
    def configure(self, *, look: Look | None = None, ops: tuple | None = None, backend: str | None = None) -> dict:
        """Change the grade; the new process is built before it replaces the old one (errors leave it)."""
        look = look or self.look
        base = self.base_recipe
        if ops is not None:
            base = dataclasses.replace(base, ops=ops)
        if backend is not None:
            base = dataclasses.replace(base, backend=None if backend == "auto" else backend)
        recipe = recipe_with_look(base, look)
        try:
            process = make_process(recipe)
        except MoodgradeError as exc:
            raise ProtocolError("grade", str(exc)) from None
        with self._state_lock:
            generation = self._grade[0] + 1
            self.base_recipe, self.look = base, look
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
        """Decode and grade the frames after ``n`` in the background (cancels an older prefetch)."""
        if self._prefetch_frames <= 0:
            return
        with self._state_lock:
            self._prefetch_ticket += 1
            ticket = self._prefetch_ticket
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
    def load_timeline(self):
        """Analyse the clip's mood (cached by the analysis itself) and keep the timeline."""
        try:
            from render.emotion.analyze import analyze_file
        except ImportError:
            raise ProtocolError("not_available", "mood timelines are not available in this build "
                                                 "(render.emotion.timeline is missing)") from None
        if self.timeline is None:
            self.timeline = analyze_file(self.path)
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
