"""Plots: each renders to PNG, and what is drawn is the formula (curves and marked limits)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import mimo_nb as mn
from mimo_nb.api.request import RequestEstimate
from mimo_nb.api.response import spec_example_completion
from mimo_nb.core.pricing import Prices, estimate_cost, load_prices
from mimo_nb.core.tokens import (
    DEFAULT_MAX_FRAME_TOKENS,
    MAX_FRAMES,
    PIXELS_PER_TOKEN,
    estimate_video_tokens,
    explain_video_tokens,
)
from mimo_nb.display import plots
from mimo_nb.media.imaging import figure_png


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def png(ax: Axes) -> bytes:
    data = figure_png(ax.figure)
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    return data


def curve(ax: Axes, resolution: str) -> tuple[np.ndarray, np.ndarray]:
    (line,) = [ln for ln in ax.lines if ln.get_gid() == f"curve:{resolution}"]
    return np.asarray(line.get_xdata()), np.asarray(line.get_ydata())


def marks(ax: Axes) -> dict[tuple[str, str], tuple[float, float]]:
    """(limit, curve) -> (x, tokens) of every dot marking where a limit starts to bind."""
    out = {}
    for line in ax.lines:
        gid = line.get_gid() or ""
        if gid.startswith("cap:"):
            _, limit, resolution = gid.split(":")
            out[(limit, resolution)] = (float(line.get_xdata()[0]), float(line.get_ydata()[0]))
    return out


def legend_texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def shrunk_by(duration: float, width: int, height: int, fps: float, resolution: str) -> str | None:
    """Which budget (if any) made the model frame smaller, by the scalar formula."""
    b = explain_video_tokens(duration, width, height, fps, resolution)
    free = explain_video_tokens(1, width, height, 1, "max")  # 2 frames, the largest budget
    if b.width * b.height >= free.width * free.height:
        return None
    return (
        plots.FRAME_TOKEN_CAP
        if b.pixel_budget == DEFAULT_MAX_FRAME_TOKENS * PIXELS_PER_TOKEN
        else plots.TOTAL_BUDGET
    )


def test_fps_plot_curve_is_the_formula() -> None:
    ax = plots.plot_tokens_vs_fps(60, 1280, 720)
    png(ax)
    for resolution in ("default", "max"):
        x, y = curve(ax, resolution)
        for i in (0, 150, 500, len(x) - 1):
            assert y[i] == estimate_video_tokens(
                60, 1280, 720, fps=float(x[i]), media_resolution=resolution
            )


def test_duration_plot_marks_each_limit_where_it_starts_to_bind() -> None:
    ax = plots.plot_tokens_vs_duration(1920, 1080, fps=2)
    png(ax)
    found = marks(ax)
    # 1080p: the 300-token cap binds from the start (default); the shared budget later; frames at
    # 2048.
    assert set(found) == {
        (plots.FRAME_TOKEN_CAP, "default"),
        (plots.TOTAL_BUDGET, "default"),
        (plots.TOTAL_BUDGET, "max"),
        (plots.FRAME_CAP, "default"),
        (plots.FRAME_CAP, "max"),
    }
    step = 0.5
    for (limit, resolution), (x, tokens) in found.items():
        assert tokens == estimate_video_tokens(x, 1920, 1080, 2, resolution)
        if limit == plots.FRAME_CAP:
            assert explain_video_tokens(x, 1920, 1080, 2, resolution).frames == MAX_FRAMES
            assert explain_video_tokens(x - step, 1920, 1080, 2, resolution).frames < MAX_FRAMES
        elif x > step:
            assert shrunk_by(x, 1920, 1080, 2, resolution) == limit
            assert shrunk_by(x - step, 1920, 1080, 2, resolution) != limit
    # Regime changes the formula itself implies: 2*131072/300 = 873.8 frames, so the shared
    # budget undercuts the 300-token cap from 874 frames on (437 s at fps 2); 2048 frames at 1024 s.
    assert found[(plots.TOTAL_BUDGET, "default")][0] == 436.5  # ceil(873) -> 874 frames
    assert found[(plots.FRAME_CAP, "max")][0] == 1023.5  # ceil(2047) -> 2048 frames


def test_resolution_plot_marks_default_cap_and_total_budget() -> None:
    ax = plots.plot_tokens_vs_frame_size(duration=60, fps=2)
    png(ax)
    found = marks(ax)
    assert set(found) == {(plots.FRAME_TOKEN_CAP, "default"), (plots.TOTAL_BUDGET, "max")}
    for (limit, resolution), (x, tokens) in found.items():
        short = int(x)
        assert shrunk_by(60, round(short * 16 / 9), short, 2, resolution) == limit
        assert shrunk_by(60, round((short - 1) * 16 / 9), short - 1, 2, resolution) is None
        assert tokens == estimate_video_tokens(60, round(short * 16 / 9), short, 2, resolution)
    # Past the cap, default never spends more than 300 tokens a grid; max does.
    b = explain_video_tokens(60, 3840, 2160, 2)
    bound = b.grids * DEFAULT_MAX_FRAME_TOKENS + b.timestamps + b.special + b.audio
    x, y = curve(ax, "default")
    assert y.max() <= bound and curve(ax, "max")[1].max() > 5 * bound


def test_resolution_plot_marks_frame_cap_when_duration_times_fps_exceeds_it() -> None:
    found = marks(
        plots.plot_tokens_vs_frame_size(duration=1200, fps=2, portrait=True, max_short_side=1080)
    )
    assert (plots.FRAME_CAP, "default") in found and found[(plots.FRAME_CAP, "default")][0] == 32


def test_cap_points_are_empty_when_nothing_binds() -> None:
    xs = np.arange(1, 11)
    assert plots.cap_points(xs, duration=xs, width=320, height=240, fps=1) == []


def test_cap_legend_says_in_words_what_binds_and_from_where() -> None:
    ax = plots.plot_tokens_vs_duration(1920, 1080, fps=2)
    texts = [t.replace("\n", " ") for t in legend_texts(ax)]
    assert "default: each frame capped at 300 tokens, from the start" in texts
    assert "default: frames shrink to share the 131,072-token budget, from 436.5 s" in texts
    # Both curves reach 2,048 frames at the same duration: one line, one entry.
    assert "default and max: no frames added past 2,048, from 1,023.5 s" in texts
    assert not any("x=" in t or "(default)" in t for t in texts)  # no cryptic labels
    fps_texts = [
        t.replace("\n", " ")
        for t in legend_texts(plots.plot_tokens_vs_fps(60, 1920, 1080, current=2))
    ]
    assert "max: frames shrink to share the 131,072-token budget, from fps 2.14" in fps_texts
    assert "fps 2 (chosen)" in fps_texts


def test_saw_tooth_is_explained_where_a_curve_dips() -> None:
    ax = plots.plot_tokens_vs_fps(60, 1920, 1080)
    assert np.any(np.diff(curve(ax, "max")[1]) < 0)  # the max curve has teeth here
    assert any(t.startswith("saw-tooth:") for t in legend_texts(ax))
    small = plots.plot_tokens_vs_fps(4, 320, 240)  # nothing shared: smooth curves, no note
    assert np.all(np.diff(curve(small, "max")[1]) >= 0)
    assert not any(t.startswith("saw-tooth:") for t in legend_texts(small))
    cost = plots.plot_cost(1920, 1080, fps=(5,), max_duration=600)
    assert any(t.startswith("saw-tooth:") for t in legend_texts(cost))


def test_legend_and_labels_are_readable_and_beside_the_curves() -> None:
    for ax in (
        plots.plot_tokens_vs_fps(60, 1920, 1080, current=2),
        plots.plot_tokens_vs_duration(),
        plots.plot_tokens_vs_frame_size(),
        plots.plot_cost(),
    ):
        renderer = ax.figure.canvas.get_renderer()
        legend = ax.get_legend()
        assert (
            legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
        )  # right of the plot
        assert min(t.get_fontsize() for t in legend.get_texts()) >= 9
        if ax.get_ylabel() == "estimated tokens":
            assert ax.yaxis.get_major_formatter()(123456, 0) == "123,456"  # thousands separated
    duration_ax = plots.plot_tokens_vs_duration()
    assert duration_ax.xaxis.get_major_formatter()(1500, 0) == "1,500"
    assert duration_ax.yaxis.get_major_formatter()(120000, 0) == "120,000"


def test_plot_into_given_axes_returns_them_and_writes_nothing_else() -> None:
    fig = Figure()
    ax: Axes = fig.add_subplot()
    before = plt.get_fignums()
    assert plots.plot_tokens_vs_fps(ax=ax) is ax
    assert plots.plot_cost(ax=ax) is ax
    assert plots.plot_estimate_vs_actual([spec_example_completion()], ax=ax) is ax
    assert fig.texts == [] and len(fig.axes) == 1  # nothing written on the caller's figure
    assert [
        t for t in ax.texts if t.get_gid() == "citation"
    ] == []  # no caption in the caller's axes
    assert plt.get_fignums() == before  # and no pyplot figure made on the side


def test_without_ax_one_new_figure_and_its_axes() -> None:
    before = len(plt.get_fignums())
    ax = plots.plot_tokens_vs_duration(1280, 720)
    assert isinstance(ax, Axes) and len(plt.get_fignums()) == before + 1
    assert (
        ax.figure.number in plt.get_fignums()
    )  # pyplot's: a notebook shows it once, at the end of the cell


def test_plot_cost_in_currency_with_citation() -> None:
    prices = load_prices("mimo-v2.5", "USD")
    ax = plots.plot_cost(1280, 720, fps=(2,), prices=prices, output_tokens=500, max_duration=120)
    png(ax)
    (line,) = [ln for ln in ax.lines if ln.get_gid() == "cost:2"]
    x, y = line.get_xdata(), line.get_ydata()
    expected = estimate_cost(
        estimate_video_tokens(x[-1], 1280, 720, 2), prices, output_tokens=500
    ).total
    assert y[-1] == pytest.approx(expected)
    assert ax.get_ylabel() == "cost (USD)"
    (note,) = [t for t in ax.texts if t.get_gid() == "citation"]  # in the Axes, not on the figure
    assert prices.as_of in note.get_text().replace("\n", " ") and ax.figure.texts == []
    custom = Prices(input=10, cached_input=1, output=20, currency="EUR", source="my quote")
    citation = next(t for t in plots.plot_cost(prices=custom).texts if t.get_gid() == "citation")
    assert "my quote" in citation.get_text()


def test_estimate_vs_actual() -> None:
    done = spec_example_completion()
    done.estimate = RequestEstimate(
        videos=(explain_video_tokens(3.02, 720, 405, fps=2),), text_tokens=20
    )
    ax = plots.plot_estimate_vs_actual(
        [done, spec_example_completion()]
    )  # the second has no estimate
    png(ax)
    offsets = {c.get_gid(): c.get_offsets().tolist() for c in ax.collections}
    assert offsets["points:video"] == [[1144, 1144]]
    assert offsets["points:audio"] == [[19, 19]]
    assert offsets["points:prompt total"] == [[done.estimate.prompt_tokens, 1260]]
    assert any("inferred" in t for t in legend_texts(ax))


def test_estimate_vs_actual_without_estimates_says_so() -> None:
    ax = plots.plot_estimate_vs_actual([spec_example_completion()])
    png(ax)
    assert [t.get_gid() for t in ax.texts] == ["empty"]


def test_figures_are_deterministic_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show() was called"))
    a = figure_png(plots.plot_tokens_vs_frame_size(duration=30).figure)
    b = figure_png(plots.plot_tokens_vs_frame_size(duration=30).figure)
    assert a == b


def _points(ax: Axes, gid: str) -> list[tuple[float, float]]:
    """The (x, y) points of the line or scatter with this gid."""
    for artist in [*ax.lines, *ax.collections]:
        if artist.get_gid() == gid:
            if isinstance(artist, Line2D):
                return list(zip(artist.get_xdata(), artist.get_ydata(), strict=True))
            return [tuple(xy) for xy in artist.get_offsets().tolist()]
    raise AssertionError(f"nothing drawn with gid {gid!r}")


def test_budget_frontier_draws_the_plans_frontier_fits_and_best() -> None:
    plan = mn.plan_budget(duration=60, width=1920, height=1080, max_tokens=20_000)
    ax = plots.plot_budget_frontier(plan)
    png(ax)
    assert _points(ax, "frontier") == [(s.frames, s.pixels_per_frame) for s in plan.frontier]
    assert len(plan.frontier) > 1
    assert _points(ax, "best") == [(plan.best.frames, plan.best.pixels_per_frame)]
    fits = sorted(_points(ax, "fits:default") + _points(ax, "fits:max"))
    assert fits == sorted((s.frames, s.pixels_per_frame) for s in plan.settings)
    texts = [t.replace("\n", " ") for t in legend_texts(ax)]
    assert "best: fps 2.3, default: 138 frames at 736x384, 19,907 tokens" in texts
    assert f"best = {plan.rule}" in texts
    assert ax.get_title() == "60 s, 1920x1080, at most 20,000 tokens: settings that fit (mimo-api)"
    assert ax.yaxis.get_major_formatter()(307200, 0) == "307,200"


def test_budget_frontier_for_a_server_profile_and_when_nothing_fits() -> None:
    plan = mn.plan_budget(
        duration=60, width=1920, height=1080, native_fps=30, profile="qwen3-vl", max_tokens=20_000
    )
    ax = plots.plot_budget_frontier(plan)
    assert _points(ax, "frontier") == [(s.frames, s.pixels_per_frame) for s in plan.frontier]
    assert len(_points(ax, "fits")) == len(plan.settings)  # no media_resolution: one group
    assert "(qwen3-vl)" in ax.get_title()
    empty = plots.plot_budget_frontier(
        mn.plan_budget(duration=600, width=1920, height=1080, max_tokens=100)
    )
    (note,) = [t for t in empty.texts if t.get_gid() == "empty"]
    assert "nothing on the grid fits" in note.get_text() and "tokens" in note.get_text()


def test_budget_plan_plot_into_given_axes_draws_no_other_figure() -> None:
    plan = mn.plan_budget(duration=30, width=1280, height=720, max_tokens=12_000)
    fig = Figure()
    ax: Axes = fig.add_subplot()
    before = plt.get_fignums()
    assert plan.plot(ax=ax) is ax
    assert plt.get_fignums() == before and len(fig.axes) == 1
    assert _points(ax, "frontier") == [(s.frames, s.pixels_per_frame) for s in plan.frontier]
    new = plan.plot()
    assert new is not ax and len(plt.get_fignums()) == len(before) + 1
