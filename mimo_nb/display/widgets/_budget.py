"""The budget explorer: the formula run backwards, a clip and a ``max_tokens`` budget, and
the setting to send."""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as w

from mimo_nb.core import validate
from mimo_nb.core.budget import BudgetPlan, plan_budget
from mimo_nb.core.pricing import Prices
from mimo_nb.core.profiles import DEFAULT_PROFILE, ServerTokenBreakdown, explain_profile_tokens
from mimo_nb.core.tokens import TokenBreakdown
from mimo_nb.display import render
from mimo_nb.display.widgets._clip import ClipExplorer
from mimo_nb.display.widgets._controls import DESCRIPTION, SizeBox
from mimo_nb.display.widgets._engine import Apply
from mimo_nb.errors import LimitError


class BudgetExplorer(ClipExplorer):
    """The formula run backwards: a clip and a ``max_tokens`` budget, and the setting to send.

    Shows :func:`~mimo_nb.core.budget.plan_budget`'s best setting (its rule stated), that setting's
    breakdown and cost, and the frontier (frames against pixels per frame) of every setting on
    the API's grid that fits. ``profile`` plans for a self-hosted server instead (its counted
    tokens; no prices apply).

    >>> explorer = BudgetExplorer(duration=60, max_tokens=20_000, debounce=0)
    >>> explorer.plan().best.fps, explorer.plan().best.media_resolution
    (2.3, 'default')
    """

    def __init__(
        self,
        *,
        duration: float = 60.0,
        preset: str = "1080p landscape",
        mute: bool = False,
        max_tokens: int = 20_000,
        profile: str = DEFAULT_PROFILE,
        native_fps: float = 30.0,
        prices: Prices | None = None,
        output_tokens: int = 0,
        debounce: float = 0.2,
        cache_size: int = 32,
    ) -> None:
        max_tokens = validate.number(
            "max_tokens", max_tokens, minimum=0, maximum=10**9, integer=True
        )
        self._clip_controls(duration, preset, mute, profile, native_fps)
        self.max_tokens = SizeBox(
            value=max_tokens,
            min=0,
            max=10**9,
            step=1000,
            description="max_tokens",
            style=DESCRIPTION,
            layout=w.Layout(width="300px"),
        )
        controls = [
            self.duration,
            self.width,
            self.height,
            self.mute,
            self.profile,
            self.native_fps,
            self.max_tokens,
        ]
        rows = [
            self.duration,
            self.preset,
            self.sizes,
            self.mute,
            self.profile,
            self.native_fps,
            self.max_tokens,
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

    def key(self) -> tuple[float, int, int, bool, str, float | None, int]:
        """What the plan depends on: (duration, width, height, mute, profile, native fps or
        None, max_tokens)."""
        width, height = self.frame_size()
        return (
            float(self.duration.value),
            width,
            height,
            bool(self.mute.value),
            self._profile_name(),
            self._native(),
            int(self.max_tokens.value),
        )

    def plan(self) -> BudgetPlan:
        """:func:`~mimo_nb.core.budget.plan_budget` for the controls (costs at the API's prices)."""
        return self._plan_for(self.key())

    def _plan_for(self, key: tuple[float, int, int, bool, str, float | None, int]) -> BudgetPlan:
        duration, width, height, mute, profile, native_fps, max_tokens = key
        self_hosted = native_fps is not None  # a server's tokens have no price
        return plan_budget(
            duration=duration,
            width=width,
            height=height,
            mute=mute,
            profile=profile,
            max_tokens=max_tokens,
            native_fps=native_fps,
            prices=None if self_hosted else self.prices,
            output_tokens=self.output_tokens,
        )

    def estimate(self) -> TokenBreakdown | ServerTokenBreakdown:
        """The breakdown of the plan's best setting (a :class:`LimitError` when nothing fits)."""
        return self._best_breakdown(self.plan())

    def _best_breakdown(self, plan: BudgetPlan) -> TokenBreakdown | ServerTokenBreakdown:
        if plan.best is None:
            raise LimitError(
                f"no setting fits {plan.budget_text}; raise max_tokens or shorten the clip."
            )
        duration, width, height, mute, profile, native_fps, _ = self.key()
        return explain_profile_tokens(
            duration,
            width,
            height,
            plan.best.fps,
            plan.best.media_resolution or "default",
            mute=mute,
            profile=profile,
            native_fps=native_fps,
        )

    def _panels(self) -> tuple[str, str, str]:
        plan = self.plan()
        if plan.best is None:
            return render.budget_best_html(plan), "", ""
        return (render.budget_best_html(plan), *self._breakdown_panels(self._best_breakdown(plan)))

    def _settings(self) -> str:
        return f"{self._clip_settings()}, max_tokens={int(self.max_tokens.value):,}"

    def _arrange(self, panel: w.VBox, breakdown: w.HTML, view: w.VBox) -> list[w.DOMWidget]:
        """Controls beside the best setting's breakdown, the frontier under both at full width."""
        return [w.HBox([panel, breakdown]), view]

    def _make_view(
        self,
        key: tuple[float, int, int, bool, str, float | None, int],
        cancel: threading.Event,
        apply: Apply,
    ) -> tuple[Any, str]:
        plan = self._plan_for(key)
        return plan, render.budget_html(plan)
