"""Matplotlib plots of what videos cost MiMo: tokens against fps, duration and resolution.

Every curve comes from :func:`mimo_nb.core.tokens.explain_video_tokens_array` over a dense grid, so
it is the spec's formula, point for point. The places where a limit of the formula starts to
bind (the per-frame token cap of ``default``, the token budget shared by all frames, the frame
cap) are found in those same arrays by :func:`cap_points`, marked on the curves and explained in
the legend, beside the curves (never on top of them).

The convention is matplotlib's (and seaborn's axes-level functions'): each function takes
``ax=None``, draws into that Axes (or into a new pyplot figure when None) and returns the Axes it
drew on. Nothing calls ``plt.show()``; in a notebook the new figure shows once, at the end of the
cell. Captions (the prices' citation) are written inside the Axes' area, and only when the
function made the figure: your own figure is never written on.

>>> ax = plot_tokens_vs_frame_size(duration=60, fps=2)     # default against max, caps marked
>>> ax.figure.savefig("tokens.png")
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from mimo_nb.core import validate
from mimo_nb.core.budget import BudgetPlan, BudgetSetting
from mimo_nb.core.pricing import Prices, estimate_cost, load_prices
from mimo_nb.core.profiles import DEFAULT_PROFILE, PROFILE_NAMES, Profile, get_profile
from mimo_nb.core.tokens import (
    AUDIO_SPECIAL_TOKENS,
    DEFAULT_MAX_FRAME_TOKENS,
    FPS_MAX,
    FPS_MIN,
    MAX_FRAMES,
    MAX_TOTAL_TOKENS,
    PIXELS_PER_TOKEN,
    SPATIAL,
    explain_video_tokens_array,
    validate_fps,
    validate_media_resolution,
)
from mimo_nb.errors import LimitError

if TYPE_CHECKING:
    from mimo_nb.api.response import Completion
    from mimo_nb.corpus.sweep import SweepResult
    from mimo_nb.media.video import Video

__all__ = [
    "FIGSIZE",
    "RESOLUTION_PRESETS",
    "CapPoint",
    "cap_points",
    "drawn",
    "new_axes",
    "new_figure",
    "plot_budget_frontier",
    "plot_cost",
    "plot_estimate_vs_actual",
    "plot_sweep",
    "plot_tokens_vs_duration",
    "plot_tokens_vs_fps",
    "plot_tokens_vs_fps_by_profile",
    "plot_tokens_vs_frame_size",
]

# Common frame heights (landscape 16:9), for ticks and the explorers' presets.
RESOLUTION_PRESETS: dict[str, tuple[int, int]] = {
    "360p": (640, 360),
    "480p": (854, 480),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "1440p": (2560, 1440),
    "4K": (3840, 2160),
}

FRAME_TOKEN_CAP = f"{DEFAULT_MAX_FRAME_TOKENS}-token frame cap"
TOTAL_BUDGET = f"{MAX_TOTAL_TOKENS:,}-token total budget"
FRAME_CAP = f"{MAX_FRAMES:,}-frame cap"
_CURVE_STYLE = {"default": {"color": "tab:blue"}, "max": {"color": "tab:orange"}}
_CAP_STYLE = {FRAME_TOKEN_CAP: "tab:green", TOTAL_BUDGET: "tab:red", FRAME_CAP: "tab:purple"}
# What each limit does, in words, for the legend.
_CAP_WORDS = {
    FRAME_TOKEN_CAP: f"each frame capped at {DEFAULT_MAX_FRAME_TOKENS} tokens",
    TOTAL_BUDGET: f"frames shrink to share the {MAX_TOTAL_TOKENS:,}-token budget",
    FRAME_CAP: f"no frames added past {MAX_FRAMES:,}",
}
_SAWTOOTH = (
    f"saw-tooth: once frames share the {MAX_TOTAL_TOKENS:,}-token budget, each added frame makes "
    f"every frame smaller, and their sides drop to the next multiple of {SPATIAL} px: the total "
    "dips, then climbs again"
)
_LEGEND_WIDTH = 44  # characters per legend line
FIGSIZE = (9.0, 4.2)  # inches: the plot, and the legend to its right


def new_figure(figsize: tuple[float, float] = FIGSIZE, *, shown: bool = True) -> Figure:
    """A new figure, laid out ``constrained``: the one place mimo_nb makes a figure.

    ``shown`` makes it through pyplot, so a notebook shows it once, at the end of the cell;
    otherwise it is a plain :class:`~matplotlib.figure.Figure` drawn only for a page or a file
    (nothing shows twice, nothing is left open in pyplot).
    """
    if shown:
        import matplotlib.pyplot as plt  # only when we show a figure: pyplot owns it

        return plt.figure(figsize=figsize, layout="constrained")
    return Figure(figsize=figsize, layout="constrained")


def new_axes(
    ax: Axes | None = None, *, figsize: tuple[float, float] = FIGSIZE, shown: bool = True
) -> tuple[Figure | SubFigure, Axes]:
    """``(figure, axes)`` to draw on, following matplotlib's ``ax=`` convention: the caller's
    Axes and its figure, or a new figure's single Axes (:func:`new_figure`).

    >>> fig, ax = new_axes(figsize=(4, 3), shown=False)
    >>> ax.figure is fig, new_axes(ax)[1] is ax
    (True, True)
    """
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(figsize, shown=shown)
    return fig, fig.add_subplot()


def drawn(
    plot: Callable[..., object], *args: Any, figsize: tuple[float, float] = FIGSIZE, **kwargs: Any
) -> Figure:
    """A figure made only for a page or a file, with ``plot(*args, ax=..., **kwargs)`` drawn on
    it (never shown in a notebook on its own; encode it with
    :func:`mimo_nb.media.imaging.figure_png` or :func:`mimo_nb.display.render.figure_html`)."""
    fig = new_figure(figsize, shown=False)
    plot(*args, ax=fig.add_subplot(), **kwargs)
    return fig


def _thousands(axis: Axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))


def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, _LEGEND_WIDTH))


def _legend(ax: Axes, extra: Sequence[Artist] = (), title: str | None = None) -> None:
    """The legend outside the plot, on its right: it never covers a curve."""
    handles, labels = ax.get_legend_handles_labels()
    handles += list(extra)
    labels += [h.get_label() for h in extra]
    ax.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0,
        fontsize=9,
        title=title,
        title_fontsize=9,
        alignment="left",
        frameon=False,
    )


def _caption(ax: Axes, text: str, gid: str) -> None:
    """A small caption under the Axes, belonging to it (for figures the function made)."""
    ax.annotate(
        textwrap.fill(text, 110),
        xy=(0, 0),
        xycoords="axes fraction",
        xytext=(0, -36),
        textcoords="offset points",
        va="top",
        ha="left",
        fontsize=8,
        color="#555",
        gid=gid,
    )


# ---- Where the formula's limits start to bind -----------------------------------------------


@dataclass(frozen=True)
class CapPoint:
    """The first grid point of a sweep at which one of the formula's limits binds.

    ``limit`` is one of :data:`FRAME_TOKEN_CAP`, :data:`TOTAL_BUDGET` or :data:`FRAME_CAP`;
    ``curve`` the media_resolution; ``x`` the swept value there and ``tokens`` the estimate at
    it; ``from_start`` is True when it binds over the whole sweep.
    """

    limit: str
    curve: str
    x: float
    tokens: int
    from_start: bool

    def label(self, where: Callable[[float], str] = lambda x: f"x = {x:g}") -> str:
        """The point in words: what the limit does, and from where (``where`` words the x value)."""
        return f"{_CAP_WORDS[self.limit]}, " + (
            "from the start" if self.from_start else f"from {where(self.x)}"
        )


def _binding(
    parts: dict[str, np.ndarray], free: dict[str, np.ndarray], resolution: str
) -> dict[str, np.ndarray]:
    """Boolean arrays: where each limit binds, read off the formula's own intermediates.

    A budget binds where it made the model frame smaller than the frame the formula gives under
    the largest budget it allows (``free``); which budget it was is the pixel budget's value.
    """
    shrunk = parts["width"] * parts["height"] < free["width"] * free["height"]
    frame_cap_budget = parts["pixel_budget"] == DEFAULT_MAX_FRAME_TOKENS * PIXELS_PER_TOKEN
    binding = {
        TOTAL_BUDGET: shrunk & ~frame_cap_budget,
        FRAME_CAP: parts["frames"] >= MAX_FRAMES,
    }
    if resolution == "default":
        binding[FRAME_TOKEN_CAP] = shrunk & frame_cap_budget
    return binding


def _sweep(
    duration: npt.ArrayLike,
    width: npt.ArrayLike,
    height: npt.ArrayLike,
    fps: npt.ArrayLike,
    resolution: str,
    mute: bool,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    parts = explain_video_tokens_array(duration, width, height, fps, resolution, mute)
    # The same frames under the largest per-frame budget the formula allows: 2 frames, "max".
    free = explain_video_tokens_array(1.0, width, height, 1.0, "max", True)
    shape = parts["total"].shape
    free = {k: np.broadcast_to(v, shape) for k, v in free.items()}
    return parts, free


def cap_points(
    x: npt.ArrayLike,
    *,
    duration: npt.ArrayLike,
    width: npt.ArrayLike,
    height: npt.ArrayLike,
    fps: npt.ArrayLike,
    media_resolution: str = "default",
    mute: bool = False,
) -> list[CapPoint]:
    """Where, along the sweep ``x``, each limit of the formula starts to bind.

    The other arguments broadcast against ``x`` as in :func:`explain_video_tokens_array`;
    ``x`` must be increasing. A limit that never binds on the sweep is left out.

    >>> xs = np.arange(1, 1801)
    >>> [p.limit for p in cap_points(xs, duration=xs, width=1920, height=1080, fps=2)]
    ['300-token frame cap', '131,072-token total budget', '2,048-frame cap']
    """
    resolution = validate_media_resolution(media_resolution)
    xs = np.asarray(x, dtype=np.float64)
    parts, free = _sweep(duration, width, height, fps, resolution, mute)
    total = np.broadcast_to(parts["total"], xs.shape)
    points = []
    for limit, mask in _binding(parts, free, resolution).items():
        mask = np.broadcast_to(mask, xs.shape)
        hits = np.flatnonzero(mask)
        if hits.size:
            i = int(hits[0])
            points.append(CapPoint(limit, resolution, float(xs[i]), int(total[i]), i == 0))
    return sorted(points, key=lambda p: (p.x, p.limit))


def _mark(ax: Axes, points: Sequence[CapPoint], where: Callable[[float], str]) -> list[Line2D]:
    """A dot on the curve and a dotted line where each limit starts to bind; legend entries in
    words.

    One limit binding at the same x on several curves gets one line and one entry.
    """
    groups: dict[tuple[str, float], list[CapPoint]] = {}
    for p in sorted(points, key=lambda p: (p.x, p.limit)):
        groups.setdefault((p.limit, p.x), []).append(p)
    entries = []
    for (limit, x), same in groups.items():
        colour = _CAP_STYLE[limit]
        curves = " and ".join(p.curve for p in same)
        if not same[0].from_start:
            ax.axvline(
                x, color=colour, linestyle=":", linewidth=1.2, gid=f"cap-line:{limit}:{curves}"
            )
        for p in same:
            ax.plot(
                [p.x],
                [p.tokens],
                "o",
                color=colour,
                markersize=7,
                markeredgecolor="white",
                zorder=3,
                gid=f"cap:{p.limit}:{p.curve}",
            )
        entries.append(
            Line2D(
                [],
                [],
                color=colour,
                marker="o",
                linestyle=":",
                markeredgecolor="white",
                label=_wrap(f"{curves}: {same[0].label(where)}"),
            )
        )
    return entries


def _resolutions(media_resolution: str | Sequence[str]) -> list[str]:
    names = [media_resolution] if isinstance(media_resolution, str) else list(media_resolution)
    return [validate_media_resolution(r) for r in names]


def _has_teeth(values: np.ndarray) -> bool:
    """True when a curve that should only grow dips somewhere (the budget's saw-tooth)."""
    return bool(np.any(np.diff(values) < 0))


def _curves(
    ax: Axes,
    x: np.ndarray,
    resolutions: list[str],
    mark: bool,
    where: Callable[[float], str],
    *,
    duration: npt.ArrayLike,
    width: npt.ArrayLike,
    height: npt.ArrayLike,
    fps: npt.ArrayLike,
    mute: bool,
) -> list[Line2D]:
    """Draw one curve per media_resolution; return the legend entries explaining caps and teeth."""
    points: list[CapPoint] = []
    teeth = False
    for resolution in resolutions:
        parts = explain_video_tokens_array(duration, width, height, fps, resolution, mute)
        total = np.broadcast_to(parts["total"], x.shape)
        style: dict[str, Any] = dict(_CURVE_STYLE.get(resolution, {}))
        ax.plot(
            x, total, label=f'media_resolution="{resolution}"', gid=f"curve:{resolution}", **style
        )
        teeth = teeth or _has_teeth(total)
        if mark:
            points += cap_points(
                x,
                media_resolution=resolution,
                duration=duration,
                width=width,
                height=height,
                fps=fps,
                mute=mute,
            )
    entries = _mark(ax, points, where)
    if teeth:
        entries.append(Line2D([], [], linestyle="none", label=_wrap(_SAWTOOTH), gid="sawtooth"))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("estimated tokens")
    _thousands(ax.yaxis)
    ax.grid(True, alpha=0.3)
    return entries


def _current(ax: Axes, x: float | None, words: str) -> None:
    if x is not None:
        ax.axvline(x, color="black", linewidth=1.2, gid="current", label=words)


# ---- Tokens against one knob ----------------------------------------------------------------


def _tokens_against(
    ax: Axes | None,
    x: npt.NDArray[np.floating[Any]],
    *,
    knob: str,
    scene: str,
    where: Callable[[float], str],
    current: float | None,
    current_words: Callable[[float], str],
    duration: npt.ArrayLike,
    width: npt.ArrayLike,
    height: npt.ArrayLike,
    fps: npt.ArrayLike,
    mute: bool,
    media_resolution: str | Sequence[str],
    mark_caps: bool,
    profile: str | Profile = DEFAULT_PROFILE,
    native_fps: float | None = None,
) -> Axes:
    """The skeleton of every "tokens against one knob" plot: the curves along ``x`` (the swept
    knob, broadcast with the clip's other arguments), the chosen value's line, the title and the
    legend.

    The API's formula draws one curve per media_resolution with its limits marked (``where``
    words an x value for the legend); a server profile (``profile.needs_native``) draws its own
    count instead, from the file's ``native_fps``. ``scene`` is the clip in words, ``knob`` what
    ``x`` is, ``current_words`` the chosen value in words.
    """
    current = _line_at("current", current)
    native_fps = validate.positive("native_fps", native_fps, allow_none=True)
    _, ax = new_axes(ax)
    rules = get_profile(profile)
    if rules.needs_native:
        _server_sweep(
            ax,
            x,
            rules,
            duration=duration,
            width=width,
            height=height,
            fps=fps,
            mute=mute,
            native_fps=native_fps,
        )
        entries: list[Line2D] = []
        title = f"{scene}: tokens against {knob} ({rules.name})"
    else:
        entries = _curves(
            ax,
            x,
            _resolutions(media_resolution),
            mark_caps,
            where,
            duration=duration,
            width=width,
            height=height,
            fps=fps,
            mute=mute,
        )
        title = f"{scene}{', muted' if mute else ''}: tokens against {knob}"
    _current(ax, current, "" if current is None else current_words(current))
    ax.set_title(title, fontsize=11)
    _legend(ax, entries)
    return ax


def _clip(duration: float, width: int, height: int) -> tuple[float, int, int]:
    """A plot's clip checked as the estimators check it (:mod:`mimo_nb.core.validate`)."""
    width, height = validate.size(width, height)
    return validate.positive("duration", duration, maximum=validate.MAX_DURATION), width, height


def _line_at(name: str, value: float | None) -> float | None:
    """Where a vertical line goes (``current``): any finite number, or None for no line."""
    return validate.number(name, value, allow_none=True)  # type: ignore[no-any-return]


def plot_tokens_vs_fps(
    duration: float = 60.0,
    width: int = 1920,
    height: int = 1080,
    *,
    media_resolution: str | Sequence[str] = ("default", "max"),
    mute: bool = False,
    mark_caps: bool = True,
    current: float | None = None,
    ax: Axes | None = None,
    profile: str | Profile = DEFAULT_PROFILE,
    native_fps: float | None = None,
) -> Axes:
    """Estimated tokens of one video as fps goes from 0.1 to 10, limits marked and explained.

    ``current`` draws a vertical line at that fps (the one you chose). ``profile`` (with the
    file's ``native_fps``) draws a self-hosted server's count instead
    (:mod:`mimo_nb.core.profiles`); its limits are not the formula's, so none are marked.

    >>> ax = plot_tokens_vs_fps(120, 1280, 720, current=2)
    >>> ax.get_xlabel()
    'fps (frames sampled per second)'
    """
    duration, width, height = _clip(duration, width, height)
    fps = np.round(np.arange(FPS_MIN, FPS_MAX + 1e-9, 0.01), 2)
    ax = _tokens_against(
        ax,
        fps,
        knob="fps",
        scene=f"{duration:,g} s, {width}x{height}",
        where=lambda x: f"fps {x:g}",
        current=current,
        current_words=lambda x: f"fps {x:g} (chosen)",
        duration=duration,
        width=width,
        height=height,
        fps=fps,
        mute=mute,
        media_resolution=media_resolution,
        mark_caps=mark_caps,
        profile=profile,
        native_fps=native_fps,
    )
    ax.set_xlabel("fps (frames sampled per second)")
    return ax


def plot_tokens_vs_duration(
    width: int = 1920,
    height: int = 1080,
    fps: float = 2.0,
    *,
    max_duration: float = 1800.0,
    media_resolution: str | Sequence[str] = ("default", "max"),
    mute: bool = False,
    mark_caps: bool = True,
    current: float | None = None,
    ax: Axes | None = None,
    profile: str | Profile = DEFAULT_PROFILE,
    native_fps: float | None = None,
) -> Axes:
    """Estimated tokens as the video gets longer (0.5 s steps up to ``max_duration``).

    ``profile`` (with ``native_fps``; the file's frame count follows from each duration) draws
    a self-hosted server's count instead (:mod:`mimo_nb.core.profiles`), without limit marks.

    >>> ax = plot_tokens_vs_duration(1920, 1080, fps=2)   # budget and frame cap marked
    """
    max_duration = validate.number(
        "max_duration",
        max_duration,
        above=0.5,
        maximum=validate.MAX_DURATION,
        hint="(seconds: the curve runs from 0.5 s in steps of 0.5 s)",
    )
    width, height = validate.size(width, height)
    fps = validate_fps(fps)
    duration = np.arange(0.5, max_duration + 1e-9, 0.5)
    ax = _tokens_against(
        ax,
        duration,
        knob="duration",
        scene=f"{width}x{height} at fps {fps:g}",
        where=lambda x: f"{x:,g} s",
        current=current,
        current_words=lambda x: f"{x:,g} s (this video)",
        duration=duration,
        width=width,
        height=height,
        fps=fps,
        mute=mute,
        media_resolution=media_resolution,
        mark_caps=mark_caps,
        profile=profile,
        native_fps=native_fps,
    )
    ax.set_xlabel("duration (s)")
    _thousands(ax.xaxis)
    return ax


def plot_tokens_vs_frame_size(
    duration: float = 60.0,
    fps: float = 2.0,
    *,
    aspect: float = 16 / 9,
    portrait: bool = False,
    max_short_side: int = 2160,
    media_resolution: str | Sequence[str] = ("default", "max"),
    mute: bool = False,
    mark_caps: bool = True,
    current: int | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Estimated tokens against frame size (short side, at ``aspect``), default against max.

    Marks where the per-frame token cap (default) and the shared token budget start to bind;
    the frame cap depends on duration x fps, not size, so it binds over the whole sweep or not
    at all. ``current`` draws a vertical line at that short side (your video's).

    >>> ax = plot_tokens_vs_frame_size(duration=600, fps=2)
    """
    duration = validate.positive("duration", duration, maximum=validate.MAX_DURATION)
    fps = validate_fps(fps)
    aspect = validate.positive("aspect", aspect, hint="(long side / short side, e.g. 16 / 9)")
    max_short_side = validate.positive_int(
        "max_short_side", max_short_side, minimum=SPATIAL + 1, maximum=8192, hint="(pixels)"
    )
    short = np.arange(SPATIAL, max_short_side + 1)
    long_ = np.round(short * aspect).astype(np.int64)
    width, height = (short, long_) if portrait else (long_, short)
    ax = _tokens_against(
        ax,
        short.astype(np.float64),
        knob="resolution",
        scene=f"{duration:,g} s at fps {fps:g}",
        where=lambda x: f"a {x:,g} px short side",
        current=current,
        current_words=lambda x: f"{x:,g} px (this video)",
        duration=duration,
        width=width,
        height=height,
        fps=fps,
        mute=mute,
        media_resolution=media_resolution,
        mark_caps=mark_caps,
    )
    ticks = {
        name: h
        for name, (_, h) in RESOLUTION_PRESETS.items()
        if h <= max_short_side and name != "480p"
    }
    ax.set_xticks(list(ticks.values()), list(ticks))
    ax.set_xlabel(
        "frame size: short side in px "
        f"({'portrait' if portrait else 'landscape'}, aspect {aspect:.3g})"
    )
    return ax


# ---- Money ----------------------------------------------------------------------------------


def plot_cost(
    width: int = 1920,
    height: int = 1080,
    *,
    fps: Sequence[float] = (1.0, 2.0, 5.0),
    media_resolution: str = "default",
    max_duration: float = 600.0,
    prices: Prices | None = None,
    output_tokens: int = 0,
    mute: bool = False,
    current: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """What one video's prompt costs (plus ``output_tokens`` of answer) against its duration.

    Uses :func:`mimo_nb.core.pricing.estimate_cost` at ``prices`` (the shipped, cited CNY table when
    None). When this function makes the figure, the prices' citation is written under the plot;
    into your own Axes it is not (cite ``prices.citation`` where you show it).

    >>> ax = plot_cost(1280, 720, fps=(1, 2), prices=load_prices("mimo-v2.5", "USD"))
    >>> ax.get_ylabel()
    'cost (USD)'
    """
    width, height = validate.size(width, height)
    rates = [validate_fps(f) for f in fps]
    max_duration = validate.number(
        "max_duration",
        max_duration,
        minimum=1,
        maximum=validate.MAX_DURATION,
        hint="(seconds: the curve runs from 1 s)",
    )
    output_tokens = validate.non_negative_int("output_tokens", output_tokens)
    current = _line_at("current", current)
    prices = prices or load_prices()
    ours = ax is None  # a figure we make carries the prices' citation; yours is not written on
    _, ax = new_axes(ax)
    duration = np.linspace(1.0, max_duration, 240)
    teeth = False
    for f in rates:
        totals = explain_video_tokens_array(duration, width, height, f, media_resolution, mute)[
            "total"
        ]
        cost = [estimate_cost(int(t), prices, output_tokens=output_tokens).total for t in totals]
        ax.plot(duration, cost, label=f"fps {f:g}", gid=f"cost:{f:g}")
        teeth = teeth or _has_teeth(totals)
    _current(ax, current, f"{current:,g} s (this video)" if current is not None else "")
    ax.set_xlabel("duration (s)")
    _thousands(ax.xaxis)
    ax.set_ylabel(f"cost ({prices.currency})")
    ax.set_ylim(bottom=0)
    ax.set_title(
        f'{width}x{height}, media_resolution="{media_resolution}"'
        f"{f', +{output_tokens:,} output tokens' if output_tokens else ''}: cost per request",
        fontsize=11,
    )
    ax.grid(True, alpha=0.3)
    extra = (
        [Line2D([], [], linestyle="none", label=_wrap(_SAWTOOTH), gid="sawtooth")] if teeth else []
    )
    _legend(ax, extra)
    if ours:
        _caption(
            ax,
            f"Prices: {prices.citation}. Prompt at the input rate, nothing cached; the estimate is "
            "the spec's formula, the bill follows the response's usage.",
            gid="citation",
        )
    return ax


# ---- Estimate against truth -----------------------------------------------------------------

_MAPPING = (
    f"video: vision tokens vs usage.video_tokens; audio: audio tokens minus {AUDIO_SPECIAL_TOKENS} "
    "vs usage.audio_tokens (mapping inferred from the spec's example, not stated by the vendor)"
)


def plot_estimate_vs_actual(completions: Iterable[Completion], *, ax: Axes | None = None) -> Axes:
    """Estimated against reported tokens, per field, for completions that carry an estimate.

    Points on the diagonal are exact. Video is compared with the estimate's vision tokens,
    audio with its audio tokens minus 2; this mapping, inferred from the spec's example, is
    written in the legend.

    >>> from mimo_nb.api.response import spec_example_completion
    >>> ax = plot_estimate_vs_actual([spec_example_completion()])   # no estimate: says so
    """
    _, ax = new_axes(ax, figsize=(8.5, 5.0))
    points: dict[str, list[tuple[int, int]]] = {}
    for completion in completions:
        for name, est, act in completion.comparison():
            if est is not None and act is not None:
                points.setdefault(name, []).append((est, act))
    if not points:
        ax.text(
            0.5,
            0.5,
            "no completion carries both an estimate and a usage",
            ha="center",
            va="center",
            transform=ax.transAxes,
            gid="empty",
        )
        ax.set_axis_off()
        return ax
    top = max(max(e, a) for rows in points.values() for e, a in rows) * 1.08 or 1
    ax.plot(
        [0, top], [0, top], color="#999", linestyle="--", linewidth=1, label="estimate = actual"
    )
    for name, rows in points.items():
        est, act = np.array(rows).T
        ax.scatter(est, act, label=name, s=30, gid=f"points:{name}")
        for e, a in rows:
            if a:
                ax.annotate(
                    f"{(e - a) / a * 100:+.1f}%",
                    (e, a),
                    xytext=(5, -12),
                    textcoords="offset points",
                    fontsize=9,
                )
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    _thousands(ax.xaxis)
    _thousands(ax.yaxis)
    ax.set_xlabel("estimated tokens")
    ax.set_ylabel("reported tokens (usage)")
    ax.set_title("estimate against usage", fontsize=11)
    ax.grid(True, alpha=0.3)
    _legend(ax, [Line2D([], [], linestyle="none", label=_wrap(_MAPPING), gid="mapping")])
    return ax


# ---- Profiles: the same video under each server's rules --------------------------------------

_PROFILE_STYLE = {
    "mimo-api": "tab:blue",
    "mimo-vl": "tab:green",
    "sglang-mimo-v2": "tab:red",
    "qwen3-vl": "tab:purple",
}
_WHAT = {
    "vision": "vision tokens",
    "tokens": "tokens counted (API: whole estimate; servers: vision + special)",
}


def _profile_curve(
    ax: Axes,
    x: npt.NDArray[np.floating[Any]],
    rules: Profile,
    what: str,
    *,
    duration: npt.ArrayLike,
    width: npt.ArrayLike,
    height: npt.ArrayLike,
    fps: npt.ArrayLike,
    media_resolution: str,
    mute: bool,
    native_fps: float | None,
    native_frame_count: int | None,
) -> None:
    """One profile's tokens along ``x``; points the server refuses are left out."""
    out = rules.tokens_array(
        duration,
        width,
        height,
        fps,
        media_resolution,
        mute,
        native_fps=native_fps,
        native_frame_count=native_frame_count,
    )
    values = np.broadcast_to(out[what], x.shape).astype(np.float64)
    values = np.where(values < 0, np.nan, values)
    label = rules.name + (
        f' (media_resolution="{media_resolution}")' if rules.has_media_resolution else ""
    )
    ax.plot(
        x, values, label=label, color=_PROFILE_STYLE.get(rules.name), gid=f"profile:{rules.name}"
    )


def plot_tokens_vs_fps_by_profile(
    video: Video | None = None,
    *,
    duration: float = 60.0,
    width: int = 1920,
    height: int = 1080,
    native_fps: float = 30.0,
    native_frame_count: int | None = None,
    mute: bool = False,
    profiles: Sequence[str | Profile] = PROFILE_NAMES,
    media_resolution: str = "default",
    what: str = "vision",
    current: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Tokens of one video against fps (0.1 to 10) under each profile, one curve per profile.

    ``what="vision"`` (default) compares the one quantity every source defines alike; ``"tokens"``
    plots what each counts (the API's whole estimate; a server's vision + special tokens). A
    ``video`` supplies duration, size, sound and its frame rate and count; otherwise pass them.

    >>> ax = plot_tokens_vs_fps_by_profile(duration=60, width=1920, height=1080, native_fps=30)
    """
    validate.choice("what", what, _WHAT)
    validate_media_resolution(media_resolution)
    if video is not None:
        duration, width, height, mute = (
            video.duration,
            video.width,
            video.height,
            not video.has_audio,
        )
        native_fps, native_frame_count = video.native_fps, video.native_frame_count
    duration, width, height = _clip(duration, width, height)
    native_fps = validate.positive("native_fps", native_fps)
    native_frame_count = validate.positive_int(
        "native_frame_count", native_frame_count, allow_none=True
    )
    current = _line_at("current", current)
    _, ax = new_axes(ax)
    fps = np.round(np.arange(FPS_MIN, FPS_MAX + 1e-9, 0.01), 2)
    for item in profiles:
        _profile_curve(
            ax,
            fps,
            get_profile(item),
            what,
            duration=duration,
            width=width,
            height=height,
            fps=fps,
            media_resolution=media_resolution,
            mute=mute,
            native_fps=native_fps,
            native_frame_count=native_frame_count,
        )
    _current(ax, current, f"fps {current:g} (chosen)" if current is not None else "")
    ax.set_ylim(bottom=0)
    _thousands(ax.yaxis)
    ax.set_xlabel("fps (frames sampled per second)")
    ax.set_ylabel(_WHAT[what])
    ax.set_title(
        f"{duration:,g} s, {width}x{height} at {native_fps:g} fps native: "
        f"{what} against fps, by profile",
        fontsize=11,
    )
    ax.grid(True, alpha=0.3)
    _legend(ax)
    return ax


def _server_sweep(
    ax: Axes,
    x: npt.NDArray[np.floating[Any]],
    rules: Profile,
    *,
    duration: npt.ArrayLike,
    width: npt.ArrayLike,
    height: npt.ArrayLike,
    fps: npt.ArrayLike,
    mute: bool,
    native_fps: float | None,
) -> None:
    """A server profile's counted tokens along ``x`` (for ``profile=`` on the sweeps above)."""
    if native_fps is None:
        raise LimitError(
            f"profile {rules.name!r} counts frames from the file's frame rate: "
            "pass native_fps= (Video.native_fps)."
        )
    _profile_curve(
        ax,
        x,
        rules,
        "tokens",
        duration=duration,
        width=width,
        height=height,
        fps=fps,
        media_resolution="default",
        mute=mute,
        native_fps=native_fps,
        native_frame_count=None,
    )
    ax.set_ylim(bottom=0)
    ax.set_ylabel(_WHAT["tokens"])
    _thousands(ax.yaxis)
    ax.grid(True, alpha=0.3)


# ---- The budget planner: what fits, the frontier, the best ------------------------------------

_FIT_STYLE = {"default": ("o", "tab:blue"), "max": ("s", "tab:orange"), None: ("o", "tab:gray")}


def _setting_words(s: BudgetSetting) -> str:
    where = f"fps {s.fps:g}" + (f", {s.media_resolution}" if s.media_resolution else "")
    return f"{where}: {s.frames:,} frames at {s.width}x{s.height}, {s.tokens:,} tokens"


def plot_budget_frontier(plan: BudgetPlan, *, ax: Axes | None = None) -> Axes:
    """A :class:`~mimo_nb.core.budget.BudgetPlan` drawn: frames against pixels per frame.

    Every setting that fits is a faint point (one marker per ``media_resolution``); the frontier
    (:attr:`BudgetPlan.frontier`: nothing that fits beats it on both) is a dashed staircase through
    its points, in the plan's order (most frames first); the recommended setting
    (:attr:`BudgetPlan.best`) is a star, with its rule in the legend. When nothing fits, the plot
    says what the cheapest setting needs.

    >>> from mimo_nb.core.budget import plan_budget
    >>> plan = plan_budget(duration=60, width=1920, height=1080, max_tokens=20_000)
    >>> ax = plot_budget_frontier(plan)
    >>> ax.get_title()
    '60 s, 1920x1080, at most 20,000 tokens: settings that fit (mimo-api)'
    """
    _, ax = new_axes(ax)
    ax.set_title(
        f"{plan.duration:,g} s, {plan.width}x{plan.height}, {plan.budget_text}: "
        f"settings that fit ({plan.profile})",
        fontsize=11,
    )
    if plan.best is None:
        need = "" if plan.cheapest is None else f"; {_setting_words(plan.cheapest)}"
        ax.text(
            0.5,
            0.5,
            textwrap.fill(f"nothing on the grid fits{need}", 60),
            ha="center",
            va="center",
            transform=ax.transAxes,
            gid="empty",
        )
        ax.set_axis_off()
        return ax
    for resolution in dict.fromkeys(s.media_resolution for s in plan.settings):
        fits = [s for s in plan.settings if s.media_resolution == resolution]
        marker, colour = _FIT_STYLE.get(resolution, _FIT_STYLE[None])
        ax.scatter(
            [s.frames for s in fits],
            [s.pixels_per_frame for s in fits],
            marker=marker,
            color=colour,
            alpha=0.25,
            s=18,
            label=f'fits, media_resolution="{resolution}"' if resolution else "fits",
            gid=f"fits:{resolution}" if resolution else "fits",
        )
    ax.plot(
        [s.frames for s in plan.frontier],
        [s.pixels_per_frame for s in plan.frontier],
        "o--",
        drawstyle="steps-post",  # the edge of what the frontier dominates; no straight chords
        color="black",
        markersize=5,
        linewidth=1.2,
        label=_wrap("frontier: nothing that fits has more frames and more pixels"),
        gid="frontier",
    )
    best = plan.best
    ax.scatter(
        [best.frames],
        [best.pixels_per_frame],
        s=220,
        marker="*",
        color="tab:red",
        edgecolors="white",
        zorder=3,
        label=_wrap(f"best: {_setting_words(best)}"),
        gid="best",
    )
    ax.set_xlabel("frames sampled")
    ax.set_ylabel("pixels per frame (model frame)")
    _thousands(ax.xaxis)
    _thousands(ax.yaxis)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    rule = Line2D([], [], linestyle="none", label=_wrap(f"best = {plan.rule}"), gid="rule")
    _legend(ax, [rule])
    return ax


def plot_sweep(result: SweepResult, *, ax: Axes | None = None) -> Axes:
    """A :class:`~mimo_nb.corpus.sweep.SweepResult` drawn: accuracy against mean prompt tokens
    per video, one point per setting with its 95% Wilson interval as an error bar (one marker
    per ``media_resolution``, each point labelled with its fps), the frontier as a dashed
    staircase and the recommended setting as a star, its rule in the legend. With answers
    missing there is no frontier or recommendation, and the plot says so.
    """
    _, ax = new_axes(ax)
    results = result.setting_results()
    for resolution in dict.fromkeys(r for _, r in result.settings):
        marker, colour = _FIT_STYLE.get(resolution, _FIT_STYLE[None])
        points = [
            (fps, s)
            for (fps, r), s in zip(result.settings, results, strict=True)
            if r == resolution
        ]
        ivs = [s.interval for _, s in points]
        ax.errorbar(
            np.array([s.mean_tokens for _, s in points], dtype=np.float64),
            np.array([i.estimate for i in ivs], dtype=np.float64),
            yerr=np.array([[i.estimate - i.low, i.high - i.estimate] for i in ivs]).T,
            fmt=marker,
            color=colour,
            capsize=3,
            label=_wrap(f'media_resolution="{resolution}", with its 95% Wilson interval'),
            gid=f"settings:{resolution}",
        )
        for (fps, s), i in zip(points, ivs, strict=True):
            ax.annotate(
                f"fps {fps:g}",
                (s.mean_tokens, i.estimate),
                xytext=(6, 5),
                textcoords="offset points",
                fontsize=9,
                zorder=1,  # under the points and their intervals: a label never hides data
            )
    notes = []
    if result.missing:
        words = (
            f"{result.missing} answers missing: no frontier or recommendation until the sweep "
            "is run again to complete them"
        )
        notes.append(Line2D([], [], linestyle="none", label=_wrap(words), gid="missing"))
    else:
        edge = sorted(result.frontier(), key=lambda s: s.mean_tokens)
        ax.plot(
            [s.mean_tokens for s in edge],
            [s.interval.estimate for s in edge],
            "--",
            drawstyle="steps-post",
            color="black",
            linewidth=1.2,
            label=_wrap("frontier: no setting is as accurate for less spend"),
            gid="frontier",
        )
        chosen = result.recommend()
        best = next(s for s in results if s.label == chosen.setting)
        ax.scatter(
            [best.mean_tokens],
            [best.interval.estimate],
            s=240,
            marker="*",
            color="tab:red",
            edgecolors="white",
            zorder=3,
            label=_wrap(
                f"recommended: {chosen.setting}, the cheapest not significantly below the best "
                f"({chosen.best}; McNemar, alpha {chosen.alpha:g})"
            ),
            gid="recommended",
        )
    who = "rule-based stand-in, not a model" if result.stand_in else "model"
    ax.set_title(
        f"{len(result.tasks)} tasks x {len(result.settings)} settings: accuracy against tokens"
        f"\nanswers: {who}",
        fontsize=10,
    )
    ax.set_xlabel("mean prompt tokens per video")
    ax.set_ylabel("accuracy (95% Wilson interval)")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0%}"))
    _thousands(ax.xaxis)
    ax.set_ylim(-0.03, 1.1)  # room for a label above a point at 100%
    ax.margins(x=0.15)  # and for the rightmost point's label
    ax.grid(True, alpha=0.3)
    _legend(ax, notes)
    return ax
