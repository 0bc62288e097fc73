"""Per-frame grading parameters: a preset's looks blended by the mood timeline.

For frame i, with probabilities p_e, valence v, arousal a and confidence c::

    weight = strength * intensity * (1 - confidence_weight + confidence_weight * c)
    value  = base + weight * (sum_e p_e * delta_e + v * delta_valence + a * delta_arousal)

clamped to the parameter's range. Within a shot every parameter then follows
its target at a bounded speed (a slew limit): it moves at most
``swing / (ramp_s * fps)`` per frame, where ``swing`` is the largest change the
mood can make to it; so a full change of mood takes ``ramp_s`` seconds and
never flickers. At a cut the parameters jump to the new shot's values. With a
neutral mood and intensity 0 the result is exactly the base look.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from render.emotion.fusion import EMOTION_VALENCE_AROUSAL
from render.emotion.labels import EMOTIONS
from render.emotion.timeline import MoodTimeline
from render.looks.preset import Preset, op_key
from render.ops.base import with_fields
from render.ops.colour import Exposure, WhiteBalance
from render.ops.focus import DepthOfField
from render.ops.lighting import Relight, RelightRegion
from render.ops.regions import Ellipse

FACE_SMOOTHING_S = 0.5     # face positions are averaged over this window within a shot
FACE_LIGHT_SCALE = 1.3     # the relit ellipse's radii, relative to half the face box
FACE_FOCUS_SCALE = 2.2     # the in-focus ellipse's radii (head and shoulders)
SCENE_GAINS = (Exposure, WhiteBalance)  # look ops that are linear-light gains, as the face relight is


@dataclass(frozen=True)
class Parameter:
    """One blendable parameter of the look: op position, field, and its per-frame values."""

    op_index: int
    field: str
    width: int                     # 1 for a number, 3 for an RGB triple
    max_step: np.ndarray           # (width,) the most it moves between frames of one shot


@dataclass(frozen=True)
class GradeSchedule:
    """The look for every frame of one clip: built once, read by every renderer."""

    look: tuple
    parameters: tuple[Parameter, ...]
    values: np.ndarray             # float64 (frames, sum of widths)
    face_box: np.ndarray           # float32 (frames, 4), smoothed, NaN where no face
    faces: dict | None
    intensity: float
    finish: tuple = ()             # ops after everything else (the preset's soft clip)

    @property
    def frame_count(self) -> int:
        return self.values.shape[0]

    def ops_at(self, frame_index: int) -> tuple:
        """The grade (tuple of ops) for frame ``frame_index``."""
        i = min(max(frame_index, 0), self.frame_count - 1)
        row = self.values[i].tolist()
        driven: dict[int, dict] = {}
        column = 0
        for p in self.parameters:
            driven.setdefault(p.op_index, {})[p.field] = row[column] if p.width == 1 else \
                tuple(row[column:column + p.width])
            column += p.width
        ops = list(self.look)
        for k, values in driven.items():
            ops[k] = with_fields(ops[k], values)   # values clipped to RANGES
        if not self.faces:
            return (*ops, *self.finish)
        relight, focus = self._face_ops(i)
        # Relight the scene light before the look, after the look's leading exposure and white
        # balance (gains in linear light, as the relight's: the order does not change the
        # result, and those gains stay in the run that 8-bit frames bake into a table, see
        # render.ops.plan.CodeTable); depth of field last, on the finished picture.
        k = 0
        while k < len(ops) and isinstance(ops[k], SCENE_GAINS):
            k += 1
        return (*ops[:k], relight, *ops[k:], focus, *self.finish)

    def _face_ops(self, i: int) -> tuple:
        box = self.face_box[i]
        if not np.all(np.isfinite(box)):
            return NO_RELIGHT, NO_FOCUS
        cx, cy = float(box[0] + box[2]) / 2, float(box[1] + box[3]) / 2
        rx, ry = max(float(box[2] - box[0]) / 2, 0.002), max(float(box[3] - box[1]) / 2, 0.002)
        # in range by construction (made without their checks): boxes are clipped to 0..1
        # (_smooth_faces), radii to 2, and the [faces] values checked when the preset loads
        light = with_fields(FACE_LIGHT, dict(
            center_x=cx, center_y=cy, radius_x=min(rx * FACE_LIGHT_SCALE, 2.0), radius_y=min(ry * FACE_LIGHT_SCALE, 2.0),
            exposure_ev=self.faces["relight_exposure_ev"] * self.intensity,
            warmth=self.faces["relight_warmth"] * self.intensity))
        focus = with_fields(FACE_FOCUS, dict(center_x=cx, center_y=cy + ry * 0.6, radius_x=min(rx * FACE_FOCUS_SCALE, 2.0),
                                             radius_y=min(ry * FACE_FOCUS_SCALE * 1.3, 2.0)))
        return (with_fields(NO_RELIGHT, {"regions": (light,)}),
                with_fields(NO_FOCUS, {"sigma_px": self.faces["background_blur_sigma_px"] * self.intensity,
                                       "focus_regions": (focus,)}))

    def max_steps(self) -> dict[str, np.ndarray]:
        """The documented bound: {"op.field": most change between consecutive frames of a shot}."""
        return {f"{op_key(self.look[p.op_index])}.{p.field}": p.max_step for p in self.parameters}


NO_RELIGHT = Relight(regions=())             # the face ops of a frame without a face: the same
NO_FOCUS = DepthOfField(sigma_px=0.0)          # objects on every such frame (render.ops.compiled)
FACE_LIGHT = RelightRegion(center_x=0.5, center_y=0.5, radius_x=0.5, radius_y=0.5, feather=0.7)
FACE_FOCUS = Ellipse(center_x=0.5, center_y=0.5, radius_x=0.5, radius_y=0.5, feather=0.6)


def constant_timeline(frame_count: int, frame_rate: Fraction, emotion: str) -> MoodTimeline:
    """A timeline that says ``emotion`` with certainty on every frame (for ``--mood EMOTION``)."""
    if emotion not in EMOTIONS:
        from render.errors import MoodgradeError
        raise MoodgradeError(f"unknown mood {emotion!r}; choose auto, a file, or one of {', '.join(EMOTIONS)}")
    n = max(frame_count, 1)
    probs = np.zeros((n, len(EMOTIONS)), np.float32)
    probs[:, EMOTIONS.index(emotion)] = 1.0
    valence, arousal = EMOTION_VALENCE_AROUSAL[emotion]
    return MoodTimeline(frame_rate=Fraction(frame_rate), time_s=np.arange(n) / float(frame_rate), probs=probs,
                        valence=np.full(n, valence, np.float32), arousal=np.full(n, arousal, np.float32),
                        confidence=np.ones(n, np.float32), shot=np.zeros(n, np.int32),
                        faces=np.zeros(n, np.int32), face_box=np.full((n, 4), np.nan, np.float32),
                        overridden=np.ones(n, bool), cuts=[], present={"video": False, "audio": False,
                                                                       "faces": False})


def build_schedule(preset: Preset, timeline: MoodTimeline, intensity: float = 1.0) -> GradeSchedule:
    """Blend ``preset`` by ``timeline`` (intensity 0..1) into per-frame parameters."""
    intensity = float(np.clip(intensity, 0.0, 1.0))
    n = timeline.frame_count
    response = preset.response
    weight = response["strength"] * intensity * (
        1.0 - response["confidence_weight"] + response["confidence_weight"] * timeline.confidence.astype(np.float64))
    drivers = {e: timeline.probs[:, k].astype(np.float64) for k, e in enumerate(EMOTIONS)}
    drivers["valence"] = timeline.valence.astype(np.float64)
    drivers["arousal"] = timeline.arousal.astype(np.float64)
    index = {op_key(op): i for i, op in enumerate(preset.look)}
    keys = sorted({key for table in preset.deltas.values() for key in table}, key=lambda k: (index[k[0]], k[1]))
    fps = float(timeline.frame_rate)
    parameters, columns = [], []
    for op_name, field_name in keys:
        op = preset.look[index[op_name]]
        base = np.atleast_1d(np.asarray(getattr(op, field_name), np.float64))
        change = np.zeros((n, base.size))
        swing = np.zeros(base.size)
        for driver, table in preset.deltas.items():
            delta = np.asarray(table.get((op_name, field_name), np.zeros(base.size)), np.float64)
            change += drivers[driver][:, None] * delta[None, :]
            swing += np.abs(delta)
        lo, hi = type(op).RANGES[field_name]
        target = np.clip(base[None, :] + weight[:, None] * change, lo, hi)
        max_step = swing * response["strength"] * intensity / (response["ramp_s"] * fps)
        columns.append(_slew_limit(target, max_step, timeline.shot))
        parameters.append(Parameter(op_index=index[op_name], field=field_name, width=base.size, max_step=max_step))
    values = np.concatenate(columns, axis=1) if columns else np.zeros((n, 0))
    return GradeSchedule(look=preset.look, parameters=tuple(parameters), values=values,
                         face_box=_smooth_faces(timeline, fps), faces=preset.faces, intensity=intensity,
                         finish=() if preset.soft_clip.is_identity() else (preset.soft_clip,))


def _slew_limit(target: np.ndarray, max_step: np.ndarray, shot: np.ndarray) -> np.ndarray:
    out = target.copy()
    for i in range(1, len(out)):
        if shot[i] == shot[i - 1]:
            out[i] = out[i - 1] + np.clip(target[i] - out[i - 1], -max_step, max_step)
    return out


def _smooth_faces(timeline: MoodTimeline, fps: float) -> np.ndarray:
    """Average the main face box over a short window within each shot (NaN stays where no face)."""
    boxes = timeline.face_box.astype(np.float64)
    out = np.full_like(boxes, np.nan)
    half = max(1, int(round(FACE_SMOOTHING_S * fps / 2)))
    for i in range(len(boxes)):
        if not np.all(np.isfinite(boxes[i])):
            continue
        lo, hi = max(0, i - half), min(len(boxes), i + half + 1)
        window = boxes[lo:hi][timeline.shot[lo:hi] == timeline.shot[i]]
        window = window[np.all(np.isfinite(window), axis=1)]
        out[i] = window.mean(axis=0)
    return np.clip(out, 0.0, 1.0).astype(np.float32)   # NaN stays NaN
