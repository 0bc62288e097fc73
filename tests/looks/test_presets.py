"""The preset library: every look loads, moves the picture the way it documents, and stays smooth."""

import dataclasses
from fractions import Fraction

import cv2
import numpy as np
import pytest
import skimage.data

from render.backends import select_backend
from render.emotion.labels import EMOTIONS
from render.emotion.timeline import MoodTimeline
from render.io.source import open_source
from render.looks.preset import PresetError, list_presets, load_preset
from render.looks.schedule import build_schedule, constant_timeline
from render.ops.focus import DepthOfField
from render.ops.lighting import Relight
from render.ops.soft_clip import LOOK_SOFT_CLIP, SoftClip
from render.demo import DEMO_CLIP

BUILT_IN = ["dreamy", "melancholy", "natural", "noir", "teal-orange", "thriller", "vivid", "warm-nostalgia"]


@pytest.fixture(scope="module")
def real_frames():
    """Two real frames (the demo's astronaut and cameraman shots) at 320x180."""
    with open_source(DEMO_CLIP) as source:
        return [source.frame(n, size=(320, 180)).rgb for n in (30, 100)]


def _saturation_and_luma(rgb: np.ndarray) -> tuple[float, float]:
    """Mean saturation as a viewer sees it (CIELAB chroma C*ab / 100) and mean Rec.709 luma, 0..1.

    HSV's S is not used: it reads a faint tint in near-black pixels as fully saturated.
    """
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    chroma = np.hypot(lab[..., 1], lab[..., 2]) / 100.0
    luma = rgb.astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722]) / 255.0
    return float(chroma.mean()), float(luma.mean())


def _graded(preset, emotion, frame, intensity=1.0):
    schedule = build_schedule(preset, constant_timeline(1, Fraction(25), emotion), intensity)
    return select_backend("numpy").apply(frame, schedule.ops_at(0), frame_index=0)


def test_library_has_eight_described_looks():
    assert set(BUILT_IN) <= set(list_presets())
    for name in BUILT_IN:
        preset = load_preset(name)
        assert len(preset.description) > 30 and preset.look
        assert {"saturation", "luminance"} <= set(preset.expect)


@pytest.mark.parametrize("name", BUILT_IN)
def test_happy_and_sad_move_the_picture_as_documented(name, real_frames):
    preset = load_preset(name)
    for frame in real_frames:
        sat_happy, luma_happy = _saturation_and_luma(_graded(preset, "happy", frame))
        sat_sad, luma_sad = _saturation_and_luma(_graded(preset, "sad", frame))
        for what, happy, sad, visible in (("saturation", sat_happy, sat_sad, 0.02),
                                          ("luminance", luma_happy, luma_sad, 0.02)):
            expected = preset.expect[what]
            if expected == "up":
                assert happy - sad >= visible, f"{name}: {what} happy {happy:.3f} vs sad {sad:.3f}"
            elif expected == "down":
                assert sad - happy >= visible, f"{name}: {what} happy {happy:.3f} vs sad {sad:.3f}"
            else:
                assert abs(happy - sad) < visible, f"{name}: {what} happy {happy:.3f} vs sad {sad:.3f}"


def _share_at_code_limits(frames) -> float:
    """Percentage of pixels with a channel at 0 or 255."""
    return 100.0 * float(np.mean([np.any((f == 0) | (f == 255), axis=-1).mean() for f in frames]))


@pytest.fixture(scope="module")
def photographs(bigbuckbunny):
    """bigbuckbunny (three frames at 640x360) and scikit-image's astronaut (at 256x256)."""
    with open_source(bigbuckbunny) as source:
        bunny = [source.frame(n, size=(640, 360)).rgb for n in (0, 60, 120)]
    astronaut = cv2.resize(skimage.data.astronaut(), (256, 256), interpolation=cv2.INTER_AREA)
    return {"bigbuckbunny": bunny, "astronaut": [astronaut]}


@pytest.mark.parametrize("name", BUILT_IN)
def test_looks_stay_inside_the_signal(name, photographs):
    """Strong looks crush, boost and saturate; their soft clip keeps the pixels at the code
    limits within 1 point of the source's (hard clipping put 5-47 % of bigbuckbunny there)."""
    preset = load_preset(name)
    for picture, frames in photographs.items():
        source = _share_at_code_limits(frames)
        for emotion in ("neutral", "happy", "sad", "fear"):
            graded = _share_at_code_limits([_graded(preset, emotion, f) for f in frames])
            assert graded <= source + 1.0, f"{name} {emotion} on {picture}: {graded:.1f} % at the limits, " \
                                           f"source {source:.1f} %"


def test_soft_clip_is_set_per_preset_and_inherited(tmp_path):
    parent = _write(tmp_path, 'name = "p"\n[soft_clip]\nblack_width = 0.0\n', "p.toml")
    child = _write(tmp_path, 'extends = "p.toml"\n[soft_clip]\nwhite_width = 0.05\n', "c.toml")
    clip = load_preset(str(child)).soft_clip
    assert (clip.black_width, clip.white_width, clip.gamut_width) == (0.0, 0.05, LOOK_SOFT_CLIP.gamut_width)
    off = _write(tmp_path, '[soft_clip]\nblack_width = 0\nwhite_width = 0\ngamut_width = 0\n', "off.toml")
    schedule = build_schedule(load_preset(str(off)), constant_timeline(2, Fraction(25), "neutral"))
    assert not any(isinstance(op, SoftClip) for op in schedule.ops_at(0))
    assert parent.exists()


@pytest.mark.parametrize("name", BUILT_IN)
def test_neutral_at_zero_intensity_is_the_base_look(name):
    preset = load_preset(name)
    schedule = build_schedule(preset, constant_timeline(5, Fraction(25), "neutral"), intensity=0.0)
    for i in range(5):
        ops = [op for op in schedule.ops_at(i)
               if not (isinstance(op, (Relight, DepthOfField)) and op.is_identity())]
        assert ops == [*preset.look, preset.soft_clip]


def _random_timeline(frames: int, cuts: list[int], seed: int = 3) -> MoodTimeline:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(len(EMOTIONS)) * 0.3, size=frames).astype(np.float32)
    shot = np.searchsorted(np.array(cuts), np.arange(frames), side="right").astype(np.int32)
    boxes = np.tile(np.array([0.4, 0.2, 0.6, 0.5], np.float32), (frames, 1))
    boxes += rng.normal(0, 0.01, boxes.shape).astype(np.float32)
    return MoodTimeline(frame_rate=Fraction(25), time_s=np.arange(frames) / 25.0, probs=probs,
                        valence=rng.uniform(-1, 1, frames).astype(np.float32),
                        arousal=rng.uniform(-1, 1, frames).astype(np.float32),
                        confidence=rng.uniform(0, 1, frames).astype(np.float32), shot=shot,
                        faces=np.ones(frames, np.int32), face_box=boxes, overridden=np.zeros(frames, bool),
                        cuts=cuts, present={"video": True, "audio": False, "faces": True})


@pytest.mark.parametrize("name", BUILT_IN)
def test_parameters_move_within_the_documented_bound_inside_a_shot(name):
    timeline = _random_timeline(120, cuts=[40, 90])
    schedule = build_schedule(load_preset(name), timeline, intensity=1.0)
    column = 0
    jumped_at_cut = False
    for p in schedule.parameters:
        values = schedule.values[:, column:column + p.width]
        column += p.width
        steps = np.abs(np.diff(values, axis=0))
        inside = np.isin(np.arange(1, 120), [40, 90], invert=True)
        assert np.all(steps[inside] <= p.max_step + 1e-9), f"{name}: {p.field}"
        jumped_at_cut |= bool(np.any(steps[~inside] > p.max_step + 1e-9))
    assert jumped_at_cut, "parameters should be free to jump at a cut"


def _write(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text,message", [
    ('name = "x"\ncolour = 1\n', "unknown key 'colour'"),
    ('[response]\nstrength = "lots"\n', "response.strength"),
    ('[response]\nramp_s = 99\n', "response.ramp_s = 99 is outside the allowed range [0.04, 10.0]"),
    ('[[look.op]]\ntype = "exposure"\nexposure_ev = 12\n', "exposure_ev"),
    ('[[look.op]]\ntype = "lut"\npath = "missing.cube"\n', "missing.cube"),
    ('[[look.op]]\ntype = "exposure"\n[mood.joyful]\nexposure.exposure_ev = 1\n', "mood.joyful"),
    ('[[look.op]]\ntype = "exposure"\n[mood.happy]\ncontrast.contrast = 1\n', "mood.happy.contrast"),
    ('[[look.op]]\ntype = "exposure"\n[mood.happy]\nexposure.exposure_ev = "up"\n',
     "mood.happy.exposure.exposure_ev"),
    ('[expect]\nsaturation = "sideways"\n', "expect.saturation"),
    ('extends = "bad"\n', "loops back"),
    ('[faces]\nrelight_exposure_ev = 5\n', "faces.relight_exposure_ev = 5 is outside the allowed range"),
    ('[soft_clip]\nblack_width = 0.5\n', "soft_clip.black_width = 0.5 is outside the allowed range [0.0, 0.25]"),
    ('[soft_clip]\nknee = 0.5\n', "unknown key soft_clip.knee"),
    ('name = \n', "not valid TOML"),
])
def test_bad_presets_name_file_key_and_range(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(PresetError) as err:
        load_preset(str(path))
    assert str(path) in str(err.value) and message in str(err.value)
    assert "\n" not in str(err.value)


def test_user_presets_folder_and_extends(tmp_path, monkeypatch):
    _write(tmp_path, 'description = "my look"\nextends = "teal-orange"\n[response]\nstrength = 0.5\n',
           name="mine.toml")
    monkeypatch.setenv("MOODGRADE_PRESETS", str(tmp_path))
    assert "mine" in list_presets()
    mine, parent = load_preset("mine"), load_preset("teal-orange")
    assert mine.response["strength"] == 0.5 and len(mine.look) == len(parent.look)
    assert mine.deltas == parent.deltas


def test_a_mood_drives_a_luts_mix(tmp_path):
    """teal-orange's LUT faded to half by sadness, through the schedule, on NumPy and PoCL alike."""
    path = _write(tmp_path, 'schema = "moodgrade.preset/1"\nname = "faded"\nextends = "teal-orange"\n'
                            '[mood.sad]\nlut3d.mix = -0.5\n', "faded.toml")
    preset = load_preset(str(path))
    sad = build_schedule(preset, constant_timeline(4, Fraction(25), "sad")).ops_at(2)
    happy = build_schedule(preset, constant_timeline(4, Fraction(25), "happy")).ops_at(2)
    assert [op.mix for op in sad if hasattr(op, "mix")] == [0.5]
    assert [op.mix for op in happy if hasattr(op, "mix")] == [1.0]
    frame = skimage.data.astronaut()[::4, ::4].copy()
    faded = select_backend("numpy").apply(frame, sad)
    on_pocl = select_backend("opencl").apply(frame, sad)
    assert np.abs(faded.astype(int) - on_pocl).max() <= 1
    full = select_backend("numpy").apply(frame, [dataclasses.replace(op, mix=1.0) if hasattr(op, "mix") else op
                                                 for op in sad])
    assert np.abs(faded.astype(int) - full).mean() > 1.0   # the fade shows
