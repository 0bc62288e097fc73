"""Fusion: faces, picture and sound into per-frame emotion probabilities, valence, arousal, confidence.

The model (documented with its references in ``docs/mood-model.md``):

1. Scene affect -> valence and arousal, after Hanjalic and Xu (2005): arousal
   from motion, cut rate (rhythm) and sound energy (loudness, onset rate,
   flux); valence from brightness, saturation and colourfulness (Valdez and
   Mehrabian 1994), warmth, and the spectral centroid as a stand-in for pitch.
   Each feature is squashed to -1..1 by ``tanh((x - centre) / scale)`` with the
   fixed constants of :data:`VALENCE_TERMS` / :data:`AROUSAL_TERMS` (absolute,
   not per clip, so a dark quiet film reads as dark and quiet) and the
   available terms are averaged with their weights.
2. Scene valence/arousal -> emotion priors: a softmax over the negative squared
   distances to each emotion's place on the circumplex
   (:data:`EMOTION_VALENCE_AROUSAL`).
3. Faces: at each sampled frame the expression probabilities of the faces,
   weighted by ``weight * score``; their valence/arousal follow from the same
   circumplex places.
4. Everything is smoothed in time by a Gaussian (``smoothing_s``) that never
   crosses a cut; faces then dominate in proportion to how well they cover the
   neighbourhood (``face_share``, up to :data:`FACE_SHARE_MAX`).
"""

from dataclasses import dataclass

import numpy as np

from render.emotion.labels import EMOTIONS

# Approximate circumplex places (valence, arousal) after Russell (1980) and the
# pleasure/arousal ratings of Russell and Mehrabian (1977).
EMOTION_VALENCE_AROUSAL = {
    "angry": (-0.51, 0.59),
    "disgust": (-0.60, 0.35),
    "fear": (-0.64, 0.60),
    "happy": (0.81, 0.51),
    "sad": (-0.63, -0.27),
    "surprise": (0.40, 0.67),
    "neutral": (0.0, 0.0),
}
_PLACES = np.array([EMOTION_VALENCE_AROUSAL[e] for e in EMOTIONS], np.float32)

# feature name -> (centre, scale, weight); squashed as tanh((x - centre) / scale).
VALENCE_TERMS = {
    "brightness": (0.40, 0.20, 0.30),
    "saturation": (0.35, 0.20, 0.15),
    "colourfulness": (35.0, 25.0, 0.20),
    "warmth": (0.05, 0.15, 0.15),
    "centroid_octaves": (0.0, 1.5, 0.10),      # log2(centroid_hz / 1000)
}
AROUSAL_TERMS = {
    "motion": (0.025, 0.03, 0.35),
    "cut_rate_per_min": (12.0, 10.0, 0.20),
    "loudness_db": (-26.0, 10.0, 0.25),
    "onset_rate_per_s": (1.5, 1.5, 0.10),
    "flux": (0.10, 0.10, 0.10),
}
PRIOR_TEMPERATURE = 0.35
FACE_SHARE_MAX = 0.9
FACE_AROUSAL_SHARE = 0.6          # faces say less about arousal than about valence
SCENE_CONFIDENCE = {"video+audio": 0.35, "video": 0.25, "audio": 0.15}


@dataclass(frozen=True)
class FusedMood:
    """Per-frame result: probs (n, 7) in EMOTIONS order summing to 1, valence/arousal -1..1, confidence 0..1."""

    probs: np.ndarray
    valence: np.ndarray
    arousal: np.ndarray
    confidence: np.ndarray
    face_share: np.ndarray       # 0..1, how much the faces decided each frame


def _weighted_terms(features: dict[str, np.ndarray], terms: dict[str, tuple[float, float, float]],
                    n: int) -> np.ndarray:
    total = np.zeros(n, np.float32)
    weight = 0.0
    for name, (centre, scale, w) in terms.items():
        if name in features:
            total += w * np.tanh((features[name] - centre) / scale)
            weight += w
    return total / weight if weight else total


def scene_valence_arousal(features: dict[str, np.ndarray], n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Valence and arousal (-1..1 each, float32 per frame) from whichever scene features are given.

    ``features`` holds per-frame arrays named as in :data:`VALENCE_TERMS`,
    :data:`AROUSAL_TERMS` or ``centroid_hz`` (converted to octaves about 1 kHz).
    Missing features are left out and the weights of the others renormalised.
    """
    features = dict(features)
    if "centroid_hz" in features:
        features["centroid_octaves"] = np.log2(np.maximum(features.pop("centroid_hz"), 20.0) / 1000.0)
    return _weighted_terms(features, VALENCE_TERMS, n_frames), _weighted_terms(features, AROUSAL_TERMS, n_frames)


def emotion_priors(valence: np.ndarray, arousal: np.ndarray, temperature: float = PRIOR_TEMPERATURE) -> np.ndarray:
    """(n, 7) probabilities: softmax of -squared distance / temperature to each emotion's circumplex place."""
    point = np.stack([valence, arousal], axis=1)[:, None, :]
    logits = -np.sum((point - _PLACES[None]) ** 2, axis=2) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)


def probs_to_valence_arousal(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected circumplex place of (n, 7) probabilities: valence, arousal in -1..1."""
    place = probs @ _PLACES
    return place[:, 0], place[:, 1]


def face_evidence(faces: dict[int, list], n_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense per-frame face evidence from ``analyze_faces`` output.

    Returns ``sampled`` (bool, frames that were looked at), ``weight`` (0..1,
    summed ``weight * score`` of the faces, capped at 1) and ``probs`` (n, 7),
    the weighted mean expression (zeros where no face).
    """
    sampled = np.zeros(n_frames, bool)
    weight = np.zeros(n_frames, np.float32)
    probs = np.zeros((n_frames, len(EMOTIONS)), np.float32)
    for index, found in faces.items():
        if not 0 <= index < n_frames:
            continue
        sampled[index] = True
        w = np.array([f.weight * f.score for f in found], np.float32)
        if w.sum() > 0:
            probs[index] = (w[:, None] * np.stack([f.probs for f in found])).sum(axis=0) / w.sum()
            weight[index] = min(1.0, float(w.sum()))
    return sampled, weight, probs


def smooth_within_shots(x: np.ndarray, cuts: list[int], sigma_frames: float,
                        mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-smooth ``x`` (n,) or (n, k) along time, never across a cut.

    With ``mask`` (n,) weights, a normalised convolution: frames with zero
    weight take their neighbours' values. Returns the smoothed values and the
    smoothed mask (the local density of evidence, 0..1).
    """
    x = np.asarray(x, np.float32)
    m = np.ones(x.shape[0], np.float32) if mask is None else np.asarray(mask, np.float32)
    radius = max(1, int(3 * sigma_frames))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / max(sigma_frames, 1e-3)) ** 2).astype(np.float32)
    flat = x.reshape(x.shape[0], -1)
    out = np.zeros_like(flat)
    density = np.zeros_like(m)

    def blur(values: np.ndarray) -> np.ndarray:
        return np.convolve(values, taps, mode="full")[radius:radius + values.size]

    bounds = [0, *cuts, x.shape[0]]
    for a, b in zip(bounds, bounds[1:]):
        if b <= a:
            continue
        weights = blur(m[a:b])
        density[a:b] = weights / blur(np.ones(b - a, np.float32))
        for c in range(flat.shape[1]):
            num = blur(flat[a:b, c] * m[a:b])
            out[a:b, c] = np.where(weights > 1e-6, num / np.maximum(weights, 1e-6), 0.0)
    return out.reshape(x.shape), density


def fuse(n_frames: int, frame_rate: float, cuts: list[int], scene: dict[str, np.ndarray],
         faces: dict[int, list] | None, *, has_video: bool, has_audio: bool,
         smoothing_s: float = 0.5) -> FusedMood:
    """Per-frame mood of a clip.

    ``scene``: per-frame scene features (visual and audio, any subset);
    ``faces``: ``analyze_faces`` output for the sampled frames (None if faces
    were not looked for). ``smoothing_s`` is the Gaussian sigma in seconds.
    """
    sigma = smoothing_s * frame_rate
    valence_s, arousal_s = scene_valence_arousal(scene, n_frames)
    va, _ = smooth_within_shots(np.stack([valence_s, arousal_s], axis=1), cuts, sigma)
    valence_s, arousal_s = va[:, 0], va[:, 1]
    scene_probs = emotion_priors(valence_s, arousal_s)
    parts = "video+audio" if has_video and has_audio else "video" if has_video else "audio" if has_audio else None
    scene_conf = np.full(n_frames, SCENE_CONFIDENCE.get(parts, 0.0), np.float32)
    if "contrast" in scene:                    # flat (e.g. black) pictures say little
        flatness, _ = smooth_within_shots(np.clip(scene["contrast"] / 0.04, 0.25, 1.0), cuts, sigma)
        scene_conf *= flatness

    share = np.zeros(n_frames, np.float32)
    face_probs = np.zeros_like(scene_probs)
    face_conf = np.zeros(n_frames, np.float32)
    if faces:
        sampled, weight, probs = face_evidence(faces, n_frames)
        face_probs, _ = smooth_within_shots(probs, cuts, sigma, mask=weight)
        smoothed_weight, _ = smooth_within_shots(weight, cuts, sigma, mask=sampled.astype(np.float32))
        share = FACE_SHARE_MAX * np.clip(smoothed_weight / 0.5, 0.0, 1.0)
        share = np.where(face_probs.sum(axis=1) > 0.5, share, 0.0).astype(np.float32)
        face_conf = 0.55 + 0.45 * (face_probs.max(axis=1) - 1 / 7) / (6 / 7)
    valence_f, arousal_f = probs_to_valence_arousal(face_probs)

    probs = share[:, None] * face_probs + (1 - share[:, None]) * scene_probs
    probs /= probs.sum(axis=1, keepdims=True)
    valence = share * valence_f + (1 - share) * valence_s
    arousal_share = FACE_AROUSAL_SHARE * share
    arousal = arousal_share * arousal_f + (1 - arousal_share) * arousal_s
    confidence = share * face_conf + (1 - share) * scene_conf
    return FusedMood(probs=probs.astype(np.float32), valence=np.clip(valence, -1, 1).astype(np.float32),
                     arousal=np.clip(arousal, -1, 1).astype(np.float32),
                     confidence=np.clip(confidence, 0, 1).astype(np.float32), face_share=share)
