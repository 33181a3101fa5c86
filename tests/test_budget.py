"""The budget planner equals brute force over the whole grid, one scalar estimate at a time."""

from __future__ import annotations

import html
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mimo_nb as mn
from mimo_nb.core import budget, tokens
from mimo_nb.core.budget import plan_budget_many
from mimo_nb.core.pricing import Prices, estimate_cost
from mimo_nb.core.profiles import PROFILES
from mimo_nb.errors import LimitError

# Built independently of the module: exact decimal tenths.
GRID_FPS = [float(Decimal(k) / 10) for k in range(1, 101)]
PRICES = Prices(input=1.0, cached_input=0.02, output=2.0, currency="CNY")


def brute_force(
    duration,
    width,
    height,
    mute,
    profile,
    max_tokens,
    max_cost,
    prices,
    output_tokens,
    native_fps,
    count,
):
    """Every grid setting through the scalar functions: [(fps, res, frames, w, h, tokens, cost)]
    that fit."""
    prof = PROFILES[profile]
    resolutions = ["default", "max"] if profile == "mimo-api" else [None]
    rows = []
    for res in resolutions:
        for fps in GRID_FPS:
            if profile == "mimo-api":
                b = tokens.explain_video_tokens(duration, width, height, fps, res, mute)
                frames, w, h, n = b.frames, b.width, b.height, b.total
                if w == 0 or h == 0:  # no pixels: Video.sample refuses it, so the planner does
                    continue
            else:
                try:
                    p = prof.plan(
                        duration,
                        width,
                        height,
                        fps,
                        native_fps=native_fps,
                        native_frame_count=count,
                        mute=mute,
                    )
                except LimitError:
                    continue
                frames, w, h, n = p.frames, p.width, p.height, p.vision + p.special
            cost = (
                None
                if prices is None
                else estimate_cost(n, prices, output_tokens=output_tokens).total
            )
            if max_tokens is not None and n > max_tokens:
                continue
            if max_cost is not None and cost > max_cost:
                continue
            rows.append((fps, res, frames, w, h, n, cost))
    return rows


def best_of(rows):
    # the stated rule: most frames, most pixels, fewest tokens, lowest fps, default before max
    return (
        max(rows, key=lambda r: (r[2], r[3] * r[4], -r[5], -r[0], r[1] != "max")) if rows else None
    )


def frontier_points(rows):
    points = {(r[2], r[3] * r[4]) for r in rows}
    return {p for p in points if not any(q != p and q[0] >= p[0] and q[1] >= p[1] for q in points)}


def as_row(s):
    return (s.fps, s.media_resolution, s.frames, s.width, s.height, s.tokens, s.cost)


def check_against_brute_force(plan, rows):
    assert [as_row(s) for s in plan.settings] == rows  # same settings, same order, same numbers
    best = best_of(rows)
    assert (plan.best is None) == (best is None)
    if best is not None:
        assert as_row(plan.best) == best
    assert {(s.frames, s.pixels_per_frame) for s in plan.frontier} == frontier_points(rows)
    for s in plan.frontier:  # each point shown by its cheapest setting
        same = [r for r in rows if (r[2], r[3] * r[4]) == (s.frames, s.pixels_per_frame)]
        assert as_row(s) == min(same, key=lambda r: (r[5], r[0], r[1] == "max"))


def test_the_grid_is_exact_tenths():
    assert (
        list(budget.FPS_GRID) == GRID_FPS
        and budget.FPS_GRID[2] == 0.3
        and len(budget.FPS_GRID) == 100
    )
    plan = mn.plan_budget(duration=60, width=1920, height=1080, max_tokens=10**9)
    assert plan.grid_size == len(plan.settings) == 200
    assert {s.fps for s in plan.settings} == set(GRID_FPS)


def test_worked_example_and_its_frontier():
    # 60 s 1920x1080 within 20,000 tokens: fps 2.3 -> ceil(138) = 138 frames
    #    at 736x384 (default's 300-token cap):
    # 69 grids x (276 vision + 5 timestamp + 2 special) + 2 + audio 377 = 19,907;
    #    fps 2.4 -> 144 frames = 20,771: over
    plan = mn.plan_budget(duration=60, width=1920, height=1080, max_tokens=20_000)
    b = plan.best
    assert (b.fps, b.media_resolution, b.frames, b.width, b.height, b.tokens) == (
        2.3,
        "default",
        138,
        736,
        384,
        19907,
    )
    assert (
        b.tokens == mn.estimate_video_tokens(60, 1920, 1080, 2.3)
        and mn.estimate_video_tokens(60, 1920, 1080, 2.4) > 20_000
    )
    # the other end of the frontier: few frames at full size under max
    assert max(s.pixels_per_frame for s in plan.frontier) == 1920 * 1088
    for s in plan.frontier:  # nothing on the frontier dominates best
        assert not (
            s.frames >= b.frames
            and s.pixels_per_frame >= b.pixels_per_frame
            and (s.frames, s.pixels_per_frame) != (b.frames, b.pixels_per_frame)
        )


@settings(max_examples=60, deadline=None)
@given(
    duration=st.floats(0.2, 1800),
    width=st.integers(16, 4096),
    height=st.integers(16, 4096),
    mute=st.booleans(),
    max_tokens=st.one_of(st.none(), st.integers(0, 150_000)),
    max_cost=st.one_of(st.none(), st.floats(0, 0.2)),
    output_tokens=st.integers(0, 4000),
)
def test_api_profile_equals_brute_force(
    duration, width, height, mute, max_tokens, max_cost, output_tokens
):
    if max_tokens is None and max_cost is None:
        max_tokens = 30_000
    plan = mn.plan_budget(
        duration=duration,
        width=width,
        height=height,
        mute=mute,
        max_tokens=max_tokens,
        max_cost=max_cost,
        prices=PRICES,
        output_tokens=output_tokens,
    )
    check_against_brute_force(
        plan,
        brute_force(
            duration,
            width,
            height,
            mute,
            "mimo-api",
            max_tokens,
            max_cost,
            PRICES,
            output_tokens,
            None,
            None,
        ),
    )


@settings(max_examples=40, deadline=None)
@given(
    profile=st.sampled_from(["mimo-vl", "sglang-mimo-v2", "qwen3-vl"]),
    duration=st.floats(0.1, 1200),
    rate=st.sampled_from([29.97, 23.976, 12.5, 25.0, 30.0, 60.0]),
    width=st.integers(16, 4096),
    height=st.integers(16, 4096),
    mute=st.booleans(),
    max_tokens=st.integers(0, 120_000),
)
def test_server_profiles_equal_brute_force(
    profile, duration, rate, width, height, mute, max_tokens
):
    count = max(1, round(duration * rate))
    plan = mn.plan_budget(
        duration=duration,
        width=width,
        height=height,
        mute=mute,
        profile=profile,
        max_tokens=max_tokens,
        native_fps=rate,
        native_frame_count=count,
    )
    assert plan.grid_size == 100 and "no media_resolution" in plan.grid_note
    check_against_brute_force(
        plan,
        brute_force(duration, width, height, mute, profile, max_tokens, None, None, 0, rate, count),
    )
    if plan.best is not None:
        assert plan.best.media_resolution is None


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
    profile=st.sampled_from(list(PROFILES)),
    max_tokens=st.integers(500, 60_000),
)
def test_many_videos_equal_one_at_a_time(n, seed, profile, max_tokens):
    rng = np.random.default_rng(seed)
    d = rng.uniform(0.5, 900, n)
    w, h = rng.integers(16, 3840, n), rng.integers(16, 2160, n)
    mute = rng.random(n) < 0.5
    rate = rng.choice([29.97, 24.0, 12.5], n)
    count = np.maximum(1, np.round(d * rate)).astype(np.int64)
    table = plan_budget_many(
        d,
        w,
        h,
        mute=mute,
        profile=profile,
        max_tokens=max_tokens,
        prices=PRICES,
        native_fps=rate,
        native_frame_count=count,
    )
    assert len(table) == n
    for i in range(n):
        one = mn.plan_budget(
            duration=float(d[i]),
            width=int(w[i]),
            height=int(h[i]),
            mute=bool(mute[i]),
            profile=profile,
            max_tokens=max_tokens,
            prices=PRICES,
            native_fps=float(rate[i]),
            native_frame_count=int(count[i]),
        )
        assert table.setting(i) == one.best


def test_max_cost_uses_the_prices_like_estimate_cost():
    prices = mn.load_prices("mimo-v2.5", "CNY")
    plan = mn.plan_budget(
        duration=60, width=1280, height=720, max_cost=0.02, prices=prices, output_tokens=1000
    )
    assert plan.best is not None
    assert (
        plan.best.cost == estimate_cost(plan.best.tokens, prices, output_tokens=1000).total <= 0.02
    )
    assert all(s.cost <= 0.02 for s in plan.settings)
    assert "CNY" in plan._repr_html_() and html.escape(prices.citation) in plan._repr_html_()


def test_a_video_supplies_everything(tmp_path):
    from mimo_nb.media.video import Video

    video = Video.open(
        mn.generate_clip(tmp_path / "b.mp4", duration=3, width=160, height=120, fps=12.5)
    )
    plan = mn.plan_budget(video, profile="sglang-mimo-v2", max_tokens=500)
    expected = mn.plan_budget(
        duration=video.duration,
        width=160,
        height=120,
        mute=False,
        profile="sglang-mimo-v2",
        max_tokens=500,
        native_fps=video.native_fps,
        native_frame_count=video.native_frame_count,
    )
    assert plan == expected and plan.best is not None
    assert video.estimate(fps=plan.best.fps, profile="sglang-mimo-v2").counted == plan.best.tokens


def test_nothing_fits_says_what_the_cheapest_needs():
    plan = mn.plan_budget(duration=600, width=1920, height=1080, max_tokens=100)
    assert plan.best is None and plan.settings == () and plan.frontier == ()
    assert plan.cheapest.fps == 0.1 and plan.cheapest.tokens > 100
    assert (
        "Nothing fits" in plan._repr_html_() and f"{plan.cheapest.tokens:,}" in plan._repr_html_()
    )
    table = plan_budget_many([600, 10], 1920, 1080, max_tokens=2000)
    assert (
        table.fits.tolist() == [False, True] and np.isnan(table.fps[0]) and table.setting(0) is None
    )


def test_outputs_for_tables():
    plan = mn.plan_budget(duration=30, width=1280, height=720, max_tokens=12_000, prices=PRICES)
    df = plan.to_pandas()
    assert (
        len(df) == len(plan.settings)
        and df["best"].sum() == 1
        and df["on_frontier"].sum() == len(plan.frontier)
    )
    assert df.loc[df["best"], "fps"].item() == plan.best.fps
    d = plan.to_dict()
    assert (
        d["best"]["fps"] == plan.best.fps
        and d["rule"] == budget.BEST_RULE
        and len(d["settings"]) == len(plan.settings)
    )
    page = plan._repr_html_()
    assert "best" in page and html.escape(budget.BEST_RULE) in page and "<table" in page
    table = plan_budget_many([30, 60], [1280, 640], [720, 360], max_tokens=12_000)
    assert (
        table.to_pandas()["fps"].tolist() == table.fps.tolist()
        and "2 videos" in table._repr_html_()
    )


def test_bad_budgets_raise_limit_errors():
    with pytest.raises(LimitError, match="budget"):
        mn.plan_budget(duration=10, width=640, height=360)
    with pytest.raises(LimitError, match="prices"):
        mn.plan_budget(duration=10, width=640, height=360, max_cost=0.1)
    with pytest.raises(LimitError, match="duration"):
        mn.plan_budget(width=640, height=360, max_tokens=10)
    with pytest.raises(LimitError, match="max_tokens"):
        mn.plan_budget(duration=10, width=640, height=360, max_tokens=-5)
    with pytest.raises(LimitError, match="native_fps"):
        mn.plan_budget(duration=10, width=640, height=360, max_tokens=5000, profile="qwen3-vl")
    with pytest.raises(LimitError, match="one-dimensional"):
        plan_budget_many([[10]], [640], [360], max_tokens=100)
