"""Plots: each renders to PNG, and what is drawn is the formula (curves and marked limits)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mimo_nb import plots
from mimo_nb.pricing import Prices, estimate_cost, load_prices
from mimo_nb.render import figure_png
from mimo_nb.request import RequestEstimate
from mimo_nb.response import spec_example_completion
from mimo_nb.tokens import (
    DEFAULT_MAX_FRAME_TOKENS,
    MAX_FRAMES,
    PIXELS_PER_TOKEN,
    estimate_video_tokens,
    explain_video_tokens,
)


def png(fig: Figure) -> bytes:
    data = figure_png(fig)
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    return data


def curve(fig: Figure, resolution: str) -> tuple[np.ndarray, np.ndarray]:
    (line,) = [l for l in fig.axes[0].lines if l.get_gid() == f"curve:{resolution}"]
    return np.asarray(line.get_xdata()), np.asarray(line.get_ydata())


def marks(fig: Figure) -> dict[tuple[str, str], tuple[float, float]]:
    """(limit, curve) -> (x, tokens) of every labelled cap point in the figure."""
    out = {}
    for text in fig.axes[0].texts:
        gid = text.get_gid() or ""
        if gid.startswith("cap:"):
            _, limit, resolution = gid.split(":")
            out[(limit, resolution)] = tuple(text.xy)
    return out


def shrunk_by(duration: float, width: int, height: int, fps: float, resolution: str) -> str | None:
    """Which budget (if any) made the model frame smaller, by the scalar formula."""
    b = explain_video_tokens(duration, width, height, fps, resolution)
    free = explain_video_tokens(1, width, height, 1, "max")  # 2 frames, the largest budget
    if b.width * b.height >= free.width * free.height:
        return None
    return plots.FRAME_TOKEN_CAP if b.pixel_budget == DEFAULT_MAX_FRAME_TOKENS * PIXELS_PER_TOKEN else plots.TOTAL_BUDGET


def test_fps_plot_curve_is_the_formula() -> None:
    fig = plots.plot_tokens_vs_fps(60, 1280, 720)
    png(fig)
    for resolution in ("default", "max"):
        x, y = curve(fig, resolution)
        for i in (0, 150, 500, len(x) - 1):
            assert y[i] == estimate_video_tokens(60, 1280, 720, fps=float(x[i]), media_resolution=resolution)


def test_duration_plot_marks_each_limit_where_it_starts_to_bind() -> None:
    fig = plots.plot_tokens_vs_duration(1920, 1080, fps=2)
    png(fig)
    found = marks(fig)
    # 1080p: the 300-token cap binds from the start (default); the shared budget later; frames at 2048.
    assert set(found) == {(plots.FRAME_TOKEN_CAP, "default"), (plots.TOTAL_BUDGET, "default"),
                          (plots.TOTAL_BUDGET, "max"), (plots.FRAME_CAP, "default"), (plots.FRAME_CAP, "max")}
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
    fig = plots.plot_tokens_vs_frame_size(duration=60, fps=2)
    png(fig)
    found = marks(fig)
    assert set(found) == {(plots.FRAME_TOKEN_CAP, "default"), (plots.TOTAL_BUDGET, "max")}
    for (limit, resolution), (x, tokens) in found.items():
        short = int(x)
        assert shrunk_by(60, round(short * 16 / 9), short, 2, resolution) == limit
        assert shrunk_by(60, round((short - 1) * 16 / 9), short - 1, 2, resolution) is None
        assert tokens == estimate_video_tokens(60, round(short * 16 / 9), short, 2, resolution)
    # Past the cap, default never spends more than 300 tokens a grid; max does.
    b = explain_video_tokens(60, 3840, 2160, 2)
    bound = b.grids * DEFAULT_MAX_FRAME_TOKENS + b.timestamps + b.special + b.audio
    x, y = curve(fig, "default")
    assert y.max() <= bound and curve(fig, "max")[1].max() > 5 * bound


def test_resolution_plot_marks_frame_cap_when_duration_times_fps_exceeds_it() -> None:
    found = marks(plots.plot_tokens_vs_frame_size(duration=1200, fps=2, portrait=True, max_short_side=1080))
    assert (plots.FRAME_CAP, "default") in found and found[(plots.FRAME_CAP, "default")][0] == 32


def test_cap_points_are_empty_when_nothing_binds() -> None:
    xs = np.arange(1, 11)
    assert plots.cap_points(xs, duration=xs, width=320, height=240, fps=1) == []


def test_plot_into_given_axes_returns_its_figure() -> None:
    fig = Figure()
    ax: Axes = fig.add_subplot()
    assert plots.plot_tokens_vs_fps(ax=ax) is fig
    assert plots.plot_cost(ax=ax) is fig


def test_plot_cost_in_currency_with_citation() -> None:
    prices = load_prices("mimo-v2.5", "USD")
    fig = plots.plot_cost(1280, 720, fps=(2,), prices=prices, output_tokens=500, max_duration=120)
    png(fig)
    (line,) = [l for l in fig.axes[0].lines if l.get_gid() == "cost:2"]
    x, y = line.get_xdata(), line.get_ydata()
    expected = estimate_cost(estimate_video_tokens(x[-1], 1280, 720, 2), prices, output_tokens=500).total
    assert y[-1] == pytest.approx(expected)
    assert fig.axes[0].get_ylabel() == "cost (USD)"
    (note,) = [t for t in fig.texts if t.get_gid() == "citation"]
    assert prices.as_of in note.get_text().replace("\n", " ")
    custom = Prices(input=10, cached_input=1, output=20, currency="EUR", source="my quote")
    assert "my quote" in [t for t in plots.plot_cost(prices=custom).texts if t.get_gid() == "citation"][0].get_text()


def test_estimate_vs_actual() -> None:
    done = spec_example_completion()
    done.estimate = RequestEstimate(videos=(explain_video_tokens(3.02, 720, 405, fps=2),), text_tokens=20)
    fig = plots.plot_estimate_vs_actual([done, spec_example_completion()])  # the second has no estimate
    png(fig)
    offsets = {c.get_gid(): c.get_offsets().tolist() for c in fig.axes[0].collections}
    assert offsets["points:video"] == [[1144, 1144]]
    assert offsets["points:audio"] == [[19, 19]]
    assert offsets["points:prompt total"] == [[done.estimate.prompt_tokens, 1260]]


def test_estimate_vs_actual_without_estimates_says_so() -> None:
    fig = plots.plot_estimate_vs_actual([spec_example_completion()])
    png(fig)
    assert [t.get_gid() for t in fig.axes[0].texts] == ["empty"]


def test_figures_are_deterministic_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show() was called"))
    before = plt.get_fignums()
    a = figure_png(plots.plot_tokens_vs_frame_size(duration=30))
    b = figure_png(plots.plot_tokens_vs_frame_size(duration=30))
    assert a == b
    assert plt.get_fignums() == before  # not registered with pyplot: shows once when returned
    assert plots.plot_tokens_vs_fps()._repr_png_().startswith(b"\x89PNG")
