"""The token formula run backwards: which settings fit a budget, and which one to pick.

Give a video (or its duration and size), a profile and a budget in tokens or money; the planner
tries every setting on the API's grid (``fps`` 0.1 to 10 in steps of 0.1, times
``media_resolution`` default and max: 200 settings) with the array estimator and keeps those
that fit. Among them:

- the **frontier**: settings that no other fitting setting beats on both frames and pixels per
  frame (more of one without less of the other). Settings with the same frames and pixels are
  shown once, by the one with the fewest tokens (then the lowest fps, then ``default``);
- **best**: :data:`BEST_RULE`, the most frames, then the most pixels per frame, then the fewest
  tokens, then the lowest fps, then ``default`` before ``max``. It is on the frontier, so
  nothing there dominates it.

>>> plan = plan_budget(duration=60, width=1920, height=1080, max_tokens=20_000)
>>> plan.best.fps, plan.best.media_resolution, plan.best.frames, plan.best.tokens
(2.3, 'default', 138, 19907)

Server profiles have no ``media_resolution`` (their pixel limits are server configuration), so
for them the grid is the 100 fps values and ``media_resolution`` is ``None``. Their token count
is ``vision + special`` (timestamp text and audio are not counted; see
:mod:`mimo_nb.core.profiles`).
:func:`plan_budget_many` plans a whole corpus at once, best setting per video.

Pure: numpy and the core only, no I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mimo_nb.core import validate
from mimo_nb.core.display_hook import Displayed, show
from mimo_nb.core.pricing import Prices, as_prices
from mimo_nb.core.profiles import DEFAULT_PROFILE, Profile, get_profile
from mimo_nb.core.tokens import MEDIA_RESOLUTIONS
from mimo_nb.errors import LimitError

if TYPE_CHECKING:  # for the annotations only: the core never imports matplotlib
    from matplotlib.axes import Axes

__all__ = [
    "FPS_GRID",
    "BEST_RULE",
    "BudgetSetting",
    "BudgetPlan",
    "BudgetTable",
    "plan_budget",
    "plan_budget_many",
]

# Exact tenths, made from integers (0.1 + 0.1 + 0.1 != 0.3): the values the API is sent.
FPS_GRID: tuple[float, ...] = tuple(round(k / 10, 1) for k in range(1, 101))
BEST_RULE = (
    "the most frames, then the most pixels per frame, then the fewest tokens, then the lowest "
    "fps, then 'default'"
)


@dataclass(frozen=True)
class BudgetSetting:
    """One setting on the grid and what it gives: frames, frame size, tokens and cost."""

    fps: float
    media_resolution: str | None
    frames: int
    width: int
    height: int
    tokens: int
    cost: float | None = None

    @property
    def pixels_per_frame(self) -> int:
        return self.width * self.height

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "pixels_per_frame": self.pixels_per_frame}


@dataclass(frozen=True)
class _Grid:
    """The grid's settings in order (media_resolution outer, fps inner) and their per-setting
    values."""

    fps: npt.NDArray[np.float64]
    media_resolution: tuple[str | None, ...]


def _grid(profile: Profile) -> _Grid:
    if profile.has_media_resolution:
        return _Grid(
            np.array(FPS_GRID * len(MEDIA_RESOLUTIONS)),
            tuple(r for r in MEDIA_RESOLUTIONS for _ in FPS_GRID),
        )
    return _Grid(np.array(FPS_GRID), (None,) * len(FPS_GRID))


def _grid_note(profile: Profile) -> str:
    if profile.has_media_resolution:
        return f"{len(FPS_GRID)} fps values (0.1 to 10) x media_resolution default/max"
    return (
        f"{len(FPS_GRID)} fps values (0.1 to 10); {profile.name} has no media_resolution "
        "(its pixel limits are server configuration), so that column is empty"
    )


def _check_budget(
    max_tokens: Any, max_cost: Any, prices: Any, output_tokens: Any
) -> tuple[int | None, float | None, Prices | None, int]:
    """The budget's arguments checked (through :mod:`mimo_nb.validate`) and as used."""
    if max_tokens is None and max_cost is None:
        raise LimitError(
            "give a budget: max_tokens= (prompt tokens for the video) or max_cost= (with prices=)."
        )
    max_tokens = validate.non_negative_int(
        "max_tokens", max_tokens, allow_none=True, hint="(prompt tokens for the video)"
    )
    max_cost = validate.non_negative(
        "max_cost", max_cost, allow_none=True, hint="(money per request, in prices.currency)"
    )
    prices = as_prices(prices)
    output_tokens = validate.non_negative_int(
        "output_tokens", output_tokens, hint="(your guess of the answer's length)"
    )
    if max_cost is not None and prices is None:
        raise LimitError(
            "max_cost needs prices: pass prices=mn.load_prices('mimo-v2.5', 'CNY') (cited, "
            "dated) or your own mn.Prices(input=..., cached_input=..., output=..., "
            "currency=...)."
        )
    return max_tokens, max_cost, prices, output_tokens


def _cost(tokens: np.ndarray, prices: Prices, output_tokens: int) -> np.ndarray:
    # The same float operations, in the same order, as pricing.estimate_cost(...).total
    return (
        tokens * prices.input / 1e6
        + 0 * prices.cached_input / 1e6
        + output_tokens * prices.output / 1e6
    )


def _evaluate(
    profile: Profile,
    grid: _Grid,
    d: np.ndarray,
    w: np.ndarray,
    h: np.ndarray,
    mute: np.ndarray,
    native_fps: Any,
    native_frame_count: Any,
) -> dict[str, np.ndarray]:
    """Every grid setting for every video: arrays of shape (videos, settings)."""
    res = np.array([r or "default" for r in grid.media_resolution])
    # no dtype here: the profile checks the values (a 1.5-frame count is refused, not truncated)
    nfps = None if native_fps is None else np.asarray(native_fps)[:, None]
    count = None if native_frame_count is None else np.asarray(native_frame_count)[:, None]
    return profile.tokens_array(
        d[:, None],
        w[:, None],
        h[:, None],
        grid.fps[None, :],
        res[None, :],
        mute[:, None],
        native_fps=nfps,
        native_frame_count=count,
    )


def _fits(
    tokens: np.ndarray, cost: np.ndarray | None, max_tokens: int | None, max_cost: float | None
) -> np.ndarray:
    fits = tokens >= 0  # a server's refusal is -1: never fits
    if max_tokens is not None:
        fits &= tokens <= max_tokens
    if max_cost is not None and cost is not None:
        fits &= cost <= max_cost
    return fits


def _best_columns(
    fits: np.ndarray, frames: np.ndarray, pixels: np.ndarray, tokens: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the fitting settings tied for best on frames, then pixels, then fewest tokens; and
    whether anything fits. :func:`_first_by_fps` breaks the remaining ties."""
    keep = fits.copy()
    for values, pick in ((frames, np.max), (pixels, np.max), (-tokens, np.max)):
        masked = np.where(keep, values, np.iinfo(np.int64).min)
        keep &= masked == pick(masked, axis=1, keepdims=True)
    return keep, np.asarray(fits.any(axis=1))


def _first_by_fps(keep: np.ndarray, grid: _Grid) -> np.ndarray:
    """Column index of the lowest fps (then default before max) among ``keep`` per row."""
    order = np.lexsort(
        (np.array([0 if r in (None, "default") else 1 for r in grid.media_resolution]), grid.fps)
    )
    ranked = keep[:, order]
    return order[np.argmax(ranked, axis=1)]


@dataclass(frozen=True)
class BudgetPlan(Displayed):
    """Every setting on the grid that fits a budget, the frontier, and the recommended one.

    ``best`` follows :data:`BEST_RULE` (None when nothing fits; ``cheapest`` then says what the
    smallest setting needs). ``to_pandas()`` has every fitting setting with ``on_frontier`` and
    ``best`` columns.
    """

    profile: str
    duration: float
    width: int
    height: int
    mute: bool
    max_tokens: int | None
    max_cost: float | None
    prices: Prices | None
    output_tokens: int
    grid_size: int
    grid_note: str
    settings: tuple[BudgetSetting, ...]
    frontier: tuple[BudgetSetting, ...]
    best: BudgetSetting | None
    cheapest: BudgetSetting | None
    rule: str = BEST_RULE

    @property
    def budget_text(self) -> str:
        parts = []
        if self.max_tokens is not None:
            parts.append(f"at most {self.max_tokens:,} tokens")
        if self.max_cost is not None and self.prices is not None:
            parts.append(
                f"at most {self.max_cost:g} {self.prices.currency} (with {self.output_tokens:,} "
                "output tokens)"
            )
        return " and ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the inputs, every fitting setting, the frontier and the best one."""
        return {
            "profile": self.profile,
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "mute": self.mute,
            "max_tokens": self.max_tokens,
            "max_cost": self.max_cost,
            "currency": None if self.prices is None else self.prices.currency,
            "prices": None if self.prices is None else self.prices.citation,
            "output_tokens": self.output_tokens,
            "grid_size": self.grid_size,
            "grid": self.grid_note,
            "rule": self.rule,
            "settings": [s.to_dict() for s in self.settings],
            "frontier": [s.to_dict() for s in self.frontier],
            "best": None if self.best is None else self.best.to_dict(),
        }

    def to_pandas(self) -> Any:
        """Every fitting setting as a DataFrame, with ``on_frontier`` and ``best`` columns (needs
        pandas)."""
        import pandas as pd

        frontier = {(s.fps, s.media_resolution) for s in self.frontier}
        rows = [
            {
                **s.to_dict(),
                "on_frontier": (s.fps, s.media_resolution) in frontier,
                "best": s == self.best,
            }
            for s in self.settings
        ]
        columns = [
            "fps",
            "media_resolution",
            "frames",
            "width",
            "height",
            "pixels_per_frame",
            "tokens",
            "cost",
            "on_frontier",
            "best",
        ]
        return pd.DataFrame(rows, columns=columns)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Frames against pixels per frame: what fits, the frontier, the best (needs matplotlib;
        :func:`mimo_nb.display.plots.plot_budget_frontier`). Returns the Axes drawn on.

        >>> ax = plan_budget(duration=10, width=640, height=360, max_tokens=1000).plot()
        >>> ax.get_xlabel(), ax.get_ylabel()
        ('frames sampled', 'pixels per frame (model frame)')
        """
        return show("plot", self, ax=ax)

    def __repr__(self) -> str:
        best = (
            "nothing fits"
            if self.best is None
            else (
                f"best fps={self.best.fps:g} media_resolution={self.best.media_resolution} "
                f"frames={self.best.frames} {self.best.width}x{self.best.height} "
                f"tokens={self.best.tokens:,}"
            )
        )
        return f"<BudgetPlan {self.profile} {len(self.settings)}/{self.grid_size} fit, {best}>"


def _settings(
    grid: _Grid, columns: npt.NDArray[np.intp], out: dict[str, np.ndarray], cost: np.ndarray | None
) -> tuple[BudgetSetting, ...]:
    return tuple(
        BudgetSetting(
            fps=float(grid.fps[j]),
            media_resolution=grid.media_resolution[j],
            frames=int(out["frames"][0, j]),
            width=int(out["width"][0, j]),
            height=int(out["height"][0, j]),
            tokens=int(out["tokens"][0, j]),
            cost=None if cost is None else float(cost[0, j]),
        )
        for j in columns
    )


def _frontier_columns(
    columns: np.ndarray, frames: np.ndarray, pixels: np.ndarray, tokens: np.ndarray, grid: _Grid
) -> np.ndarray:
    """Columns (among ``columns``) that no other dominates on (frames, pixels), one per distinct
    point."""
    f, p = frames[columns], pixels[columns]
    ge = (f[:, None] >= f[None, :]) & (p[:, None] >= p[None, :])
    gt = (f[:, None] > f[None, :]) | (p[:, None] > p[None, :])
    undominated = columns[~(ge & gt).any(axis=0)]
    # one representative per (frames, pixels): fewest tokens, then lowest fps, then default
    res_rank = np.array(
        [0 if grid.media_resolution[j] in (None, "default") else 1 for j in undominated]
    )
    order = np.lexsort(
        (
            res_rank,
            grid.fps[undominated],
            tokens[undominated],
            -pixels[undominated],
            -frames[undominated],
        )
    )
    ranked = undominated[order]
    points = list(zip(frames[ranked].tolist(), pixels[ranked].tolist(), strict=True))
    first = [i for i, point in enumerate(points) if i == 0 or point != points[i - 1]]
    return ranked[first]


def _inputs_from(
    video: Any,
    duration: Any,
    width: Any,
    height: Any,
    mute: Any,
    native_fps: Any,
    native_frame_count: Any,
) -> tuple[Any, ...]:
    if video is not None:
        return (
            video.duration,
            video.width,
            video.height,
            not video.has_audio,
            video.native_fps if native_fps is None else native_fps,
            video.native_frame_count if native_frame_count is None else native_frame_count,
        )
    if duration is None or width is None or height is None:
        raise LimitError("plan_budget needs a video, or duration=, width= and height=.")
    return duration, width, height, mute, native_fps, native_frame_count


def plan_budget(
    video: Any = None,
    *,
    duration: float | None = None,
    width: int | None = None,
    height: int | None = None,
    mute: bool = False,
    profile: str | Profile = DEFAULT_PROFILE,
    max_tokens: int | None = None,
    max_cost: float | None = None,
    prices: Prices | None = None,
    output_tokens: int = 0,
    native_fps: float | None = None,
    native_frame_count: int | None = None,
) -> BudgetPlan:
    """Every setting on the API's grid that fits ``max_tokens`` and/or ``max_cost``, and the best
    one.

    Args:
        video: a :class:`~mimo_nb.media.video.Video` (its duration, size, audio and frame rate are
            used), or None and ``duration``, ``width``, ``height`` (and ``mute``) instead.
        profile: whose rules count the tokens (:mod:`mimo_nb.core.profiles`); servers need the
            file's ``native_fps`` (and ``native_frame_count``), which a ``video`` supplies.
        max_tokens: the most prompt tokens the video may take.
        max_cost: the most money per request, at ``prices`` (:class:`~mimo_nb.core.pricing.Prices`),
            counting ``output_tokens`` of answer as :func:`~mimo_nb.core.pricing.estimate_cost`
            does.

    >>> plan_budget(duration=10, width=640, height=360, max_tokens=1000).best.fps
    0.7
    """
    duration, width, height, mute, native_fps, native_frame_count = _inputs_from(
        video, duration, width, height, mute, native_fps, native_frame_count
    )
    max_tokens, max_cost, prices, output_tokens = _check_budget(
        max_tokens, max_cost, prices, output_tokens
    )
    duration = validate.positive("duration", duration, maximum=validate.MAX_DURATION)
    width, height = validate.size(width, height)
    prof = get_profile(profile)
    grid = _grid(prof)
    out = _evaluate(
        prof,
        grid,
        np.array([duration], np.float64),
        np.array([width]),
        np.array([height]),
        np.array([bool(mute)]),
        None if native_fps is None else [native_fps],
        None if native_frame_count is None else [native_frame_count],
    )
    cost = None if prices is None else _cost(out["tokens"], prices, output_tokens)
    fits = _fits(out["tokens"], cost, max_tokens, max_cost)
    frames, pixels, tokens = out["frames"][0], out["width"][0] * out["height"][0], out["tokens"][0]
    fitting = np.flatnonzero(fits[0])
    keep, any_fit = _best_columns(fits, out["frames"], out["width"] * out["height"], out["tokens"])
    best = _settings(grid, _first_by_fps(keep, grid), out, cost)[0] if any_fit[0] else None
    valid = np.flatnonzero(tokens >= 0)
    cheapest = None
    if valid.size:
        cheapest = _settings(
            grid, valid[np.lexsort((grid.fps[valid], tokens[valid]))][:1], out, cost
        )[0]
    return BudgetPlan(
        profile=prof.name,
        duration=float(duration),
        width=int(width),
        height=int(height),
        mute=bool(mute),
        max_tokens=max_tokens,
        max_cost=max_cost,
        prices=prices,
        output_tokens=output_tokens,
        grid_size=len(grid.fps),
        grid_note=_grid_note(prof),
        settings=_settings(grid, fitting, out, cost),
        frontier=_settings(
            grid, _frontier_columns(fitting, frames, pixels, tokens, grid), out, cost
        ),
        best=best,
        cheapest=cheapest,
    )


@dataclass(frozen=True)
class BudgetTable(Displayed):
    """The best setting per video for a whole corpus (arrays, one element per video).

    ``fits`` is False where no setting fits; there ``fps`` is NaN, ``media_resolution`` None and
    the counts are 0. ``to_pandas()`` gives one row per video.
    """

    profile: str
    fps: npt.NDArray[np.float64]
    media_resolution: npt.NDArray[np.object_]
    frames: npt.NDArray[np.int64]
    width: npt.NDArray[np.int64]
    height: npt.NDArray[np.int64]
    tokens: npt.NDArray[np.int64]
    cost: npt.NDArray[np.float64] | None
    fits: npt.NDArray[np.bool_]
    rule: str = BEST_RULE

    def __len__(self) -> int:
        return int(self.fps.shape[0])

    def setting(self, i: int) -> BudgetSetting | None:
        """Video ``i``'s best setting (None when nothing fits)."""
        if not self.fits[i]:
            return None
        return BudgetSetting(
            float(self.fps[i]),
            self.media_resolution[i],
            int(self.frames[i]),
            int(self.width[i]),
            int(self.height[i]),
            int(self.tokens[i]),
            None if self.cost is None else float(self.cost[i]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "rule": self.rule,
            "fps": self.fps.tolist(),
            "media_resolution": list(self.media_resolution),
            "frames": self.frames.tolist(),
            "width": self.width.tolist(),
            "height": self.height.tolist(),
            "tokens": self.tokens.tolist(),
            "cost": None if self.cost is None else self.cost.tolist(),
            "fits": self.fits.tolist(),
        }

    def to_pandas(self) -> Any:
        import pandas as pd

        data = {
            k: v
            for k, v in self.to_dict().items()
            if k not in ("profile", "rule") and v is not None
        }
        return pd.DataFrame(data)


def plan_budget_many(
    duration: npt.ArrayLike,
    width: npt.ArrayLike,
    height: npt.ArrayLike,
    *,
    mute: npt.ArrayLike = False,
    profile: str | Profile = DEFAULT_PROFILE,
    max_tokens: int | None = None,
    max_cost: float | None = None,
    prices: Prices | None = None,
    output_tokens: int = 0,
    native_fps: npt.ArrayLike | None = None,
    native_frame_count: npt.ArrayLike | None = None,
) -> BudgetTable:
    """The best setting per video (:data:`BEST_RULE`) for arrays of videos, all at once.

    Each element equals ``plan_budget(duration=d, width=w, height=h, ...).best``; the whole
    corpus is one (videos x 200) array computation.

    >>> table = plan_budget_many(
    ...     [10, 60, 600], [640, 1920, 1280], [360, 1080, 720], max_tokens=20_000
    ... )
    >>> table.fps.tolist(), list(table.media_resolution)
    ([9.9, 2.3, 0.1], ['default', 'default', 'default'])
    """
    max_tokens, max_cost, prices, output_tokens = _check_budget(
        max_tokens, max_cost, prices, output_tokens
    )
    try:
        validate.same_length(
            duration=duration,
            width=width,
            height=height,
            mute=mute,
            native_fps=native_fps,
            native_frame_count=native_frame_count,
        )
    except LimitError as exc:
        raise LimitError(f"plan_budget_many takes one-dimensional arrays: {exc}") from None
    d = np.atleast_1d(validate.array("duration", duration, above=0))
    w, h = (np.atleast_1d(a) for a in validate.sizes(width, height))
    d, w, h, m = np.broadcast_arrays(d, w, h, np.atleast_1d(np.asarray(mute, bool)))
    nfps = None if native_fps is None else np.broadcast_to(np.asarray(native_fps), d.shape)
    count = (
        None
        if native_frame_count is None
        else np.broadcast_to(np.asarray(native_frame_count), d.shape)
    )
    prof = get_profile(profile)
    grid = _grid(prof)
    out = _evaluate(prof, grid, d, w, h, m, nfps, count)
    cost = None if prices is None else _cost(out["tokens"], prices, output_tokens)
    fits = _fits(out["tokens"], cost, max_tokens, max_cost)
    keep, any_fit = _best_columns(fits, out["frames"], out["width"] * out["height"], out["tokens"])
    col = _first_by_fps(keep, grid)
    rows = np.arange(d.shape[0])

    def pick(a: np.ndarray) -> np.ndarray:
        return np.where(any_fit, a[rows, col], 0)

    resolutions = np.array(grid.media_resolution, dtype=object)[col]
    return BudgetTable(
        profile=prof.name,
        fps=np.where(any_fit, grid.fps[col], np.nan),
        media_resolution=np.where(
            any_fit, resolutions, np.array(None, dtype=np.object_)
        ),  # object dtype from both
        frames=pick(out["frames"]),
        width=pick(out["width"]),
        height=pick(out["height"]),
        tokens=pick(out["tokens"]),
        cost=None if cost is None else np.where(any_fit, cost[rows, col], np.nan),
        fits=any_fit,
    )
