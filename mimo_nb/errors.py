"""The one exception tree of mimo_nb.

Every failure a user can meet is a :class:`MimoError`. Errors from the libraries underneath
(decord, PyAV, httpx) are translated at the one place each is called, so nothing below leaks out.
Each message says what was wrong and what to do about it.

    MimoError
    ├── LimitError (also ValueError)      an argument or a file is outside what the API accepts
    │   └── ContextLengthError            the request does not fit the model's context
    ├── VideoError                        a video could not be opened, probed, decoded or written
    ├── APIError                          the server answered with an error status
    │   ├── BadRequestError               400: e.g. the server could not read the video
    │   ├── AuthenticationError           401 / 403: missing or wrong API key
    │   ├── RateLimitError                429: slow down (honours Retry-After)
    │   └── ServerError                   5xx
    ├── APIConnectionError                the server could not be reached or the link broke
    │   ├── APITimeoutError               no answer within the timeout
    │   └── StreamInterruptedError        a streamed answer broke off; carries what arrived
    └── CacheError                        the response cache could not be used
        └── CacheMissError                offline, and the request is not in the cache
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "MimoError",
    "LimitError",
    "ContextLengthError",
    "VideoError",
    "APIError",
    "BadRequestError",
    "AuthenticationError",
    "RateLimitError",
    "ServerError",
    "APIConnectionError",
    "APITimeoutError",
    "StreamInterruptedError",
    "CacheError",
    "CacheMissError",
]


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


# ---- Video ----------------------------------------------------------------------------------


class VideoError(MimoError):
    """A video could not be opened, probed, decoded or written.

    ``reason`` is a short machine-readable word: ``not_found``, ``unreadable``, ``empty``,
    ``not_a_video``, ``no_video_stream``, ``truncated``, ``unsupported_format``,
    ``unsupported_codec``, ``too_large``, ``timeout``, ``download``, ``changed`` (the file was
    rewritten, replaced or removed after ``Video.open``), ``unwritable`` (an output path) or
    ``encode`` (the encoder failed).
    """

    def __init__(self, message: str, *, reason: str, source: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.source = source


# ---- HTTP: the server answered with an error ------------------------------------------------


class APIError(MimoError):
    """The server answered with an error status. Carries status, message, request id, body, and
    ``retry_after``: the server's Retry-After advice in seconds, if it gave one (429, 503)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after


class BadRequestError(APIError):
    """400: the server rejected the request (for example it could not read the video)."""


class AuthenticationError(APIError):
    """401 or 403: the API key is missing, wrong or not allowed to use this model."""


class RateLimitError(APIError):
    """429: too many requests; ``retry_after`` is the server's advice in seconds, if any."""


class ServerError(APIError):
    """5xx: the server failed; retried automatically before this is raised."""


# ---- HTTP: no usable answer -----------------------------------------------------------------


class APIConnectionError(MimoError):
    """The server could not be reached, or the connection broke."""


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout."""


class StreamInterruptedError(APIConnectionError):
    """A streamed answer broke off. ``partial`` holds the completion assembled so far."""

    def __init__(self, message: str, *, partial: Any = None) -> None:
        super().__init__(message)
        self.partial = partial


# ---- Cache ----------------------------------------------------------------------------------


class CacheError(MimoError):
    """The response cache could not be read or written."""


class CacheMissError(CacheError):
    """Offline mode is on and this request has no recorded response in the cache."""
