"""Streamed answers: server-sent events read into :class:`StreamDelta` pieces and a Completion.

A stream is what ``client.ask(..., stream=True)`` returns. Iterating it yields reasoning and
content as they arrive; at the end ``.completion`` holds the same :class:`Completion` a plain
call would have returned (and the cache stores it). A stream that breaks off for any reason (the
connection, its deadline, a server error event, an event that is not a chat-completion chunk, an
answer over ``max_response_bytes``) raises :class:`~mimo_nb.errors.StreamInterruptedError` with
what arrived in ``.partial`` and the reason as its ``__cause__``.

A stream is complete when a chunk gave a ``finish_reason`` (its content may then be empty: a
``"length"`` answer whose budget went on reasoning), or when ``[DONE]`` came after some content.
A stream that ends without either, such as one that is only ``data: [DONE]``, only a role chunk
or only a usage chunk, is interrupted, never an empty success: it raises, and nothing is cached.

The sync stream reads the socket on a worker thread (:class:`_EventPump`) so that its deadline
holds even while a server sends keep-alive pings; the async stream awaits each event within the
time left.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from mimo_nb._deadline import Deadline, DeadlineExceeded
from mimo_nb.api.request import RequestEstimate
from mimo_nb.api.response import Completion, chunk_pieces, completion_from_json
from mimo_nb.core.pricing import Prices
from mimo_nb.errors import APIResponseValidationError, MimoError, StreamInterruptedError, shorten
from mimo_nb.net.http import (
    MESSAGE_CHARS,
    Reply,
    Secrets,
    StreamReadError,
    deadline_error,
    within,
)

__all__ = ["StreamDelta", "CompletionStream", "AsyncCompletionStream"]


# ---- Assembling chunks ----------------------------------------------------------------------


@dataclass(frozen=True)
class StreamDelta:
    """A piece of a streamed answer: ``kind`` is "content" or "reasoning"."""

    kind: Literal["content", "reasoning"]
    text: str


class _Assembler:
    """Collects stream chunks (checked against the schema) into a chat completion's shape."""

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None

    def add(self, chunk: Any) -> list[StreamDelta]:
        meta, usage, pieces = chunk_pieces(chunk)  # raises APIResponseValidationError
        for key, value in meta.items():
            if value is not None:
                self.meta.setdefault(key, value)
        if usage is not None:
            self.usage = usage
        deltas = []
        for piece in pieces:
            if piece.reasoning:
                self.reasoning.append(piece.reasoning)
                deltas.append(StreamDelta("reasoning", piece.reasoning))
            if piece.content:
                self.content.append(piece.content)
                deltas.append(StreamDelta("content", piece.content))
            if piece.finish_reason:
                self.finish_reason = piece.finish_reason
        return deltas

    def raw(self) -> dict[str, Any]:
        """A chat.completion dict assembled from the chunks (what ``Completion.raw`` holds)."""
        message = {
            "role": "assistant",
            "content": "".join(self.content),
            "reasoning_content": "".join(self.reasoning) if self.reasoning else None,
        }
        raw: dict[str, Any] = {
            **self.meta,
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason}],
        }
        if self.usage is not None:
            raw["usage"] = self.usage
        return raw


class _StreamBase:
    """What the sync and async streams share: assembling chunks, replay, the final Completion."""

    def __init__(
        self,
        reply: Reply | None,
        *,
        deadline: Deadline | None = None,
        secrets: Secrets | None = None,
        estimate: RequestEstimate | None,
        prices: Prices | None,
        request_id: str | None,
        on_complete: Callable[[Completion], None] | None,
        max_completion_tokens: int | None = None,
    ) -> None:
        self._reply = reply
        self._deadline = deadline or Deadline(None)
        self._secrets = secrets or Secrets()
        self._replay: Completion | None = None
        self._assembler = _Assembler()
        self._estimate = estimate
        self._prices = prices
        self._request_id = request_id
        self._on_complete = on_complete
        self._max_completion_tokens = max_completion_tokens
        self._done = False
        self.completion: Completion | None = None
        """The assembled :class:`Completion`, once the stream has finished."""

    @classmethod
    def from_completion(cls, completion: Completion) -> Any:
        """A stream replaying a finished completion (from the cache) as two deltas."""
        stream = cls(
            None,
            estimate=completion.estimate,
            prices=completion.prices,
            request_id=completion.request_id,
            on_complete=None,
        )
        stream._replay = completion
        return stream

    @property
    def text(self) -> str:
        """The content received so far."""
        return "".join(self._assembler.content)

    @property
    def reasoning(self) -> str:
        """The reasoning received so far."""
        return "".join(self._assembler.reasoning)

    def _build(self, partial: bool = False) -> Completion:
        return completion_from_json(
            self._assembler.raw(),
            estimate=self._estimate,
            prices=self._prices,
            request_id=self._request_id,
            max_completion_tokens=self._max_completion_tokens,
            partial=partial,
        )

    def _handle_event(self, data: str) -> list[StreamDelta] | None:
        """Deltas of one SSE data field; None at ``[DONE]``. Raises StreamInterruptedError."""
        if not data.strip():
            return []  # an empty event is a keep-alive
        if data.strip() == "[DONE]":
            return None
        try:
            chunk = self._secrets.redact(json.loads(data))  # redacted before anything shows it
        except (ValueError, RecursionError):
            problem = f"an event is not JSON: {self._secrets.text(data, 120)!r}"
            cause = APIResponseValidationError(problem, problem=problem)
            raise self._interrupted(problem, cause) from cause
        if isinstance(chunk, dict) and chunk.get("error") is not None:
            error = chunk["error"]
            said = error.get("message") if isinstance(error, dict) else error
            raise self._interrupted(
                f"the server reported an error mid-stream: {shorten(str(said), MESSAGE_CHARS)}"
            )
        try:
            return self._assembler.add(chunk)
        except APIResponseValidationError as exc:
            raise self._interrupted(
                f"an event is not a chat-completion chunk: {exc.problem}", exc
            ) from exc

    def _interrupted(self, why: str, cause: BaseException | None = None) -> StreamInterruptedError:
        partial = self._build(partial=True)
        error = StreamInterruptedError(
            f"the streamed answer broke off: {why}. {len(partial.content):,} characters of content "
            "arrived "
            "(in .partial); ask again (or without stream=True) for the whole answer.",
            partial=partial,
            request_id=self._request_id,
        )
        error.__cause__ = cause  # also when raised "from" a cause: the error behind the break
        error.__suppress_context__ = True
        return error

    def _failure(self, exc: BaseException) -> StreamInterruptedError:
        """The interruption for an error met while reading the stream."""
        if isinstance(exc, StreamInterruptedError):
            return exc
        if isinstance(exc, DeadlineExceeded):
            timeout = deadline_error("reading the stream", self._deadline)
            return self._interrupted(
                f"no complete answer within the deadline of {self._deadline.seconds:g} s "
                "(stream_timeout, or this call's timeout)",
                timeout,
            )
        if isinstance(exc, APIResponseValidationError):
            return self._interrupted(exc.problem, exc)
        if isinstance(exc, StreamReadError):
            return self._interrupted(str(exc))
        raise exc

    def _finish(self, saw_done: bool) -> Completion:
        """The Completion of a complete stream (see the module's docstring), else the
        interruption; only a complete one reaches ``on_complete`` (the cache)."""
        if self._assembler.finish_reason is None:
            if not saw_done:
                raise self._interrupted("the stream ended without [DONE] or a finish reason")
            if not self._assembler.content:
                raise self._interrupted(
                    "the stream ended with [DONE] but without an answer (no content and no "
                    "finish reason)"
                )
        self._done = True
        self.completion = self._build()
        if self._on_complete is not None:
            self._on_complete(self.completion)
        return self.completion


class _EventPump:
    """Reads a reply's SSE events on a worker thread, so the reader can stop at its deadline.

    A blocking socket read cannot be interrupted from outside; the reader waits on a queue with
    the time left instead, and a pump that outlives its reader closes the reply itself.
    """

    def __init__(self, reply: Reply, deadline: Deadline, secrets: Secrets) -> None:
        self._reply = reply
        self._deadline = deadline
        self._secrets = secrets
        self._events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._stopped = threading.Event()
        threading.Thread(target=self._run, name="mimo-nb-stream", daemon=True).start()

    def _run(self) -> None:
        try:
            for data in self._reply.events(self._secrets):
                if self._stopped.is_set():
                    return
                self._events.put(("data", data))
            self._events.put(("end", None))
        except BaseException as exc:  # noqa: BLE001  (handed to the reader)
            self._events.put(("error", exc))
        finally:
            self._reply.close()

    def __iter__(self) -> Iterator[str]:
        while True:
            try:
                kind, value = self._events.get(timeout=self._deadline.remaining())
            except queue.Empty:
                raise DeadlineExceeded from None
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value

    def close(self) -> None:
        self._stopped.set()


class CompletionStream(_StreamBase):
    """A streamed answer: iterate for :class:`StreamDelta` pieces; ``.completion`` at the end.

    Raises :class:`~mimo_nb.errors.StreamInterruptedError` (with ``.partial``) if the answer
    breaks off, is malformed, or is not complete within the stream's deadline.

    >>> from mimo_nb.testing import MockMimoServer   # a local stand-in for the endpoint
    >>> with MockMimoServer(api_key="test-key") as server:
    ...     with mn.MimoClient("test-key", base_url=server.base_url) as client:
    ...         with client.ask("clip.mp4", "Describe it.", stream=True) as stream:
    ...             kinds = [delta.kind for delta in stream]  # or print(delta.text, end="")
    >>> sorted(set(kinds)), stream.completion.usage.video_tokens   # the stand-in's recording
    (['content', 'reasoning'], 1144)
    """

    _pump: _EventPump | None = None

    def _events(self) -> Iterator[str]:
        assert self._reply is not None
        if self._deadline.at is None:
            return self._reply.events(self._secrets)
        self._pump = _EventPump(self._reply, self._deadline, self._secrets)
        return iter(self._pump)

    def __iter__(self) -> Iterator[StreamDelta]:
        replay = self._replay
        if replay is not None:
            yield from _replay_deltas(replay)
            self.completion, self._done = replay, True
            return
        if self._done or self._reply is None:
            return
        saw_done = False
        try:
            try:
                for data in self._events():
                    deltas = self._handle_event(data)
                    if deltas is None:
                        saw_done = True
                        break
                    yield from deltas
            except (DeadlineExceeded, APIResponseValidationError, StreamReadError) as exc:
                failure = self._failure(exc)
                raise failure from failure.__cause__
            finally:
                self.close()
            self._finish(saw_done)
        except MimoError as exc:
            self._secrets.scrub(exc)
            raise

    def until_done(self) -> Completion:
        """Read the rest of the stream and return the assembled :class:`Completion`."""
        for _ in self:
            pass
        assert self.completion is not None
        return self.completion

    def close(self) -> None:
        """Stop reading and release the connection."""
        if self._pump is not None:
            self._pump.close()  # the pump's thread closes the reply it reads
        elif self._reply is not None:
            self._reply.close()

    def __enter__(self) -> CompletionStream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncCompletionStream(_StreamBase):
    """The async twin of :class:`CompletionStream`: ``async for delta in stream``."""

    async def __aiter__(self) -> AsyncIterator[StreamDelta]:
        replay = self._replay
        if replay is not None:
            for delta in _replay_deltas(replay):
                yield delta
            self.completion, self._done = replay, True
            return
        if self._done or self._reply is None:
            return
        saw_done = False
        events = self._reply.aevents(self._secrets)
        try:
            try:
                while True:
                    try:
                        data = await within(self._deadline, events.__anext__())
                    except StopAsyncIteration:
                        break
                    deltas = self._handle_event(data)
                    if deltas is None:
                        saw_done = True
                        break
                    for delta in deltas:
                        yield delta
            except (DeadlineExceeded, APIResponseValidationError, StreamReadError) as exc:
                failure = self._failure(exc)
                raise failure from failure.__cause__
            finally:
                await events.aclose()
                await self.aclose()
            self._finish(saw_done)
        except MimoError as exc:
            self._secrets.scrub(exc)
            raise

    async def until_done(self) -> Completion:
        async for _ in self:
            pass
        assert self.completion is not None
        return self.completion

    async def aclose(self) -> None:
        if self._reply is not None:
            await self._reply.aclose()

    async def __aenter__(self) -> AsyncCompletionStream:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


def _replay_deltas(completion: Completion) -> Iterator[StreamDelta]:
    if completion.reasoning_content:
        yield StreamDelta("reasoning", completion.reasoning_content)
    if completion.content:
        yield StreamDelta("content", completion.content)
