"""A PNG picture of a mood timeline, drawn with OpenCV (no plotting library needed).

Top: the emotion probabilities as stacked bands over time. Middle: valence
and arousal (-1..1). Bottom strip: confidence (grey), frames with faces
(green ticks) and manual overrides (orange). Cuts are vertical lines
through every panel; the time axis is in seconds.
"""

from pathlib import Path

import cv2
import numpy as np

from render.emotion.labels import EMOTIONS
from render.emotion.timeline import MoodTimeline
from render.errors import MoodgradeError

# BGR colours, one per emotion in EMOTIONS order.
EMOTION_COLOURS_BGR = {
    "angry": (40, 40, 220), "disgust": (40, 140, 110), "fear": (150, 60, 140), "happy": (40, 200, 250),
    "sad": (190, 110, 40), "surprise": (220, 190, 60), "neutral": (190, 190, 190),
}
VALENCE_BGR = (170, 90, 20)
AROUSAL_BGR = (30, 60, 220)
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_MARGIN_LEFT, _MARGIN_RIGHT = 70, 130
_PROBS_H, _VA_H, _STRIP_H, _GAP = 260, 170, 40, 18


def _nice_step(span_s: float, target_ticks: int = 8) -> float:
    raw = max(span_s / target_ticks, 1e-3)
    magnitude = 10 ** np.floor(np.log10(raw))
    return float(min((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), default=10 * magnitude))


def render_timeline(timeline: MoodTimeline, width_px: int = 1200) -> np.ndarray:
    """The picture as an HxWx3 uint8 BGR array ``width_px`` wide."""
    plot_w = max(100, width_px - _MARGIN_LEFT - _MARGIN_RIGHT)
    top_probs = 40
    top_va = top_probs + _PROBS_H + _GAP
    top_strip = top_va + _VA_H + _GAP
    height = top_strip + _STRIP_H + 45
    image = np.full((height, width_px, 3), 255, np.uint8)
    n = timeline.frame_count
    columns = np.minimum((np.arange(plot_w) * n) // plot_w, n - 1)
    x0 = _MARGIN_LEFT

    # Stacked emotion bands: a pixel takes the colour of the band its height falls in.
    cumulative = np.cumsum(timeline.probs[columns], axis=1)                    # (plot_w, 7)
    level = (np.arange(_PROBS_H)[::-1] + 0.5)[:, None, None] / _PROBS_H       # bottom = 0
    band = np.minimum((cumulative[None, :, :] < level).sum(axis=2), len(EMOTIONS) - 1)
    palette = np.array([EMOTION_COLOURS_BGR[e] for e in EMOTIONS], np.uint8)
    image[top_probs:top_probs + _PROBS_H, x0:x0 + plot_w] = palette[band]

    # Valence and arousal lines.
    def y_of(values: np.ndarray) -> np.ndarray:
        return top_va + (0.5 - 0.5 * np.clip(values, -1, 1)) * (_VA_H - 1)

    cv2.rectangle(image, (x0, top_va), (x0 + plot_w - 1, top_va + _VA_H - 1), (230, 230, 230), 1)
    cv2.line(image, (x0, int(y_of(np.zeros(1))[0])), (x0 + plot_w - 1, int(y_of(np.zeros(1))[0])), (200, 200, 200), 1)
    xs = np.arange(plot_w) + x0
    for values, colour in ((timeline.valence, VALENCE_BGR), (timeline.arousal, AROUSAL_BGR)):
        points = np.stack([xs, y_of(values[columns])], axis=1).round().astype(np.int32)
        cv2.polylines(image, [points], False, colour, 2, cv2.LINE_AA)

    # Strip: confidence as a grey fill, faces and overrides as ticks.
    conf_h = (timeline.confidence[columns] * (_STRIP_H - 10)).astype(int)
    for x, h in enumerate(conf_h):
        image[top_strip + _STRIP_H - 10 - h:top_strip + _STRIP_H - 10, x0 + x] = (160, 160, 160)
    image[top_strip + _STRIP_H - 8:top_strip + _STRIP_H - 4, xs[timeline.faces[columns] > 0]] = (60, 170, 60)
    image[top_strip + _STRIP_H - 4:top_strip + _STRIP_H, xs[timeline.overridden[columns]]] = (0, 140, 255)

    # Cuts through every panel.
    for cut in timeline.cuts:
        x = x0 + int(cut * plot_w / n)
        for top, h in ((top_probs, _PROBS_H), (top_va, _VA_H), (top_strip, _STRIP_H)):
            cv2.line(image, (x, top), (x, top + h - 1), (30, 30, 30), 1)

    # Time axis.
    start_s, end_s = float(timeline.time_s[0]), float(timeline.time_s[-1]) + 1 / float(timeline.frame_rate)
    step = _nice_step(end_s - start_s)
    axis_y = top_strip + _STRIP_H + 4
    for t in np.arange(np.ceil(start_s / step) * step, end_s, step):
        x = x0 + int((t - start_s) / max(end_s - start_s, 1e-9) * plot_w)
        cv2.line(image, (x, axis_y), (x, axis_y + 5), (0, 0, 0), 1)
        cv2.putText(image, f"{t:g}", (x - 10, axis_y + 20), _FONT, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(image, "time (s)", (x0 + plot_w - 60, axis_y + 36), _FONT, 0.4, (0, 0, 0), 1, cv2.LINE_AA)

    # Labels and legend.
    name = Path(str(timeline.source.get("path", ""))).name or "timeline"
    absent = [k for k, v in timeline.present.items() if not v]
    title = f"{name}: {n} frames, {len(timeline.cuts)} cuts" + (f", no {', no '.join(absent)}" if absent else "")
    cv2.putText(image, title, (x0, 25), _FONT, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(image, "emotion", (5, top_probs + 15), _FONT, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    for label, y in (("+1", top_va + 10), ("0", top_va + _VA_H // 2 + 4), ("-1", top_va + _VA_H - 2)):
        cv2.putText(image, label, (x0 - 25, y), _FONT, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(image, "conf.", (5, top_strip + 25), _FONT, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    legend_x = x0 + plot_w + 12
    entries = [(e, EMOTION_COLOURS_BGR[e]) for e in reversed(EMOTIONS)]
    for k, (label, colour) in enumerate(entries):
        y = top_probs + 10 + 22 * k
        cv2.rectangle(image, (legend_x, y - 9), (legend_x + 14, y + 3), colour, -1)
        cv2.putText(image, label, (legend_x + 20, y + 2), _FONT, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    for k, (label, colour) in enumerate((("valence", VALENCE_BGR), ("arousal", AROUSAL_BGR))):
        y = top_va + 15 + 22 * k
        cv2.line(image, (legend_x, y - 4), (legend_x + 14, y - 4), colour, 2)
        cv2.putText(image, label, (legend_x + 20, y), _FONT, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return image


def check_plot_path(path: str | Path) -> Path:
    """``path`` as a Path if it names a PNG file; otherwise MoodgradeError."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise MoodgradeError(f"{path}: the plot is written as PNG; give a .png file name")
    return path


def write_plot(timeline: MoodTimeline, path: str | Path, width_px: int = 1200) -> None:
    """Write :func:`render_timeline` as a PNG file; an unwritable path raises MoodgradeError."""
    path = check_plot_path(path)
    ok, data = cv2.imencode(".png", render_timeline(timeline, width_px))
    try:
        path.write_bytes(data.tobytes())
    except OSError as exc:
        raise MoodgradeError(f"{path}: cannot write plot ({exc.strerror})") from None
    if not ok:
        raise MoodgradeError(f"{path}: PNG encoding failed")
