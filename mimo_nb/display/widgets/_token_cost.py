"""The token and cost explorer: the formula taught with duration, fps, frame size,
default/max and mute against tokens, cost and a live plot."""

from __future__ import annotations

import functools
import threading
from typing import Any

import ipywidgets as w

from mimo_nb.core.pricing import Prices
from mimo_nb.core.profiles import DEFAULT_PROFILE, ServerTokenBreakdown, explain_profile_tokens
from mimo_nb.core.tokens import FPS_DEFAULT, MEDIA_RESOLUTIONS, TokenBreakdown
from mimo_nb.display import render
from mimo_nb.display.plots import plot_tokens_vs_fps
from mimo_nb.display.widgets._clip import ClipExplorer
from mimo_nb.display.widgets._controls import duration_label, fps_slider, labelled, toggle
from mimo_nb.display.widgets._engine import Apply


class TokenCostExplorer(ClipExplorer):
    """Teach the formula: duration, fps, frame size, default/max and mute against tokens and cost.

    The duration slider stops at round values (:data:`DURATIONS`, plus the one you start with).
    ``profile`` shows a self-hosted server's tokens instead (:mod:`mimo_nb.core.profiles`), counted
    from the ``native fps`` control (the file's frame rate; its frame count follows the duration).

    >>> explorer = TokenCostExplorer(debounce=0)
    >>> explorer.preset.value = "4K landscape"; explorer.media_resolution.value = "max"
    >>> explorer.estimate().width
    1984
    """

    def __init__(
        self,
        *,
        duration: float = 60.0,
        fps: float = FPS_DEFAULT,
        preset: str = "1080p landscape",
        media_resolution: str = "default",
        mute: bool = False,
        profile: str = DEFAULT_PROFILE,
        native_fps: float = 30.0,
        prices: Prices | None = None,
        output_tokens: int = 0,
        debounce: float = 0.2,
        cache_size: int = 32,
    ) -> None:
        self._clip_controls(duration, preset, mute, profile, native_fps)
        self.fps = fps_slider(fps)
        self.media_resolution = toggle(
            "media_resolution", list(MEDIA_RESOLUTIONS), media_resolution
        )
        controls = [
            self.duration,
            self.fps,
            self.width,
            self.height,
            self.media_resolution,
            self.mute,
            self.profile,
            self.native_fps,
        ]
        rows = [
            self.duration,
            self.fps,
            self.preset,
            self.sizes,
            labelled("media_resolution", self.media_resolution),
            self.mute,
            self.profile,
            self.native_fps,
        ]
        self._build(
            "",
            controls,
            rows,
            prices=prices,
            output_tokens=output_tokens,
            debounce=debounce,
            cache_size=cache_size,
        )

    @property
    def plots_drawn(self) -> int:
        """How many plots were drawn (the cache saves the rest)."""
        return self.views_made

    def key(self) -> tuple[float, int, int, bool, float, str, float | None]:
        """What the plot depends on: (duration, width, height, mute, fps, profile, native fps
        or None)."""
        width, height = self.frame_size()
        return (
            float(self.duration.value),
            width,
            height,
            bool(self.mute.value),
            float(self.fps.value),
            self._profile_name(),
            self._native(),
        )

    def estimate(self) -> TokenBreakdown | ServerTokenBreakdown:
        """The breakdown for the controls
        (:func:`~mimo_nb.core.profiles.explain_profile_tokens`)."""
        width, height = self.frame_size()
        return explain_profile_tokens(
            float(self.duration.value),
            width,
            height,
            float(self.fps.value),
            self._media_resolution(),
            mute=bool(self.mute.value),
            profile=self._profile_name(),
            native_fps=self._native(),
        )

    def _numbers_html(self, b: TokenBreakdown | ServerTokenBreakdown) -> str:
        if isinstance(b, ServerTokenBreakdown):
            return render.server_total_html(b)
        return render.token_total_html(b)

    def _settings(self) -> str:
        width, height = self.frame_size()
        return (
            f"{duration_label(float(self.duration.value))}, fps={float(self.fps.value):g}, "
            f"{width}x{height}, media_resolution={self._media_resolution()}"
            f"{', muted' if self.mute.value else ''}{self._profile_settings()}"
        )

    def _arrange(self, panel: w.VBox, breakdown: w.HTML, view: w.VBox) -> list[w.DOMWidget]:
        """Controls beside the breakdown, the plot under both at full width (its legend is wide)."""
        return [w.HBox([panel, breakdown]), view]

    def _make_view(
        self,
        key: tuple[float, int, int, bool, float, str, float | None],
        cancel: threading.Event,
        apply: Apply,
    ) -> tuple[Any, str]:
        duration, width, height, mute, fps, profile, native_fps = key
        plot = functools.partial(
            plot_tokens_vs_fps,
            duration,
            width,
            height,
            mute=mute,
            current=fps,
            profile=profile,
            native_fps=native_fps,
        )
        return None, render.plot_html(plot, figsize=(10.0, 4.0), alt="tokens against fps", dpi=80)
