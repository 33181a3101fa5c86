"""The async client: :class:`AsyncMimoClient` (calls await on the event loop, bounded by
deadlines that cancel the awaited request)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from tenacity import AsyncRetrying

from mimo_nb._deadline import DeadlineExceeded
from mimo_nb.api.cache import ResponseCache
from mimo_nb.api.client._base import BodyHasher, Call, ClientBase, Sent, logger
from mimo_nb.api.client._batch import (
    BatchItem,
    BatchResult,
    batch_call,
    check_batch_options,
    label,
    progress_bar,
)
from mimo_nb.api.client._options import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MODEL,
    DEFAULT_STREAM_TIMEOUT,
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    ClientOptions,
    NotGiven,
)
from mimo_nb.api.request import PreparedRequest, checked_url_part, is_url
from mimo_nb.api.response import Completion
from mimo_nb.api.streaming import AsyncCompletionStream
from mimo_nb.core.pricing import Prices
from mimo_nb.core.profiles import DEFAULT_PROFILE, Profile
from mimo_nb.errors import LimitError
from mimo_nb.net.http import (
    AsyncHTTP,
    AsyncTransport,
    TimeoutArg,
    ahead_size,
    apost,
    async_client,
    deadline_error,
    within,
)

if TYPE_CHECKING:
    from mimo_nb._deadline import Deadline
    from mimo_nb.api.client._base import Videos

__all__ = ["AsyncMimoClient"]


class AsyncMimoClient(ClientBase):
    """The async twin of :class:`MimoClient`: ``await aclient.ask(...)``, ``await .map(...)``.

    Takes the same arguments; ``transport`` is an ``httpx.AsyncBaseTransport`` and
    ``http_client`` an ``httpx.AsyncClient``. Deadlines cancel the awaited request.
    """

    _http: AsyncHTTP

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        model: str = DEFAULT_MODEL,
        timeout: TimeoutArg = DEFAULT_TIMEOUT,
        stream_timeout: float | None = DEFAULT_STREAM_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 20.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        cache: str | os.PathLike[str] | ResponseCache | None = None,
        offline: bool | None = None,
        prices: Prices | None = None,
        context_lengths: Mapping[str, int] | None = None,
        default_headers: Mapping[str, str] | None = None,
        profile: str | Profile = DEFAULT_PROFILE,
        transport: AsyncTransport | None = None,
        http_client: AsyncHTTP | None = None,
    ) -> None:
        self._configure(ClientOptions.of_call(locals()))  # all but transport and http_client
        self._http, self._owns_http = async_client(transport, http_client)
        self._custom_http = transport is not None or http_client is not None

    async def aclose(self) -> None:
        """Close the connections (unless they belong to an ``http_client`` you passed)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncMimoClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def _head_size(self, url: str, deadline: Deadline) -> int | None:
        """Like :meth:`MimoClient._head_size <mimo_nb.api.client.MimoClient>`, awaited."""
        probe = self._head_deadline(url, deadline)
        if probe is None:
            return self._url_sizes.get(url)
        size = await ahead_size(self._http, url, timeout=self.timeout, deadline=probe)
        return self._remember_size(url, size)

    async def _build(
        self,
        videos: Any,
        prompt: str,
        fps: float,
        media_resolution: str,
        system: str | None,
        max_completion_tokens: int,
        temperature: float | None,
        top_p: float | None,
        model: str | None,
        stream: bool,
        extra_body: Mapping[str, Any] | None,
        deadline: Deadline,
    ) -> PreparedRequest:
        fields = self._body_fields(temperature, top_p, extra_body, stream)
        sources, fps = self._check_call(
            videos, prompt, fps, media_resolution, system, max_completion_tokens, model, fields
        )
        parts = []
        for source in sources:
            if isinstance(source, str) and is_url(source):
                size = await self._head_size(source, deadline)
                parts.append(checked_url_part(source, fps, media_resolution, size_bytes=size))
            else:  # probing decodes headers from disk: keep it off the event loop
                parts.append(
                    await asyncio.to_thread(
                        self._local_part, source, fps, media_resolution, deadline
                    )
                )
        return self._prepare(
            parts,
            prompt,
            system=system,
            max_completion_tokens=max_completion_tokens,
            model=model,
            stream=stream,
            fields=fields,
        )

    async def build_request(
        self,
        videos: Videos,
        prompt: str,
        *,
        fps: float = 2,
        media_resolution: str = "default",
        system: str | None = None,
        max_completion_tokens: int = 1024,
        temperature: float | None = None,
        top_p: float | None = None,
        model: str | None = None,
        stream: bool = False,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg | NotGiven = NOT_GIVEN,
    ) -> PreparedRequest:
        """The exact request :meth:`ask` would send, without sending it."""
        with self._guarded():
            deadline = self._call(stream, timeout, None).deadline
            return await self._build(
                videos,
                prompt,
                fps,
                media_resolution,
                system,
                max_completion_tokens,
                temperature,
                top_p,
                model,
                stream,
                extra_body,
                deadline,
            )

    async def _exchange(self, prepared: PreparedRequest, call: Call, hashing: bool) -> Sent:
        hasher = BodyHasher(prepared, call.deadline, hashing)
        logger.debug(
            "POST %s (%d bytes, stream=%s)",
            self._endpoint(),
            prepared.content_length,
            call.stream,
        )
        reply = await apost(
            self._http,
            self._endpoint(),
            prepared.aiter_body(on_block=hasher),
            headers=self._headers(call, prepared),
            timeout=call.timeout,
            deadline=call.deadline,
            secrets=self._secrets,
            max_bytes=self.max_response_bytes,
            stream=call.stream,
        )
        return Sent(reply, hasher.digests())

    async def _send_once(self, prepared: PreparedRequest, call: Call, hashing: bool) -> Sent:
        try:
            return await within(call.deadline, self._exchange(prepared, call, hashing))
        except DeadlineExceeded:
            raise deadline_error(f"POST {self._endpoint()}", call.deadline) from None

    async def _send_prepared(
        self, prepared: PreparedRequest, call: Call
    ) -> Completion | AsyncCompletionStream:
        prepared = prepared.with_stream(call.stream)
        prepared.check_files()
        if self.cache is not None and prepared.markers:  # hashing local files is blocking
            cached, material = await asyncio.to_thread(self._cached, prepared)
        else:
            cached, material = self._cached(prepared)
        if cached is not None:
            return AsyncCompletionStream.from_completion(cached) if call.stream else cached
        self._headers(call, prepared)  # no key: fail before any connection
        sent = None
        async for attempt in AsyncRetrying(**self._retry_policy(call.deadline)):
            with attempt:
                sent = await self._send_once(prepared, call, material is not None)
        assert sent is not None
        return self._answer(sent, prepared, material, call, AsyncCompletionStream)

    @overload
    async def ask(
        self,
        videos: Videos,
        prompt: str,
        *,
        fps: float = ...,
        media_resolution: str = ...,
        system: str | None = ...,
        max_completion_tokens: int = ...,
        temperature: float | None = ...,
        top_p: float | None = ...,
        model: str | None = ...,
        stream: Literal[False] = ...,
        extra_body: Mapping[str, Any] | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutArg | NotGiven = ...,
    ) -> Completion: ...

    @overload
    async def ask(
        self,
        videos: Videos,
        prompt: str,
        *,
        fps: float = ...,
        media_resolution: str = ...,
        system: str | None = ...,
        max_completion_tokens: int = ...,
        temperature: float | None = ...,
        top_p: float | None = ...,
        model: str | None = ...,
        stream: Literal[True],
        extra_body: Mapping[str, Any] | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutArg | NotGiven = ...,
    ) -> AsyncCompletionStream: ...

    @overload
    async def ask(
        self,
        videos: Videos,
        prompt: str,
        *,
        fps: float = ...,
        media_resolution: str = ...,
        system: str | None = ...,
        max_completion_tokens: int = ...,
        temperature: float | None = ...,
        top_p: float | None = ...,
        model: str | None = ...,
        stream: bool,
        extra_body: Mapping[str, Any] | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutArg | NotGiven = ...,
    ) -> Completion | AsyncCompletionStream: ...

    async def ask(
        self,
        videos: Videos,
        prompt: str,
        *,
        fps: float = 2,
        media_resolution: str = "default",
        system: str | None = None,
        max_completion_tokens: int = 1024,
        temperature: float | None = None,
        top_p: float | None = None,
        model: str | None = None,
        stream: bool = False,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutArg | NotGiven = NOT_GIVEN,
    ) -> Completion | AsyncCompletionStream:
        """Like :meth:`MimoClient.ask`; with ``stream=True``, an :class:`AsyncCompletionStream`."""
        with self._guarded():
            call = self._call(stream, timeout, extra_headers)
            prepared = await self._build(
                videos,
                prompt,
                fps,
                media_resolution,
                system,
                max_completion_tokens,
                temperature,
                top_p,
                model,
                stream,
                extra_body,
                call.deadline,
            )
            return await self._send_prepared(prepared, call)

    @overload
    async def send(
        self,
        prepared: PreparedRequest,
        *,
        stream: Literal[False] = ...,
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutArg | NotGiven = ...,
    ) -> Completion: ...

    @overload
    async def send(
        self,
        prepared: PreparedRequest,
        *,
        stream: Literal[True],
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutArg | NotGiven = ...,
    ) -> AsyncCompletionStream: ...

    @overload
    async def send(
        self,
        prepared: PreparedRequest,
        *,
        stream: bool,
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutArg | NotGiven = ...,
    ) -> Completion | AsyncCompletionStream: ...

    async def send(
        self,
        prepared: PreparedRequest,
        *,
        stream: bool = False,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutArg | NotGiven = NOT_GIVEN,
    ) -> Completion | AsyncCompletionStream:
        """Like :meth:`MimoClient.send`."""
        with self._guarded():
            if not isinstance(prepared, PreparedRequest):
                raise LimitError(
                    "send() takes a PreparedRequest from build_request(), got "
                    f"{type(prepared).__name__}."
                )
            return await self._send_prepared(prepared, self._call(stream, timeout, extra_headers))

    async def map(
        self, items: Iterable[Any], *, concurrency: int = 4, progress: bool = True, **common: Any
    ) -> BatchResult:
        """Like :meth:`MimoClient.map`, on the event loop, ``concurrency`` requests at a time."""
        check_batch_options(self.ask, common, concurrency)
        items = list(items)
        result = BatchResult([BatchItem(i, "") for i in range(len(items))])
        gate = asyncio.Semaphore(concurrency)
        bar = progress_bar(len(items), progress)

        async def run(index: int) -> None:
            slot = result.items[index]
            async with gate:
                try:
                    kwargs = batch_call(items[index], common)
                    slot.label = label(kwargs["videos"])
                    slot.completion = await self.ask(**kwargs)
                except Exception as exc:  # noqa: BLE001  (a batch collects every item's failure)
                    slot.error = exc
                finally:
                    bar.update(1)

        try:
            await asyncio.gather(*(run(i) for i in range(len(items))))
        finally:
            bar.close()
        return result
