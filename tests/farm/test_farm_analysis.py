"""The farm's analysis (Ray tasks over ranges, decided once on the driver) gives the timeline of
the single-machine analysis exactly: every array, every cut, every face."""

import dataclasses
from fractions import Fraction

import cv2
import numpy as np
import pytest
import skimage.data

from render.emotion.analyze import analyze_file, measure_file
from render.emotion.timeline import MoodTimeline
from render.farm.analysis import analysis_ranges, ray_measure
from render.farm.chunks import plan_chunks
from render.farm.job_dir import TIMELINE
from render.farm.plan import plan_job
from render.io.source import open_source
from tests.emotion import clips
from tests.farm.conftest import LOSSLESS

FPS = 24
GOP = 24                      # a keyframe every second: chunk edges at multiples of 24
CUTS_NEAR_EDGES = (49, 95, 145)


def _face_shot(n_frames: int) -> np.ndarray:
    """scikit-image's astronaut (a smiling face), small and drifting across a textured background."""
    face = cv2.resize(skimage.data.astronaut(), (150, 150), interpolation=cv2.INTER_AREA)
    frames = clips.textured_shot(7, n_frames)
    for i, frame in enumerate(frames):
        x = 60 + i
        frame[15:165, x:x + 150] = face
    return frames


@pytest.fixture(scope="module")
def edge_clip(tmp_path_factory):
    """8 s at 24 fps: hard cuts one frame after, one frame before and just after chunk edges, a
    face shot across an edge, a dissolve across another; a soundtrack with beats."""
    a, b, c, d = (clips.textured_shot(11, 49), _face_shot(95 - 49), clips.textured_shot(12, 145 - 95),
                  clips.textured_shot(13, 192 - 145))
    fade = np.linspace(0, 1, 14, dtype=np.float32)[:, None, None, None]
    d[15:29] = (d[15:29] * fade + clips.textured_shot(14, 14) * (1 - fade)).astype(np.uint8)   # 160-173
    frames = np.concatenate([a, b, c, d])
    path = tmp_path_factory.mktemp("edges") / "edges.mp4"
    return clips.write_clip(path, frames, fps=FPS, audio=clips.tone(192 / FPS, beats_per_s=2), gop=GOP)


def _spans(path, **split):
    with open_source(path) as src:
        video = src.info.video
        return plan_chunks(src.keyframes, video.frame_count, Fraction(video.frame_rate), **split)


def assert_same_timeline(a: MoodTimeline, b: MoodTimeline) -> None:
    """Every field equal, arrays bit for bit (NaN where NaN)."""
    for f in dataclasses.fields(MoodTimeline):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, f.name
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f"{f.name} differs"
        else:
            assert x == y, f"{f.name} differs"


def test_measurements_of_ranges_merge_into_those_of_one_pass(ray_local, edge_clip):
    ranges = analysis_ranges(_spans(edge_clip, chunk_seconds=1), Fraction(FPS), 0)
    assert ranges == [(k * 24, k * 24 + 24) for k in range(8)]
    single = measure_file(edge_clip, 4.0)
    farm = ray_measure(ranges)(edge_clip, 4.0)
    assert np.array_equal(farm.time_s, single.time_s) and farm.sound.keys() == single.sound.keys()
    for name in single.sound:
        assert np.array_equal(farm.sound[name], single.sound[name]), name
    p, q = farm.picture, single.picture
    assert (p.start, p.stop) == (q.start, q.stop) == (0, 192)
    for name in ("d1", "d2", "value"):
        assert np.array_equal(getattr(p.cut_scores, name), getattr(q.cut_scores, name)), name
    assert p.cut_scores.dk.keys() == q.cut_scores.dk.keys()
    for lag in q.cut_scores.dk:
        assert np.array_equal(p.cut_scores.dk[lag], q.cut_scores.dk[lag]), f"lag {lag}"
    assert np.array_equal(p.visual, q.visual)
    assert [d.frame_index for d in p.detections] == [d.frame_index for d in q.detections]
    assert sum(len(d.detections) for d in q.detections) >= 6, "the test needs faces"
    for x, y in zip(p.detections, q.detections):
        assert [d.box for d in x.detections] == [d.box for d in y.detections]
        assert np.array_equal(x.probs, y.probs) and x.crops == y.crops == []


def test_farm_timeline_equals_single_machine_timeline(ray_local, edge_clip):
    single = analyze_file(edge_clip, use_cache=False)
    assert single.cuts[:2] == list(CUTS_NEAR_EDGES[:2]) and CUTS_NEAR_EDGES[2] in single.cuts
    assert len(single.cuts) == 4 and 160 <= single.cuts[3] <= 174          # the dissolve across 168
    assert single.present == {"video": True, "audio": True, "faces": True}
    ranges = analysis_ranges(_spans(edge_clip, chunk_seconds=1), Fraction(FPS), 0)
    assert_same_timeline(analyze_file(edge_clip, use_cache=False, measure=ray_measure(ranges)), single)
    uneven = [(0, 48), (48, 72), (72, 168), (168, 192)]                     # ranges of any length
    assert_same_timeline(analyze_file(edge_clip, use_cache=False, measure=ray_measure(uneven)), single)


def test_b_frame_clip_analysed_in_chunks_equals_one_pass(ray_local, farm_clip):
    ranges = analysis_ranges(_spans(farm_clip, chunks=5), Fraction(25), 0)
    assert len(ranges) == 5
    assert_same_timeline(analyze_file(farm_clip, use_cache=False, measure=ray_measure(ranges)),
                         analyze_file(farm_clip, use_cache=False))


def test_planning_on_ray_caches_the_single_machine_timeline(ray_local, edge_clip, tmp_path):
    """The farm's sidecar is the single machine's, byte for byte, and the job's timeline is it."""
    from render.mood_grade import GradeOptions

    analyze_file(edge_clip, cache_dir=tmp_path / "single")
    (single_sidecar,) = (tmp_path / "single").glob("*.timeline.json")
    options = GradeOptions(preset="vivid", cache_dir=str(tmp_path / "farm"))
    job = plan_job(edge_clip, tmp_path / "o.mkv", LOSSLESS, options, chunk_seconds=1, on_ray=True,
                   analysis_range_s=2)
    assert len(job.chunks) == 8 and job.manifest["analysis"]["frames"] == 192
    (farm_sidecar,) = (tmp_path / "farm").glob("*.timeline.json")
    assert farm_sidecar.name == single_sidecar.name
    assert farm_sidecar.read_bytes() == single_sidecar.read_bytes()
    cached = analyze_file(edge_clip, cache_dir=tmp_path / "farm", measure=_no_measuring)
    assert_same_timeline(MoodTimeline.read_json(job.dir / TIMELINE), cached)


def _no_measuring(*args):
    raise AssertionError("the cache should have answered")


def test_analysis_ranges_join_chunks_to_the_minimum_length():
    spans = plan_chunks(list(range(0, 240, 24)), 240, Fraction(24), chunk_seconds=1)
    assert analysis_ranges(spans, Fraction(24), 0) == [(s.start, s.stop) for s in spans]
    assert analysis_ranges(spans, Fraction(24), 3) == [(0, 72), (72, 144), (144, 216), (216, 240)]
    assert analysis_ranges(spans, Fraction(24), 100) == [(0, 240)]


def test_a_failing_analysis_task_is_one_line_naming_the_file(ray_local, tmp_path):
    from render.errors import MediaError

    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(MediaError, match="notes.mp4") as caught:
        ray_measure([(0, 10)])(bad, 4.0)
    assert "\n" not in str(caught.value)
