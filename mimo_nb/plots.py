"""Matplotlib figures of what videos cost MiMo: tokens against fps, duration and resolution.

Every curve comes from :func:`mimo_nb.tokens.explain_video_tokens_array` over a dense grid, so
it is the spec's formula, point for point. The places where a limit of the formula starts to
bind (the 300-token frame cap of ``default``, the 131072-token budget shared by all frames, the
2048-frame cap) are found in those same arrays by :func:`cap_points`, then marked and labelled.

Each function takes ``ax=None`` (draw into your axes, or a new figure), returns the Figure and
never calls ``plt.show()``. New figures are not registered with pyplot, so a figure returned as
the last value of a cell shows exactly once, and they render without pyplot imported.

>>> fig = plot_tokens_vs_frame_size(duration=60, fps=2)     # default against max, caps marked
>>> fig.savefig("tokens.png")
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .errors import LimitError
from .pricing import Prices, estimate_cost, load_prices
from .profiles import PROFILE_NAMES, get_profile
from .tokens import (
    DEFAULT_MAX_FRAME_TOKENS,
    FPS_MAX,
    FPS_MIN,
    MAX_FRAMES,
    PIXELS_PER_TOKEN,
    explain_video_tokens_array,
    validate_media_resolution,
)

__all__ = [
    "CapPoint",
    "RESOLUTION_PRESETS",
    "cap_points",
    "plot_tokens_vs_fps",
    "plot_tokens_vs_duration",
    "plot_tokens_vs_frame_size",
    "plot_cost",
    "plot_estimate_vs_actual",
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

FRAME_TOKEN_CAP = "300-token frame cap"
TOTAL_BUDGET = "131072-token total budget"
FRAME_CAP = "2048-frame cap"
_CURVE_STYLE = {"default": {"color": "tab:blue"}, "max": {"color": "tab:orange"}}
_CAP_STYLE = {FRAME_TOKEN_CAP: "tab:green", TOTAL_BUDGET: "tab:red", FRAME_CAP: "tab:purple"}


class MimoFigure(Figure):
    """A Figure that shows itself as a PNG in any front end, with or without pyplot."""

    def _repr_png_(self) -> bytes:
        from .render import figure_png

        return figure_png(self)


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (7.0, 4.2)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.get_figure(), ax  # type: ignore[return-value]
    fig = MimoFigure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


# ---- Where the formula's limits start to bind -----------------------------------------------


@dataclass(frozen=True)
class CapPoint:
    """The first grid point of a sweep at which one of the formula's limits binds.

    ``limit`` is one of ``"300-token frame cap"``, ``"131072-token total budget"`` or
    ``"2048-frame cap"``; ``curve`` the media_resolution; ``x`` the swept value there and
    ``tokens`` the estimate at it; ``from_start`` is True when it binds over the whole sweep.
    """

    limit: str
    curve: str
    x: float
    tokens: int
    from_start: bool

    @property
    def label(self) -> str:
        return f"{self.limit} ({self.curve})" + (", from the start" if self.from_start else "")


def _binding(parts: dict[str, np.ndarray], free: dict[str, np.ndarray], resolution: str) -> dict[str, np.ndarray]:
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


def _sweep(duration: Any, width: Any, height: Any, fps: Any, resolution: str, mute: bool) -> tuple[dict, dict]:
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
    ['300-token frame cap', '131072-token total budget', '2048-frame cap']
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


def _mark(ax: Axes, points: Iterable[CapPoint], start: int = 0) -> None:
    """A dotted line, a dot and a label at each point where a limit starts to bind."""
    for n, p in enumerate(sorted(points, key=lambda p: p.x)):
        colour = _CAP_STYLE[p.limit]
        ax.axvline(p.x, color=colour, linestyle=":", linewidth=1, gid=f"cap-line:{p.limit}:{p.curve}")
        ax.plot([p.x], [p.tokens], "o", color=colour, markersize=5, gid=f"cap-dot:{p.limit}:{p.curve}")
        ax.annotate(  # labels stacked near the top, each tied to its point by a thin line
            f"{p.limit}\n({p.curve}) x={p.x:g}",
            xy=(p.x, p.tokens),
            xytext=(p.x, 0.97 - 0.1 * ((start + n) % 5)),
            textcoords=("data", "axes fraction"),
            va="top",
            fontsize=7,
            color=colour,
            gid=f"cap:{p.limit}:{p.curve}",
            arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.6},
        )


def _resolutions(media_resolution: str | Sequence[str]) -> list[str]:
    names = [media_resolution] if isinstance(media_resolution, str) else list(media_resolution)
    return [validate_media_resolution(r) for r in names]


def _curves(ax: Axes, x: np.ndarray, resolutions: list[str], mark: bool, **kw: Any) -> None:
    marked = 0
    top = 0
    for resolution in resolutions:
        total = np.broadcast_to(explain_video_tokens_array(media_resolution=resolution, **kw)["total"], x.shape)
        style: dict[str, Any] = dict(_CURVE_STYLE.get(resolution, {}))
        ax.plot(x, total, label=f"media_resolution={resolution!r}", gid=f"curve:{resolution}", **style)
        top = max(top, int(total.max()))
        if mark:
            points = cap_points(x, media_resolution=resolution, duration=kw["duration"], width=kw["width"],
                                height=kw["height"], fps=kw["fps"], mute=kw["mute"])
            _mark(ax, points, start=marked)
            marked += len(points)
    ax.set_ylim(0, top * (1.6 if marked else 1.1) or 1)  # headroom for the labels
    ax.set_ylabel("estimated tokens")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)


# ---- Tokens against one knob ----------------------------------------------------------------


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
    profile: Any = "mimo-api",
    native_fps: float | None = None,
) -> Figure:
    """Estimated tokens of one video as fps goes from 0.1 to 10, limits marked.

    ``profile`` (with the file's ``native_fps``) draws a self-hosted server's count instead
    (:mod:`mimo_nb.profiles`); its limits are not the formula's, so none are marked.

    >>> plot_tokens_vs_fps(120, 1280, 720)
    """
    fig, ax = _new_axes(ax)
    fps = np.round(np.arange(FPS_MIN, FPS_MAX + 1e-9, 0.01), 2)
    if profile != "mimo-api":
        _server_sweep(ax, fps, profile, duration=duration, width=width, height=height, fps=fps, mute=mute, native_fps=native_fps)
        ax.set_xlabel("fps (frames sampled per second)")
        ax.set_title(f"{duration:g} s, {width}x{height}: tokens against fps ({get_profile(profile).name})", fontsize=10)
        return fig
    _curves(ax, fps, _resolutions(media_resolution), mark_caps, duration=duration, width=width, height=height,
            fps=fps, mute=mute)
    if current is not None:
        ax.axvline(current, color="black", linewidth=1, gid="current")
    ax.set_xlabel("fps (frames sampled per second)")
    ax.set_title(f"{duration:g} s, {width}x{height}{', muted' if mute else ''}: tokens against fps", fontsize=10)
    return fig


def plot_tokens_vs_duration(
    width: int = 1920,
    height: int = 1080,
    fps: float = 2.0,
    *,
    max_duration: float = 1800.0,
    media_resolution: str | Sequence[str] = ("default", "max"),
    mute: bool = False,
    mark_caps: bool = True,
    ax: Axes | None = None,
    profile: Any = "mimo-api",
    native_fps: float | None = None,
) -> Figure:
    """Estimated tokens as the video gets longer (0.5 s steps up to ``max_duration``).

    ``profile`` (with ``native_fps``; the file's frame count follows from each duration) draws
    a self-hosted server's count instead (:mod:`mimo_nb.profiles`), without limit marks.

    >>> plot_tokens_vs_duration(1920, 1080, fps=2)   # budget and 2048-frame cap marked
    """
    if not max_duration > 0.5:
        raise LimitError(f"max_duration must be over 0.5 seconds, got {max_duration!r}.")
    fig, ax = _new_axes(ax)
    duration = np.arange(0.5, max_duration + 1e-9, 0.5)
    if profile != "mimo-api":
        _server_sweep(ax, duration, profile, duration=duration, width=width, height=height, fps=fps, mute=mute,
                      native_fps=native_fps)
        ax.set_xlabel("duration (s)")
        ax.set_title(f"{width}x{height} at fps {fps:g}: tokens against duration ({get_profile(profile).name})", fontsize=10)
        return fig
    _curves(ax, duration, _resolutions(media_resolution), mark_caps, duration=duration, width=width,
            height=height, fps=fps, mute=mute)
    ax.set_xlabel("duration (s)")
    ax.set_title(f"{width}x{height} at fps {fps:g}{', muted' if mute else ''}: tokens against duration",
                 fontsize=10)
    return fig


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
    ax: Axes | None = None,
) -> Figure:
    """Estimated tokens against frame size (short side, at ``aspect``), default against max.

    Marks where the 300-token frame cap (default) and the 131072-token total budget start to
    bind; the 2048-frame cap depends on duration x fps, not size, so it is marked from the left
    edge when it binds at all (and on the duration and fps plots).

    >>> plot_tokens_vs_frame_size(duration=600, fps=2)
    """
    if not 32 < max_short_side <= 8192:
        raise LimitError(f"max_short_side must be in (32, 8192] pixels, got {max_short_side!r}.")
    fig, ax = _new_axes(ax)
    short = np.arange(32, max_short_side + 1)
    long_ = np.round(short * aspect).astype(np.int64)
    width, height = (short, long_) if portrait else (long_, short)
    _curves(ax, short.astype(np.float64), _resolutions(media_resolution), mark_caps, duration=duration,
            width=width, height=height, fps=fps, mute=mute)
    ticks = {name: h for name, (_, h) in RESOLUTION_PRESETS.items() if h <= max_short_side and name != "480p"}
    ax.set_xticks(list(ticks.values()), list(ticks))
    ax.set_xlabel(f"frame size: short side in px ({'portrait' if portrait else 'landscape'}, aspect {aspect:.3g})")
    ax.set_title(f"{duration:g} s at fps {fps:g}{', muted' if mute else ''}: tokens against resolution",
                 fontsize=10)
    return fig


# ---- Money ----------------------------------------------------------------------------------


def _footnote(fig: Figure, text: str) -> None:
    fig.text(0.01, 0.0, textwrap.fill(text, 130), fontsize=6, color="#555", va="top", gid="citation")


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
    ax: Axes | None = None,
) -> Figure:
    """What one video's prompt costs (plus ``output_tokens`` of answer) against its duration.

    Uses :func:`mimo_nb.pricing.estimate_cost` at ``prices`` (the shipped, cited CNY table when
    None); the prices' citation is printed under the plot.

    >>> plot_cost(1280, 720, fps=(1, 2), prices=load_prices("mimo-v2.5", "USD"))
    """
    prices = prices or load_prices()
    fig, ax = _new_axes(ax)
    duration = np.linspace(1.0, max_duration, 240)
    for f in fps:
        totals = explain_video_tokens_array(duration, width, height, f, media_resolution, mute)["total"]
        cost = [estimate_cost(int(t), prices, output_tokens=output_tokens).total for t in totals]
        ax.plot(duration, cost, label=f"fps {f:g}", gid=f"cost:{f:g}")
    ax.set_xlabel("duration (s)")
    ax.set_ylabel(f"cost ({prices.currency})")
    ax.set_title(f"{width}x{height}, media_resolution={media_resolution!r}"
                 f"{f', +{output_tokens:,} output tokens' if output_tokens else ''}: cost per request",
                 fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    _footnote(ax.get_figure(), f"Prices: {prices.citation}. Prompt at the input rate, nothing cached; "  # type: ignore[arg-type]
              "the estimate is the spec's formula, the bill follows the response's usage.")
    return fig


# ---- Estimate against truth -----------------------------------------------------------------


def plot_estimate_vs_actual(completions: Iterable[Any], *, ax: Axes | None = None) -> Figure:
    """Estimated against reported tokens, per field, for completions that carry an estimate.

    Points on the diagonal are exact. Video is compared with the estimate's vision tokens,
    audio with its audio tokens minus 2; this mapping is inferred from the spec's example.

    >>> plot_estimate_vs_actual([done1, done2])
    """
    fig, ax = _new_axes(ax, figsize=(5.5, 5.0))
    points: dict[str, list[tuple[int, int]]] = {}
    for completion in completions:
        for name, est, act in completion.comparison():
            if est is not None and act is not None:
                points.setdefault(name, []).append((est, act))
    if not points:
        ax.text(0.5, 0.5, "no completion carries both an estimate and a usage", ha="center", va="center",
                transform=ax.transAxes, gid="empty")
        ax.set_axis_off()
        return fig
    top = max(max(e, a) for rows in points.values() for e, a in rows) * 1.08 or 1
    ax.plot([0, top], [0, top], color="#999", linestyle="--", linewidth=1, label="estimate = actual")
    for name, rows in points.items():
        est, act = np.array(rows).T
        ax.scatter(est, act, label=name, s=24, gid=f"points:{name}")
        for e, a in rows:
            if a:
                ax.annotate(f"{(e - a) / a * 100:+.1f}%", (e, a), xytext=(4, -10), textcoords="offset points",
                            fontsize=7)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("estimated tokens")
    ax.set_ylabel("reported tokens (usage)")
    ax.set_title("estimate against usage", fontsize=10)
    ax.legend(fontsize=8)
    _footnote(ax.get_figure(), "video: vision tokens vs usage.video_tokens; audio: audio tokens minus 2 "  # type: ignore[arg-type]
              "vs usage.audio_tokens (mapping inferred from the spec's example, not stated by the vendor).")
    return fig


# ---- Profiles: the same video under each server's rules --------------------------------------

_PROFILE_STYLE = {"mimo-api": "tab:blue", "mimo-vl": "tab:green", "sglang-mimo-v2": "tab:red", "qwen3-vl": "tab:purple"}
_WHAT = {"vision": "vision tokens", "tokens": "tokens counted (API: whole estimate; servers: vision + special)"}


def _profile_curve(ax: Axes, x: np.ndarray, rules: Any, what: str, *, duration: Any, width: Any, height: Any, fps: Any,
                   media_resolution: str, mute: bool, native_fps: Any, native_frame_count: Any) -> int:
    """One profile's tokens along ``x``; points the server refuses are left out. Returns the curve's top."""
    out = rules.tokens_array(duration, width, height, fps, media_resolution, mute, native_fps=native_fps,
                             native_frame_count=native_frame_count)
    values = np.broadcast_to(out[what], x.shape).astype(np.float64)
    values = np.where(values < 0, np.nan, values)
    label = rules.name + (f" ({media_resolution})" if rules.has_media_resolution else "")
    ax.plot(x, values, label=label, color=_PROFILE_STYLE.get(rules.name), gid=f"profile:{rules.name}")
    return int(np.nanmax(values)) if np.isfinite(values).any() else 0


def plot_tokens_vs_fps_by_profile(
    video: Any = None,
    *,
    duration: float = 60.0,
    width: int = 1920,
    height: int = 1080,
    native_fps: float = 30.0,
    native_frame_count: int | None = None,
    mute: bool = False,
    profiles: Sequence[Any] = PROFILE_NAMES,
    media_resolution: str = "default",
    what: str = "vision",
    current: float | None = None,
    ax: Axes | None = None,
) -> Figure | Axes:
    """Tokens of one video against fps (0.1 to 10) under each profile, one curve per profile.

    ``what="vision"`` (default) compares the one quantity every source defines alike; ``"tokens"``
    plots what each counts (the API's whole estimate; a server's vision + special tokens). A
    ``video`` supplies duration, size, sound and its frame rate and count; otherwise pass them.
    Returns the Axes you gave, or a new Figure (which shows itself in a notebook).

    >>> fig = plot_tokens_vs_fps_by_profile(duration=60, width=1920, height=1080, native_fps=30)
    """
    if what not in _WHAT:
        raise LimitError(f"what must be one of {', '.join(_WHAT)}, got {what!r}.")
    validate_media_resolution(media_resolution)
    if video is not None:
        duration, width, height, mute = video.duration, video.width, video.height, not video.has_audio
        native_fps, native_frame_count = video.native_fps, video.native_frame_count
    fig, axes = _new_axes(ax)
    fps = np.round(np.arange(FPS_MIN, FPS_MAX + 1e-9, 0.01), 2)
    top = 0
    for item in profiles:
        top = max(top, _profile_curve(axes, fps, get_profile(item), what, duration=duration, width=width, height=height,
                                      fps=fps, media_resolution=media_resolution, mute=mute, native_fps=native_fps,
                                      native_frame_count=native_frame_count))
    if current is not None:
        axes.axvline(current, color="black", linewidth=1, gid="current")
    axes.set_ylim(0, top * 1.1 or 1)
    axes.set_xlabel("fps (frames sampled per second)")
    axes.set_ylabel(_WHAT[what])
    axes.set_title(f"{duration:g} s, {width}x{height} at {native_fps:g} fps native: {what} against fps, by profile",
                   fontsize=10)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    return axes if ax is not None else fig


def _server_sweep(ax: Axes, x: np.ndarray, profile: Any, *, duration: Any, width: Any, height: Any, fps: Any, mute: bool,
                  native_fps: float | None) -> None:
    """A server profile's counted tokens along ``x`` (for ``profile=`` on the sweeps above)."""
    if native_fps is None:
        raise LimitError(f"profile {profile!r} counts frames from the file's frame rate: pass native_fps= (Video.native_fps).")
    top = _profile_curve(ax, x, get_profile(profile), "tokens", duration=duration, width=width, height=height, fps=fps,
                         media_resolution="default", mute=mute, native_fps=native_fps, native_frame_count=None)
    ax.set_ylim(0, top * 1.1 or 1)
    ax.set_ylabel(_WHAT["tokens"])
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)


__all__ += ["plot_tokens_vs_fps_by_profile"]
