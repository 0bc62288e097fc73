"""Analysis pass: a media file -> its :class:`MoodTimeline` (cached by content).

One decode pass feeds, for every frame, the cut detector and the visual affect
(both on a 160-px-wide conversion) and, every ``1 / sample_fps`` seconds, face
detection (on a conversion at most :data:`ANALYSIS_MAX_SIDE_PX` on the longer
side). Faces are detected in a worker thread while decoding goes on, the
decoding thread helping when the worker falls behind, so both cores work; only
boxes and 64x64 crops are kept, so memory stays flat, and tracking then runs
over the whole clip. The decode only measures (``open_source``'s
``measure_only``: no in-loop deblocking, conversions on the calling thread).
Frames with a display rotation are turned upright for the faces, and face boxes
are given in the upright (displayed) frame. The soundtrack is streamed (by the
worker, before its first face), reduced to short-time spectra as it is decoded,
and measured per frame. An audio-only file
gets a timeline at :data:`AUDIO_ONLY_FRAME_RATE`.
"""

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from render import __version__
from render.emotion.audio_affect import stream_features, track_spectra
from render.emotion.faces import detect_samples, faces_from_detections, inference_providers
from render.emotion.fusion import fuse
from render.emotion.labels import EMOTIONS
from render.emotion.overrides import apply_overrides, read_overrides
from render.emotion.shots import ANALYSIS_WIDTH_PX, CutDetector, downscale, rgb_to_hsv
from render.emotion.timeline import (MoodTimeline, content_hash, default_cache_dir, load_sidecar,
                                     sidecar_path, store_sidecar)
from render.emotion.visual_affect import VisualAffect, cut_rate_per_min, shot_summaries
from render.errors import MediaError, MoodgradeError
from render.io.source import open_source

SETTINGS_VERSION = 2                 # bump when the analysis changes its results
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


@dataclass
class _VideoPass:
    """What one decode pass over the picture collects."""

    frame_rate: Fraction
    detector: CutDetector
    visual: VisualAffect = field(default_factory=VisualAffect)
    times: list[float] = field(default_factory=list)
    faces: dict[int, list] = field(default_factory=dict)
    frame_shape: dict[int, tuple[int, int]] = field(default_factory=dict)


class _FaceWork:
    """Face detection of the sampled frames, shared by a worker thread and the decoding thread.

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
            self._queued.append((sample, self._pool.submit(detect_samples, [sample])))
        else:
            self._found.extend(detect_samples([sample]))

    def finish(self) -> list:
        """Every sample's detections, in clip order."""
        while self._queued:
            sample, future = self._queued.pop()            # the newest first: least likely started
            self._found.extend(detect_samples([sample]) if future.cancel() else future.result())
        return sorted(self._found, key=lambda detected: detected.frame_index)


def _video_pass(src, pool: ThreadPoolExecutor, sample_fps: float, progress: Progress | None) -> _VideoPass:
    """Decode every frame once: cuts and picture statistics per frame, faces per sample
    (see :class:`_FaceWork`, with ``pool``'s one worker). Tracking and expressions follow."""
    video = src.info.video
    result = _VideoPass(Fraction(video.frame_rate), CutDetector(float(video.frame_rate)))
    step = max(1, round(float(result.frame_rate) / sample_fps))
    turns = (video.rotation_deg // 90) % 4      # faces are searched upright, as displayed
    face_size = analysis_size(video.width, video.height)
    small_size = cut_size(video.width, video.height)
    faces = _FaceWork(pool)
    for index, decoded in src.decoded():
        # Every frame small for cuts and picture statistics; sampled frames larger for faces.
        small = downscale(src.to_rgb(decoded, small_size, interpolation="AREA"))
        hsv = rgb_to_hsv(small)
        result.detector.push(hsv)
        result.visual.push(small, hsv)
        result.times.append(src.time_s(index))
        if index % step == 0:
            rgb = src.to_rgb(decoded, face_size)
            upright = np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb
            faces.add((index, upright))
            result.frame_shape[index] = upright.shape[:2]
        if progress:
            progress(len(result.times), video.frame_count)
    detected = faces.finish()
    result.faces.update(faces_from_detections(detected))
    return result


def _analyze(path: Path, key: str, settings: dict, progress: Progress | None) -> MoodTimeline:
    with (open_source(path, measure_only=True) as src,
          ThreadPoolExecutor(max_workers=1, thread_name_prefix="moodgrade-analysis") as pool):
        info = src.info
        # The soundtrack is streamed by the worker first (the mean of its channels, reduced to
        # short-time spectra as it is decoded, is all the audio features use), then the
        # worker takes the faces.
        sound = pool.submit(track_spectra, src.audio_blocks(mono=True), info.audio.sample_rate) \
            if info.audio is not None else None
        picture = _video_pass(src, pool, settings["sample_fps"], progress) if info.video is not None else None
        spectra = sound.result() if sound is not None else None
    times = picture.times if picture else []
    faces = picture.faces if picture else {}
    has_video = bool(times)
    has_audio = spectra is not None and spectra.duration_s > 0
    frame_rate = picture.frame_rate if has_video else AUDIO_ONLY_FRAME_RATE
    if not has_video:
        duration_s = spectra.duration_s if has_audio else 0.0
        times = list(np.arange(max(1, int(np.ceil(duration_s * frame_rate)))) / float(frame_rate))
    time_s = np.asarray(times, np.float64)
    n = time_s.size

    cuts = picture.detector.cuts() if has_video else []
    scene: dict[str, np.ndarray] = {}
    if has_video:
        scene.update(picture.visual.features(cuts))
        scene["cut_rate_per_min"] = cut_rate_per_min(cuts, n, float(frame_rate))
    if has_audio:
        scene.update(stream_features(spectra, time_s))
    mood = fuse(n, float(frame_rate), cuts, scene, faces if has_video else None,
                has_video=has_video, has_audio=has_audio)
    shot = np.zeros(n, np.int32)
    for c in cuts:
        shot[c:] += 1
    face_count, face_box = _face_summary(faces, picture.frame_shape if has_video else {}, shot)
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
                 overrides: str | Path | None = None) -> MoodTimeline:
    """The mood timeline of the media file at ``path``.

    ``sample_fps``: frames per second looked at for faces (every frame is used
    for cuts and picture statistics). ``progress(done, expected)`` is called per
    decoded frame. The result is cached in ``cache_dir`` (default
    :func:`default_cache_dir`) under the file's content hash and the settings;
    ``use_cache=False`` neither reads nor writes the cache. ``overrides``: a
    manual override file (see :mod:`render.emotion.overrides`), applied last.
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
        timeline = _analyze(path, key, settings, progress)
        if use_cache:
            store_sidecar(timeline, sidecar)
    timeline.source["path"] = str(path)
    return apply_overrides(timeline, forced)
