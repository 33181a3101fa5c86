"""Notebook widgets: see the frames the model sees, what they cost, and answers as they stream.

* :class:`FrameExplorer` -- an fps slider, the ``default``/``max`` toggle and a model/native size
  toggle beside the sampled frames, their count, the model frame size, the token breakdown and
  the estimated cost. Decoded frames are cached, so moving back costs nothing; decoding is
  debounced while you drag and shows progress when it takes more than a moment.
* :class:`TokenCostExplorer` -- no video needed: duration, fps, a resolution preset (or custom
  size), the toggle and mute, with the breakdown and a live plot. For teaching the formula.
* :func:`display_stream` -- one output area updated in place as a streamed answer arrives.

Where widgets are not live (nbconvert HTML, GitHub), each explorer still shows a static picture
of its current state: its ``_repr_mimebundle_`` carries a ``text/html`` snapshot beside the
widget view, and nbconvert falls back to it when no widget state was saved.

>>> from mimo_nb.video import Video
>>> FrameExplorer(Video.open("clip.mp4"))      # last value of a cell
>>> TokenCostExplorer()
>>> done = display_stream(client.ask(video, "Describe it.", stream=True))
"""
from __future__ import annotations

import asyncio
import html
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Hashable

import ipywidgets as w
from IPython.display import display as _ipython_display

from . import render
from .errors import MimoError, StreamInterruptedError
from .plots import RESOLUTION_PRESETS, plot_tokens_vs_fps
from .pricing import Prices, estimate_cost, load_prices
from .tokens import FPS_DEFAULT, FPS_MAX, FPS_MIN, TokenBreakdown, explain_video_tokens

__all__ = ["FrameExplorer", "TokenCostExplorer", "display_stream", "frame_size_presets"]



def _open_area(bundle: dict[str, str]) -> Any:
    """A display handle in a notebook (one seam, so tests can watch); None anywhere else."""
    from IPython.core.interactiveshell import InteractiveShell

    if not InteractiveShell.initialized():  # plain Python: display() would print the raw dict
        return None
    return _ipython_display(bundle, raw=True, display_id=True)


# ---- Shared pieces --------------------------------------------------------------------------


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


def _error_html(exc: Exception) -> str:
    return f"<div class='mimo-error' style='color:#b00'>{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</div>"


def _cost_line(breakdown: TokenBreakdown, prices: Prices, output_tokens: int) -> str:
    cost = estimate_cost(breakdown, prices, output_tokens=output_tokens)
    what = "prompt" + (f" + {output_tokens:,} output tokens" if output_tokens else "")
    return (f"<div class='mimo-cost-line'><b>{cost.total:.6f} {html.escape(cost.currency)}</b> "
            f"estimated ({what})<br><span style='color:#666;font-size:smaller'>"
            f"{html.escape(prices.citation)}</span></div>")


class _SnapshotMixin:
    """Widget view where widgets are live, plus a static HTML picture where they are not."""

    def snapshot_html(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]  # ipywidgets: text/plain + view
        bundle = dict(bundle or {})
        bundle["text/html"] = (
            "<div class='mimo-snapshot'>" + self.snapshot_html() +
            "<div style='color:#888;font-size:smaller'>static snapshot; run the notebook to use the controls</div></div>"
        )
        return bundle


# ---- FrameExplorer --------------------------------------------------------------------------


class FrameExplorer(_SnapshotMixin, w.VBox):
    """Explore which frames the model sees at each fps, their size, tokens and cost.

    Args:
        video: an opened :class:`mimo_nb.video.Video` (anything with ``estimate`` and ``sample``).
        fps, media_resolution, size: starting values of the controls.
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

    >>> explorer = FrameExplorer(Video.open("clip.mp4"))
    >>> explorer.fps.value = 4        # the grid, count, size, tokens and cost follow
    """

    def __init__(
        self,
        video: Any,
        *,
        fps: float = FPS_DEFAULT,
        media_resolution: str = "default",
        size: str = "model",
        prices: Prices | None = None,
        output_tokens: int = 0,
        debounce: float = 0.15,
        progress_after: float = 0.3,
        cache_size: int = 32,
        columns: int = 6,
        max_frames: int | None = 120,
        preview_after: int = 3000,
    ) -> None:
        self.video = video
        self.preview_after = preview_after
        self._loading: tuple[tuple[float, str, str], threading.Event, threading.Thread | None] | None = None
        self._lock = threading.Lock()
        self.prices = prices or load_prices()
        self.output_tokens = int(output_tokens)
        self.progress_after = progress_after
        self.cache_size = cache_size
        self.columns = columns
        self.max_frames = max_frames
        self.decodes = 0  # how many times frames were decoded (the cache saves the rest)
        self._cache: OrderedDict[Hashable, tuple[Any, str]] = OrderedDict()

        self.fps = w.FloatSlider(value=fps, min=FPS_MIN, max=FPS_MAX, step=0.1, description="fps",
                                 readout_format=".1f", continuous_update=True)
        self.media_resolution = w.ToggleButtons(options=["default", "max"], value=media_resolution,
                                          description="media_resolution", style={"button_width": "70px"})
        self.size = w.ToggleButtons(options=[("model view", "model"), ("native", "native")], value=size,
                                    description="show", style={"button_width": "90px"})
        self.progress = w.IntProgress(value=0, min=0, max=1, description="decoding",
                                      layout=w.Layout(visibility="hidden"))
        self.count = w.HTML()
        self.model_size = w.HTML()
        self.breakdown = w.HTML()
        self.cost = w.HTML()
        self.grid = w.HTML()
        self.status = w.HTML()
        controls = w.VBox([self.fps, self.media_resolution, self.size, self.progress, self.count, self.model_size,
                           self.cost, self.breakdown], layout=w.Layout(min_width="360px"))
        header = w.HTML(f"<b>{html.escape(str(getattr(video, 'name', '') or 'video'))}</b>")
        super().__init__([header, w.HBox([controls, w.VBox([self.status, self.grid])])])

        self._debouncer = _Debouncer(debounce, self._refresh_grid)
        for control in (self.fps, self.media_resolution, self.size):
            control.observe(self._on_change, names="value")
        self._refresh_numbers()
        self._refresh_grid(background=False)  # the first grid is there when the cell shows (and in its snapshot)

    # -- what the controls say

    def key(self) -> tuple[float, str, str]:
        """The cache key of the current controls: (fps, media_resolution, size)."""
        return (round(float(self.fps.value), 6), self.media_resolution.value, self.size.value)

    def estimate(self) -> TokenBreakdown:
        """The token breakdown for the current controls."""
        return self.video.estimate(float(self.fps.value), self.media_resolution.value)

    # -- reacting

    def _on_change(self, _change: Any = None) -> None:
        self._refresh_numbers()  # cheap arithmetic: always immediate
        if self.key() in self._cache:
            self._debouncer.cancel()
            self._refresh_grid()  # a cache hit needs no debounce
        else:
            self.status.value = "<span style='color:#888'>…</span>"
            self._debouncer()

    def flush(self) -> None:
        """Decode now, here, if a debounced update is waiting (or wait for the one running)."""
        if self._debouncer.pending:
            self._debouncer.cancel()
            self._refresh_grid(background=False)
        self.wait()

    def _refresh_numbers(self) -> None:
        try:
            b = self.estimate()
        except MimoError as exc:
            self.breakdown.value, self.cost.value = _error_html(exc), ""
            return
        self.count.value = f"<b>{b.frames}</b> frames sampled ({b.grids} grids of 2)"
        self.model_size.value = (f"model frame size <b>{b.width} x {b.height}</b> "
                                 f"(from {b.source_width} x {b.source_height})")
        self.breakdown.value = render.breakdown_html(b)
        self.cost.value = _cost_line(b, self.prices, self.output_tokens)

    def frames(self) -> Any:
        """The decoded :class:`~mimo_nb.video.Frames` for the current controls (cached)."""
        self.wait()
        return self._entry(self.key())[0]

    def wait(self, timeout: float | None = None) -> None:
        """Block until the frames for the current setting are decoded (background decoding)."""
        loading = self._loading
        if loading is not None and loading[2] is not None:
            loading[2].join(timeout)

    def _entry(self, key: tuple[float, str, str]) -> tuple[Any, str]:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        fps, media_resolution, size = key
        frames = self.video.sample(fps, media_resolution, size=size)
        return self._store(key, frames)

    def _store(self, key: tuple[float, str, str], frames: Any) -> tuple[Any, str]:
        entry = (frames, frames.to_html(columns=self.columns, max_frames=self.max_frames))
        with self._lock:
            self.decodes += 1
            self._cache[key] = entry
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return entry

    def _refresh_grid(self, background: bool = True) -> None:
        key = self.key()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            self._cancel_loading()
            self._paint(key, cached[1], "")
            return
        if self._loading is not None and self._loading[0] == key and not self._loading[1].is_set():
            return  # already decoding this setting
        self._cancel_loading()
        cancel = threading.Event()
        loop = _running_loop() if background else None
        if loop is None:  # a script or a test: decode here, painting the same steps
            self._loading = (key, cancel, None)
            self._load(key, cancel, lambda paint: paint())
            return
        worker = threading.Thread(target=self._load, args=(key, cancel, lambda paint: loop.call_soon_threadsafe(paint)),
                                  name="mimo_nb-explorer", daemon=True)
        self._loading = (key, cancel, worker)
        worker.start()

    def _cancel_loading(self) -> None:
        if self._loading is not None:
            self._loading[1].set()  # the decoder stops after the frame it is on

    def _paint(self, key: tuple[float, str, str], grid_html: str, status: str) -> None:
        if key != self.key():
            return  # the user has moved on
        self.grid.value = grid_html
        self.status.value = status

    def _load(self, key: tuple[float, str, str], cancel: threading.Event, apply: Callable[[Callable[[], None]], Any]) -> None:
        """Decode one setting's frames (in the worker thread in a notebook): preview, partial, final."""
        fps, media_resolution, size = key
        progressive = hasattr(self.video, "iter_sample") and getattr(self.video, "native_frame_count", 0) >= self.preview_after
        started = time.monotonic()
        shown: Any = None
        arrived = 0
        last_paint = started

        def progress(done: int, total: int) -> None:
            if time.monotonic() - started >= self.progress_after:
                def show() -> None:
                    self.progress.max, self.progress.value = max(total, 1), done
                    self.progress.layout.visibility = "visible"
                apply(show)

        def on_frame(item: Any) -> None:  # exact frames replace the preview as they come
            nonlocal arrived, last_paint
            arrived += 1
            shown.array[list(item.positions)] = item.array
            if time.monotonic() - last_paint >= 1.0:
                last_paint = time.monotonic()
                grid = shown.to_html(columns=self.columns, max_frames=self.max_frames)
                apply(lambda: self._paint(key, grid, f"<span style='color:#888'>{arrived} exact frames so far…</span>"))

        try:
            options: dict[str, Any] = {"progress": progress}
            if progressive:
                shown = self.video.preview(fps, media_resolution, size=size)
                grid = shown.to_html(columns=self.columns, max_frames=self.max_frames)
                apply(lambda: self._paint(key, grid, "<span style='color:#888'>preview (keyframes); exact frames on the way…</span>"))
                options.update(cancel=cancel, on_frame=on_frame)
            elif hasattr(self.video, "iter_sample"):
                options.update(cancel=cancel)
            frames = self.video.sample(fps, media_resolution, size=size, **options)
            if cancel.is_set():
                return
            _, grid = self._store(key, frames)
            apply(lambda: self._paint(key, grid, ""))
        except MimoError as exc:
            if not cancel.is_set():
                error = _error_html(exc)
                apply(lambda: self._paint(key, error, ""))
        finally:
            apply(self._hide_progress)

    def _hide_progress(self) -> None:
        self.progress.layout.visibility = "hidden"

    # -- where widgets are not live

    def snapshot_html(self) -> str:
        """The current state as plain HTML: settings, numbers, breakdown, cost and the frames."""
        fps, media_resolution, size = self.key()
        settings = f"fps={fps:g}, media_resolution={media_resolution}, showing {size} size"
        return (
            f"<div><b>{html.escape(str(getattr(self.video, 'name', '') or 'video'))}</b> · {html.escape(settings)}</div>"
            "<div style='display:flex;gap:1.5em;align-items:flex-start'>"
            f"<div>{self.count.value}<br>{self.model_size.value}{self.cost.value}{self.breakdown.value}</div>"
            f"<div>{self.grid.value}</div></div>"
        )


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


class TokenCostExplorer(_SnapshotMixin, w.VBox):
    """Teach the formula: duration, fps, resolution, default/max and mute against tokens and cost.

    >>> explorer = TokenCostExplorer()
    >>> explorer.preset.value = "4K landscape"; explorer.media_resolution.value = "max"
    """

    def __init__(
        self,
        *,
        duration: float = 60.0,
        fps: float = FPS_DEFAULT,
        preset: str = "1080p landscape",
        media_resolution: str = "default",
        mute: bool = False,
        prices: Prices | None = None,
        output_tokens: int = 0,
        debounce: float = 0.2,
    ) -> None:
        self.prices = prices or load_prices()
        self.output_tokens = int(output_tokens)
        self.presets = frame_size_presets()
        self.duration = w.FloatLogSlider(value=duration, base=10, min=0, max=4, step=0.01,
                                         description="duration (s)", readout_format=".1f")
        self.fps = w.FloatSlider(value=fps, min=FPS_MIN, max=FPS_MAX, step=0.1, description="fps",
                                 readout_format=".1f")
        self.preset = w.Dropdown(options=[*self.presets, CUSTOM], value=preset, description="size")
        width, height = self.presets.get(preset, (1920, 1080))
        self.width = w.BoundedIntText(value=width, min=1, max=16384, description="width", disabled=preset != CUSTOM)
        self.height = w.BoundedIntText(value=height, min=1, max=16384, description="height", disabled=preset != CUSTOM)
        self.media_resolution = w.ToggleButtons(options=["default", "max"], value=media_resolution, description="media_resolution",
                                    style={"button_width": "70px"})
        self.mute = w.Checkbox(value=mute, description="mute (no audio track)")
        self.total = w.HTML()
        self.breakdown = w.HTML()
        self.cost = w.HTML()
        self.plot = w.HTML()
        controls = w.VBox([self.duration, self.fps, self.preset, w.HBox([self.width, self.height]), self.media_resolution,
                           self.mute, self.total, self.cost, self.breakdown], layout=w.Layout(min_width="380px"))
        super().__init__([w.HBox([controls, self.plot])])
        self.plots_drawn = 0
        self._debouncer = _Debouncer(debounce, self._refresh_plot)
        self.preset.observe(self._on_preset, names="value")
        for control in (self.duration, self.fps, self.width, self.height, self.media_resolution, self.mute):
            control.observe(self._on_change, names="value")
        self._refresh_numbers()
        self._refresh_plot()

    def frame_size(self) -> tuple[int, int]:
        """(width, height) of the current preset or custom size."""
        return int(self.width.value), int(self.height.value)

    def estimate(self) -> TokenBreakdown:
        """The token breakdown for the current controls."""
        width, height = self.frame_size()
        return explain_video_tokens(float(self.duration.value), width, height, float(self.fps.value),
                                    self.media_resolution.value, mute=bool(self.mute.value))

    def _on_preset(self, change: Any) -> None:
        custom = change["new"] == CUSTOM
        self.width.disabled = self.height.disabled = not custom
        if not custom:
            width, height = self.presets[change["new"]]
            with self.hold_trait_notifications():
                self.width.value, self.height.value = width, height
        self._on_change()

    def _on_change(self, _change: Any = None) -> None:
        self._refresh_numbers()
        self._debouncer()

    def flush(self) -> None:
        """Redraw the plot now if a debounced redraw is waiting."""
        self._debouncer.flush()

    def _refresh_numbers(self) -> None:
        try:
            b = self.estimate()
        except MimoError as exc:
            self.breakdown.value, self.cost.value, self.total.value = _error_html(exc), "", ""
            return
        self.total.value = f"<b>{b.total:,}</b> tokens estimated · model frame {b.width} x {b.height}"
        self.breakdown.value = render.breakdown_html(b)
        self.cost.value = _cost_line(b, self.prices, self.output_tokens)

    def _refresh_plot(self) -> None:
        width, height = self.frame_size()
        try:
            fig = plot_tokens_vs_fps(float(self.duration.value), width, height, mute=bool(self.mute.value),
                                     current=float(self.fps.value))
        except MimoError as exc:
            self.plot.value = _error_html(exc)
            return
        self.plot.value = render.figure_html(fig, dpi=80, alt="tokens against fps")
        self.plots_drawn += 1

    def snapshot_html(self) -> str:
        width, height = self.frame_size()
        settings = (f"{float(self.duration.value):.1f} s, fps={float(self.fps.value):g}, {width}x{height}, "
                    f"media_resolution={self.media_resolution.value}{', muted' if self.mute.value else ''}")
        return (
            f"<div>{html.escape(settings)}</div><div style='display:flex;gap:1.5em;align-items:flex-start'>"
            f"<div>{self.total.value}{self.cost.value}{self.breakdown.value}</div><div>{self.plot.value}</div></div>"
        )


# ---- Streaming ------------------------------------------------------------------------------


def _bundle(html_text: str, plain: str) -> dict[str, str]:
    return {"text/html": html_text, "text/plain": plain}


def display_stream(stream: Any, *, min_interval: float = 0.1) -> Any:
    """Show a streamed answer in one output area, updated in place, then the final rendering.

    In a notebook the area is a display with a ``display_id``, updated at most every
    ``min_interval`` seconds (sanitised Markdown each time). Outside one, the text is printed as
    it arrives. Returns the assembled :class:`~mimo_nb.response.Completion`. If the stream breaks
    off, the area keeps what arrived with a note, and the error is raised.

    >>> done = display_stream(client.ask(video, "Describe it.", stream=True))
    """
    handle = _open_area(_bundle(render.streaming_html("", "", note="waiting for the first token…"), "…"))
    if handle is None:  # not in a notebook
        return _print_stream(stream)
    content: list[str] = []
    reasoning: list[str] = []
    last = 0.0

    def show(note: str) -> None:
        text, thought = "".join(content), "".join(reasoning)
        handle.update(_bundle(render.streaming_html(text, thought, note=note), text or thought), raw=True)

    try:
        for delta in stream:
            (reasoning if delta.kind == "reasoning" else content).append(delta.text)
            now = time.monotonic()
            if now - last >= min_interval:
                show("streaming…")
                last = now
    except StreamInterruptedError as exc:
        show(f"the stream broke off: {exc}")
        raise
    completion = stream.completion
    handle.update(_bundle(render.completion_html(completion), render.completion_text(completion)), raw=True)
    return completion


def _print_stream(stream: Any) -> Any:
    kind = None
    for delta in stream:
        if delta.kind != kind:
            print(f"\n[{'reasoning' if delta.kind == 'reasoning' else 'answer'}]", flush=True)
            kind = delta.kind
        print(delta.text, end="", flush=True)
    print()
    return stream.completion
