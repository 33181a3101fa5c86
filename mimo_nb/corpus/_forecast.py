"""Tokens and cost of a corpus before anything is sent: per setting, and the largest fps a budget
allows.

The arithmetic is :func:`mimo_nb.core.tokens.explain_video_tokens_array` over the whole table,
one pass per setting, equal item by item to the scalar formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np

from mimo_nb.core.budget import FPS_GRID  # the API's fps values, 0.1 .. 10.0
from mimo_nb.core.pricing import Prices, estimate_cost, estimate_text_tokens, load_prices
from mimo_nb.core.tokens import (
    FPS_DEFAULT,
    MAX_FRAMES,
    _sampled_frame_count_array,
    explain_video_tokens_array,
    validate_fps,
    validate_media_resolution,
)
from mimo_nb.corpus._optional import _need_pandas
from mimo_nb.errors import LimitError

if TYPE_CHECKING:
    import pandas as pd

    from mimo_nb.corpus._corpus import Corpus


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]


@dataclass(frozen=True)
class _Totals:
    frames: int
    vision: int
    audio: int
    video: int
    largest: int


class _Table:
    """The probed rows as arrays, with what stays the same from one setting to the next.

    Rows that share a frame size and a sampled frame count cost the same vision, timestamp
    and special tokens (steps 2-4 of the formula see nothing else), and audio does not depend
    on the setting at all. So each setting computes step 1 for every row, then the array
    estimator once per (size, frame count) pair present, and looks the rows up: three to four
    times quicker on a million rows than the estimator over every row, and exactly equal to it.
    """

    def __init__(self, corpus: Corpus) -> None:
        self.d, self.w, self.h, self.mute = corpus._columns()
        sizes, self.size_id = np.unique((self.w << 32) | self.h, return_inverse=True)
        self.pairs = len(sizes) * (MAX_FRAMES + 1)
        self.grouped = (
            0 < self.pairs <= 4 * len(self.d)
        )  # else a lookup table would outgrow the data
        self.audio = explain_video_tokens_array(
            self.d, self.w, self.h, FPS_DEFAULT, "default", self.mute
        )["audio"]

    def totals(self, fps: float, media_resolution: str) -> _Totals:
        if not self.grouped:
            parts = explain_video_tokens_array(
                self.d, self.w, self.h, fps, media_resolution, self.mute
            )
            frames, vision, video = parts["frames"], parts["vision"], parts["total"]
        else:
            frames = _sampled_frame_count_array(
                self.d, np.asarray(fps, dtype=np.float64)
            )  # step 1, as the estimator does it
            pair = self.size_id * (MAX_FRAMES + 1) + frames
            stand_in = np.full(self.pairs, -1, dtype=np.int64)
            stand_in[pair] = np.arange(len(pair))  # one row standing for each pair present
            present = np.flatnonzero(stand_in >= 0)
            rows = stand_in[present]
            parts = explain_video_tokens_array(
                self.d[rows], self.w[rows], self.h[rows], fps, media_resolution, True
            )
            by_pair = np.zeros((2, self.pairs), dtype=np.int64)
            by_pair[0, present], by_pair[1, present] = parts["vision"], parts["total"]
            vision, video = by_pair[0, pair], by_pair[1, pair] + self.audio
        return _Totals(
            int(frames.sum()),
            int(vision.sum()),
            int(self.audio.sum()),
            int(video.sum()),
            int(video.max()) if video.size else 0,
        )


@dataclass(frozen=True, repr=False)
class Forecast:
    """Tokens and cost of a corpus under one or more settings; ``to_pandas()`` is the table."""

    rows: tuple[dict[str, Any], ...]
    videos: int
    excluded: int
    prices: Prices
    output_tokens: int
    text_tokens: int

    @classmethod
    def compute(
        cls,
        corpus: Corpus,
        fps: Any,
        media_resolution: Any,
        *,
        prompt: str,
        system: str | None,
        output_tokens: int,
        prices: Prices | None,
    ) -> Forecast:
        prices = prices or load_prices()
        settings = [
            (validate_fps(f), validate_media_resolution(r))
            for r in _as_list(media_resolution)
            for f in _as_list(fps)
        ]
        if not isinstance(output_tokens, int) or output_tokens < 0:
            raise LimitError(
                f"output_tokens must be a non-negative integer, got {output_tokens!r}."
            )
        videos = int(corpus.ok.sum())
        text = estimate_text_tokens((system or "") + prompt) if prompt or system else 0
        table = _Table(corpus)
        rows = []
        for f, r in settings:
            t = table.totals(f, r)
            prompt_tokens = t.video + text * videos
            output = output_tokens * videos
            cost = estimate_cost(prompt_tokens, prices, output_tokens=output)
            rows.append(
                {
                    "fps": f,
                    "media_resolution": r,
                    "videos": videos,
                    "frames": t.frames,
                    "vision_tokens": t.vision,
                    "audio_tokens": t.audio,
                    "prompt_tokens": prompt_tokens,
                    "output_tokens": output,
                    "total_tokens": prompt_tokens + output,
                    "cost": cost.total,
                    "currency": prices.currency,
                    "prompt_tokens_per_video": prompt_tokens / videos if videos else 0.0,
                    "largest_video_tokens": t.largest,
                }
            )
        return cls(tuple(rows), videos, len(corpus) - videos, prices, output_tokens, text)

    def to_pandas(self) -> pd.DataFrame:
        """One row per setting: frames, vision, audio, prompt, output and total tokens, cost."""
        return _need_pandas().DataFrame(list(self.rows))

    def __repr__(self) -> str:
        settings = ", ".join(f"fps {r['fps']:g} {r['media_resolution']}" for r in self.rows[:6])
        more = f" and {len(self.rows) - 6} more" if len(self.rows) > 6 else ""
        return f"<Forecast of {self.videos:,} videos: {settings}{more}>"

    def plot(self, ax: Any = None) -> Any:
        """Total tokens (and cost, right axis) against fps, one line per media_resolution."""
        from mimo_nb.display.plots import new_axes

        _, ax = new_axes(ax, figsize=(7.0, 3.6))
        for resolution in dict.fromkeys(r["media_resolution"] for r in self.rows):
            rows = [r for r in self.rows if r["media_resolution"] == resolution]
            ax.plot(
                [r["fps"] for r in rows],
                [r["total_tokens"] for r in rows],
                marker="o",
                label=f"media_resolution={resolution}",
                gid=f"forecast:{resolution}",
            )
        ax.set_xlabel("fps")
        ax.set_ylabel("tokens, whole corpus")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        cost_axis = ax.secondary_yaxis(
            "right", functions=(self._tokens_to_cost, self._cost_to_tokens)
        )
        cost_axis.set_ylabel(f"cost ({self.prices.currency})")
        ax.set_title(
            f"{self.videos:,} videos: prompt + {self.output_tokens:,} output tokens each",
            fontsize=10,
        )
        return ax

    # Every setting sends the same output tokens, so cost = total x input price + output x (output
    # price - input price): an exact affine scale beside the token axis.
    def _tokens_to_cost(self, tokens: Any) -> Any:
        p, output = self.prices, self.output_tokens * self.videos
        return (np.asarray(tokens) * p.input + output * (p.output - p.input)) / 1e6

    def _cost_to_tokens(self, cost: Any) -> Any:
        p, output = self.prices, self.output_tokens * self.videos
        if not p.input:
            return np.asarray(cost) * 0
        return (np.asarray(cost) * 1e6 - output * (p.output - p.input)) / p.input

    def _repr_html_(self) -> str:
        from mimo_nb.display.render import forecast_html

        return forecast_html(self)


@dataclass(frozen=True, repr=False)
class FpsChoice:
    """The largest fps on the 0.1 grid within a budget; ``curve`` holds every grid point."""

    fps: float | None
    media_resolution: str
    tokens_budget: int | None
    cost_budget: float | None
    curve: tuple[tuple[float, int, float], ...]  # (fps, total tokens, cost) for every grid value
    prices: Prices
    videos: int

    @classmethod
    def compute(
        cls,
        corpus: Corpus,
        *,
        tokens: int | None,
        cost: float | None,
        media_resolution: str,
        prompt: str,
        system: str | None,
        output_tokens: int,
        prices: Prices | None,
    ) -> FpsChoice:
        if tokens is None and cost is None:
            raise LimitError("give a budget: max_fps(tokens=...) and/or max_fps(cost=...).")
        validate_media_resolution(media_resolution)
        if not corpus.ok.any():
            failed = int((~corpus.ok).sum())
            raise LimitError(
                f"there is nothing to forecast: this corpus has no probed video ({len(corpus)} "
                f"items, {failed} failed); corpus.failures() says why, scan a folder with videos."
            )
        forecast = Forecast.compute(
            corpus,
            list(FPS_GRID),
            media_resolution,
            prompt=prompt,
            system=system,
            output_tokens=output_tokens,
            prices=prices,
        )
        curve = tuple((r["fps"], r["total_tokens"], r["cost"]) for r in forecast.rows)
        fits = [
            f
            for f, t, c in curve
            if (tokens is None or t <= tokens) and (cost is None or c <= cost)
        ]
        return cls(
            max(fits) if fits else None,
            media_resolution,
            tokens,
            cost,
            curve,
            forecast.prices,
            forecast.videos,
        )

    def __repr__(self) -> str:
        return f"<FpsChoice {self}>"

    @property
    def total_tokens(self) -> int | None:
        return next((t for f, t, _ in self.curve if f == self.fps), None)

    @property
    def cost(self) -> float | None:
        return next((c for f, _, c in self.curve if f == self.fps), None)

    @property
    def monotonic(self) -> bool:
        """True when tokens never fall as fps rises (then every fps below the answer fits too)."""
        totals = [t for _, t, _ in self.curve]
        return all(a <= b for a, b in pairwise(totals))

    def _budget_text(self) -> str:
        parts = []
        if self.tokens_budget is not None:
            parts.append(f"{self.tokens_budget:,} tokens")
        if self.cost_budget is not None:
            parts.append(f"{self.cost_budget:g} {self.prices.currency}")
        return " and ".join(parts)

    def __str__(self) -> str:
        if self.fps is None:
            low = self.curve[0]
            return (
                f"no fps fits {self._budget_text()}: even fps 0.1 needs {low[1]:,} tokens, "
                f"{low[2]:.4f} {self.prices.currency}"
            )
        return (
            f"fps {self.fps:g} (media_resolution={self.media_resolution}) is the largest on the "
            f"0.1 grid within {self._budget_text()}: {self.total_tokens:,} tokens, "
            f"{self.cost:.4f} {self.prices.currency} for {self.videos:,} videos"
        )

    def plot(self, ax: Any = None) -> Any:
        from mimo_nb.display.plots import new_axes

        _, ax = new_axes(ax, figsize=(7.0, 3.4))
        use_cost = self.tokens_budget is None
        ax.plot(
            [f for f, _, _ in self.curve],
            [c if use_cost else t for _, t, c in self.curve],
            gid="curve",
        )
        budget = self.cost_budget if use_cost else self.tokens_budget
        ax.axhline(budget, color="tab:red", linestyle="--", linewidth=1, label="budget")
        if self.fps is not None:
            ax.axvline(self.fps, color="tab:green", linewidth=1, label=f"fps {self.fps:g}")
        ax.set_xlabel("fps (the API's 0.1 grid)")
        ax.set_ylabel(f"cost ({self.prices.currency})" if use_cost else "tokens")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        return ax

    def _repr_html_(self) -> str:
        from mimo_nb.display.render import fps_choice_html

        return fps_choice_html(self)
