"""The one border with httpx and with what the server says: secrets, timeouts, errors, answers.

Everything the clients (:mod:`mimo_nb.api.client`), the streams (:mod:`mimo_nb.api.streaming`)
and ``Video.open(url)`` need to talk to a server safely lives here, once; they see our names
(:class:`Reply`, :data:`SyncHTTP`, :data:`Transport`...), never httpx's:

- :func:`sync_client` / :func:`async_client` give the httpx client a MiMo client sends through
  (the caller's ``transport`` or ``http_client``, checked); :func:`check_timeout` checks a
  ``timeout``; :func:`url_text` and :func:`parses_as_http_url` check a ``base_url``.
- :func:`post` / :func:`apost` send one request and return a :class:`Reply`: the body read
  within its cap, or an open event stream whose :meth:`Reply.events` yields each event's data;
  :func:`head_size` / :func:`ahead_size` ask a URL's size; :func:`download` fetches a file.
- :class:`Secrets` keeps the API key out of every string an error carries: it redacts first and
  shortens after, so no prefix of a key survives a cut.
- :func:`httpx_errors` translates httpx's exceptions into the :mod:`mimo_nb.errors` tree;
  :func:`status_error` turns a 4xx/5xx answer into its :class:`~mimo_nb.errors.APIStatusError`.
- :func:`read_capped` and :class:`CappedStream` read an answer without ever holding more than
  ``max_response_bytes``; :func:`parse_completion` checks it against the schema.
- :func:`per_operation` gives httpx's per-operation timeouts for a call, none past its deadline;
  :func:`within` bounds an awaited operation by a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import math
import os
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Iterable,
    Iterator,
    Mapping,
)
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from httpx_sse import EventSource, SSEError

from mimo_nb._deadline import Deadline, DeadlineExceeded, call_before
from mimo_nb.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InternalServerError,
    MimoError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    VideoError,
    redact,
    shorten,
)

logger = logging.getLogger("mimo_nb.net.http")

SyncHTTP = httpx.Client
"""The HTTP client a :class:`~mimo_nb.api.client.MimoClient` sends through (``http_client=``)."""
AsyncHTTP = httpx.AsyncClient
"""The HTTP client of an :class:`~mimo_nb.api.client.AsyncMimoClient` (``http_client=``)."""
Transport = httpx.BaseTransport
"""What ``transport=`` takes for sync HTTP (e.g. ``httpx.MockTransport``) instead of the network."""
AsyncTransport = httpx.AsyncBaseTransport
"""What ``transport=`` takes for async HTTP."""

TimeoutArg = float | httpx.Timeout | None
"""A ``timeout``: seconds for a whole call, an ``httpx.Timeout`` (which also bounds each network
operation), or None for no limit."""

ERROR_BODY_BYTES = 64 * 2**10  # of an error answer, what we read and keep
MESSAGE_CHARS = 500  # of the server's message, what an exception repeats
BODY_CHARS = 2000  # of a body that is not JSON, what an exception keeps


def check_seconds(value: Any, name: str) -> float:
    """``value`` as positive seconds, else a :class:`ConfigurationError` naming ``name``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigurationError(
            f"{name} must be a positive number of seconds (or None for no limit), got {value!r}."
        )
    return float(value)


def check_timeout(value: Any, name: str) -> TimeoutArg:
    """A valid ``timeout``: positive seconds, an ``httpx.Timeout`` of positive fields, or None."""
    if value is None:
        return None
    if isinstance(value, httpx.Timeout):
        for part in ("connect", "read", "write", "pool"):
            if getattr(value, part) is not None:
                check_seconds(getattr(value, part), f"{name}.{part}")
        return value
    return check_seconds(value, name)


def overall_seconds(timeout: TimeoutArg) -> float | None:
    """A call's deadline for this ``timeout``: the float, or an httpx.Timeout's largest field."""
    if isinstance(timeout, httpx.Timeout):
        fields = [
            t for t in (timeout.connect, timeout.read, timeout.write, timeout.pool) if t is not None
        ]
        return max(fields) if fields else None
    return timeout


def per_operation(timeout: TimeoutArg, deadline: Deadline) -> httpx.Timeout:
    """httpx's per-operation timeouts for this call: as configured, none beyond the deadline."""
    given = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
    return httpx.Timeout(
        connect=deadline.cap(given.connect),
        read=deadline.cap(given.read),
        write=deadline.cap(given.write),
        pool=deadline.cap(given.pool),
    )


SECRET_HEADERS = ("api-key", "authorization", "proxy-authorization", "x-api-key")


class Secrets:
    """What to keep out of errors, logs and the cache: the key, as sent and as echoed back."""

    def __init__(self, *secrets: str | None) -> None:
        variants = set()
        for secret in secrets:
            if secret and len(secret) >= 4:  # a very short "secret" would redact half the text
                variants.update({secret, secret.replace("/", "\\/"), quote(secret, safe="")})
        self.values = tuple(sorted(variants, key=len, reverse=True))

    def redact(self, value: Any) -> Any:
        return redact(value, self.values)

    def text(self, value: Any, limit: int) -> str:
        """``value`` as text, redacted then shortened: no prefix of a key survives."""
        return shorten(self.redact(str(value)), limit)

    def scrub(self, exc: BaseException) -> None:
        """Redact, in place, each string an error carries (message, body, request id, partial)."""
        if not self.values or not isinstance(exc, MimoError):
            return
        exc.args = self.redact(exc.args)
        for name in ("message", "body", "request_id", "problem", "source"):
            if hasattr(exc, name):
                setattr(exc, name, self.redact(getattr(exc, name)))
        partial = getattr(exc, "partial", None)
        if partial is not None:  # what a broken stream had delivered (a Completion)
            for name in ("content", "reasoning_content", "raw"):
                setattr(partial, name, self.redact(getattr(partial, name)))
        if exc.__cause__ is not None:
            self.scrub(exc.__cause__)


# ---- Errors --------------------------------------------------------------


@contextlib.contextmanager
def httpx_errors(what: str, secrets: Secrets, timeout: TimeoutArg = None) -> Iterator[None]:
    """Translate httpx's exceptions raised inside the block into mimo_nb's error tree."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise APITimeoutError(
            f"{what}: the server went quiet for longer than the per-operation timeout "
            f"({type(exc).__name__}; timeout={timeout!r}). The server may be busy or the video "
            "long: raise timeout=..., or try again later."
        ) from None
    except httpx.HTTPError as exc:  # ConnectError, RemoteProtocolError, ReadError, ...
        raise APIConnectionError(
            f"{what}: the connection failed ({type(exc).__name__}: {secrets.text(exc, 300)}). "
            "Check the network and base_url."
        ) from None


def deadline_error(what: str, deadline: Deadline) -> APITimeoutError:
    return APITimeoutError(
        f"{what}: no complete answer within the call's deadline of {deadline.seconds:g} s. The "
        "server may be busy or the video long: raise timeout=... (stream_timeout=... for a "
        "streamed answer), or try again later."
    )


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date); None if absent or unread."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

ADVICE = {
    400: "The request was rejected: check the video (MP4/MOV/AVI/WMV, not corrupt) and the fields.",
    401: "Set MIMO_API_KEY or pass api_key= with a valid key.",
    403: "The key may not do this: check the key's permissions, quota and the model name.",
    404: "Check base_url (it ends in /v1) and the model name.",
    422: "The server could not validate the body: check the extra_body fields.",
    429: "Too many requests: they were retried; lower the batch concurrency or wait.",
}


def request_id_of(headers: httpx.Headers, secrets: Secrets) -> str | None:
    value = headers.get("x-request-id") or headers.get("request-id")
    return secrets.text(value, 200) if value else None


def decoded_body(data: bytes, secrets: Secrets) -> Any:
    """An error body as JSON (redacted) when it is JSON, else as text (redacted, then shortened)."""
    try:
        return secrets.redact(json.loads(data))
    except (ValueError, RecursionError):
        return secrets.text(data.decode("utf-8", "replace"), BODY_CHARS)


def status_error(response: httpx.Response, data: bytes, secrets: Secrets) -> APIStatusError:
    """The :class:`APIStatusError` subclass for an error answer, every string redacted first."""
    status = response.status_code
    body = decoded_body(data, secrets)
    detail = body.get("error", body) if isinstance(body, dict) else body
    message = detail.get("message") if isinstance(detail, dict) else detail
    if not isinstance(message, str) or not message.strip():
        message = response.reason_phrase or "no message"
    cls = STATUS_ERRORS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    advice = ADVICE.get(
        status, "The server failed: it was retried; try again later." if status >= 500 else ""
    )
    said = secrets.text(message, MESSAGE_CHARS).rstrip(".")
    text = f"MiMo answered {status}: {said}. {advice}".strip()
    return cls(
        text,
        status_code=status,
        request_id=request_id_of(response.headers, secrets),
        body=body,
        retry_after=retry_after_seconds(response.headers.get("Retry-After")),
    )


def is_retryable(exc: BaseException) -> bool:
    """429, 5xx, connection errors and timeouts are worth another try; nothing else is."""
    return isinstance(exc, (RateLimitError, InternalServerError, APIConnectionError))


def too_large(limit: int, declared: int | None = None) -> APIResponseValidationError:
    size = f"declares {declared:,} bytes" if declared is not None else "goes on past that"
    return APIResponseValidationError(
        f"the answer is larger than max_response_bytes={limit:,} bytes (it {size}); it was not "
        "read further. A chat completion is usually kilobytes: check base_url, or raise "
        "max_response_bytes.",
        problem=f"the answer {size}, over max_response_bytes={limit:,}",
    )


def declared_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def check_declared(response: httpx.Response, limit: int) -> None:
    declared = declared_length(response)
    if declared is not None and declared > limit:
        raise too_large(limit, declared)


def read_capped(
    response: httpx.Response, limit: int, deadline: Deadline, *, keep_head: bool = False
) -> bytes:
    """The body, decoded, at most ``limit`` bytes: over it, the head (``keep_head``) or an error."""
    if not keep_head:
        check_declared(response, limit)
    data = bytearray()
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) > limit:
            if keep_head:
                return bytes(data[:limit])
            raise too_large(limit)
        deadline.check()
    return bytes(data)


async def aread_capped(response: httpx.Response, limit: int, *, keep_head: bool = False) -> bytes:
    """:func:`read_capped` for the async client (its deadline is enforced by asyncio)."""
    if not keep_head:
        check_declared(response, limit)
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > limit:
            if keep_head:
                return bytes(data[:limit])
            raise too_large(limit)
    return bytes(data)


class CappedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response's raw byte stream that stops with an error past ``limit`` bytes.

    Put in place of ``response.stream`` for an event stream, so that even one endless line
    (which the SSE decoder would buffer whole) cannot grow past the cap.
    """

    def __init__(self, inner: Any, limit: int) -> None:
        self._inner = inner
        self._limit = limit
        self._seen = 0

    def _count(self, chunk: bytes) -> bytes:
        self._seen += len(chunk)
        if self._seen > self._limit:
            raise too_large(self._limit)
        return chunk

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            yield self._count(chunk)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield self._count(chunk)

    def close(self) -> None:
        self._inner.close()

    async def aclose(self) -> None:
        await self._inner.aclose()


async def within(deadline: Deadline, awaitable: Awaitable[Any]) -> Any:
    """Await ``awaitable``, or raise :class:`DeadlineExceeded` (cancelling it) at the deadline."""
    left = deadline.remaining()
    if left is None:
        return await awaitable
    try:
        return await asyncio.wait_for(awaitable, left)
    except asyncio.TimeoutError:
        raise DeadlineExceeded from None


def offline_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``MIMO_NB_OFFLINE`` is set to 1/true/yes/on."""
    value = (environ if environ is not None else os.environ).get("MIMO_NB_OFFLINE", "")
    return value.strip().lower() in ("1", "true", "yes", "on")


# ---- The HTTP clients -------------------------------------------------------------------------


def check_transport(transport: Any, *, asynchronous: bool = False) -> None:
    """Raise :class:`ConfigurationError` unless ``transport`` is None or an httpx transport of
    the right kind (sync, or async for ``asynchronous``)."""
    kind = AsyncTransport if asynchronous else Transport
    if transport is not None and not isinstance(transport, kind):
        raise ConfigurationError(
            f"transport must be an httpx.{kind.__name__}, got {type(transport).__name__}."
        )


def _check_client_args(transport: Any, http_client: Any, *, asynchronous: bool) -> None:
    if http_client is not None and transport is not None:
        raise ConfigurationError(
            "pass transport= or http_client=, not both (set the transport on your client)."
        )
    kind, other = (
        (AsyncHTTP, "an httpx.Client goes to MimoClient")
        if asynchronous
        else (
            SyncHTTP,
            "an httpx.AsyncClient goes to AsyncMimoClient",
        )
    )
    if http_client is not None and not isinstance(http_client, kind):
        raise ConfigurationError(
            f"http_client must be an httpx.{kind.__name__}, got {type(http_client).__name__} "
            f"({other})."
        )
    check_transport(transport, asynchronous=asynchronous)


def sync_client(transport: Any, http_client: Any) -> tuple[SyncHTTP, bool]:
    """The client to send through, and whether it is ours to close: the caller's ``http_client``
    (theirs), else a new one on ``transport`` (None: the network). Checks both arguments."""
    _check_client_args(transport, http_client, asynchronous=False)
    if http_client is not None:
        return http_client, False
    return httpx.Client(transport=transport), True


def async_client(transport: Any, http_client: Any) -> tuple[AsyncHTTP, bool]:
    """:func:`sync_client` for the async client (up to 64 connections, for batches)."""
    _check_client_args(transport, http_client, asynchronous=True)
    if http_client is not None:
        return http_client, False
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    return httpx.AsyncClient(transport=transport, limits=limits), True


def url_text(value: Any) -> str | None:
    """``value`` as text when it is a URL string or an ``httpx.URL``, else None."""
    return str(value) if isinstance(value, (str, httpx.URL)) else None


def parses_as_http_url(text: str) -> bool:
    """True when ``text`` parses as an http(s) URL with a host."""
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError):
        return False
    return url.scheme in ("http", "https") and bool(url.host)


# ---- One request --------------------------------------------------------------------------


class StreamReadError(MimoError):
    """Reading an event stream failed: not an event stream, a read timeout, a broken connection.

    Raised only by :meth:`Reply.events` / :meth:`Reply.aevents`; a stream turns it into a
    :class:`~mimo_nb.errors.StreamInterruptedError` whose message says which.
    """


@contextlib.contextmanager
def _event_errors(secrets: Secrets) -> Iterator[None]:
    try:
        yield
    except SSEError as exc:
        raise StreamReadError(
            f"the answer is not an event stream ({secrets.text(exc, 200)})"
        ) from None
    except httpx.TimeoutException as exc:
        raise StreamReadError(
            f"the server went quiet past the read timeout ({type(exc).__name__})"
        ) from None
    except httpx.HTTPError as exc:
        raise StreamReadError(f"the connection broke ({type(exc).__name__})") from None


class Reply:
    """A server's answer: its status and request id, and its body (``data``, read within the
    cap) or, for a stream, its events (:meth:`events`), until :meth:`close`."""

    def __init__(self, response: httpx.Response, data: bytes | None) -> None:
        self._response = response
        self.data = data
        self.status = response.status_code

    def request_id(self, secrets: Secrets) -> str | None:
        """The server's request id (redacted), if it sent one."""
        return request_id_of(self._response.headers, secrets)

    def events(self, secrets: Secrets) -> Iterator[str]:
        """Each server-sent event's data; failures are a :class:`StreamReadError`."""
        with _event_errors(secrets):
            for sse in EventSource(self._response).iter_sse():
                yield sse.data

    async def aevents(self, secrets: Secrets) -> AsyncGenerator[str, None]:
        """:meth:`events` for an async answer."""
        with _event_errors(secrets):
            async for sse in EventSource(self._response).aiter_sse():
                yield sse.data

    def close(self) -> None:
        self._response.close()

    async def aclose(self) -> None:
        await self._response.aclose()


def post(
    http: SyncHTTP,
    url: str,
    body: Iterable[bytes],
    *,
    headers: Mapping[str, str],
    timeout: TimeoutArg,
    deadline: Deadline,
    secrets: Secrets,
    max_bytes: int,
    stream: bool,
) -> Reply:
    """POST ``body`` and check the answer: an error status is its :class:`APIStatusError`; a
    plain answer is read whole (at most ``max_bytes``); a stream is left open, capped."""
    request = http.build_request(
        "POST", url, content=body, headers=headers, timeout=per_operation(timeout, deadline)
    )
    with httpx_errors(f"POST {request.url}", secrets, timeout):
        response = http.send(request, stream=True)
        try:
            if response.status_code >= 400:
                data = read_capped(response, ERROR_BODY_BYTES, deadline, keep_head=True)
                raise status_error(response, data, secrets)
            if stream:
                check_declared(response, max_bytes)
                response.stream = CappedStream(response.stream, max_bytes)
                return Reply(response, None)
            data = read_capped(response, max_bytes, deadline)
        except BaseException:
            response.close()
            raise
    response.close()
    return Reply(response, data)


async def apost(
    http: AsyncHTTP,
    url: str,
    body: AsyncIterable[bytes],
    *,
    headers: Mapping[str, str],
    timeout: TimeoutArg,
    deadline: Deadline,
    secrets: Secrets,
    max_bytes: int,
    stream: bool,
) -> Reply:
    """:func:`post` for the async client (the caller bounds it by the deadline)."""
    request = http.build_request(
        "POST", url, content=body, headers=headers, timeout=per_operation(timeout, deadline)
    )
    with httpx_errors(f"POST {request.url}", secrets, timeout):
        response = await http.send(request, stream=True)
        try:
            if response.status_code >= 400:
                data = await aread_capped(response, ERROR_BODY_BYTES, keep_head=True)
                raise status_error(response, data, secrets)
            if stream:
                check_declared(response, max_bytes)
                response.stream = CappedStream(response.stream, max_bytes)
                return Reply(response, None)
            data = await aread_capped(response, max_bytes)
        except BaseException:
            await response.aclose()
            raise
    await response.aclose()
    return Reply(response, data)


def _head_length(response: httpx.Response) -> int | None:
    length = response.headers.get("Content-Length")
    return int(length) if response.is_success and length and length.isdigit() else None


def head_size(http: SyncHTTP, url: str, *, timeout: TimeoutArg, deadline: Deadline) -> int | None:
    """The Content-Length a HEAD request for ``url`` reports, or None when the server does not
    say or the probe fails; never past ``deadline``."""

    def head() -> httpx.Response:
        return http.head(url, timeout=per_operation(timeout, deadline), follow_redirects=True)

    try:
        response = call_before(deadline, head, discard=httpx.Response.close, name="mimo-nb-head")
    except (httpx.HTTPError, DeadlineExceeded) as exc:
        logger.debug("HEAD %s failed (%s); size unknown", url, type(exc).__name__)
        return None
    return _head_length(response)


async def ahead_size(
    http: AsyncHTTP, url: str, *, timeout: TimeoutArg, deadline: Deadline
) -> int | None:
    """:func:`head_size` for the async client."""
    try:
        response = await within(
            deadline,
            http.head(url, timeout=per_operation(timeout, deadline), follow_redirects=True),
        )
    except (httpx.HTTPError, DeadlineExceeded) as exc:
        logger.debug("HEAD %s failed (%s); size unknown", url, type(exc).__name__)
        return None
    return _head_length(response)


# ---- Downloads --------------------------------------------------------------------------------


def download(
    url: str,
    dest: Path,
    *,
    deadline: Deadline,
    max_bytes: int,
    transport: Transport | None = None,
    progress: bool = True,
) -> None:
    """Stream ``url`` into ``dest``, all of it before ``deadline`` and at most ``max_bytes``.

    The download runs on a worker thread, so a server that trickles bytes cannot hold the caller
    past the deadline (the worker stops at its next chunk). ``transport`` (an
    ``httpx.BaseTransport``) replaces the network, as for the clients. Raises
    :class:`~mimo_nb.errors.VideoError`: ``reason`` ``"download"`` (an error status, a failed
    connection), ``"too_large"`` or ``"timeout"``; ``dest`` is removed on failure.
    """
    try:
        call_before(
            deadline,
            lambda: _fetch(url, dest, deadline, max_bytes, transport, progress),
            discard=lambda _: dest.unlink(missing_ok=True),
            name="mimo-nb-download",
        )
    except DeadlineExceeded:
        raise VideoError(
            f"Downloading {url} took longer than timeout={deadline.seconds:g} s. Check the "
            "network, or pass a larger timeout.",
            reason="timeout",
            source=url,
        ) from None


def _too_large_download(url: str, size: str, max_bytes: int) -> VideoError:
    return VideoError(
        f"{url} is {size}, over the {max_bytes / 2**20:.0f} MB limit for video URLs. Trim or "
        "re-encode it first.",
        reason="too_large",
        source=url,
    )


def _fetch(
    url: str,
    dest: Path,
    deadline: Deadline,
    max_bytes: int,
    transport: Transport | None,
    progress: bool,
) -> None:
    from tqdm.auto import tqdm

    try:
        check_transport(transport)
        with (
            httpx.Client(transport=transport) as http,
            http.stream(
                "GET", url, timeout=per_operation(None, deadline), follow_redirects=True
            ) as response,
        ):
            if response.status_code >= 400:
                raise VideoError(
                    f"Downloading {url} failed: HTTP {response.status_code}. Check the URL.",
                    reason="download",
                    source=url,
                )
            declared = declared_length(response) or 0
            if declared > max_bytes:
                raise _too_large_download(url, f"{declared / 2**20:.0f} MB", max_bytes)
            received = 0
            with (
                open(dest, "wb") as out,
                tqdm(
                    total=declared or None,
                    unit="B",
                    unit_scale=True,
                    desc="download",
                    leave=False,
                    disable=not progress,
                ) as bar,
            ):
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    if received > max_bytes:
                        raise _too_large_download(url, "larger", max_bytes)
                    out.write(chunk)
                    bar.update(len(chunk))
                    deadline.check()  # an abandoned download stops here
    except httpx.HTTPError as exc:
        dest.unlink(missing_ok=True)
        raise VideoError(
            f"Downloading {url} failed ({type(exc).__name__}: {Secrets().text(exc, 300)}). "
            "Check the URL and the network.",
            reason="download",
            source=url,
        ) from None
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
