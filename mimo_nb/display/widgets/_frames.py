"""The frame explorer: which frames the model sees at each fps, their size, tokens and cost,
decoded in the background and, for long files, painted progressively."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import numpy as np

from mimo_nb.core import validate
from mimo_nb.core.pricing import Prices
from mimo_nb.core.profiles import DEFAULT_PROFILE, ServerTokenBreakdown, get_profile
from mimo_nb.core.tokens import FPS_DEFAULT, MEDIA_RESOLUTIONS, TokenBreakdown
from mimo_nb.display import render
from mimo_nb.display.widgets._controls import (
    DESCRIPTION,
    fps_slider,
    labelled,
    profile_dropdown,
    toggle,
)
from mimo_nb.display.widgets._engine import Apply, Explorer

if TYPE_CHECKING:
    from mimo_nb.media.video import Frames, SampledFrame, Video


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
        video: Video,
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
        self.fps = fps_slider(fps)
        self.media_resolution = toggle(
            "media_resolution", list(MEDIA_RESOLUTIONS), media_resolution
        )
        self.size = toggle("size", [("model view", "model"), ("native size", "native")], size)
        self.profile = profile_dropdown(profile)
        self.progress = w.IntProgress(
            value=0,
            min=0,
            max=1,
            description="decoding",
            style=DESCRIPTION,
            layout=w.Layout(visibility="hidden"),
        )
        rows = [
            self.fps,
            labelled("media_resolution", self.media_resolution),
            self.profile,
            labelled("show frames at", self.size),
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
    def _rules(profile: str) -> dict[str, Any]:
        """``profile=`` for the video's methods; none for the API's (so any object with the
        methods' older signature still works)."""
        return {} if get_profile(profile).is_default else {"profile": profile}

    def frames(self) -> Frames:
        """The decoded :class:`~mimo_nb.media.video.Frames` for the current controls (cached)."""
        self.wait()
        return self._entry(self.key())[0]

    def _numbers_html(self, b: TokenBreakdown | ServerTokenBreakdown) -> str:
        return render.sampled_frames_html(b)

    def _settings(self) -> str:
        fps, media_resolution, size, profile = self.key()
        return f"fps={fps:g}, media_resolution={media_resolution}, frames shown at {size} size" + (
            "" if get_profile(profile).is_default else f", profile={profile}"
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

    def shown(self, frames: Frames) -> int:
        """How many of ``frames`` the grid shows."""
        return int(frames.grid_note(self.max_frames)[0])

    def html(self, frames: Frames, changed: Iterable[int] = ()) -> str:
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

    def differing(self, painted: Frames, frames: Frames) -> set[int]:
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

    def __init__(
        self, grid: _FrameGrid, preview: Frames, paint: Callable[[str, str], None]
    ) -> None:
        self.grid, self.arrived = grid, 0
        self._shown = preview  # its cells are overwritten by the exact frames as they come
        self._in_view = grid.shown(preview)
        self._changed: set[int] = set()  # cells whose exact frame came since the last paint
        self._paint = paint
        self._last_paint = time.monotonic()
        paint(grid.html(preview), "preview (keyframes); exact frames on the way…")

    def on_frame(self, item: SampledFrame) -> None:
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

    def final_html(self, frames: Frames) -> str:
        """The grid of ``frames`` (sample()'s): the cells already made from the same pixels are
        kept, every other one is encoded from ``frames``."""
        differ = self._changed | self.grid.differing(self._shown, frames)
        return self.grid.html(frames, differ)
