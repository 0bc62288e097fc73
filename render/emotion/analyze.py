"""Analysis pass: a media file -> its :class:`MoodTimeline` (cached by content).

Three steps, so that one machine and a render farm run the same code:

1. **Measure the picture** of frames ``start <= i < stop``
   (:func:`picture_features`): one decode feeds, for every frame, the cut
   detector's difference scores and the picture statistics (both on a
   160-px-wide conversion) and, every ``1 / sample_fps`` seconds, face
   detection (on a conversion at most :data:`ANALYSIS_MAX_SIDE_PX` on the
   longer side). A range is decoded from the keyframe before it, and the
   frames its scores look back to are measured first as context, so a range's
   results are exactly those of one pass over the whole clip; ranges merge by
   concatenation (:func:`merge_pictures`). Only a few floats per frame and the
   faces' boxes and expressions are kept. Faces are detected, and their
   expressions read, in a worker thread while decoding goes on, the decoding
   thread helping when the worker falls behind, so both cores work. The decode only measures
   (``open_source``'s ``measure_only``: no in-loop deblocking, conversions on
   the calling thread). Frames with a display rotation are turned upright for
   the faces, and face boxes are given in the upright (displayed) frame.
2. **Measure the sound** (:func:`sound_features`): the soundtrack, streamed
   and reduced to short-time spectra as it is decoded, measured at every frame's time; one separate unit that runs
   beside the picture (by the worker thread, before its first face, on one
   machine; as a task of its own on a farm).
3. **Decide and fuse** (:func:`timeline_of`), once, over the whole clip's
   measurements: cuts (:meth:`CutDetector.decide`), face tracks and their
   weights, shot summaries, fusion.

:func:`measure_file` does steps 1 and 2 on this machine, over the whole clip;
``render.farm.analysis`` does them as Ray tasks over ranges, with the same
result. An audio-only file gets a timeline at :data:`AUDIO_ONLY_FRAME_RATE`.
"""

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from render import __version__
from render.emotion.audio_affect import stream_features, track_spectra
from render.emotion.faces import (SampleFaces, detect_samples, faces_from_detections, inference_providers,
                                  read_expressions)
from render.emotion.fusion import fuse
from render.emotion.labels import EMOTIONS
from render.emotion.overrides import apply_overrides, read_overrides
from render.emotion.shots import ANALYSIS_WIDTH_PX, CutDetector, CutScores, downscale, rgb_to_hsv
from render.emotion.timeline import (MoodTimeline, content_hash, default_cache_dir, load_sidecar,
                                     sidecar_path, store_sidecar)
from render.emotion.visual_affect import VisualAffect, cut_rate_per_min, shot_summaries, visual_features
from render.errors import MediaError, MoodgradeError
from render.io.source import SourceInfo, open_source

SETTINGS_VERSION = 3                 # bump when the analysis changes its results
DEFAULT_SAMPLE_FPS = 4.0
ANALYSIS_MAX_SIDE_PX = 640
FACE_QUEUE_SAMPLES = 4          # samples waiting for the face worker at most
AUDIO_ONLY_FRAME_RATE = Fraction(25)

Progress = Callable[[int, int | None], None]     # (frames done, frames expected or None)


def analysis_size(width: int, height: int) -> tuple[int, int] | None:
    """Decode size (even numbers) with the longer side at most ANALYSIS_MAX_SIDE_PX; None keeps the size."""
    scale = ANALYSIS_MAX_SIDE_PX / max(width, height)
    if scale >= 1:
        return None
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def cut_size(width: int, height: int) -> tuple[int, int] | None:
    """Decode size for the cut detector and picture statistics: ANALYSIS_WIDTH_PX wide (even
    height), or None (keep the size) when the frame is no wider."""
    if width <= ANALYSIS_WIDTH_PX:
        return None
    return ANALYSIS_WIDTH_PX, max(2, round(height * ANALYSIS_WIDTH_PX / width / 2) * 2)


def _face_summary(faces: dict[int, list], frame_shape: dict[int, tuple[int, int]], shot: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: face count and main face box (0..1) of the nearest sampled frame of the same shot."""
    n = shot.size
    counts = np.zeros(n, np.int32)
    boxes = np.full((n, 4), np.nan, np.float32)
    sampled = np.array(sorted(faces), int)
    if sampled.size == 0:
        return counts, boxes
    frames = np.arange(n)
    after = np.clip(np.searchsorted(sampled, frames), 0, sampled.size - 1)
    before = np.clip(after - 1, 0, sampled.size - 1)
    nearest = np.where(np.abs(sampled[before] - frames) <= np.abs(sampled[after] - frames),
                       sampled[before], sampled[after])
    for i in np.flatnonzero(shot[nearest] == shot):
        found = faces[int(nearest[i])]
        if found:
            h, w = frame_shape[int(nearest[i])]
            x0, y0, x1, y1 = found[0].box
            counts[i] = len(found)
            boxes[i] = (x0 / w, y0 / h, x1 / w, y1 / h)
    return counts, boxes



def _faces_of(sample: tuple[int, np.ndarray]) -> list[SampleFaces]:
    """One sampled frame's faces, detected and their expressions read."""
    return [read_expressions(found) for found in detect_samples([sample])]


class _FaceWork:
    """Face detection (and expressions) of the sampled frames, shared by a worker thread and
    the decoding thread.

    Each sample goes to the worker; when :data:`FACE_QUEUE_SAMPLES` already wait
    for it, the decoding thread detects the sample itself, and at the end it
    takes back the samples the worker has not started. So both cores stay busy
    and at most that many frames are held. ONNX Runtime, OpenCV, NumPy and the
    decoder release the GIL.
    """

    def __init__(self, pool: ThreadPoolExecutor):
        self._pool = pool
        self._queued: deque[tuple[tuple[int, np.ndarray], Future]] = deque()
        self._found: list = []

    def _collect_finished(self) -> None:
        while self._queued and self._queued[0][1].done():
            self._found.extend(self._queued.popleft()[1].result())

    def add(self, sample: tuple[int, np.ndarray]) -> None:
        self._collect_finished()
        if len(self._queued) < FACE_QUEUE_SAMPLES:
            self._queued.append((sample, self._pool.submit(_faces_of, sample)))
        else:
            self._found.extend(_faces_of(sample))

    def finish(self) -> list:
        """Every sample's detections, in clip order."""
        while self._queued:
            sample, future = self._queued.pop()            # the newest first: least likely started
            self._found.extend(_faces_of(sample) if future.cancel() else future.result())
        return sorted(self._found, key=lambda detected: detected.frame_index)


@dataclass
class PictureFeatures:
    """What decoding frames ``start <= i < stop`` measures, compact (about 80 bytes a frame
    plus about 100 a face): the cut detector's scores, the picture statistics (float32,
    frames x len(visual_affect.FEATURES), see :meth:`VisualAffect.table`) and the faces of
    the sampled frames (those whose index is a multiple of the sampling step), detected and
    their expressions read (:func:`read_expressions`)."""

    start: int
    stop: int
    cut_scores: CutScores
    visual: np.ndarray
    detections: list[SampleFaces]


def picture_features(src, start: int, stop: int, sample_fps: float, pool: ThreadPoolExecutor,
                     progress: Progress | None = None) -> PictureFeatures:
    """Measure frames ``start <= i < stop`` (0 <= start < stop <= frame count) of the open
    Source ``src`` as one pass over the whole clip would: the frames that the cut scores and
    the motion look back to are decoded and measured first, then dropped. ``pool``: one
    worker thread for the faces (see :class:`_FaceWork`). ``progress(done, stop - start)``
    is called per frame of the range."""
    video = src.info.video
    if not 0 <= start < stop <= video.frame_count:
        raise ValueError(f"frames {start}-{stop}: not a range of the {video.frame_count} frames")
    frame_rate = float(video.frame_rate)
    detector = CutDetector(frame_rate)
    visual = VisualAffect()
    step = max(1, round(frame_rate / sample_fps))
    turns = (video.rotation_deg // 90) % 4      # faces are searched upright, as displayed
    face_size = analysis_size(video.width, video.height)
    small_size = cut_size(video.width, video.height)
    faces = _FaceWork(pool)
    first = max(0, start - detector.context_frames)
    for index, decoded in src.decoded(first, stop):
        # Every frame small for cuts and picture statistics; sampled frames larger for faces.
        small = downscale(src.to_rgb(decoded, small_size, interpolation="AREA"))
        hsv = rgb_to_hsv(small)
        detector.push(hsv)
        visual.push(small, hsv)
        if index < start:
            continue                             # context only
        if index % step == 0:
            rgb = src.to_rgb(decoded, face_size)
            faces.add((index, np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb))
        if progress:
            progress(index + 1 - start, stop - start)
    context = start - first
    return PictureFeatures(start, stop, detector.scores().tail(context), visual.table()[context:],
                           faces.finish())


def merge_pictures(parts: list[PictureFeatures]) -> PictureFeatures:
    """The measurements of consecutive ranges (given in any order, together covering one span
    without gap or overlap) as those of their whole span. Raises ValueError when they do not join."""
    parts = sorted(parts, key=lambda p: p.start)
    for a, b in zip(parts, parts[1:]):
        if a.stop != b.start:
            raise ValueError(f"picture ranges {a.start}-{a.stop} and {b.start}-{b.stop} do not join")
    return PictureFeatures(parts[0].start, parts[-1].stop, CutScores.concatenate([p.cut_scores for p in parts]),
                           np.concatenate([p.visual for p in parts]), [d for p in parts for d in p.detections])


def frame_times(src) -> np.ndarray:
    """When each frame of the open Source ``src`` is shown, seconds from the first (float64,
    one per frame), from its index alone: nothing is decoded."""
    return src.frame_times_s()


def sound_features(src, time_s: np.ndarray | None) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
    """The soundtrack's features (:func:`stream_features`) at the frame times ``time_s`` (seconds;
    None for a file without video: frames at :data:`AUDIO_ONLY_FRAME_RATE` over the sound).
    Returns the frame times and the features (None when the file has no sound).

    The sound is streamed: the mean of its channels (all the features use), reduced to
    short-time spectra as it is decoded, so memory does not grow with its length."""
    # One BLAS thread: OpenBLAS splits its sums by thread count, which would make the features
    # depend on the machine's cores and on the task's CPU share (a Ray task gets one).
    with threadpool_limits(limits=1, user_api="blas"):
        spectra = track_spectra(src.audio_blocks(mono=True), src.info.audio.sample_rate) \
            if src.info.audio is not None else None
        has_audio = spectra is not None and spectra.duration_s > 0
        if time_s is None:
            duration_s = spectra.duration_s if has_audio else 0.0
            frames = max(1, int(np.ceil(duration_s * AUDIO_ONLY_FRAME_RATE)))
            time_s = np.arange(frames, dtype=np.float64) / float(AUDIO_ONLY_FRAME_RATE)
        if not has_audio:
            return time_s, None
        return time_s, stream_features(spectra, time_s)


@dataclass
class Measurements:
    """What the analysis measures of one file, before anything is decided: the source's
    description, every frame's time (float64 seconds), the picture's measurements of all
    frames (None without video) and the sound's features (None without sound)."""

    info: SourceInfo
    time_s: np.ndarray
    picture: PictureFeatures | None
    sound: dict[str, np.ndarray] | None


Measure = Callable[[Path, float, Progress | None], Measurements]    # (path, sample_fps, progress)


def _video_frames(info: SourceInfo) -> int:
    return info.video.frame_count if info.video is not None else 0


def measure_file(path: Path, sample_fps: float, progress: Progress | None = None) -> Measurements:
    """Measure the whole file at ``path`` on this machine: the worker thread takes the sound
    first, while the picture is decoded, then helps with the faces."""
    with (open_source(path, measure_only=True) as src,
          ThreadPoolExecutor(max_workers=1, thread_name_prefix="moodgrade-analysis") as pool):
        frames = _video_frames(src.info)
        sound = pool.submit(sound_features, src, frame_times(src) if frames else None)
        picture = picture_features(src, 0, frames, sample_fps, pool, progress) if frames else None
        time_s, features = sound.result()
        return Measurements(src.info, time_s, picture, features)


def measure_picture(path: Path, start: int, stop: int, sample_fps: float) -> PictureFeatures:
    """:func:`picture_features` of frames ``start <= i < stop`` of the file at ``path`` (a farm task)."""
    with (open_source(path, measure_only=True) as src,
          ThreadPoolExecutor(max_workers=1, thread_name_prefix="moodgrade-analysis") as pool):
        return picture_features(src, start, stop, sample_fps, pool)


def measure_sound(path: Path) -> Measurements:
    """The description, frame times and sound features of the file at ``path``, without the
    picture (a farm task)."""
    with open_source(path, measure_only=True) as src:
        frames = _video_frames(src.info)
        time_s, features = sound_features(src, frame_times(src) if frames else None)
        return Measurements(src.info, time_s, None, features)


def timeline_of(measured: Measurements, path: Path, key: str, settings: dict) -> MoodTimeline:
    """Decide and fuse, once per file: the mood timeline from the whole file's measurements (cuts,
    faces tracked and weighed, shot summaries, fusion). ``key``: the file's content hash;
    ``settings``: the analysis settings recorded in the timeline."""
    info, time_s, picture = measured.info, measured.time_s, measured.picture
    has_video, has_audio = picture is not None, measured.sound is not None
    frame_rate = Fraction(info.video.frame_rate) if has_video else AUDIO_ONLY_FRAME_RATE
    n = time_s.size
    cuts = CutDetector(float(frame_rate)).decide(picture.cut_scores) if has_video else []
    faces = faces_from_detections(picture.detections) if has_video else {}
    frame_shape = {d.frame_index: d.frame_shape[:2] for d in picture.detections} if has_video else {}
    scene: dict[str, np.ndarray] = {}
    if has_video:
        scene.update(visual_features(picture.visual, cuts))
        scene["cut_rate_per_min"] = cut_rate_per_min(cuts, n, float(frame_rate))
    if has_audio:
        scene.update(measured.sound)
    mood = fuse(n, float(frame_rate), cuts, scene, faces if has_video else None,
                has_video=has_video, has_audio=has_audio)
    shot = np.zeros(n, np.int32)
    for c in cuts:
        shot[c:] += 1
    face_count, face_box = _face_summary(faces, frame_shape, shot)
    source = info.to_dict()
    source.update(path=str(path), content_hash=key)
    return MoodTimeline(
        frame_rate=frame_rate, time_s=time_s, probs=mood.probs, valence=mood.valence, arousal=mood.arousal,
        confidence=mood.confidence, shot=shot, faces=face_count, face_box=face_box,
        overridden=np.zeros(n, bool), cuts=cuts,
        present={"video": has_video, "audio": has_audio, "faces": bool(face_count.any())},
        source=source,
        analysis=dict(settings, emotions=list(EMOTIONS), providers=inference_providers() if has_video else {}),
        shots=shot_summaries(scene, cuts) if has_video else [],
    )


def analyze_file(path: str | Path, *, sample_fps: float = DEFAULT_SAMPLE_FPS, progress: Progress | None = None,
                 cache_dir: str | Path | None = None, use_cache: bool = True,
                 overrides: str | Path | None = None, measure: Measure = measure_file) -> MoodTimeline:
    """The mood timeline of the media file at ``path``.

    ``sample_fps``: frames per second looked at for faces (every frame is used
    for cuts and picture statistics). ``progress(done, expected)`` is called per
    decoded frame. The result is cached in ``cache_dir`` (default
    :func:`default_cache_dir`) under the file's content hash and the settings;
    ``use_cache=False`` neither reads nor writes the cache. ``overrides``: a
    manual override file (see :mod:`render.emotion.overrides`), applied last.
    ``measure``: how the file is measured (:func:`measure_file`, on this machine; the farm
    gives one that runs Ray tasks over ranges, with the same result).
    Raises MoodgradeError (MediaError) for unreadable input or a bad override file.
    """
    path = Path(path)
    if not sample_fps > 0:
        raise MoodgradeError(f"sample rate for faces must be positive, not {sample_fps}")
    forced = read_overrides(overrides) if overrides is not None else []
    if path.is_dir():
        raise MediaError(f"{path}: is a directory, not a media file")
    try:
        key = content_hash(path)
    except OSError as exc:
        raise MediaError(f"{path}: cannot read ({exc.strerror})") from None
    settings = {"settings_version": SETTINGS_VERSION, "moodgrade_version": __version__, "sample_fps": sample_fps,
                "analysis_max_side_px": ANALYSIS_MAX_SIDE_PX}
    sidecar = sidecar_path(cache_dir if cache_dir is not None else default_cache_dir(), key, settings)
    timeline = load_sidecar(sidecar) if use_cache else None
    if timeline is None:
        timeline = timeline_of(measure(path, sample_fps, progress), path, key, settings)
        if use_cache:
            store_sidecar(timeline, sidecar)
    timeline.source["path"] = str(path)
    return apply_overrides(timeline, forced)
