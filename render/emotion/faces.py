"""Faces of a clip: detected, tracked across the sampled frames, weighted, and their expressions read.

``analyze_faces`` is what the scene/mood fusion calls: it takes the sampled
frames of one clip and returns, for every sampled frame, the faces that belong
to a track seen in more than one sampled frame (a face seen once in a clip of
several samples is taken for a false detection), each with its expression
probabilities over :data:`render.emotion.labels.EMOTIONS`.

It is two steps that long clips take apart: :func:`detect_samples` (the costly
part, per sample, so it can run on chunks of samples while the decoder goes on;
it keeps only boxes and 64x64 aligned crops, not frames; :func:`read_expressions`
may read the crops' expressions there too, per sample) and
:func:`faces_from_detections` (tracking over the whole clip, weights, and the
expressions of the faces kept, read now unless they were read per sample).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import cv2
import numpy as np

from render.emotion.detector import PNET, Detection, detect_faces_batch
from render.emotion.expressions import align_face, classify_expressions, expression_provider
from render.emotion.sessions import execution_provider
from render.errors import MoodgradeError

DETECT_MAX_SIDE_PX = 640      # frames are searched for faces at most this large
MIN_FACE_PX = 20.0            # smallest face searched for, in pixels of the searched frame ...
MIN_FACE_FRACTION = 1 / 12    # ... and as a share of its shorter side (smaller faces weigh little anyway)
TRACK_MIN_IOU = 0.3           # overlap that links a face to a track from an earlier sample
TRACK_MAX_GAP = 2             # a track may miss this many sampled frames and continue
FULL_SIZE_FRACTION = 0.25     # a face whose side is this share of the frame's gets full size weight
STEADY_SAMPLES = 3            # a track seen this often gets full presence weight
JITTER_HALF_WEIGHT = 0.25     # centre shift per sample, in face sides, that halves the weight
_DETECT_CHUNK = 16            # frames per batched detection


@dataclass(frozen=True)
class FaceResult:
    """One face in one sampled frame.

    box: (x0, y0, x1, y1) and landmarks (5, 2): pixels of the given frame;
    score: detector confidence 0..1; track_id: same face across samples;
    weight: 0..1 from the face's size and its track's steadiness;
    probs: (7,) expression probabilities in EMOTIONS order, summing to 1.
    """

    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    score: float
    track_id: int
    weight: float
    probs: np.ndarray


@dataclass(frozen=True)
class SampleFaces:
    """What detection found in one sampled frame: its faces and their aligned 64x64 grey crops,
    or instead of the crops their expression probabilities (faces x 7, EMOTIONS order) once
    :func:`read_expressions` has read them."""

    frame_index: int
    frame_shape: tuple[int, ...]
    detections: list[Detection]
    crops: list[np.ndarray]
    probs: np.ndarray | None = None


@dataclass
class _Track:
    track_id: int
    sightings: list[tuple[int, Detection]] = field(default_factory=list)   # (sample position, detection)


def _as_rgb8(frame_index: int, rgb: np.ndarray) -> np.ndarray:
    """The frame as H x W x 3 uint8 (uint16 frames are reduced to 8 bits)."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape or rgb.dtype not in (np.uint8, np.uint16):
        raise MoodgradeError(f"frame {frame_index}: expected an H x W x 3 uint8 or uint16 RGB frame, "
                             f"got shape {rgb.shape} {rgb.dtype}")
    return (rgb >> 8).astype(np.uint8) if rgb.dtype == np.uint16 else rgb


def _detect(frames: list[np.ndarray]) -> list[list[Detection]]:
    """Detections per frame, searched on frames no larger than DETECT_MAX_SIDE_PX, in frame pixels."""
    results: list[list[Detection]] = [[] for _ in frames]
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, frame in enumerate(frames):
        by_shape.setdefault(frame.shape, []).append(i)
    for (height, width, _), positions in by_shape.items():
        shrink = min(1.0, DETECT_MAX_SIDE_PX / max(height, width))
        size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
        min_face_px = max(MIN_FACE_PX, MIN_FACE_FRACTION * min(size))
        for start in range(0, len(positions), _DETECT_CHUNK):
            chunk = positions[start:start + _DETECT_CHUNK]
            small = [frames[i] if shrink == 1.0 else cv2.resize(frames[i], size, interpolation=cv2.INTER_AREA)
                     for i in chunk]
            scale = np.array([width / size[0], height / size[1]], np.float32)
            for i, found in zip(chunk, detect_faces_batch(small, min_face_px)):
                results[i] = [Detection(tuple(float(v) for v in np.array(d.box) * np.tile(scale, 2)),
                                        d.score, d.landmarks * scale) for d in found]
    return results


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union


def _track(detections: list[list[Detection]]) -> list[_Track]:
    """Link detections of consecutive samples by box overlap (greedy, best IoU first)."""
    tracks: list[_Track] = []
    for position, found in enumerate(detections):
        open_tracks = [t for t in tracks if position - t.sightings[-1][0] <= TRACK_MAX_GAP + 1]
        pairs = sorted(((_iou(t.sightings[-1][1].box, d.box), ti, di)
                        for ti, t in enumerate(open_tracks) for di, d in enumerate(found)), reverse=True)
        used_tracks, used_faces = set(), set()
        for overlap, ti, di in pairs:
            if overlap < TRACK_MIN_IOU:
                break
            if ti in used_tracks or di in used_faces:
                continue
            open_tracks[ti].sightings.append((position, found[di]))
            used_tracks.add(ti)
            used_faces.add(di)
        for di, d in enumerate(found):
            if di not in used_faces:
                tracks.append(_Track(len(tracks), [(position, d)]))
    return tracks


def _side(box: tuple[float, ...]) -> float:
    return float(np.sqrt(max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)))


def _steadiness(track: _Track, sample_count: int) -> float:
    """0..1: how often the track was seen (up to STEADY_SAMPLES) times how still it stayed."""
    presence = min(1.0, len(track.sightings) / min(STEADY_SAMPLES, sample_count))
    shifts = []
    for (p0, a), (p1, b) in zip(track.sightings, track.sightings[1:]):
        centre_a = np.array([a.box[0] + a.box[2], a.box[1] + a.box[3]]) / 2
        centre_b = np.array([b.box[0] + b.box[2], b.box[1] + b.box[3]]) / 2
        shifts.append(np.linalg.norm(centre_b - centre_a) / max(_side(a.box), 1.0) / (p1 - p0))
    jitter = float(np.median(shifts)) if shifts else 0.0
    return presence / (1.0 + jitter / JITTER_HALF_WEIGHT)


def _size_weight(box: tuple[float, ...], frame_shape: tuple[int, ...]) -> float:
    """0..1: the face's side over FULL_SIZE_FRACTION of the frame's (geometric mean) side."""
    frame_side = np.sqrt(frame_shape[0] * frame_shape[1])
    return float(min(1.0, _side(box) / (FULL_SIZE_FRACTION * frame_side)))


def detect_samples(samples: Sequence[tuple[int, np.ndarray]]) -> list[SampleFaces]:
    """Detect and align the faces of sampled frames ((frame_index, rgb) pairs, rgb uint8 or uint16)."""
    frames = [_as_rgb8(index, rgb) for index, rgb in samples]
    return [SampleFaces(index, frame.shape, found, [align_face(frame, d.landmarks) for d in found])
            for (index, _), frame, found in zip(samples, frames, _detect(frames))]


def read_expressions(sample: SampleFaces) -> SampleFaces:
    """The sample with its faces' expressions read (one batch: its own faces) and its crops dropped.

    A face's probabilities depend only on its crop, so reading them per sample, wherever
    that runs, gives what :func:`faces_from_detections` would read over the whole clip."""
    if sample.probs is not None:
        return sample
    probs = classify_expressions(np.stack(sample.crops)) if sample.crops else np.zeros((0, 7), np.float32)
    return SampleFaces(sample.frame_index, sample.frame_shape, sample.detections, [], probs)


def faces_from_detections(sampled: Sequence[SampleFaces]) -> dict[int, list[FaceResult]]:
    """Track the detections of a clip's samples (in clip order), drop faces seen only once (when
    there is more than one sample), weigh them and read their expressions; see analyze_faces."""
    results: dict[int, list[FaceResult]] = {s.frame_index: [] for s in sampled}
    tracks = _track([s.detections for s in sampled])
    if len(sampled) > 1:
        tracks = [t for t in tracks if len(t.sightings) > 1]
    kept = [(t, position, d) for t in tracks for position, d in t.sightings]
    if not kept:
        return results
    if all(s.probs is not None for s in sampled):
        probs_of = {id(d): p for s in sampled for d, p in zip(s.detections, s.probs)}
        probabilities = [probs_of[id(d)] for _, _, d in kept]
    else:
        crop_of = {id(d): crop for s in sampled for d, crop in zip(s.detections, s.crops)}
        probabilities = classify_expressions(np.stack([crop_of[id(d)] for _, _, d in kept]))
    steadiness = {t.track_id: _steadiness(t, len(sampled)) for t in tracks}
    for (track, position, d), probs in zip(kept, probabilities):
        sample = sampled[position]
        weight = _size_weight(d.box, sample.frame_shape) * steadiness[track.track_id]
        results[sample.frame_index].append(FaceResult(d.box, d.landmarks, d.score, track.track_id, weight, probs))
    for faces in results.values():
        faces.sort(key=lambda face: face.weight, reverse=True)
    return results


def analyze_faces(samples: Sequence[tuple[int, np.ndarray]]) -> dict[int, list[FaceResult]]:
    """Faces and their expressions in the sampled frames of one clip.

    samples: (frame_index, rgb) pairs in clip order, rgb H x W x 3 uint8 (or
    uint16, reduced to 8 bits). Returns {frame_index: [FaceResult, ...]} with a
    (possibly empty) list for every sampled frame, faces by decreasing weight.
    When there is more than one sample, faces whose track appears in only one
    sampled frame are dropped.
    """
    return faces_from_detections(detect_samples(samples))


def inference_providers() -> dict[str, str]:
    """Which ONNX Runtime execution provider runs each model, e.g. {"detector": "CPUExecutionProvider", ...}."""
    return {"detector": execution_provider(PNET), "expressions": expression_provider()}
