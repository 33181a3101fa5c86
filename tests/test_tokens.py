"""The token core against the spec page's figures and an independent oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mimo_nb as mn
from mimo_nb.core import tokens
from mimo_nb.core.tokens import estimate_audio_tokens, explain_video_tokens_array

from token_oracle import oracle_tokens

# ---- The spec page's own figures -------------------------------------------------------------

# The spec page prints these four estimates for a 60 s 1920x1080 video.
SPEC_FIGURES = [
    (dict(), 17240),
    (dict(fps=5), 42830),
    (dict(media_resolution="max"), 123080),
    (dict(mute=True), 16862),
]


@pytest.mark.parametrize("kwargs, expected", SPEC_FIGURES)
def test_spec_page_figures(kwargs, expected):
    assert mn.estimate_video_tokens(60, 1920, 1080, **kwargs) == expected
    assert int(mn.estimate_video_tokens_array(60, 1920, 1080, **kwargs)) == expected


def test_spec_example_usage_reading():
    """The example response's 1144 video / 19 audio tokens fit a ~3 s 720x405 clip at fps 2."""
    b = mn.explain_video_tokens(3.02, 720, 405, fps=2)
    assert (b.frames, b.grids, b.tokens_per_grid) == (8, 4, 286)
    assert (b.width, b.height) == (704, 416)
    assert b.video_tokens == 1144
    assert b.audio_tokens == 19


def test_breakdown_adds_up_and_renders():
    b = mn.explain_video_tokens(60, 1920, 1080, fps=5)
    assert b.total == b.vision + b.timestamps + b.special + b.audio
    assert b.timestamps == b.grids * 5
    assert b.special == 2 * b.grids + 2
    html = b._repr_html_()
    assert "<table" in html and "42,830" in html
    assert "42,830" in str(b)


# ---- Edge cases named by the issue ------------------------------------------------------------

EDGE_CASES = [
    (1.0, 1, 1, 2.0, "default", False),  # a single pixel
    (5.0, 16, 16, 2.0, "default", False),  # tiny frame, scaled up
    (5.0, 4000, 100, 2.0, "default", False),  # extreme landscape
    (5.0, 100, 4000, 2.0, "max", False),  # extreme portrait
    (5.0, 10000, 32, 2.0, "default", False),  # floors to a zero-height frame
    (5.0, 31, 7000, 2.0, "max", False),  # thin side under 32
    (0.05, 640, 480, 0.1, "default", False),  # fewer than 2 frames -> 2
    (3600.0, 1280, 720, 0.1, "default", False),  # 0.1 fps
    (60.0, 1280, 720, 10.0, "default", False),  # 10 fps
    (300.0, 1920, 1080, 10.0, "max", False),  # 3000 frames -> capped at 2048
    (204.8, 1920, 1080, 10.0, "max", False),  # exactly 2048 frames
    (2.5, 640, 360, 2.0000001, "default", True),  # just over fps 2: 5 timestamp tokens
    (7.3, 3840, 2160, 3.3, "max", True),
    (0.1, 7680, 4320, 10.0, "max", False),  # 8K, budget clamped at 8388608
]


@pytest.mark.parametrize("case", EDGE_CASES)
def test_edge_cases_match_oracle(case):
    d, w, h, fps, res, mute = case
    expected = oracle_tokens(d, w, h, fps, res, mute)
    assert mn.estimate_video_tokens(d, w, h, fps, res, mute) == expected
    assert int(mn.estimate_video_tokens_array(d, w, h, fps, res, mute)) == expected


def test_frame_cap_and_even_rounding():
    assert tokens.sampled_frame_count(300, 10) == 2048
    assert tokens.sampled_frame_count(1.0, 3) == 4  # 3 rounds up to an even 4
    assert tokens.sampled_frame_count(0.01, 0.1) == 2


def test_fps_over_two_costs_five_timestamp_tokens():
    slow = mn.explain_video_tokens(10, 640, 360, fps=2)
    fast = mn.explain_video_tokens(10, 640, 360, fps=2.5)
    assert slow.timestamps == slow.grids * 3
    assert fast.timestamps == fast.grids * 5


def test_mute_removes_exactly_the_audio():
    loud = mn.explain_video_tokens(42.0, 640, 360)
    mute = mn.explain_video_tokens(42.0, 640, 360, mute=True)
    assert loud.total - mute.total == loud.audio == estimate_audio_tokens(42.0)
    assert mute.audio == 0


def test_audio_is_about_six_and_a_quarter_per_second():
    for seconds in (10, 60, 600):
        assert abs(estimate_audio_tokens(seconds) - 6.25 * seconds) <= 3


# ---- Generated cases against the oracle -------------------------------------------------------

durations = st.floats(min_value=0.01, max_value=7200, allow_nan=False, allow_infinity=False)
sides = st.integers(min_value=1, max_value=8192)
fps_values = st.one_of(
    st.floats(min_value=0.1, max_value=10.0, allow_nan=False),
    st.sampled_from([0.1, 0.5, 1.0, 2.0, 2.0000001, 3.0, 5.0, 10.0]),
)
resolutions = st.sampled_from(["default", "max"])


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(durations, sides, sides, fps_values, resolutions, st.booleans())
def test_scalar_equals_oracle(duration, width, height, fps, res, mute):
    assert mn.estimate_video_tokens(duration, width, height, fps, res, mute) == oracle_tokens(
        duration, width, height, fps, res, mute
    )


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(durations, sides, sides, fps_values, resolutions, st.booleans()),
        min_size=1,
        max_size=40,
    )
)
def test_array_equals_scalar_elementwise(cases):
    d, w, h, f, r, m = (list(col) for col in zip(*cases, strict=True))
    got = mn.estimate_video_tokens_array(
        np.array(d), np.array(w), np.array(h), np.array(f), np.array(r), np.array(m)
    )
    expected = [oracle_tokens(*case) for case in cases]
    assert got.tolist() == expected


def test_array_broadcasts_to_a_table():
    durations_ = np.array([1.0, 10.0, 60.0, 600.0])
    fps_ = np.array([0.1, 1.0, 2.0, 5.0, 10.0])
    table = mn.estimate_video_tokens_array(durations_[:, None], 1280, 720, fps_[None, :])
    assert table.shape == (4, 5)
    for i, d in enumerate(durations_):
        for j, f in enumerate(fps_):
            assert table[i, j] == mn.estimate_video_tokens(d, 1280, 720, f)


def test_array_breakdown_fields_match_scalar_breakdown():
    parts = explain_video_tokens_array(
        [5.0, 90.0], [320, 3840], [240, 2160], [1.0, 7.0], ["max", "default"]
    )
    for k, args in enumerate([(5.0, 320, 240, 1.0, "max"), (90.0, 3840, 2160, 7.0, "default")]):
        b = mn.explain_video_tokens(*args)
        for field in (
            "frames",
            "grids",
            "pixel_budget",
            "width",
            "height",
            "tokens_per_grid",
            "vision",
            "audio",
            "total",
        ):
            assert parts[field][k] == getattr(b, field), field


# ---- Sampling plan ----------------------------------------------------------------------------


def test_plan_matches_breakdown():
    plan = mn.plan_sampling(12.5, 1280, 720, fps=4, media_resolution="max")
    b = mn.explain_video_tokens(12.5, 1280, 720, fps=4, media_resolution="max")
    assert (plan.frames, plan.width, plan.height) == (b.frames, b.width, b.height)


def test_sample_indices_spread_over_the_whole_clip():
    idx = tokens.sample_indices(300, 20)
    assert idx[0] == 0 and idx[-1] == 299
    assert np.all(np.diff(idx) > 0)
    # rounded half to even, like numpy's and torch's round
    assert tokens.sample_indices(4, 3).tolist() == [0, 2, 3]  # 1.5 -> 2


def test_sample_indices_repeat_when_asking_for_more_than_exist():
    idx = tokens.sample_indices(3, 8)
    assert len(idx) == 8 and set(idx.tolist()) == {0, 1, 2}


# ---- Validation -------------------------------------------------------------------------------


@pytest.mark.parametrize("fps", [0.0, 0.09, 10.01, -1, float("nan"), "fast"])
def test_bad_fps_is_a_limit_error_naming_the_range(fps):
    with pytest.raises(mn.LimitError, match=r"\[0\.1, 10\.0\]"):
        mn.estimate_video_tokens(10, 640, 360, fps=fps)


def test_limit_error_is_a_value_error_and_a_mimo_error():
    with pytest.raises(ValueError):
        mn.estimate_video_tokens(10, 640, 360, media_resolution="high")
    with pytest.raises(mn.MimoError, match="'default'.*'max'"):
        mn.estimate_video_tokens(10, 640, 360, media_resolution="high")


@pytest.mark.parametrize(
    "args", [(0, 640, 360), (-1, 640, 360), (10, 0, 360), (10, 640, -5), (float("inf"), 640, 360)]
)
def test_non_positive_sizes_and_durations_are_refused(args):
    with pytest.raises(mn.LimitError, match="positive|finite"):
        mn.estimate_video_tokens(*args)
    with pytest.raises(mn.LimitError):
        mn.estimate_video_tokens_array(*args)


def test_array_refuses_out_of_range_fps():
    with pytest.raises(mn.LimitError, match="fps"):
        mn.estimate_video_tokens_array([10, 20], 640, 360, fps=[2, 11])
