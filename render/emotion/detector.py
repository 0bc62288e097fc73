"""MTCNN face detection: the three-stage cascade in NumPy, the networks through ONNX Runtime.

The cascade follows facenet-pytorch's ``detect_face`` (Zhang et al. 2016,
"Joint Face Detection and Alignment using Multi-task Cascaded Convolutional
Networks"): an image pyramid scanned by P-Net, candidates refined by R-Net on
24x24 crops, then by O-Net on 48x48 crops, which also gives five landmarks.
Frames of one size are processed together so every network call is batched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from render.emotion.sessions import model_session

PNET, RNET, ONET = "mtcnn_pnet.onnx", "mtcnn_rnet.onnx", "mtcnn_onet.onnx"
_BATCH = 256  # crops per R-Net / O-Net call


@dataclass(frozen=True)
class Detection:
    """One face: box (x0, y0, x1, y1) and landmarks (5, 2) in frame pixels, score 0..1.

    Landmarks are left eye, right eye, nose, left and right mouth corners (as
    seen in the picture: "left" is the one with the smaller x).
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray


def _normalise(rgb: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float32, (x - 127.5) / 128 as MTCNN was trained."""
    return ((rgb.astype(np.float32) - 127.5) * 0.0078125).transpose(0, 3, 1, 2)


def _pyramid_scales(height: int, width: int, min_face_px: float, scale_step: float) -> list[float]:
    """Scales at which a 12 px P-Net window covers faces from min_face_px up to the frame size."""
    scale = 12.0 / min_face_px
    side = min(height, width) * scale
    scales = []
    while side >= 12:
        scales.append(scale)
        scale *= scale_step
        side *= scale_step
    return scales


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, by_min_area: bool = False) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression (overlap over union, or over the smaller area)."""
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x1 - x0 + 1) * (y1 - y0 + 1)
    order = np.argsort(scores, kind="stable")
    keep = []
    while order.size:
        best, rest = order[-1], order[:-1]
        keep.append(best)
        w = np.maximum(0.0, np.minimum(x1[best], x1[rest]) - np.maximum(x0[best], x0[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y1[best], y1[rest]) - np.maximum(y0[best], y0[rest]) + 1)
        inter = w * h
        denom = np.minimum(area[best], area[rest]) if by_min_area else area[best] + area[rest] - inter
        order = rest[inter / denom <= threshold]
    return np.asarray(keep, dtype=np.int64)


def _regress(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Apply the networks' box regression (offsets in box widths/heights)."""
    size = np.stack([boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1], axis=1)
    return boxes[:, :4] + offsets * np.tile(size, 2)


def _square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square around its centre."""
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    x0 = boxes[:, 0] + (w - side) * 0.5
    y0 = boxes[:, 1] + (h - side) * 0.5
    return np.stack([x0, y0, x0 + side, y0 + side], axis=1)


def _crops(frame: np.ndarray, boxes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Resized crops of the boxes' parts inside the frame, and which boxes gave one."""
    height, width = frame.shape[:2]
    b = np.trunc(boxes).astype(np.int64)
    x0, y0 = np.maximum(b[:, 0], 1) - 1, np.maximum(b[:, 1], 1) - 1
    x1, y1 = np.minimum(b[:, 2], width), np.minimum(b[:, 3], height)
    valid = (x1 > x0) & (y1 > y0)
    crops = [cv2.resize(frame[y0[i]:y1[i], x0[i]:x1[i]], (size, size), interpolation=cv2.INTER_AREA)
             for i in np.flatnonzero(valid)]
    return (np.stack(crops) if crops else np.zeros((0, size, size, 3), np.uint8)), valid


def _run_batched(model_file: str, crops: np.ndarray) -> list[np.ndarray]:
    session = model_session(model_file)
    parts = [session.run(None, {"input": _normalise(crops[i:i + _BATCH])}) for i in range(0, len(crops), _BATCH)]
    return [np.concatenate(outputs) for outputs in zip(*parts)]


def _proposals(frames: np.ndarray, min_face_px: float, scale_step: float, threshold: float) -> list[np.ndarray]:
    """Stage 1: P-Net over the pyramid; per frame (K, 5) squared boxes with scores."""
    count, height, width = frames.shape[:3]
    per_frame: list[list[np.ndarray]] = [[] for _ in range(count)]
    top = None       # the pyramid's largest level
    for scale in _pyramid_scales(height, width, min_face_px, scale_step):
        # The largest level area-resampled from the frames, the others from it: OpenCV's
        # area filter costs in proportion to its input when the ratio is not whole.
        size = (int(width * scale + 1), int(height * scale + 1))
        base = frames if top is None else top
        pyramid = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in base])
        if top is None:
            top = pyramid
        offsets, probs = model_session(PNET).run(None, {"input": _normalise(pyramid)})
        for i in range(count):
            ys, xs = np.nonzero(probs[i, 1] >= threshold)
            if not len(ys):
                continue
            cells = np.stack([xs, ys], axis=1).astype(np.float32)
            top_left = np.floor((2 * cells + 1) / scale)
            bottom_right = np.floor((2 * cells + 12) / scale)
            found = np.concatenate([top_left, bottom_right, probs[i, 1, ys, xs, None],
                                    offsets[i, :, ys, xs]], axis=1)
            per_frame[i].append(found[_nms(found[:, :4], found[:, 4], 0.5)])
    proposals = []
    for found in per_frame:
        if not found:
            proposals.append(np.zeros((0, 5), np.float32))
            continue
        found = np.concatenate(found)
        found = found[_nms(found[:, :4], found[:, 4], 0.7)]
        size = np.stack([found[:, 2] - found[:, 0], found[:, 3] - found[:, 1]], axis=1)
        boxes = found[:, :4] + found[:, 5:9] * np.tile(size, 2)
        proposals.append(np.concatenate([_square(boxes), found[:, 4:5]], axis=1))
    return proposals


def _refine(frames: np.ndarray, boxes: list[np.ndarray], model_file: str, size: int):
    """Run R-Net or O-Net on every frame's boxes at once; per frame (boxes kept, outputs)."""
    crops, kept = [], []
    for frame, frame_boxes in zip(frames, boxes):
        frame_crops, valid = _crops(frame, frame_boxes[:, :4], size)
        crops.append(frame_crops)
        kept.append(frame_boxes[valid])
    stacked = np.concatenate(crops)
    if not len(stacked):
        return [(b, None) for b in kept]
    outputs = _run_batched(model_file, stacked)
    bounds = np.cumsum([0] + [len(c) for c in crops])
    return [(b, [o[start:end] for o in outputs]) for b, start, end in zip(kept, bounds[:-1], bounds[1:])]


def detect_faces_batch(frames: Sequence[np.ndarray], min_face_px: float = 20.0,
                       thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
                       scale_step: float = 0.709) -> list[list[Detection]]:
    """Faces in each of several RGB uint8 frames of one size (H x W x 3).

    min_face_px: smallest face side searched for, in pixels (>= 1);
    thresholds: face probability (0..1) each stage needs; scale_step: pyramid
    ratio in (0, 1). Returns, per frame, the detections by decreasing score.
    """
    frames = np.ascontiguousarray(np.stack(frames))
    if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be H x W x 3 uint8, got {frames.shape} {frames.dtype}")
    height, width = frames.shape[1:3]
    proposals = _proposals(frames, min_face_px, scale_step, thresholds[0])

    candidates = []
    for boxes, outputs in _refine(frames, proposals, RNET, 24):
        if outputs is None:
            candidates.append(boxes)
            continue
        offsets, probs = outputs
        passed = probs[:, 1] > thresholds[1]
        boxes, offsets, scores = boxes[passed], offsets[passed], probs[passed, 1]
        keep = _nms(boxes[:, :4], scores, 0.7)
        refined = _square(_regress(boxes[keep], offsets[keep]))
        candidates.append(np.concatenate([refined, scores[keep, None]], axis=1))

    results = []
    for boxes, outputs in _refine(frames, candidates, ONET, 48):
        if outputs is None:
            results.append([])
            continue
        offsets, points, probs = outputs
        passed = probs[:, 1] > thresholds[2]
        boxes, offsets, points, scores = boxes[passed], offsets[passed], points[passed], probs[passed, 1]
        size = np.stack([boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1], axis=1)
        landmarks = np.stack([points[:, :5], points[:, 5:]], axis=2) * size[:, None, :] + boxes[:, None, :2] - 1
        final = _regress(boxes, offsets)
        keep = _nms(final, scores, 0.7, by_min_area=True)
        final[:, 0::2] = np.clip(final[:, 0::2], 0, width)
        final[:, 1::2] = np.clip(final[:, 1::2], 0, height)
        results.append([Detection(tuple(float(v) for v in final[k]), float(scores[k]),
                                  landmarks[k].astype(np.float32)) for k in keep])
    return results


def detect_faces(rgb: np.ndarray, min_face_px: float = 20.0) -> list[Detection]:
    """Faces in one RGB uint8 frame (H x W x 3), by decreasing score; see detect_faces_batch."""
    return detect_faces_batch([rgb], min_face_px)[0]
