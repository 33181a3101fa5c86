"""The explorers' profile dropdown and the budget explorer, driven in-process as a front end does.

Every number shown must equal the profile functions (``Video.estimate(..., profile=)``,
``explain_profile_tokens``, ``plan_budget``) for the value each control displays, also after a
front end has written a noisy float back.
"""

from __future__ import annotations

from html import escape as html_escape
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest
from test_widgets import from_browser, images, numbers

from mimo_nb.core.budget import plan_budget
from mimo_nb.core.pricing import estimate_cost, load_prices
from mimo_nb.core.profiles import PROFILE_NAMES, ServerTokenBreakdown, explain_profile_tokens
from mimo_nb.core.tokens import explain_video_tokens
from mimo_nb.display import render, widgets
from mimo_nb.errors import LimitError
from mimo_nb.media.samples import generate_clip
from mimo_nb.media.video import Video

SERVERS = [p for p in PROFILE_NAMES if p != "mimo-api"]
# (what a front end writes, what the control shows)
NOISY_FPS = [
    (2.0000000000000004, 2.0),
    (0.30000000000000004, 0.3),
    (4.000000000000001, 4.0),
    (9.999999999999998, 10.0),
]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s, 320x240 at 10 fps with a tone: 60 native frames."""
    return generate_clip(
        tmp_path_factory.mktemp("profiles-ui") / "clip.mp4",
        duration=6,
        width=320,
        height=240,
        fps=10,
    )


def choose(dropdown, value) -> None:
    """Pick ``value`` in a Dropdown as the browser does: it sends the option's index."""
    from_browser(dropdown, index=list(dropdown._options_values).index(value))
    assert dropdown.value == value


def breakdown_html(b) -> str:
    if isinstance(b, ServerTokenBreakdown):
        return render.server_breakdown_html(b)
    return render.breakdown_html(b)


# ---- FrameExplorer ----------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize("sent,shown", NOISY_FPS)
def test_frame_explorer_shows_the_chosen_profiles_frames(
    clip: Path, profile: str, sent: float, shown: float
) -> None:
    video = Video.open(clip)
    explorer = widgets.FrameExplorer(video, debounce=0)
    choose(explorer.profile, profile)
    from_browser(explorer.fps, value=sent)
    expected = video.estimate(shown, "default", profile=profile)
    assert explorer.estimate() == expected
    assert numbers(explorer.numbers.value)[0] == expected.frames
    assert f"<b>{expected.width} x {expected.height}</b>" in explorer.numbers.value
    assert explorer.breakdown.value == breakdown_html(expected)
    assert len(images(explorer.view.value)) == expected.frames
    frames = explorer.frames()
    assert frames.indices.tolist() == video.sample(shown, profile=profile).indices.tolist()
    assert frames.array.shape[1:3] == (expected.height, expected.width)
    if profile == "mimo-api":
        assert f"{estimate_cost(expected, load_prices()).total:.6f}" in explorer.cost.value
        assert not explorer.media_resolution.disabled
    else:
        assert "self-hosted" in explorer.cost.value and explorer.media_resolution.disabled
        assert f"profile={profile}" in explorer.snapshot_html()


def test_the_profiles_really_differ_on_this_clip(clip: Path) -> None:
    """Otherwise the test above could pass with the dropdown ignored."""
    explorer = widgets.FrameExplorer(Video.open(clip), debounce=0, fps=2)
    seen = {}
    for profile in PROFILE_NAMES:
        choose(explorer.profile, profile)
        frames = explorer.frames()
        indices = tuple(frames.indices.tolist())
        seen[profile] = (explorer.numbers.value, explorer.breakdown.value, indices)
    assert len(set(seen.values())) == len(PROFILE_NAMES), seen


def test_server_profiles_ignore_media_resolution_and_share_one_decode(clip: Path) -> None:
    video = Video.open(clip)
    explorer = widgets.FrameExplorer(video, debounce=0, profile="mimo-vl")
    assert explorer.media_resolution.disabled
    decodes = explorer.decodes
    explorer.media_resolution.value = "max"
    assert explorer.decodes == decodes and explorer.key()[1] == "default"
    assert explorer.estimate() == video.estimate(2.0, "max", profile="mimo-vl")
    choose(explorer.profile, "mimo-api")  # back on the API, the toggle counts again
    assert not explorer.media_resolution.disabled
    assert explorer.estimate() == video.estimate(2.0, "max")


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(LimitError, match="not one we know"):
        widgets.TokenCostExplorer(profile="vllm", debounce=0)


# ---- TokenCostExplorer ------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize("native", [24.0, 29.97, 60.0])
def test_token_cost_explorer_follows_the_profile(profile: str, native: float) -> None:
    explorer = widgets.TokenCostExplorer(duration=60, debounce=0)
    choose(explorer.profile, profile)
    choose(explorer.native_fps, native)
    for sent, shown in NOISY_FPS:
        from_browser(explorer.fps, value=sent)
        server = profile != "mimo-api"
        expected = explain_profile_tokens(
            60, 1920, 1080, shown, profile=profile, native_fps=native if server else None
        )
        assert explorer.estimate() == expected
        total = expected.counted if server else expected.total
        assert numbers(explorer.numbers.value)[0] == total
        assert explorer.breakdown.value == breakdown_html(expected)
        assert explorer.native_fps.disabled is (not server)
        (img,) = images(explorer.view.value)
        assert img["src"].startswith("data:image/png;base64,")


def test_token_cost_explorer_lesson_numbers_stay_with_the_api_profile() -> None:
    explorer = widgets.TokenCostExplorer(duration=60, fps=2, debounce=0)
    assert numbers(explorer.numbers.value)[0] == 17240 and explorer.key()[-2:] == ("mimo-api", None)
    choose(explorer.profile, "qwen3-vl")
    counted = explain_profile_tokens(60, 1920, 1080, 2, profile="qwen3-vl", native_fps=30.0).counted
    assert numbers(explorer.numbers.value)[0] == counted != 17240
    choose(explorer.profile, "mimo-api")
    assert numbers(explorer.numbers.value)[0] == 17240


def test_token_cost_explorer_draws_one_plot_per_profile_and_caches_it() -> None:
    explorer = widgets.TokenCostExplorer(debounce=0)
    api_plot = explorer.view.value
    choose(explorer.profile, "mimo-vl")
    drawn = explorer.plots_drawn
    assert explorer.view.value != api_plot
    choose(explorer.profile, "mimo-api")
    choose(explorer.profile, "mimo-vl")
    assert explorer.plots_drawn == drawn and explorer.view.value != api_plot  # both cached


# ---- BudgetExplorer -----------------------------------------------------------------------------


def expected_plan(
    explorer: widgets.BudgetExplorer,
    max_tokens: int,
    profile: str = "mimo-api",
    native: float = 30.0,
    mute: bool = False,
):
    width, height = explorer.frame_size()
    server = profile != "mimo-api"
    return plan_budget(
        duration=float(explorer.duration.value),
        width=width,
        height=height,
        mute=mute,
        profile=profile,
        max_tokens=max_tokens,
        native_fps=native if server else None,
        prices=None if server else load_prices(),
    )


def test_budget_explorer_shows_plan_budgets_best_and_frontier() -> None:
    explorer = widgets.BudgetExplorer(duration=60, max_tokens=20_000, debounce=0)
    plan = expected_plan(explorer, 20_000)
    assert explorer.plan() == plan
    best_setting = (plan.best.fps, plan.best.media_resolution, plan.best.frames, plan.best.tokens)
    assert best_setting == (2.3, "default", 138, 19907)
    assert "fps=2.3, media_resolution=default" in explorer.numbers.value
    assert numbers(explorer.numbers.value) == [138, 19907]
    best = explain_video_tokens(60, 1920, 1080, 2.3, "default")
    assert explorer.breakdown.value == render.breakdown_html(best) and best.total == 19907
    assert f"{estimate_cost(best, load_prices()).total:.6f}" in explorer.cost.value
    assert explorer.view.value == render.budget_html(plan)
    assert html_escape(plan.rule) in explorer.view.value and len(plan.frontier) >= 1


@pytest.mark.parametrize(
    "sent,shown",
    [(20000.000000000004, 20_000), (4999.999999999999, 5_000), (1e5, 100_000), (8000.4, 8_000)],
)
def test_budget_from_the_browser_is_whole_tokens(sent: float, shown: int) -> None:
    explorer = widgets.BudgetExplorer(duration=120, preset="720p landscape", debounce=0)
    from_browser(explorer.max_tokens, value=sent)
    assert explorer.max_tokens.value == shown
    plan = expected_plan(explorer, shown)
    assert explorer.plan() == plan and explorer.view.value == render.budget_html(plan)
    assert numbers(explorer.numbers.value) == [plan.best.frames, plan.best.tokens]


@pytest.mark.parametrize("profile", SERVERS)
def test_budget_explorer_plans_for_a_server(profile: str) -> None:
    explorer = widgets.BudgetExplorer(duration=300, max_tokens=30_000, debounce=0)
    choose(explorer.profile, profile)
    choose(explorer.native_fps, 25.0)
    explorer.mute.value = True
    plan = expected_plan(explorer, 30_000, profile, native=25.0, mute=True)
    assert explorer.plan() == plan and plan.best.media_resolution is None
    assert numbers(explorer.numbers.value) == [plan.best.frames, plan.best.tokens]
    best = explain_profile_tokens(
        300, 1920, 1080, plan.best.fps, mute=True, profile=profile, native_fps=25.0
    )
    assert explorer.breakdown.value == render.server_breakdown_html(best)
    assert best.counted == plan.best.tokens
    assert "self-hosted" in explorer.cost.value and explorer.view.value == render.budget_html(plan)
    assert f"profile={profile}, native fps 25" in explorer.snapshot_html()


def test_budget_explorer_says_when_nothing_fits() -> None:
    explorer = widgets.BudgetExplorer(duration=60, max_tokens=20_000, debounce=0)
    explorer.max_tokens.value = 100
    plan = expected_plan(explorer, 100)
    assert plan.best is None and explorer.plan() == plan
    assert "Nothing fits" in explorer.numbers.value
    assert numbers(explorer.numbers.value) == [plan.cheapest.tokens]
    assert explorer.breakdown.value == "" and explorer.view.value == render.budget_html(plan)


def test_budget_explorer_follows_the_clip_controls() -> None:
    explorer = widgets.BudgetExplorer(debounce=0)
    stops = list(explorer.duration._options_values)
    from_browser(explorer.duration, index=stops.index(600.0))
    choose(explorer.preset, "4K portrait")
    assert explorer.frame_size() == (2160, 3840)
    assert explorer.plan() == expected_plan(explorer, 20_000)
    assert explorer.plan().duration == 600.0
