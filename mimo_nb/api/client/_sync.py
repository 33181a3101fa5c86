"""The sync client: :class:`MimoClient` (calls wait on the calling thread, bounded by deadlines)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal, overload

from tenacity import Retrying

from mimo_nb._deadline import DeadlineExceeded, call_before
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
from mimo_nb.api.streaming import CompletionStream
from mimo_nb.core.pricing import Prices
from mimo_nb.core.profiles import DEFAULT_PROFILE, Profile
from mimo_nb.errors import LimitError
from mimo_nb.net.http import (
    SyncHTTP,
    TimeoutArg,
    Transport,
    deadline_error,
    head_size,
    post,
    sync_client,
)

if TYPE_CHECKING:
    from mimo_nb._deadline import Deadline
    from mimo_nb.api.client._base import Videos

__all__ = ["MimoClient"]


class MimoClient(ClientBase):
    """A client for MiMo's chat completions with videos.

    Args:
        api_key: defaults to the ``MIMO_API_KEY`` environment variable; surrounding whitespace
            (a key read from a file) is removed, and a key that is not one word of printable
            ASCII is refused with a :class:`~mimo_nb.errors.ConfigurationError` here.
        base_url: the API root (``.../v1``); default ``MIMO_BASE_URL``, else the hosted API.
        model: ``"mimo-v2.5"`` or ``"mimo-v2-omni"``.
        timeout: the deadline of a whole call, in seconds (see the module docstring), or an
            ``httpx.Timeout`` that also bounds each network operation; None: no limit.
        stream_timeout: the deadline of a whole streamed answer, in seconds (None: no limit).
        max_retries: extra tries on 429, 5xx, connection errors and timeouts, within the deadline.
        retry_base_delay, retry_max_delay: the backoff's first delay and ceiling, in seconds.
        max_response_bytes: the largest answer read; a larger one is an
            :class:`~mimo_nb.errors.APIResponseValidationError` (memory stays bounded).
        cache: a directory (or :class:`ResponseCache`) to record and replay responses.
        offline: answer from the cache only, never touching the network (default:
            ``MIMO_NB_OFFLINE``).
        prices: prices for ``Completion.cost`` (default: the shipped, cited ones).
        context_lengths: model name -> context length in tokens, to check requests against.
        default_headers: headers sent with every request to the API (never to a video's host).
        profile: whose sampling rules the estimate attached to each answer follows: the hosted
            API's formula (``"mimo-api"``) or a self-hosted server's (:mod:`mimo_nb.core.profiles`),
            for a ``base_url`` that points at your own SGLang or vLLM deployment.
        transport: an ``httpx.BaseTransport`` (e.g. ``httpx.MockTransport``) instead of the network.
        http_client: your own ``httpx.Client`` (proxies, certificates...); you close it.

    >>> MimoClient("test-key", base_url="http://127.0.0.1:9/v1", timeout=30)  # doctest: +ELLIPSIS
    MimoClient(base_url='http://127.0.0.1:9/v1', model='mimo-v2.5', api_key=<set>, ...)
    """

    _http: SyncHTTP

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
        transport: Transport | None = None,
        http_client: SyncHTTP | None = None,
    ) -> None:
        self._configure(ClientOptions.of_call(locals()))  # all but transport and http_client
        self._http, self._owns_http = sync_client(transport, http_client)
        self._custom_http = transport is not None or http_client is not None

    def close(self) -> None:
        """Close the connections (unless they belong to an ``http_client`` you passed, or to the
        client this one was copied from)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> MimoClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- building --

    def _head_size(self, url: str, deadline: Deadline) -> int | None:
        """The size a HEAD request reports for ``url``, or None when the server does not say.

        Never in offline mode; never longer than HEAD_TIMEOUT or the call's deadline.
        """
        probe = self._head_deadline(url, deadline)
        if probe is None:
            return self._url_sizes.get(url)
        size = head_size(self._http, url, timeout=self.timeout, deadline=probe)
        return self._remember_size(url, size)

    def _build(
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
                parts.append(
                    checked_url_part(
                        source, fps, media_resolution, size_bytes=self._head_size(source, deadline)
                    )
                )
            else:
                parts.append(self._local_part(source, fps, media_resolution, deadline))
        return self._prepare(
            parts,
            prompt,
            system=system,
            max_completion_tokens=max_completion_tokens,
            model=model,
            stream=stream,
            fields=fields,
        )

    def build_request(
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
        """The exact request :meth:`ask` would send, without sending it (no API key needed).

        Takes :meth:`ask`'s arguments. URL videos are sized with a HEAD request (not offline).

        >>> print(MimoClient().build_request("clip.mp4", "What happens?"))  # doctest: +ELLIPSIS
        {
          "model": "mimo-v2.5",
        ...
        """
        with self._guarded():
            deadline = self._call(stream, timeout, None).deadline
            return self._build(
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

    # -- sending --

    def _exchange(self, prepared: PreparedRequest, call: Call, hashing: bool) -> Sent:
        """One attempt, on the calling or a worker thread: send, check the status, read."""
        hasher = BodyHasher(prepared, call.deadline, hashing)
        logger.debug(
            "POST %s (%d bytes, stream=%s)",
            self._endpoint(),
            prepared.content_length,
            call.stream,
        )
        reply = post(
            self._http,
            self._endpoint(),
            prepared.iter_body(on_block=hasher),
            headers=self._headers(call, prepared),
            timeout=call.timeout,
            deadline=call.deadline,
            secrets=self._secrets,
            max_bytes=self.max_response_bytes,
            stream=call.stream,
        )
        return Sent(reply, hasher.digests())

    def _send_once(self, prepared: PreparedRequest, call: Call, hashing: bool) -> Sent:
        try:
            return call_before(
                call.deadline, lambda: self._exchange(prepared, call, hashing), discard=Sent.close
            )
        except DeadlineExceeded:
            raise deadline_error(f"POST {self._endpoint()}", call.deadline) from None

    def _send_prepared(
        self, prepared: PreparedRequest, call: Call
    ) -> Completion | CompletionStream:
        prepared = prepared.with_stream(call.stream)
        prepared.check_files()
        cached, material = self._cached(prepared)
        if cached is not None:
            return CompletionStream.from_completion(cached) if call.stream else cached
        self._headers(call, prepared)  # no key: fail before any connection
        sent = None
        for attempt in Retrying(**self._retry_policy(call.deadline)):
            with attempt:
                sent = self._send_once(prepared, call, material is not None)
        assert sent is not None
        return self._answer(sent, prepared, material, call, CompletionStream)

    @overload
    def ask(
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
    def ask(
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
    ) -> CompletionStream: ...

    @overload
    def ask(
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
    ) -> Completion | CompletionStream: ...

    def ask(
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
    ) -> Completion | CompletionStream:
        """Ask about one or several videos; returns a :class:`Completion` (or a stream).

        Args:
            videos: a Video, a local path, bytes, an http(s) URL, or a list of them.
            prompt: the question.
            fps: frames sampled per second, in [0.1, 10].
            media_resolution: ``"default"`` or ``"max"``.
            system: an optional system message.
            max_completion_tokens: the answer's budget (reasoning included).
            temperature, top_p: sampling, when you want other than the server's defaults.
            model: this call's model (default: the client's).
            stream: return a :class:`CompletionStream` of deltas instead.
            extra_body: more top-level fields for the body, e.g.
                ``{"thinking": {"type": "disabled"}}``.
            extra_headers: more headers for this request.
            timeout: this call's deadline (default: the client's ``timeout``, or
                ``stream_timeout`` for a stream).

        >>> from mimo_nb.testing import MockMimoServer   # a local stand-in for the endpoint
        >>> with MockMimoServer(api_key="test-key") as server:
        ...     with MimoClient("test-key", base_url=server.base_url) as client:
        ...         done = client.ask("clip.mp4", "Describe it.")
        >>> done.origin, done.usage.video_tokens   # over HTTP; the stand-in's recorded example
        ('live', 1144)
        """
        with self._guarded():
            call = self._call(stream, timeout, extra_headers)
            prepared = self._build(
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
            return self._send_prepared(prepared, call)

    @overload
    def send(
        self,
        prepared: PreparedRequest,
        *,
        stream: Literal[False] = ...,
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutArg | NotGiven = ...,
    ) -> Completion: ...

    @overload
    def send(
        self,
        prepared: PreparedRequest,
        *,
        stream: Literal[True],
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutArg | NotGiven = ...,
    ) -> CompletionStream: ...

    @overload
    def send(
        self,
        prepared: PreparedRequest,
        *,
        stream: bool,
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutArg | NotGiven = ...,
    ) -> Completion | CompletionStream: ...

    def send(
        self,
        prepared: PreparedRequest,
        *,
        stream: bool = False,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutArg | NotGiven = NOT_GIVEN,
    ) -> Completion | CompletionStream:
        """Send a :class:`PreparedRequest` (from :meth:`build_request`), using the cache if set.

        ``stream`` decides the answer's form, whatever the request was built with. A local video
        that changed size or vanished since the request was built is a
        :class:`~mimo_nb.errors.VideoError`.
        """
        with self._guarded():
            if not isinstance(prepared, PreparedRequest):
                raise LimitError(
                    "send() takes a PreparedRequest from build_request(), got "
                    f"{type(prepared).__name__}."
                )
            return self._send_prepared(prepared, self._call(stream, timeout, extra_headers))

    # -- batches --

    def map(
        self, items: Iterable[Any], *, concurrency: int = 4, progress: bool = True, **common: Any
    ) -> BatchResult:
        """Ask about many items, ``concurrency`` at a time; errors are collected per item.

        Each item is a dict of :meth:`ask` arguments, a ``(videos, prompt)`` pair, or videos
        (with ``prompt=`` given here). ``common`` are :meth:`ask` arguments for every item; an
        unknown one is a ``TypeError`` at once. Results keep the input order.

        >>> result = MimoClient().map(["clip.mp4"], prompt="Describe it.", progress=False)
        >>> result[0].error  # no key here: collected, not raised  # doctest: +ELLIPSIS
        ConfigurationError('no API key: ...')
        """
        check_batch_options(self.ask, common, concurrency)
        items = list(items)
        result = BatchResult([BatchItem(i, "") for i in range(len(items))])
        bar = progress_bar(len(items), progress)

        def run(index: int) -> None:
            slot = result.items[index]
            try:
                kwargs = batch_call(items[index], common)
                slot.label = label(kwargs["videos"])
                slot.completion = self.ask(**kwargs)
            except Exception as exc:  # noqa: BLE001  (a batch collects every item's failure)
                slot.error = exc
            finally:
                bar.update(1)

        try:
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="mimo-nb") as pool:
                list(pool.map(run, range(len(items))))
        finally:
            bar.close()
        return result
