"""The one exception tree of mimo_nb.

Every failure a user can meet is a :class:`MimoError`. Errors from the libraries underneath
(decord, PyAV, httpx) are translated at the one place each is called, so nothing below leaks out.
Each message says what was wrong and what to do about it. ::

    MimoError
    ├── LimitError (also ValueError)      an argument or a file is outside what the API accepts
    │   ├── ContextLengthError            the request does not fit the model's context
    │   ├── ConfigurationError            a client option or environment variable is unusable
    │   └── UnknownOptionError            a keyword the call does not take (also TypeError)
    ├── VideoError                        a video could not be opened, decoded, written or sent
    ├── APIError                          talking to the API failed: .message, .body, .request_id
    │   ├── APIStatusError                the server answered 4xx/5xx: .status_code, .retry_after
    │   │   ├── BadRequestError           400: e.g. the server could not read the video
    │   │   ├── AuthenticationError       401: the server rejected the API key
    │   │   ├── PermissionDeniedError     403: the key may not do this (model, quota, region)
    │   │   ├── NotFoundError             404: wrong base_url or model
    │   │   ├── UnprocessableEntityError  422: the server could not validate the body
    │   │   ├── RateLimitError            429: slow down (honours Retry-After)
    │   │   └── InternalServerError       5xx
    │   ├── APIResponseValidationError    a 2xx answer that is not a chat completion, or too large
    │   ├── APIConnectionError            no answer: the server is unreachable or the link broke
    │   │   └── APITimeoutError           the call's deadline passed
    │   └── StreamInterruptedError        a streamed answer stopped early; .partial holds what came
    └── CacheError                        the response cache could not be used
        └── CacheMissError                offline, and the request is not in the cache

Status errors are retried where that can help (429, 5xx, and connection errors and timeouts
while time is left); the others are raised at once. Strings an error carries (message, body,
request id) never hold the API key: the client redacts them with :func:`redact` before it
shortens them, so no prefix of a key survives a cut.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "MimoError",
    "LimitError",
    "ContextLengthError",
    "ConfigurationError",
    "UnknownOptionError",
    "VideoError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "APIResponseValidationError",
    "APIConnectionError",
    "APITimeoutError",
    "StreamInterruptedError",
    "CacheError",
    "CacheMissError",
    "redact",
    "shorten",
    "REDACTED",
]

REDACTED = "***"


class MimoError(Exception):
    """Base class of every error mimo_nb raises."""


# ---- Bad arguments and limits ---------------------------------------------------------------


class LimitError(MimoError, ValueError):
    """An argument or a file is outside what the MiMo API accepts (fps, resolution, size...)."""


class ContextLengthError(LimitError):
    """The videos and text of a request need more tokens than the model's context holds."""

    def __init__(self, message: str, *, needed: int, limit: int) -> None:
        super().__init__(message)
        self.needed = needed
        self.limit = limit


class ConfigurationError(LimitError):
    """A client option or environment variable cannot be used: a missing or malformed API key
    (the message never repeats the key), a bad ``base_url``, ``timeout`` or ``max_retries``.

    It is a :class:`LimitError` (and so a ``ValueError``) because it is a bad argument found
    before anything is sent; :class:`AuthenticationError` is kept for what the server answers.
    """


class UnknownOptionError(LimitError, TypeError):
    """A keyword the call does not take, among the ``**options`` it passes on (``sweep(...,
    fsp=2)``): the message names the call, the closest option it does take, and all of them.

    It is a ``TypeError`` too, as Python's own error for an unexpected keyword is, so code that
    catches either keeps working.
    """


# ---- Video ----------------------------------------------------------------------------------


class VideoError(MimoError):
    """A video could not be opened, probed, decoded, written or sent.

    ``reason`` is a short machine-readable word: ``not_found``, ``unreadable``, ``empty``,
    ``not_a_video``, ``no_video_stream``, ``truncated``, ``unsupported_format``,
    ``unsupported_codec``, ``too_large``, ``timeout``, ``download``, ``offline`` (offline mode
    refused a download), ``changed`` (the file was rewritten, replaced or removed after
    ``Video.open``, or between building a request and sending it), ``unwritable`` (an output
    path) or ``encode`` (the encoder failed).
    """

    def __init__(self, message: str, *, reason: str, source: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.source = source


# ---- Talking to the API ---------------------------------------------------------------------


class APIError(MimoError):
    """Talking to the API failed. ``message`` says how; ``body`` is what the server sent (JSON
    decoded when it was JSON, else text), ``request_id`` the server's id for the request and
    ``status_code`` the HTTP status, when there was an answer."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.body = body


class APIStatusError(APIError):
    """The server answered with a 4xx or 5xx status. ``retry_after`` is the server's
    Retry-After advice in seconds, if it gave one (429, 503)."""

    status_code: int

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, request_id=request_id, body=body)
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    """400: the server rejected the request (for example it could not read the video)."""


class AuthenticationError(APIStatusError):
    """401: the server rejected the API key (wrong, expired or revoked)."""


class PermissionDeniedError(APIStatusError):
    """403: the key is valid but may not do this (the model, the quota, the region)."""


class NotFoundError(APIStatusError):
    """404: no such endpoint or model; check ``base_url`` (it ends in ``/v1``) and ``model``."""


class UnprocessableEntityError(APIStatusError):
    """422: the server could not validate the request body (FastAPI-style servers say 422)."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is the server's advice in seconds, if any."""


class InternalServerError(APIStatusError):
    """5xx: the server failed; retried automatically before this is raised."""


class APIResponseValidationError(APIError):
    """The server answered 2xx, but the answer is not a chat completion (bad JSON, a field of
    the wrong type, no choices) or is larger than ``max_response_bytes``. The message names
    the field that was wrong; ``problem`` says it in a phrase."""

    def __init__(
        self,
        message: str,
        *,
        problem: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message, status_code=status_code, request_id=request_id, body=body)
        self.problem = problem or message


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke before an answer came."""


class APITimeoutError(APIConnectionError):
    """The call's deadline passed (``timeout``, or ``stream_timeout`` for a streamed answer)."""


class StreamInterruptedError(APIError):
    """A streamed answer stopped before its end: the connection broke, the deadline passed, the
    server sent an error event or an event that is not a chat-completion chunk. ``partial``
    holds the completion assembled from what arrived; ``__cause__`` is the error behind it."""

    def __init__(self, message: str, *, partial: Any = None, request_id: str | None = None) -> None:
        super().__init__(message, request_id=request_id)
        self.partial = partial


# ---- Cache ----------------------------------------------------------------------------------


class CacheError(MimoError):
    """The response cache could not be read or written."""


class CacheMissError(CacheError):
    """Offline mode is on and this request has no recorded response in the cache."""


# ---- Keeping secrets out of errors -----------------------------------------------------------


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` with every occurrence of each secret replaced by ``***``, in strings nested in
    dicts, lists and tuples too (dict keys included). Other values are returned as they are.

    Redact first, shorten after: a cut through a secret would leave its prefix unmatched.

    >>> redact({"error": ["bad key sk-123", {"sk-123": 1}]}, ["sk-123"])
    {'error': ['bad key ***', {'***': 1}]}
    """
    secrets = tuple(s for s in secrets if s)
    if not secrets:
        return value
    return _redact(value, secrets)


def _redact(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {_redact(k, secrets): _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secrets) for v in value]
    if isinstance(value, tuple):
        return tuple(_redact(v, secrets) for v in value)
    return value


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with an ellipsis when cut.

    >>> shorten("abcdef", 4)
    'abc…'
    """
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
