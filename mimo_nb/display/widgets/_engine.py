"""The engine every explorer shares (:class:`Explorer`): the numbers follow every change at
once; the slow view (decoded frames, a plot) waits until the controls rest, is cached, and
moving back costs nothing. Where widget JavaScript cannot run, an explorer still shows a static
snapshot of its state (:mod:`mimo_nb.display.render.explorers`).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import ipywidgets as w
from IPython.display import display as _ipython_display

from mimo_nb.core import validate
from mimo_nb.core.pricing import Prices, as_prices, estimate_cost, load_prices
from mimo_nb.core.profiles import ServerTokenBreakdown, get_profile
from mimo_nb.core.tokens import TokenBreakdown
from mimo_nb.display import render
from mimo_nb.errors import MimoError


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

    def _numbers_html(self, b: TokenBreakdown | ServerTokenBreakdown) -> str:  # pragma: no cover
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
