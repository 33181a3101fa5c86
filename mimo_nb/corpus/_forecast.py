"""Tokens and cost of a corpus before anything is sent: per setting, and the largest fps a budget
allows.

Under the hosted API's profile (the default) the arithmetic is
:func:`mimo_nb.core.tokens.explain_video_tokens_array` over the whole table, one pass per
setting, equal item by item to the scalar formula. Under a self-hosted server's profile each row
is estimated by :func:`mimo_nb.core.profiles.explain_profile_tokens`, the function a client with
that profile estimates one request by (:func:`profile_video_tokens`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mimo_nb.core.budget import FPS_GRID  # the API's fps values, 0.1 .. 10.0
from mimo_nb.core.payload import video_prompt_tokens
from mimo_nb.core.pricing import Prices, estimate_cost, estimate_text_tokens, load_prices
from mimo_nb.core.profiles import DEFAULT_PROFILE, Profile, explain_profile_tokens, get_profile
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
    audio: int | None  # None: a server profile, whose audio is not counted
    video: int
    largest: int
    refused: int = 0  # rows the profile's server would reject (counted at 0 tokens)


def profile_video_tokens(
    corpus: Corpus, fps: Any, media_resolution: Any, profile: str | Profile
) -> dict[str, npt.NDArray[np.int64]]:
    """Each probed row's ``frames``, ``vision`` and prompt ``tokens`` under ``profile``, by the
    function a client with that profile estimates one request by.

    ``fps`` and ``media_resolution`` are one value, or one per probed row. Every row goes through
    :func:`~mimo_nb.core.profiles.explain_profile_tokens` with the scan's duration, size, audio,
    frame rate and frame count (as ``Video.estimate`` passes them), and its prompt tokens are
    :func:`~mimo_nb.core.payload.video_prompt_tokens` of that breakdown: a server's counted
    tokens (vision and special; timestamp text and audio not counted), the API's total. Rows
    with the same numbers are estimated once. A row the server would reject (``refused``: too
    few frames, too elongated) gets 0 tokens: the client refuses it, so it is never sent.
    """
    d, w, h, mute = corpus._columns()
    nfps, count = corpus._native_columns()
    rows = len(d)
    rates = np.broadcast_to(np.asarray(fps, dtype=object), rows)
    sizes = np.broadcast_to(np.asarray(media_resolution, dtype=object), rows)
    rules = get_profile(profile)
    unknown = np.isnan(nfps) & (count < 1)  # resolve_native fills either from the other
    if rules.needs_native and unknown.any():
        missing = int(unknown.sum())
        raise LimitError(
            f"profile {rules.name!r} counts frames from each file's frame rate and frame count, "
            f"and {missing:,} rows of this table have none (a table from elsewhere); scan the "
            "videos again (Corpus.scan) to forecast them."
        )
    out: dict[str, npt.NDArray[np.int64]] = {
        k: np.zeros(rows, dtype=np.int64) for k in ("frames", "vision", "tokens", "refused")
    }
    seen: dict[tuple[Any, ...], tuple[int, int, int, int]] = {}
    for i in range(rows):
        key = (d[i], w[i], h[i], mute[i], nfps[i], count[i], rates[i], sizes[i])
        if key not in seen:
            try:
                b = explain_profile_tokens(
                    float(d[i]),
                    int(w[i]),
                    int(h[i]),
                    float(rates[i]),
                    str(sizes[i]),
                    mute=bool(mute[i]),
                    profile=rules,
                    native_fps=None if np.isnan(nfps[i]) else float(nfps[i]),
                    native_frame_count=int(count[i]) if count[i] >= 1 else None,
                )
                seen[key] = (b.frames, b.vision, video_prompt_tokens(b), 0)
            except LimitError:  # the server would reject it, and the client refuses to send it
                seen[key] = (0, 0, 0, 1)
        for name, value in zip(out, seen[key], strict=True):
            out[name][i] = value
    return out


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


def _profile_totals(
    corpus: Corpus, fps: float, media_resolution: str, profile: str | Profile
) -> _Totals:
    """One setting's totals under a server's profile, video by video (audio not counted)."""
    est = profile_video_tokens(corpus, fps, media_resolution, profile)
    tokens = est["tokens"]
    return _Totals(
        int(est["frames"].sum()),
        int(est["vision"].sum()),
        None,
        int(tokens.sum()),
        int(tokens.max()) if tokens.size else 0,
        int(est["refused"].sum()),
    )


@dataclass(frozen=True, repr=False)
class Forecast:
    """Tokens and cost of a corpus under one or more settings; ``to_pandas()`` is the table.

    ``profile`` names whose sampling rules the videos' tokens follow: the hosted API's
    (``"mimo-api"``) or a self-hosted server's, whose rows leave audio uncounted
    (``audio_tokens`` None) and count the videos its server would reject (``refused``).
    """

    rows: tuple[dict[str, Any], ...]
    videos: int
    excluded: int
    prices: Prices
    output_tokens: int
    text_tokens: int
    profile: str = DEFAULT_PROFILE

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
        profile: str | Profile = DEFAULT_PROFILE,
    ) -> Forecast:
        prices = prices or load_prices()
        rules = get_profile(profile)
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
        table = _Table(corpus) if rules.is_default else None
        rows = []
        for f, r in settings:
            if table is not None:  # the hosted API: the array formula, unchanged
                t = table.totals(f, r)
            else:
                t = _profile_totals(corpus, f, r, rules)
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
            if table is None:
                rows[-1]["refused"] = t.refused
        return cls(
            tuple(rows), videos, len(corpus) - videos, prices, output_tokens, text, rules.name
        )

    def to_pandas(self) -> pd.DataFrame:
        """One row per setting: frames, vision, audio, prompt, output and total tokens, cost."""
        return _need_pandas().DataFrame(list(self.rows))

    def __repr__(self) -> str:
        settings = ", ".join(f"fps {r['fps']:g} {r['media_resolution']}" for r in self.rows[:6])
        more = f" and {len(self.rows) - 6} more" if len(self.rows) > 6 else ""
        rules = "" if self.profile == DEFAULT_PROFILE else f" by profile {self.profile!r}"
        return f"<Forecast of {self.videos:,} videos{rules}: {settings}{more}>"

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
    profile: str = DEFAULT_PROFILE  # whose sampling rules the tokens follow

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
        profile: str | Profile = DEFAULT_PROFILE,
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
            profile=profile,
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
            forecast.profile,
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
        rules = "" if self.profile == DEFAULT_PROFILE else f" (by profile {self.profile!r})"
        if self.fps is None:
            low = self.curve[0]
            return (
                f"no fps fits {self._budget_text()}: even fps 0.1 needs {low[1]:,} tokens, "
                f"{low[2]:.4f} {self.prices.currency}{rules}"
            )
        return (
            f"fps {self.fps:g} (media_resolution={self.media_resolution}) is the largest on the "
            f"0.1 grid within {self._budget_text()}: {self.total_tokens:,} tokens, "
            f"{self.cost:.4f} {self.prices.currency} for {self.videos:,} videos{rules}"
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
