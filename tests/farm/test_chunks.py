"""Chunk planning and the joined stream's decoding timestamps (pure functions, no media)."""

from fractions import Fraction
from itertools import pairwise

import pytest

from render.errors import MediaError, MoodgradeError
from render.farm.chunks import plan_chunks
from render.farm.join import decode_timestamps

KEYS = list(range(0, 100, 10))


def test_chunks_cover_every_frame_once_and_start_at_keyframes():
    spans = plan_chunks(KEYS, 100, Fraction(25), chunks=4)
    assert [(s.start, s.stop) for s in spans] == [(0, 20), (20, 50), (50, 70), (70, 100)]  # ties go to the earlier keyframe
    assert all(s.start in KEYS for s in spans)
    assert [s.index for s in spans] == [0, 1, 2, 3]


def test_chunk_seconds_become_frames_at_the_frame_rate():
    spans = plan_chunks(KEYS, 100, Fraction(25), chunk_seconds=1.2)   # 30 frames wished
    assert [(s.start, s.stop) for s in spans] == [(0, 30), (30, 60), (60, 90), (90, 100)]


def test_few_keyframes_give_fewer_longer_chunks():
    spans = plan_chunks([0, 50], 100, Fraction(25), chunks=10)
    assert [(s.start, s.stop) for s in spans] == [(0, 50), (50, 100)]
    assert [(s.start, s.stop) for s in plan_chunks([0], 100, Fraction(25), chunks=8)] == [(0, 100)]


def test_default_is_ten_second_chunks():
    spans = plan_chunks(list(range(0, 1000, 25)), 1000, Fraction(25))
    assert [s.frames for s in spans] == [250, 250, 250, 250]


@pytest.mark.parametrize("kwargs, words", [
    ({"chunks": 2, "chunk_seconds": 1.0}, "not both"),
    ({"chunks": 0}, "at least 1"),
    ({"chunk_seconds": 0.0}, "positive"),
])
def test_bad_split_requests_are_one_line_errors(kwargs, words):
    with pytest.raises(MoodgradeError, match=words):
        plan_chunks(KEYS, 100, Fraction(25), **kwargs)


def _check(pts_decode_order):
    dts = decode_timestamps(pts_decode_order)
    assert len(dts) == len(pts_decode_order)
    assert all(b > a for a, b in pairwise(dts)), "dts must increase strictly"
    assert all(d <= p for d, p in zip(dts, pts_decode_order)), "dts must not pass pts"
    return dts


def test_no_reordering_keeps_dts_equal_to_pts():
    assert _check([0, 512, 1024, 1536]) == [0, 512, 1024, 1536]


def test_b_frames_across_a_join_get_strictly_increasing_dts():
    d = 512
    gop = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8]           # I P B B P B B P B B, in frames, decode order
    two_chunks = [p * d for p in gop] + [(p + 10) * d for p in gop]
    dts = _check(two_chunks)
    assert dts[:3] == [-d, 0, d]                  # one frame of delay, as an encoder sets it
    assert dts[10] > dts[9]


def test_pyramid_reordering_and_uneven_steps():
    _check([0, 40, 20, 10, 30, 80, 60, 50, 70, 90])
    _check([100, 133, 117, 150, 183, 167])


def test_repeated_frame_is_refused():
    with pytest.raises(MediaError, match="share the presentation timestamp 40"):
        decode_timestamps([0, 40, 40, 80])
