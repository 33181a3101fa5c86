"""A streamed answer shown as it arrives: one output area updated in place in a notebook,
the text printed elsewhere."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from IPython.display import display as _ipython_display

from mimo_nb.display import render
from mimo_nb.errors import StreamInterruptedError

if TYPE_CHECKING:
    from mimo_nb.api.response import Completion
    from mimo_nb.api.streaming import AsyncCompletionStream, CompletionStream, StreamDelta


def _open_area(bundle: dict[str, str]) -> Any:
    """A display handle in a notebook (one seam, so tests can watch); None anywhere else."""
    from IPython.core.interactiveshell import InteractiveShell

    if not InteractiveShell.initialized():  # plain Python: display() would print the raw dict
        return None
    return _ipython_display(bundle, raw=True, display_id=True)


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

    def add(self, delta: StreamDelta) -> None:
        (self.reasoning if delta.kind == "reasoning" else self.content).append(delta.text)
        now = time.monotonic()
        if now - self.last >= self.min_interval:
            self.show("streaming…")
            self.last = now

    def broken(self, exc: BaseException) -> None:
        self.show(f"the stream broke off: {exc}")

    def finish(self, completion: Completion) -> Completion:
        self.handle.update(
            _bundle(render.completion_html(completion), render.completion_text(completion)),
            raw=True,
        )
        return completion


class _StreamPrinter:
    """Outside a notebook: the text printed as it arrives, labelled by kind."""

    def __init__(self) -> None:
        self.kind: str | None = None

    def add(self, delta: StreamDelta) -> None:
        if delta.kind != self.kind:
            print(f"\n[{'reasoning' if delta.kind == 'reasoning' else 'answer'}]", flush=True)
            self.kind = delta.kind
        print(delta.text, end="", flush=True)

    def broken(self, exc: BaseException) -> None:
        print()

    def finish(self, completion: Completion) -> Completion:
        print()
        return completion


def _stream_sink(min_interval: float) -> _StreamArea | _StreamPrinter:
    handle = _open_area(
        _bundle(render.streaming_html("", "", note="waiting for the first token…"), "…")
    )
    return _StreamPrinter() if handle is None else _StreamArea(handle, min_interval)


def _read_to_the_end(stream: CompletionStream | AsyncCompletionStream) -> Completion:
    """The completion of a stream read to its end (it is set by then)."""
    assert stream.completion is not None, "the stream was not read to its end"
    return stream.completion


def display_stream(stream: CompletionStream, *, min_interval: float = 0.1) -> Completion:
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
    return sink.finish(_read_to_the_end(stream))


async def display_stream_async(
    stream: AsyncCompletionStream, *, min_interval: float = 0.1
) -> Completion:
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
    return sink.finish(_read_to_the_end(stream))
