"""The one border with httpx and with what the server says: secrets, timeouts, errors, answers.

Everything the clients (:mod:`mimo_nb.api.client`) and the streams (:mod:`mimo_nb.api.streaming`)
need to talk to a server safely lives here, once:

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
import math
import os
import time
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from mimo_nb._deadline import Deadline, DeadlineExceeded
from mimo_nb.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    MimoError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    redact,
    shorten,
)

TimeoutArg = float | httpx.Timeout | None
"""A ``timeout``: seconds for a whole call, an ``httpx.Timeout`` (which also bounds each network
operation), or None for no limit."""

ERROR_BODY_BYTES = 64 * 2**10  # of an error answer, what we read and keep
MESSAGE_CHARS = 500  # of the server's message, what an exception repeats
BODY_CHARS = 2000  # of a body that is not JSON, what an exception keeps


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
