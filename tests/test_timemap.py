"""The one time map: frames on the request's clock and the original's, and grounded answers."""

from __future__ import annotations

import numpy as np
import pytest

from mimo_nb.core.profiles import plan_sampling
from mimo_nb.core.timemap import SampledFrame, TimeMap, ground
from mimo_nb.core.times import TimeRef, find_times
from mimo_nb.core.tokens import plan_api_sampling
from mimo_nb.errors import LimitError


@pytest.fixture
def clip() -> TimeMap:
    """fps 0.5 on a 10 s clip at 30 fps: the formula spreads its 6 frames over the clip."""
    plan = plan_api_sampling(10, 640, 360, fps=0.5, native_fps=30, native_frame_count=300)
    return TimeMap.from_plan(plan)


@pytest.fixture
def every_2s() -> TimeMap:
    """Frames at 0, 2, 4, 6, 8 s of a 10 s clip, as real timestamps (a Frames' own)."""
    plan = plan_api_sampling(10, 640, 360, fps=0.5)
    return TimeMap.from_plan(plan, np.arange(0, 10, 2.0), indices=np.arange(0, 300, 60))


def _grounded(text: str, timemap: TimeMap) -> dict[str, tuple[str, ...]]:
    return {g.ref.text: g.flags for g in ground(find_times(text), timemap)}


# ---- building maps ------------------------------------------------------------------------


def test_from_plan_takes_the_formulas_frames(clip: TimeMap) -> None:
    assert clip.file_indices == (0, 60, 120, 179, 239, 299)
    assert clip.request_times == (0.0, 2.0, 4.0, 5.966666667, 7.966666667, 9.966666667)
    assert clip.duration == 10.0 and clip.offset == 0.0 and clip.source_duration == 10.0
    assert clip.source_times == clip.request_times


def test_from_plan_takes_a_servers_frames() -> None:
    plan = plan_sampling(
        10, 640, 360, fps=2, profile="mimo-vl", native_fps=30, native_frame_count=300
    )
    timemap = TimeMap.from_plan(plan, label="mimo-vl")
    assert timemap.file_indices == tuple(int(i) for i in plan.indices())
    assert np.allclose(timemap.request_times, plan.timestamps, atol=1e-9)


def test_from_plan_needs_the_files_frames() -> None:
    plan = plan_api_sampling(10, 640, 360, fps=0.5)
    with pytest.raises(LimitError, match="does not know the file's frames"):
        TimeMap.from_plan(plan)
    with pytest.raises(LimitError, match="indices has shape"):
        TimeMap.from_plan(plan, [0, 2, 4], indices=[0, 60])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (((), (), 10), "at least one frame"),
        (((2, 1), (60, 30), 10), "must be sorted"),
        (((0, -1), (0, 1), 10), "request_times must be"),
        (((0, float("nan")), (0, 1), 10), "request_times must be"),
        (((0, 1), (0,), 10), "file_indices has shape"),
        (((0, 1), (0, 1.5), 10), "file_indices must be"),
        (((0, 1), (0, 1), 0), "duration must be"),
        (((0, 1), (0, 1), True), "duration must be"),
    ],
)
def test_a_map_refuses_what_cannot_be(args: tuple, message: str) -> None:
    with pytest.raises(LimitError, match=message):
        TimeMap(*args)


def test_source_duration_holds_the_map() -> None:
    with pytest.raises(LimitError, match="ends before this map does"):
        TimeMap((0,), (0,), duration=10, offset=5, source_duration=12)
    assert TimeMap((0,), (0,), duration=10, offset=5).source_duration == 15.0


def test_a_map_is_a_value() -> None:
    a = TimeMap((0, 2), (0, 60), duration=4)
    assert a == TimeMap([0.0, 2.0], np.array([0, 60]), duration=4.0)
    assert hash(a) == hash(TimeMap((0, 2), (0, 60), duration=4))
    with pytest.raises(AttributeError):
        a.offset = 3  # type: ignore[misc]
    assert repr(a) == "TimeMap(frames=2, duration=4.0, offset=0.0, source_duration=4.0, label='')"


# ---- the two clocks -----------------------------------------------------------------------


def test_a_segment_maps_its_times_onto_the_original() -> None:
    seg = TimeMap.for_segment(
        60, 90, (0, 10, 20), (1800, 2100, 2400), source_duration=120, label="segment 2"
    )
    assert (seg.duration, seg.offset, seg.source_duration) == (30.0, 60.0, 120.0)
    assert seg.source_times == (60.0, 70.0, 80.0)
    assert seg.to_source(12.5) == 72.5 and seg.to_request(72.5) == 12.5
    with pytest.raises(LimitError, match="before this map's start"):
        seg.to_request(30)
    with pytest.raises(LimitError, match="ends after it starts"):
        TimeMap.for_segment(90, 60, (0,), (0,))


@pytest.mark.parametrize("offset", [0.1, 0.7, 3.3, 1 / 3, 1234.567])
def test_shifting_there_and_back_is_exact(offset: float) -> None:
    seg = TimeMap((0, 0.2, 0.7), (0, 6, 21), duration=1).shifted(offset)
    for t in (0.0, 0.1, 0.2, 0.7, 1.0):
        assert seg.to_request(seg.to_source(t)) == t
    assert seg.frames_at(seg.to_request(round(offset + 0.7, 9)))[0].request_index == 2


def test_shifted_moves_the_clock_and_keeps_the_frames() -> None:
    base = TimeMap((0, 1), (0, 30), duration=2)
    moved = base.shifted(5)
    assert (moved.offset, moved.source_duration, moved.file_indices) == (5.0, 7.0, (0, 30))
    assert moved.shifted(-5, source_duration=2) == base
    assert moved.shifted(-5).source_duration == 7.0  # the original keeps its length
    assert base.shifted(5, source_duration=60).source_duration == 60.0
    with pytest.raises(LimitError, match="before the original's start"):
        base.shifted(-1)


def test_concat_puts_segments_on_the_originals_clock() -> None:
    a = TimeMap.for_segment(0, 30, (0, 15), (0, 450), source_duration=60)
    b = TimeMap.for_segment(30, 60, (0, 15), (900, 1350), source_duration=60)
    whole = TimeMap.concat([a, b], label="lecture")
    assert whole.request_times == (0.0, 15.0, 30.0, 45.0)
    assert (whole.offset, whole.duration, whole.source_duration) == (0.0, 60.0, 60.0)
    assert [(f.part, f.request_index, f.file_index) for f in whole.frames] == [
        (0, 0, 0),
        (0, 1, 450),
        (1, 0, 900),
        (1, 1, 1350),
    ]
    # joining is associative: the parts count on
    c = TimeMap.for_segment(60, 90, (0,), (1800,), source_duration=90)
    assert TimeMap.concat([whole, c]) == TimeMap.concat([a, b, c])
    assert TimeMap.concat([whole, c]).parts == (0, 0, 1, 1, 2)
    with pytest.raises(LimitError, match="at least one"):
        TimeMap.concat([])


def test_overlapping_segments_keep_both_frames() -> None:
    a = TimeMap.for_segment(0, 32, (0, 30), (0, 900))
    b = TimeMap.for_segment(28, 60, (0, 2), (840, 900))
    frames = TimeMap.concat([a, b]).frames_at(30)
    assert [(f.part, f.file_index) for f in frames] == [(0, 900), (1, 900)]


# ---- where a time falls ------------------------------------------------------------------


def test_frames_at_a_time_between_two_samples(clip: TimeMap) -> None:
    assert clip.frames_at(3) == (
        SampledFrame(request_index=1, file_index=60, request_time=2.0, source_time=2.0),
        SampledFrame(request_index=2, file_index=120, request_time=4.0, source_time=4.0),
    )
    assert [f.file_index for f in clip.frames_at(4)] == [120]
    assert [f.file_index for f in clip.frames_at(12)] == [299]
    assert clip.gap(3) == 1.0 and clip.gap(4) == 0.0 and clip.gap(12) == 2.033333333


def test_a_frame_sent_twice_is_found_twice() -> None:
    timemap = TimeMap((0, 1, 1, 2), (0, 1, 1, 2), duration=3)
    assert [f.request_index for f in timemap.frames_at(1)] == [1, 2]


def test_covers_and_frames_in(every_2s: TimeMap) -> None:
    assert every_2s.covers(1, 5) and every_2s.covers(2, 2) and every_2s.covers(8, 20)
    assert not every_2s.covers(2.5, 3.5) and not every_2s.covers(8.5, 9.5)
    assert [f.request_time for f in every_2s.frames_in(1, 5)] == [2.0, 4.0]
    assert every_2s.frames_in(2.5, 3.5) == ()
    with pytest.raises(LimitError, match="ends at or after its start"):
        every_2s.covers(5, 1)


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "3", None, True])
def test_queries_refuse_what_is_not_a_time(every_2s: TimeMap, bad: object) -> None:
    with pytest.raises(LimitError, match="t must be"):
        every_2s.frames_at(bad)  # type: ignore[arg-type]
    with pytest.raises(LimitError, match="t must be"):
        every_2s.gap(bad)  # type: ignore[arg-type]


# ---- grounded answers --------------------------------------------------------------------


def test_fps_half_on_a_10s_clip(clip: TimeMap, every_2s: TimeMap) -> None:
    for timemap in (clip, every_2s):
        flags = _grounded("at 00:03 x, at 00:04 y, at 00:12 z, 00:01 - 00:05 w", timemap)
        assert flags == {
            "00:03": ("unseen",),
            "00:04": (),
            "00:12": ("past_end",),
            "00:01 - 00:05": (),
        }


def test_ground_ties_each_time_to_its_frames(every_2s: TimeMap) -> None:
    at3, at4, range_ = ground(find_times("at 00:03, at 00:04, [00:01, 00:05]"), every_2s)
    assert [f.file_index for f in at3.frames] == [60, 120] and at3.gap == 1.0
    assert [f.file_index for f in at4.frames] == [120] and at4.gap == 0.0
    assert [f.file_index for f in range_.frames] == [60, 120] and range_.gap == 0.0
    assert (range_.source_start, range_.source_end) == (1.0, 5.0)


def test_precision_decides_what_the_model_could_have_seen(every_2s: TimeMap) -> None:
    # 00:03 (to the second) lies 1 s from a frame: more than half a second away, unseen;
    # 2.5s and 2.4s (to a tenth) are 0.5 and 0.4 s away, more than 0.05 s: unseen too.
    flags = _grounded("at 2.5s, at 2.4s, at 00:04.4, at 4 s, at 00:02.0", every_2s)
    assert flags == {
        "2.5s": ("unseen",),
        "2.4s": ("unseen",),
        "00:04.4": ("unseen",),
        "4 s": (),
        "00:02.0": (),
    }
    # a time written to the second is seen when a frame lies within half a second of it
    dense = TimeMap((0, 0.5, 1.4, 2.6), (0, 15, 42, 78), duration=3)
    assert _grounded("at 00:01, at 00:02", dense) == {"00:01": (), "00:02": ("unseen",)}


def test_a_range_between_two_samples_is_uncovered(every_2s: TimeMap) -> None:
    (g,) = ground(find_times("from 00:02.5 to 00:03.5"), every_2s)
    assert g.flags == ("uncovered",)
    assert [f.request_time for f in g.frames] == [2.0, 4.0] and g.gap == 0.5
    # a range reaches half its precision past each end
    near = TimeMap((0, 2.4, 5), (0, 72, 150), duration=6)
    assert _grounded("00:01 - 00:02, 1.0-2.0 s", near) == {
        "00:01 - 00:02": (),
        "1.0-2.0 s": ("uncovered",),
    }


def test_past_the_end(every_2s: TimeMap) -> None:
    flags = _grounded("00:08 - 00:12, 00:11 - 00:12, at 00:10, 00:09 - 00:10", every_2s)
    assert flags == {
        "00:08 - 00:12": ("past_end",),  # it holds the frame at 8 s, and runs past the end
        "00:11 - 00:12": ("past_end",),
        "00:10": ("unseen",),  # the end itself: the last frame the model saw is at 8 s
        "00:09 - 00:10": ("uncovered",),
    }


def test_a_segments_answer_lands_on_the_originals_clock() -> None:
    seg = TimeMap.for_segment(60, 90, (0, 10, 20), (1800, 2100, 2400), source_duration=120)
    (g,) = ground(find_times("at 00:10"), seg)
    assert (g.source_start, g.frames[0].source_time, g.frames[0].file_index) == (70, 70, 2100)
    (late,) = ground(find_times("at 00:40"), seg)  # past the segment, not the original
    assert late.flags == ("past_end",) and late.source_start == 100.0


def test_ground_takes_hand_made_refs(every_2s: TimeMap) -> None:
    ref = TimeRef(start=6, end=None, span=(0, 0), text="", precision=0.001)
    (g,) = ground([ref], every_2s)
    assert g.flags == () and g.frames[0].file_index == 180
