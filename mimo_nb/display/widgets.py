"""Notebook widgets: see the frames the model sees, what they cost, and answers as they stream.

* :class:`FrameExplorer` -- an fps slider, the ``default``/``max`` toggle and a model/native size
  toggle beside the sampled frames, their count, the model frame size, the token breakdown and
  the estimated cost.
* :class:`TokenCostExplorer` -- no video needed: duration, fps, a frame size preset (or a custom
  size), the toggle and mute, with the breakdown and a live plot. For teaching the formula.
* :class:`BudgetExplorer` -- the formula run backwards: a ``max_tokens`` budget for a clip, with
  :func:`~mimo_nb.core.budget.plan_budget`'s best setting and its frontier.

Every explorer has a ``profile`` dropdown (:mod:`mimo_nb.core.profiles`): the hosted API's formula,
or a self-hosted server's rules, whose frames, frame size and tokens are then shown instead
(a server has no ``media_resolution``, so that toggle is disabled; a server counts frames from
the file's frame rate: the video's, or the ``native fps`` control where there is no video).
* :func:`display_stream` / :func:`display_stream_async` -- one output area updated in place as a
  streamed answer arrives (``await display_stream_async(stream)`` for the async client).

Both explorers share one engine (:class:`Explorer`): the numbers follow every change at once;
the slow view (decoded frames, a plot) waits until the controls rest, is cached, and moving back
costs nothing. Values written by a browser are snapped to the control's grid before anything is
computed (JupyterLab's slider sends ``2.0000000000000004`` for 2), so what is shown always equals
the formula for the value the control displays.

Where widget JavaScript cannot run (nbconvert HTML opened offline, GitHub), each explorer still
shows a static snapshot of its state: it is displayed as its own output just before the widget,
and the live widget hides it (see :func:`mimo_nb.display.render.explorer_style`).

>>> from mimo_nb.media.video import Video
>>> explorer = FrameExplorer(Video.open("clip.mp4"), fps=2)     # last value of a cell
>>> explorer.estimate().frames
4
>>> TokenCostExplorer(duration=60, fps=2).estimate().total
17240
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from decimal import Decimal
from typing import Any

import ipywidgets as w
import numpy as np
import traitlets
from IPython.display import display as _ipython_display

from mimo_nb.core import validate
from mimo_nb.core.budget import BudgetPlan, plan_budget
from mimo_nb.core.pricing import Prices, as_prices, estimate_cost, load_prices
from mimo_nb.core.profiles import (
    DEFAULT_PROFILE,
    PROFILE_NAMES,
    ServerTokenBreakdown,
    explain_profile_tokens,
    get_profile,
)
from mimo_nb.core.tokens import (
    FPS_DEFAULT,
    FPS_MAX,
    FPS_MIN,
    MEDIA_RESOLUTIONS,
    TokenBreakdown,
    validate_fps,
)
from mimo_nb.display import render
from mimo_nb.display.plots import RESOLUTION_PRESETS, plot_tokens_vs_fps
from mimo_nb.errors import LimitError, MimoError, StreamInterruptedError

__all__ = [
    "BudgetExplorer",
    "DURATIONS",
    "NATIVE_FPS",
    "DurationSlider",
    "Explorer",
    "FrameExplorer",
    "GridSlider",
    "TokenCostExplorer",
    "display_stream",
    "display_stream_async",
    "frame_size_presets",
    "snap_to_step",
]

FPS_STEP = 0.1  # the API's fps grid
# Durations the explorer's slider stops at: round values, roughly log-spaced from 1 s to 3 h.
DURATIONS: tuple[float, ...] = (
    1,
    2,
    3,
    5,
    10,
    15,
    20,
    30,
    45,
    60,
    90,
    120,
    180,
    300,
    450,
    600,
    900,
    1200,
    1800,
    2700,
    3600,
    5400,
    7200,
    10800,
)
# Frame rates a file may have, for the explorers without a video (server profiles count from it).
NATIVE_FPS: tuple[float, ...] = (23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0)
LABEL_WIDTH = "130px"  # one column of labels, so every control lines up
_DESCRIPTION = {"description_width": LABEL_WIDTH}


def _open_area(bundle: dict[str, str]) -> Any:
    """A display handle in a notebook (one seam, so tests can watch); None anywhere else."""
    from IPython.core.interactiveshell import InteractiveShell

    if not InteractiveShell.initialized():  # plain Python: display() would print the raw dict
        return None
    return _ipython_display(bundle, raw=True, display_id=True)


# ---- Controls that stay on their grid -------------------------------------------------------


def _decimals(number: float) -> int:
    exponent = Decimal(str(number)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def snap_to_step(value: float, step: float, start: float = 0.0) -> float:
    """The point ``start + k * step`` nearest to ``value``, as the decimal a control displays.

    Float arithmetic in a browser leaves noise (``0.1 + 19 * 0.1`` is ``2.0000000000000004``);
    rounding to the step's decimals gives back the number the control shows.

    >>> snap_to_step(2.0000000000000004, 0.1, start=0.1)
    2.0
    >>> snap_to_step(0.30000000000000004, 0.1), snap_to_step(59.99999999999999, 1)
    (0.3, 60.0)
    """
    steps = round((float(value) - start) / step)
    return float(round(start + steps * step, max(_decimals(step), _decimals(start))))


class GridSlider(w.FloatSlider):
    """A FloatSlider whose value always lies on its grid, ``min + k * step``, whatever is written.

    Values from the front end (or from code) are clamped, then snapped, before any observer sees
    them. The snapped value is not sent back to the front end that sent the noisy one: it already
    shows that value (its readout rounds), and an update would race the user's next move (a
    slider dragged on while the kernel answered jumped back to where it had been).
    """

    @traitlets.validate("value")
    def _validate_value(self, proposal: Any) -> float:
        clamped = super()._validate_value(proposal)
        return snap_to_step(clamped, self.step, self.min)

    def _should_send_property(self, key: str, value: Any) -> bool:
        sent = self._property_lock.get(key) if key == "value" else None
        if isinstance(sent, (int, float)) and snap_to_step(sent, self.step, self.min) == value:
            if self._holding_sync:
                self._states_to_send.discard(key)
            return False
        return bool(super()._should_send_property(key, value))


def _duration_label(seconds: float) -> str:
    """``45 s``, ``7.5 min``, ``2 h``: minutes and hours only where they are round (else
    seconds)."""
    if seconds < 120 or seconds % 30:
        return f"{seconds:g} s"
    if seconds < 7200 or seconds % 1800:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


class DurationSlider(w.SelectionSlider):
    """A slider over round durations (:data:`DURATIONS`, plus a starting value of your own).

    The browser sends the index of a stop, so the value is exactly the duration shown; a value
    written from code with float noise (``59.99999999999999``) lands on the stop it means.
    """

    def __init__(self, value: float, **kwargs: Any) -> None:
        stops = sorted({float(d) for d in DURATIONS} | {float(value)})
        super().__init__(
            options=[(_duration_label(d), d) for d in stops], value=float(value), **kwargs
        )

    @traitlets.validate("value")
    def _validate_value(self, proposal: Any) -> Any:
        value = proposal.value
        if isinstance(value, (int, float)):
            near = [d for d in self._options_values if abs(d - value) <= 1e-9 * max(1.0, abs(d))]
            if near:
                return near[0]
            raise traitlets.TraitError(
                f"duration {value!r} is not a stop of this slider; pick one of "
                f"{', '.join(self._options_labels)} "
                f"(or start the explorer with duration={value!r})."
            )
        return super()._validate_value(proposal)


class _NearestInt(traitlets.CInt):
    """An int trait that rounds (1919.9999 -> 1920) instead of truncating, as int() would."""

    def validate(self, obj: Any, value: Any) -> int:
        if isinstance(value, float):
            value = round(value)
        return super().validate(obj, value)


class SizeBox(w.BoundedIntText):
    """A pixel count: whole pixels, whatever number the front end sends."""

    value = _NearestInt(0, help="Int value").tag(sync=True)


def _fps_slider(value: float) -> GridSlider:
    return GridSlider(
        value=validate_fps(value),  # a slider would clamp a bad value silently
        min=FPS_MIN,
        max=FPS_MAX,
        step=FPS_STEP,
        description="fps",
        readout_format=".1f",
        continuous_update=True,
        style=_DESCRIPTION,
        layout=w.Layout(width="100%"),
    )


def _toggle(name: str, options: Sequence[Any], value: str) -> w.ToggleButtons:
    """Toggle buttons as wide as their labels (fixed widths cut "model view" to "model vi...")."""
    validate.choice(name, value, [o[1] if isinstance(o, tuple) else o for o in options])
    return w.ToggleButtons(options=options, value=value, style={"button_width": "auto"})


def _profile_dropdown(value: str) -> w.Dropdown:
    """Whose rules the numbers follow: the hosted API's formula or a self-hosted server's."""
    name = get_profile(value).name  # an unknown name is refused here, with the known ones listed
    if name not in PROFILE_NAMES:
        raise LimitError(
            f"the explorers offer the profiles {', '.join(PROFILE_NAMES)}; got {value!r}."
        )
    return w.Dropdown(
        options=list(PROFILE_NAMES), value=name, description="profile", style=_DESCRIPTION
    )


def _native_fps_dropdown(value: float) -> w.Dropdown:
    """The file's frame rate, for a server profile where no video gives it (exact values only)."""
    options = sorted({*NATIVE_FPS, float(value)})
    return w.Dropdown(
        options=[(f"{v:g}", v) for v in options],
        value=float(value),
        description="native fps",
        style=_DESCRIPTION,
    )


def _labelled(label: str, control: w.DOMWidget) -> w.HBox:
    """``control`` with its label on the left, right-aligned in the labels' column.

    ToggleButtons put their own description above the buttons; this keeps one line per control.
    """
    tag = w.Label(
        label,
        layout=w.Layout(
            width=LABEL_WIDTH,
            flex="0 0 auto",
            display="flex",
            justify_content="flex-end",
            margin="0 8px 0 0",
        ),
    )
    return w.HBox([tag, control])


# ---- The engine both explorers share --------------------------------------------------------


class _Debouncer:
    """Run ``action`` once the controls have been still for ``delay`` seconds.

    Inside a running event loop (a Jupyter kernel) the call is deferred with ``call_later``;
    anywhere else, or with ``delay <= 0``, it runs at once, so scripts and tests stay synchronous.
    """

    def __init__(self, delay: float, action: Callable[[], None]) -> None:
        self.delay = delay
        self.action = action
        self._handle: asyncio.TimerHandle | None = None

    def __call__(self) -> None:
        self.cancel()
        loop = _running_loop() if self.delay > 0 else None
        if loop is None:
            self.action()
        else:
            self._handle = loop.call_later(self.delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self.action()

    @property
    def pending(self) -> bool:
        return self._handle is not None

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def flush(self) -> None:
        """Run a pending action now."""
        if self._handle is not None:
            self.cancel()
            self.action()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


Apply = Callable[
    [Callable[[], None]], Any
]  # runs a UI update where it is safe: the event loop, or here


class Explorer(w.VBox):
    """Controls, numbers that follow at once, and a slow view that is debounced, cached and
    cancellable.

    A subclass builds its controls, then calls :meth:`_build`, and says what the controls mean:
    :meth:`key` (the view's cache key), :meth:`estimate`, :meth:`_numbers_html`,
    :meth:`_make_view` (the slow part: returns a payload and its HTML), :meth:`_settings`.

    With ``background_views`` (a class attribute), views are made in a worker thread when a
    notebook's event loop runs: the controls stay live, and a setting the user has already left
    is cancelled rather than finished. Without a loop (scripts, tests) they are made in place.

    Attributes shared by both explorers: ``numbers`` (counts and sizes), ``cost``, ``breakdown``,
    ``view`` (the frames or the plot), ``status``, ``views_made`` (slow views computed; the
    cache saves the rest).
    """

    prices: Prices
    output_tokens: int
    background_views = False

    def _build(
        self,
        title: str,
        controls: Sequence[w.DOMWidget],
        rows: Sequence[w.DOMWidget],
        *,
        prices: Prices | None,
        output_tokens: int,
        debounce: float,
        cache_size: int,
    ) -> None:
        """Lay out ``rows`` above the numbers, watch ``controls``, and show the first state."""
        self.prices = as_prices(prices) or load_prices()
        self.output_tokens = validate.non_negative_int("output_tokens", output_tokens)
        self.cache_size = validate.positive_int("cache_size", cache_size, hint="(views kept)")
        debounce = validate.non_negative("debounce", debounce, hint="(seconds)")
        self.views_made = 0
        self._cache: OrderedDict[Hashable, tuple[Any, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: tuple[Hashable, threading.Event, threading.Thread | None] | None = None
        self.numbers, self.cost, self.breakdown, self.view = w.HTML(), w.HTML(), w.HTML(), w.HTML()
        self.status = w.Label()
        style = w.HTML()  # the live widget's own CSS; it also hides this widget's static snapshot
        panel = w.VBox(
            [*rows, self.numbers, self.cost], layout=w.Layout(width="500px", flex="0 0 auto")
        )
        view = w.VBox([self.status, self.view], layout=w.Layout(flex="1 1 auto", min_width="0"))
        head = [w.Label(title, style={"font_weight": "bold"})] if title else []
        super().__init__([*head, *self._arrange(panel, self.breakdown, view), style])
        self.add_class(render.EXPLORER_CLASS)
        style.value = render.explorer_style(self.model_id)
        self._title = title
        self._debouncer = _Debouncer(debounce, self._refresh_view)
        if hasattr(self, "profile"):
            # observed first, so the observers below see the controls it disables
            self.profile.observe(self._on_profile, names="value")
            self._on_profile()
        for control in controls:
            control.observe(self._on_change, names="value")
        self._refresh_numbers()
        self._refresh_view(
            background=False
        )  # the first view is there when the cell shows (and in its snapshot)

    # -- what a subclass defines

    def key(self) -> Hashable:  # pragma: no cover - abstract
        """The current controls, as the slow view's cache key."""
        raise NotImplementedError

    def estimate(self) -> TokenBreakdown | ServerTokenBreakdown:  # pragma: no cover - abstract
        """The token breakdown for the current controls (a server's under a server profile)."""
        raise NotImplementedError

    def _numbers_html(self, b: Any) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _panels(self) -> tuple[str, str, str]:
        """HTML of the numbers, the cost line and the breakdown for the current controls."""
        b = self.estimate()
        return (self._numbers_html(b), *self._breakdown_panels(b))

    def _breakdown_panels(self, b: TokenBreakdown | ServerTokenBreakdown) -> tuple[str, str]:
        """The cost line and the breakdown table of ``b``: the API's, or a self-hosted server's."""
        if isinstance(b, ServerTokenBreakdown):
            return render.self_hosted_cost_html(b), render.server_breakdown_html(b)
        cost = estimate_cost(b, self.prices, output_tokens=self.output_tokens)
        return render.cost_line_html(cost), render.breakdown_html(b)

    # -- the profile dropdown, shared

    def _profile_name(self) -> str:
        return str(self.profile.value)

    def _server_profile(self) -> bool:
        return not get_profile(self._profile_name()).has_media_resolution

    def _media_resolution(self) -> str:
        """The toggle's value, or "default" under a server profile (it has no such knob)."""
        return "default" if self._server_profile() else str(self.media_resolution.value)

    def _on_profile(self, _change: Any = None) -> None:
        """Disable the controls the chosen profile ignores (before the numbers are refreshed)."""
        if hasattr(self, "media_resolution"):
            self.media_resolution.disabled = self._server_profile()

    def _make_view(
        self, key: Any, cancel: threading.Event, apply: Apply
    ) -> tuple[Any, str]:  # pragma: no cover
        """The slow view for ``key``: (payload, HTML). May paint steps on the way with ``apply``."""
        raise NotImplementedError

    def _settings(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _arrange(self, panel: w.VBox, breakdown: w.HTML, view: w.VBox) -> list[w.DOMWidget]:
        """Controls and numbers on the left, the breakdown under them, the view on the right."""
        panel.children = [*panel.children, breakdown]
        return [w.HBox([panel, view])]

    # -- reacting

    def _on_change(self, _change: Any = None) -> None:
        self._refresh_numbers()  # cheap arithmetic: always immediate
        if self._cached(self.key()) is not None:
            self._debouncer.cancel()
            self._refresh_view()  # a cached view needs no debounce
        else:
            self.status.value = "updating…"
            self._debouncer()

    def flush(self) -> None:
        """Make the view now, here, if a debounced update is waiting (or wait for the one
        running)."""
        if self._debouncer.pending:
            self._debouncer.cancel()
            self._refresh_view(background=False)
        self.wait()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the view being made in the background is done."""
        loading = self._loading
        if loading is not None and loading[2] is not None:
            loading[2].join(timeout)

    def _refresh_numbers(self) -> None:
        try:
            panels = self._panels()
        except MimoError as exc:
            self.numbers.value, self.cost.value, self.breakdown.value = (
                "",
                "",
                render.error_html(exc),
            )
            return
        self.numbers.value, self.cost.value, self.breakdown.value = panels

    # -- the slow view: cached, made in place or in a worker thread

    def _cached(self, key: Hashable) -> tuple[Any, str] | None:
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None:
                self._cache.move_to_end(key)
            return entry

    def _store(self, key: Hashable, entry: tuple[Any, str]) -> tuple[Any, str]:
        with self._lock:
            self.views_made += 1
            self._cache[key] = entry
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return entry

    def _entry(self, key: Hashable) -> tuple[Any, str]:
        """The view for ``key``, made here if it is not cached."""
        return self._cached(key) or self._store(key, self._make_view(key, threading.Event(), _now))

    def _refresh_view(self, background: bool = True) -> None:
        key = self.key()
        cached = self._cached(key)
        if cached is not None:
            self._cancel_loading()
            self._paint(key, cached[1], "")
            return
        if self._loading is not None and self._loading[0] == key and not self._loading[1].is_set():
            return  # already being made
        self._cancel_loading()
        cancel = threading.Event()
        loop = _running_loop() if background and self.background_views else None
        if loop is None:  # a script, a test, or a quick view: made here, painting the same steps
            self._loading = (key, cancel, None)
            self._load(key, cancel, _now)
            return
        worker = threading.Thread(
            target=self._load,
            args=(key, cancel, lambda paint: loop.call_soon_threadsafe(paint)),
            name="mimo_nb-explorer",
            daemon=True,
        )
        self._loading = (key, cancel, worker)
        worker.start()

    def _cancel_loading(self) -> None:
        if self._loading is not None:
            self._loading[1].set()  # the maker stops at its next check

    def _paint(self, key: Hashable, view_html: str, status: str) -> None:
        if key != self.key():
            return  # the user has moved on
        self.view.value = view_html
        self.status.value = status

    def _load(self, key: Hashable, cancel: threading.Event, apply: Apply) -> None:
        """Make one view (in the worker thread in a notebook) and paint it, or the error."""
        try:
            entry = self._make_view(key, cancel, apply)
            if cancel.is_set():
                return
            self._store(key, entry)
            apply(lambda: self._paint(key, entry[1], ""))
        except MimoError as exc:
            if not cancel.is_set():
                error = render.error_html(exc)
                apply(lambda: self._paint(key, error, ""))

    # -- where widgets are not live

    def snapshot_html(self) -> str:
        """The current state as plain HTML: settings, numbers, cost, breakdown and the view."""
        numbers = self.numbers.value + self.cost.value + self.breakdown.value
        return render.explorer_snapshot_html(
            self._title, self._settings(), numbers, self.view.value
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._settings()}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """The widget view; its HTML stand-in is empty, since the snapshot is its own output."""
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = ""
        return bundle

    def _ipython_display_(self) -> None:
        """Two outputs: the static snapshot (hidden by the live widget), then the widget."""
        snapshot = render.widget_fallback_html(self.snapshot_html(), self.model_id)
        _ipython_display({"text/html": snapshot, "text/plain": f"snapshot of {self!r}"}, raw=True)
        _ipython_display(self._repr_mimebundle_(), raw=True)


def _now(paint: Callable[[], None]) -> None:
    paint()


# ---- FrameExplorer --------------------------------------------------------------------------


class FrameExplorer(Explorer):
    """Explore which frames the model sees at each fps, their size, tokens and cost.

    Args:
        video: an opened :class:`mimo_nb.media.video.Video` (anything with ``estimate`` and
            ``sample``).
        fps, media_resolution, size: starting values of the controls (fps on the API's 0.1 grid).
        profile: whose sampling rules (:mod:`mimo_nb.core.profiles`); a dropdown in the widget.
        prices: for the cost line (the shipped, cited CNY prices when None).
        output_tokens: answer length to include in the cost (0: prompt only).
        debounce: seconds the slider must rest before decoding; 0 decodes on every change.
        progress_after: seconds of decoding before the progress bar appears.
        cache_size: decoded frame sets kept (least recently used dropped first).
        columns, max_frames: layout of the grid.
        preview_after: from this many frames in the file on, a new setting first paints a
            keyframe preview at once, and the exact frames replace it as they are decoded.

    In a notebook, frames are decoded in a background thread: the controls stay live, and a
    setting the user has already left is cancelled rather than decoded to the end.

    >>> from mimo_nb.media.video import Video
    >>> explorer = FrameExplorer(Video.open("clip.mp4"), debounce=0)
    >>> explorer.fps.value = 4        # the grid, count, size, tokens and cost follow
    >>> len(explorer.frames())
    8
    """

    background_views = True

    def __init__(
        self,
        video: Any,
        *,
        fps: float = FPS_DEFAULT,
        media_resolution: str = "default",
        size: str = "model",
        profile: str = DEFAULT_PROFILE,
        prices: Prices | None = None,
        output_tokens: int = 0,
        debounce: float = 0.15,
        progress_after: float = 0.3,
        cache_size: int = 32,
        columns: int = 4,
        max_frames: int | None = 120,
        preview_after: int = 3000,
    ) -> None:
        self.video = video
        self.progress_after = validate.non_negative("progress_after", progress_after)
        self.columns = validate.positive_int("columns", columns)
        self.max_frames = validate.non_negative_int("max_frames", max_frames, allow_none=True)
        self.preview_after = validate.non_negative_int("preview_after", preview_after)
        self.fps = _fps_slider(fps)
        self.media_resolution = _toggle(
            "media_resolution", list(MEDIA_RESOLUTIONS), media_resolution
        )
        self.size = _toggle("size", [("model view", "model"), ("native size", "native")], size)
        self.profile = _profile_dropdown(profile)
        self.progress = w.IntProgress(
            value=0,
            min=0,
            max=1,
            description="decoding",
            style=_DESCRIPTION,
            layout=w.Layout(visibility="hidden"),
        )
        rows = [
            self.fps,
            _labelled("media_resolution", self.media_resolution),
            self.profile,
            _labelled("show frames at", self.size),
            self.progress,
        ]
        self._build(
            str(getattr(video, "name", "") or "video"),
            [self.fps, self.media_resolution, self.size, self.profile],
            rows,
            prices=prices,
            output_tokens=output_tokens,
            debounce=debounce,
            cache_size=cache_size,
        )

    @property
    def decodes(self) -> int:
        """How many times frames were decoded (the cache saves the rest)."""
        return self.views_made

    def key(self) -> tuple[float, str, str, str]:
        """The current controls: (fps, media_resolution, size, profile).

        Under a server profile media_resolution is "default" (the server has no such knob).
        """
        return (
            float(self.fps.value),
            self._media_resolution(),
            self.size.value,
            self._profile_name(),
        )

    def estimate(self) -> TokenBreakdown | ServerTokenBreakdown:
        """The breakdown for the controls: ``video.estimate(fps, media_resolution, profile=)``."""
        fps, media_resolution, _, profile = self.key()
        return self.video.estimate(fps, media_resolution, **self._rules(profile))

    @staticmethod
    def _rules(profile: str) -> dict[str, str]:
        """``profile=`` for the video's methods; none for the API's (so any object with the
        methods' older signature still works)."""
        return {} if profile == DEFAULT_PROFILE else {"profile": profile}

    def frames(self) -> Any:
        """The decoded :class:`~mimo_nb.media.video.Frames` for the current controls (cached)."""
        self.wait()
        return self._entry(self.key())[0]

    def _numbers_html(self, b: TokenBreakdown | ServerTokenBreakdown) -> str:
        return render.sampled_frames_html(b)

    def _settings(self) -> str:
        fps, media_resolution, size, profile = self.key()
        return f"fps={fps:g}, media_resolution={media_resolution}, frames shown at {size} size" + (
            "" if profile == DEFAULT_PROFILE else f", profile={profile}"
        )

    def _make_view(
        self, key: tuple[float, str, str, str], cancel: threading.Event, apply: Apply
    ) -> tuple[Any, str]:
        try:
            return self._load_frames(key, cancel, apply)
        finally:
            apply(self._hide_progress)

    def _load_frames(
        self, key: tuple[float, str, str, str], cancel: threading.Event, apply: Apply
    ) -> tuple[Any, str]:
        """Decode one setting's frames, and their grid: for long files a keyframe preview first,
        then the exact frames as they arrive (:class:`_ProgressiveGrid`).

        UI updates (progress, preview, partial grids) go through ``apply``, which runs them on
        the notebook's event loop when this runs in the worker thread.
        """
        fps, media_resolution, size, profile = key
        progressive = (
            hasattr(self.video, "iter_sample")
            and getattr(self.video, "native_frame_count", 0) >= self.preview_after
        )
        grid = _FrameGrid(self.columns, self.max_frames)
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if time.monotonic() - started >= self.progress_after:
                apply(lambda: self._show_progress(done, total))

        options: dict[str, Any] = {"progress": progress, **self._rules(profile)}
        if not progressive:
            if hasattr(self.video, "iter_sample"):
                options.update(cancel=cancel)
            frames = self.video.sample(fps, media_resolution, size=size, **options)
            return frames, grid.html(frames)
        # the preview before the decode, not beside it: beside it, it slowed both (measured)
        preview = self.video.preview(fps, media_resolution, size=size, **self._rules(profile))
        painter = _ProgressiveGrid(
            grid,
            preview,
            lambda html, status: apply(lambda: self._paint(key, html, status)),
        )
        options.update(cancel=cancel, on_frame=painter.on_frame)
        frames = self.video.sample(fps, media_resolution, size=size, **options)
        return frames, painter.final_html(frames)

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.max, self.progress.value = max(total, 1), done
        self.progress.layout.visibility = "visible"

    def _hide_progress(self) -> None:
        self.progress.layout.visibility = "hidden"


class _FrameGrid:
    """One setting's frame grid, repainted from cached cells.

    Each shown position keeps the JPEG data URI of the pixels it shows; :meth:`html` encodes only
    the positions it is told have changed (and those never encoded), and in a grid of repeated
    pictures (a keyframe preview) a cell equal to the one before reuses its thumbnail.
    """

    def __init__(self, columns: int, max_frames: int | None) -> None:
        self.columns, self.max_frames = columns, max_frames
        self.encoded = 0  # thumbnails encoded so far
        self._uris: dict[int, str] = {}

    def shown(self, frames: Any) -> int:
        """How many of ``frames`` the grid shows."""
        return int(frames.grid_note(self.max_frames)[0])

    def html(self, frames: Any, changed: Iterable[int] = ()) -> str:
        """The grid of ``frames`` (as ``frames.to_html``); thumbnails at ``changed`` are redone."""
        shown, note = frames.grid_note(self.max_frames)
        for position in changed:
            self._uris.pop(position, None)
        repeated = bool(getattr(frames, "repeated", False))
        for position in range(shown):
            if position in self._uris:
                continue
            image = frames.array[position]
            before = self._uris.get(position - 1)
            if (
                repeated
                and before is not None
                and np.array_equal(image, frames.array[position - 1])
            ):
                self._uris[position] = before  # the same keyframe: its thumbnail again
            else:
                self._uris[position] = render.thumbnail_uri(image)
                self.encoded += 1
        captions = frames.captions()[:shown]
        cells = [render.frame_cell_html(self._uris[p], captions[p]) for p in range(shown)]
        return render.frame_cells_html(cells, self.columns, note)

    def differing(self, painted: Any, frames: Any) -> set[int]:
        """Shown positions where ``frames`` has other pixels than ``painted``."""
        shown = min(self.shown(frames), len(painted))
        return {
            p for p in range(shown) if not np.array_equal(painted.array[p], frames.array[p])
        } | set(range(shown, self.shown(frames)))


class _ProgressiveGrid:
    """A long video's grid while its exact frames are decoded.

    Paints the keyframe preview at once; then, at most once a second, repaints with the cells
    whose exact frames arrived: only those thumbnails are encoded (:class:`_FrameGrid`), so a
    repaint costs a few JPEGs, not the whole grid. (A painter thread beside the decode was
    measured slower: it contended with the decode's threads.)
    """

    def __init__(self, grid: _FrameGrid, preview: Any, paint: Callable[[str, str], None]) -> None:
        self.grid, self.arrived = grid, 0
        self._shown = preview  # its cells are overwritten by the exact frames as they come
        self._in_view = grid.shown(preview)
        self._changed: set[int] = set()  # cells whose exact frame came since the last paint
        self._paint = paint
        self._last_paint = time.monotonic()
        paint(grid.html(preview), "preview (keyframes); exact frames on the way…")

    def on_frame(self, item: Any) -> None:
        """Put an exact frame in the cells in view; repaint if a second has passed."""
        self.arrived += 1
        positions = [p for p in item.positions if p < self._in_view]
        if positions:
            self._shown.array[positions] = item.array
            self._changed.update(positions)
        if self._changed and time.monotonic() - self._last_paint >= 1.0:
            self._last_paint = time.monotonic()
            html = self.grid.html(self._shown, self._changed)
            self._changed.clear()
            self._paint(html, f"{self.arrived} exact frames so far…")

    def final_html(self, frames: Any) -> str:
        """The grid of ``frames`` (sample()'s): the cells already made from the same pixels are
        kept, every other one is encoded from ``frames``."""
        differ = self._changed | self.grid.differing(self._shown, frames)
        return self.grid.html(frames, differ)


# ---- TokenCostExplorer ----------------------------------------------------------------------


def frame_size_presets() -> dict[str, tuple[int, int]]:
    """Preset names to (width, height): 360p to 4K, landscape and portrait.

    >>> frame_size_presets()["1080p portrait"]
    (1080, 1920)
    """
    presets: dict[str, tuple[int, int]] = {}
    for name, (width, height) in RESOLUTION_PRESETS.items():
        presets[f"{name} landscape"] = (width, height)
        presets[f"{name} portrait"] = (height, width)
    return presets


CUSTOM = "custom (width x height)"


class _ClipExplorer(Explorer):
    """An explorer over a clip described by its controls (no video): duration, frame size,
    sound, profile and the file's frame rate.

    Shared by :class:`TokenCostExplorer` and :class:`BudgetExplorer`.
    """

    def _clip_controls(
        self, duration: float, preset: str, mute: bool, profile: str, native_fps: float
    ) -> None:
        duration = validate.positive("duration", duration, maximum=validate.MAX_DURATION)
        native_fps = validate.positive("native_fps", native_fps)
        self.presets = frame_size_presets()
        validate.choice("preset", preset, [*self.presets, CUSTOM])
        self.duration = DurationSlider(
            duration,
            description="duration",
            style=_DESCRIPTION,
            continuous_update=True,
            layout=w.Layout(width="100%"),
        )
        self.preset = w.Dropdown(
            options=[*self.presets, CUSTOM],
            value=preset,
            description="frame size",
            style=_DESCRIPTION,
        )
        width, height = self.presets.get(preset, RESOLUTION_PRESETS["1080p"])
        box = {
            "min": 1,
            "max": 16384,
            "disabled": preset != CUSTOM,
            "layout": w.Layout(width="150px"),
            "style": {"description_width": "45px"},
        }
        self.width = SizeBox(value=width, description="width", **box)
        self.height = SizeBox(value=height, description="height", **box)
        self.sizes = w.HBox(
            [self.width, self.height], layout=w.Layout(margin=f"0 0 0 {LABEL_WIDTH}")
        )
        self.mute = w.Checkbox(
            value=mute,
            description="mute (no audio track)",
            style=_DESCRIPTION,
            layout=w.Layout(width="auto"),
        )
        self.profile = _profile_dropdown(profile)
        self.native_fps = _native_fps_dropdown(native_fps)
        self.preset.observe(self._on_preset, names="value")

    def frame_size(self) -> tuple[int, int]:
        """(width, height) of the current preset or custom size."""
        return int(self.width.value), int(self.height.value)

    def _native(self) -> float | None:
        """The file's frame rate a server profile counts from; None for the API (it does not)."""
        return float(self.native_fps.value) if self._server_profile() else None

    def _on_profile(self, _change: Any = None) -> None:
        super()._on_profile(_change)
        self.native_fps.disabled = not self._server_profile()

    def _on_preset(self, change: Any) -> None:
        custom = change["new"] == CUSTOM
        self.width.disabled = self.height.disabled = not custom
        if not custom:
            width, height = self.presets[change["new"]]
            with self.hold_trait_notifications():
                self.width.value, self.height.value = width, height
        self._on_change()

    def _profile_settings(self) -> str:
        """``, profile=..., native fps ...`` under a server profile; nothing for the API."""
        native = self._native()
        return "" if native is None else f", profile={self._profile_name()}, native fps {native:g}"

    def _clip_settings(self) -> str:
        width, height = self.frame_size()
        return (
            f"{_duration_label(float(self.duration.value))}, {width}x{height}"
            f"{', muted' if self.mute.value else ''}{self._profile_settings()}"
        )


class TokenCostExplorer(_ClipExplorer):
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
        self.fps = _fps_slider(fps)
        self.media_resolution = _toggle(
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
            _labelled("media_resolution", self.media_resolution),
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
            f"{_duration_label(float(self.duration.value))}, fps={float(self.fps.value):g}, "
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
        from matplotlib.figure import (
            Figure,  # not pyplot: the explorer's figure never shows on its own
        )

        duration, width, height, mute, fps, profile, native_fps = key
        fig = Figure(figsize=(10.0, 4.0), layout="constrained")
        plot_tokens_vs_fps(
            duration,
            width,
            height,
            mute=mute,
            current=fps,
            ax=fig.add_subplot(),
            profile=profile,
            native_fps=native_fps,
        )
        return None, render.figure_html(fig, dpi=80, alt="tokens against fps")


# ---- BudgetExplorer -------------------------------------------------------------------------


class BudgetExplorer(_ClipExplorer):
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
            style=_DESCRIPTION,
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


# ---- Streaming ------------------------------------------------------------------------------


def _bundle(html_text: str, plain: str) -> dict[str, str]:
    return {"text/html": html_text, "text/plain": plain}


class _StreamArea:
    """One output area that shows a streamed answer as it grows, then the final rendering."""

    def __init__(self, handle: Any, min_interval: float) -> None:
        self.handle = handle
        self.min_interval = min_interval
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.last = 0.0

    def show(self, note: str) -> None:
        text, thought = "".join(self.content), "".join(self.reasoning)
        self.handle.update(
            _bundle(render.streaming_html(text, thought, note=note), text or thought), raw=True
        )

    def add(self, delta: Any) -> None:
        (self.reasoning if delta.kind == "reasoning" else self.content).append(delta.text)
        now = time.monotonic()
        if now - self.last >= self.min_interval:
            self.show("streaming…")
            self.last = now

    def broken(self, exc: BaseException) -> None:
        self.show(f"the stream broke off: {exc}")

    def finish(self, completion: Any) -> Any:
        self.handle.update(
            _bundle(render.completion_html(completion), render.completion_text(completion)),
            raw=True,
        )
        return completion


class _StreamPrinter:
    """Outside a notebook: the text printed as it arrives, labelled by kind."""

    def __init__(self) -> None:
        self.kind: str | None = None

    def add(self, delta: Any) -> None:
        if delta.kind != self.kind:
            print(f"\n[{'reasoning' if delta.kind == 'reasoning' else 'answer'}]", flush=True)
            self.kind = delta.kind
        print(delta.text, end="", flush=True)

    def broken(self, exc: BaseException) -> None:
        print()

    def finish(self, completion: Any) -> Any:
        print()
        return completion


def _stream_sink(min_interval: float) -> _StreamArea | _StreamPrinter:
    handle = _open_area(
        _bundle(render.streaming_html("", "", note="waiting for the first token…"), "…")
    )
    return _StreamPrinter() if handle is None else _StreamArea(handle, min_interval)


def display_stream(stream: Any, *, min_interval: float = 0.1) -> Any:
    """Show a streamed answer in one output area, updated in place, then the final rendering.

    In a notebook the area is a display with a ``display_id``, updated at most every
    ``min_interval`` seconds (sanitised Markdown each time). Outside one, the text is printed as
    it arrives. Returns the assembled :class:`~mimo_nb.api.response.Completion`. If the stream
    breaks off, the area keeps what arrived with a note, and the error is raised.
    For :class:`~mimo_nb.api.client.AsyncCompletionStream` use :func:`display_stream_async`.

    >>> from mimo_nb.api.client import CompletionStream
    >>> from mimo_nb.api.response import spec_example_completion
    >>> stream = CompletionStream.from_completion(spec_example_completion())
    >>> done = display_stream(stream)  # doctest: +ELLIPSIS
    <BLANKLINE>
    [reasoning]
    ...
    """
    sink = _stream_sink(min_interval)
    try:
        for delta in stream:
            sink.add(delta)
    except StreamInterruptedError as exc:
        sink.broken(exc)
        raise
    return sink.finish(stream.completion)


async def display_stream_async(stream: Any, *, min_interval: float = 0.1) -> Any:
    """:func:`display_stream` for the async client: ``done = await display_stream_async(stream)``.

    ``stream`` is an :class:`~mimo_nb.api.client.AsyncCompletionStream` (``await client.ask(...,
    stream=True)`` of :class:`~mimo_nb.api.client.AsyncMimoClient`); the area is updated as deltas
    arrive, without blocking the event loop.
    """
    sink = _stream_sink(min_interval)
    try:
        async for delta in stream:
            sink.add(delta)
    except StreamInterruptedError as exc:
        sink.broken(exc)
        raise
    return sink.finish(stream.completion)
