"""Ask MiMo about videos from a notebook: sync and async clients, retries, cache, batches.

>>> from mimo_nb.testing import MockMimoServer
>>> server = MockMimoServer(api_key="test-key").start()      # a local stand-in for the API
>>> client = MimoClient("test-key", base_url=server.base_url)
>>> client.build_request("clip.mp4", "What happens?").estimate.complete  # dry run: nothing sent
True
>>> done = client.ask("clip.mp4", "What happens?")          # a Completion
>>> done.usage.video_tokens                                 # (the stand-in's recorded answer)
1144
>>> for delta in client.ask("clip.mp4", "What happens?", stream=True):
...     pass                                                # delta.kind, delta.text
>>> client.map(["clip.mp4", "clip.mp4"], prompt="Describe it.", progress=False)
BatchResult(2 items, 0 failed)
>>> client.close(); server.stop()

**Deadlines.** ``timeout`` bounds a whole call, not one socket read: ``ask()`` and ``send()``
return or raise :class:`~mimo_nb.errors.APITimeoutError` within ``timeout`` seconds of being
called (connecting, uploading, waiting, every byte of the answer, retries and their waits), on
the monotonic clock. A streamed answer has its own deadline, ``stream_timeout`` (10 minutes by
default), counted from the call to the stream's last byte. An ``httpx.Timeout`` also bounds each
network operation by its fields (e.g. ``httpx.Timeout(60, connect=5)``: 60 s for the call, 5 s
to connect) and the call by the largest of them. ``None`` waits for ever.

All HTTP goes through httpx, and httpx's exceptions are translated in one place
(``mimo_nb.api._http``) into the :mod:`mimo_nb.errors` tree. Retries (tenacity) cover 429,
5xx, connection errors and timeouts, with exponential backoff and jitter, honouring
``Retry-After``, while the deadline leaves time; other 4xx are never retried. The API key is
sent as the ``api-key`` header, like the spec's curl; it is checked when the client is built,
and never appears in a repr, an exception (the server's words are redacted before they are
shortened), a log line or the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import logging
import math
import os
import random
from collections.abc import (
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import (
    TYPE_CHECKING,
    Any,
    Literal,
    TypeVar,
    overload,
)

import httpx
from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception

from mimo_nb._deadline import Deadline, DeadlineExceeded, call_before
from mimo_nb.api.cache import ResponseCache, request_key
from mimo_nb.api.request import (
    PreparedRequest,
    VideoPart,
    check_request_args,
    checked_file_part,
    checked_url_part,
    is_url,
    prepare_request,
)
from mimo_nb.api.response import Completion, completion_from_json, parse_completion
from mimo_nb.api.streaming import AsyncCompletionStream, CompletionStream, StreamDelta, _StreamBase
from mimo_nb.core import validate
from mimo_nb.core.display_hook import Displayed
from mimo_nb.core.pricing import Prices, load_prices
from mimo_nb.core.profiles import DEFAULT_PROFILE, Profile, get_profile
from mimo_nb.core.tokens import validate_fps, validate_media_resolution
from mimo_nb.errors import (
    APIResponseValidationError,
    APIStatusError,
    CacheError,
    CacheMissError,
    ConfigurationError,
    LimitError,
    MimoError,
)
from mimo_nb.net.http import (
    ERROR_BODY_BYTES,
    SECRET_HEADERS,
    CappedStream,
    Secrets,
    TimeoutArg,
    aread_capped,
    check_declared,
    deadline_error,
    httpx_errors,
    is_retryable,
    offline_from_env,
    overall_seconds,
    per_operation,
    read_capped,
    request_id_of,
    status_error,
    within,
)

if TYPE_CHECKING:
    from typing import TypeAlias

    from mimo_nb.media.video import Video

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "DEFAULT_TIMEOUT",
    "DEFAULT_STREAM_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "NOT_GIVEN",
    "NotGiven",
    "MimoClient",
    "AsyncMimoClient",
    "CompletionStream",
    "AsyncCompletionStream",
    "StreamDelta",
    "PreparedRequest",
    "BatchItem",
    "BatchResult",
]

DEFAULT_BASE_URL = "https://api.xiaomimimo.com/v1"
DEFAULT_MODEL = "mimo-v2.5"
# Seconds for a whole call: a long video can take a while to be read and answered.
DEFAULT_TIMEOUT = 120.0
# Seconds for a whole streamed answer, reasoning included.
DEFAULT_STREAM_TIMEOUT = 600.0
DEFAULT_MAX_RETRIES = 2
# A chat completion is kilobytes; this bounds memory, not answers.
DEFAULT_MAX_RESPONSE_BYTES = 16 * 2**20
HEAD_TIMEOUT = 10.0  # the URL size probe must never hold up a request for long
PROBE_TIMEOUT = 60.0  # opening a local video inside ask(), as Video.open
MAX_RETRY_AFTER = 60.0  # we honour Retry-After, but not beyond a minute

logger = logging.getLogger("mimo_nb.api.client")

if TYPE_CHECKING:
    VideoInput: TypeAlias = "Video | str | os.PathLike[str] | bytes"
    """A :class:`~mimo_nb.media.video.Video`, a local path, a file's bytes, or an http(s) URL."""
    Videos: TypeAlias = "VideoInput | Sequence[VideoInput]"


class NotGiven:
    """The type of :data:`NOT_GIVEN`: "use the client's setting" (``None`` means "no limit")."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN = NotGiven()


# ---- Options, checked once when a client is built --------------------------------------------


def _read_api_key(api_key: Any) -> str | None:
    """The key, stripped of surrounding whitespace, or None when there is none.

    Raises :class:`ConfigurationError` (which never repeats the key) for a key that is not one
    word of printable ASCII: a line break inside, a space ("Bearer sk-..."), a curly quote.
    """
    source = "api_key"
    if api_key is None:
        api_key, source = os.environ.get("MIMO_API_KEY"), "MIMO_API_KEY"
        if api_key is None or not api_key.strip():
            return None
    if not isinstance(api_key, str):
        raise ConfigurationError(f"api_key must be a string, got a {type(api_key).__name__}.")
    key = api_key.strip()
    if not key:
        raise ConfigurationError(
            f"{source} is empty (only whitespace). Pass the key from the MiMo console, "
            "or None to read MIMO_API_KEY."
        )
    for position, char in enumerate(key, start=1):
        code = ord(char)
        if 0x21 <= code <= 0x7E:
            continue
        kind = (
            "a space"
            if char == " "
            else "a control character"
            if code < 0x20 or code == 0x7F
            else "whitespace"
            if char.isspace()
            else "a non-ASCII character"
        )
        raise ConfigurationError(
            f"{source} contains {kind} (U+{code:04X}) at position {position} of {len(key)}: an "
            "API key is one word of printable ASCII. Copy it again from the MiMo console, "
            "without quotes, 'Bearer ' or line breaks. (The key itself is not shown here.)"
        )
    return key


def _seconds(value: Any, name: str) -> float:
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


def _check_timeout(value: Any, name: str) -> TimeoutArg:
    """A valid ``timeout``: positive seconds, an ``httpx.Timeout`` of positive fields, or None."""
    if value is None:
        return None
    if isinstance(value, httpx.Timeout):
        for part in ("connect", "read", "write", "pool"):
            if getattr(value, part) is not None:
                _seconds(getattr(value, part), f"{name}.{part}")
        return value
    return _seconds(value, name)


def _check_count(value: Any, name: str, minimum: int) -> int:
    return validate.number(  # type: ignore[no-any-return]
        name, value, minimum=minimum, integer=True, error=ConfigurationError
    )


def _check_delay(value: Any, name: str) -> float:
    return validate.non_negative(  # type: ignore[no-any-return]
        name, value, hint="(seconds)", error=ConfigurationError
    )


def _check_base_url(value: Any) -> str:
    if value is None:
        value = os.environ.get("MIMO_BASE_URL") or DEFAULT_BASE_URL
    if not isinstance(value, (str, httpx.URL)):
        raise ConfigurationError(
            f"base_url must be a string such as {DEFAULT_BASE_URL!r}, got {value!r}."
        )
    text = str(value).strip().rstrip("/")
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got {text!r} "
            "(MIMO_BASE_URL sets it too)."
        )
    return text


def _check_headers(headers: Any, name: str) -> dict[str, str]:
    """Header names and values as httpx will send them: strings without control characters."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise LimitError(
            f"{name} must be a dict of header names to values, got {type(headers).__name__}."
        )
    out = {}
    for key, value in headers.items():
        if (
            not isinstance(key, str)
            or not key
            or not all(0x21 <= ord(c) <= 0x7E and c != ":" for c in key)
        ):
            raise LimitError(
                f"{name} has a header name that is not a token of printable ASCII: {key!r}."
            )
        if not isinstance(value, str) or any(
            ord(c) < 0x20 or ord(c) == 0x7F for c in value if c != "\t"
        ):
            raise LimitError(
                f"{name}[{key!r}] must be a string without line breaks or control characters."
            )
        out[key] = value
    return out


# ---- Batches --------------------------------------------------------------------------------


@dataclass
class BatchItem:
    """One item of a batch: its completion, or the error it ended in."""

    index: int
    label: str
    completion: Completion | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.completion is not None

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "index": self.index,
            "video": self.label,
            "ok": self.ok,
            "error_type": type(self.error).__name__ if self.error else None,
            "error": str(self.error) if self.error else None,
        }
        if self.completion is not None:
            record.update(self.completion.to_dict())
        return record


@dataclass
class BatchResult(Sequence[BatchItem], Displayed):
    """The items of a batch in input order; errors are collected, never raised."""

    items: list[BatchItem] = field(default_factory=list)

    def __getitem__(self, index: Any) -> Any:
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)

    @property
    def completions(self) -> list[Completion | None]:
        return [item.completion for item in self.items]

    @property
    def errors(self) -> list[BatchItem]:
        """The items that failed."""
        return [item for item in self.items if not item.ok]

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per item (index, video, ok, error, content, usage, cost...)."""
        return [item.to_record() for item in self.items]

    def to_dataframe(self) -> Any:
        """The records as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise MimoError(
                "to_dataframe() needs pandas: pip install pandas (or use to_records())."
            ) from None
        return pd.DataFrame.from_records(self.to_records())

    def __repr__(self) -> str:
        return f"BatchResult({len(self.items)} items, {len(self.errors)} failed)"


def _check_batch_options(
    ask: Callable[..., Any], common: Mapping[str, Any], concurrency: Any
) -> None:
    """Unknown ask() arguments are a TypeError before anything runs, as in a direct call."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise LimitError(f"concurrency must be an integer of at least 1, got {concurrency!r}.")
    known = set(inspect.signature(ask).parameters)
    unknown = sorted(set(common) - known)
    if unknown:
        raise TypeError(
            f"map() got unexpected keyword arguments {unknown}; it takes ask()'s: {sorted(known)}. "
            "Put extra body fields in extra_body={...}."
        )


def _batch_call(item: Any, common: Mapping[str, Any]) -> dict[str, Any]:
    """ask() keyword arguments for one batch item: a dict, a (videos, prompt) pair, or videos."""
    if isinstance(item, dict):
        kwargs = {**common, **item}
    elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], str):
        kwargs = {**common, "videos": item[0], "prompt": item[1]}
    else:
        kwargs = {**common, "videos": item}
    if "prompt" not in kwargs or "videos" not in kwargs:
        raise LimitError(
            "each batch item needs videos and a prompt: pass prompt=... to map(), "
            "or items as dicts {'videos': ..., 'prompt': ...} or (videos, prompt) pairs."
        )
    kwargs["stream"] = False
    return kwargs


def _budget(prepared: PreparedRequest) -> int | None:
    """The request's ``max_completion_tokens``: what an answer without usage is counted at."""
    value = prepared.template.get("max_completion_tokens")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _label(videos: Any) -> str:
    from mimo_nb.media.video import Video

    items = videos if isinstance(videos, (list, tuple)) else [videos]
    names = []
    for v in items:
        if isinstance(v, (bytes, bytearray)):
            names.append(f"<{len(v):,} bytes>")
        else:
            names.append(v.name if isinstance(v, Video) else str(v))
    return ", ".join(names)


def _progress(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc="MiMo", unit="req")


# ---- Retries --------------------------------------------------------------------------------


class _RetryPolicy:
    """When to try again, and how long to wait, for one call with its deadline.

    The delay before each retry is chosen once (the server's Retry-After, else exponential
    backoff with jitter) and used by both ``stop`` and ``wait``, whichever tenacity asks first:
    a retry whose wait would pass the deadline is not made, and the last error is raised.
    """

    def __init__(self, client: _ClientBase, deadline: Deadline) -> None:
        self._client = client
        self._deadline = deadline
        self._delays: dict[int, float] = {}

    def delay(self, state: RetryCallState) -> float:
        if state.attempt_number not in self._delays:
            exc = state.outcome.exception() if state.outcome else None
            retry_after = exc.retry_after if isinstance(exc, APIStatusError) else None
            if retry_after is not None:
                delay = min(retry_after, MAX_RETRY_AFTER)
            else:
                client = self._client
                ceiling = min(
                    client.retry_max_delay,
                    client.retry_base_delay * 2 ** (state.attempt_number - 1),
                )
                delay = ceiling * (
                    0.5 + random.random() / 2
                )  # "equal jitter": spread the herd, keep a floor
            self._delays[state.attempt_number] = delay
        return self._delays[state.attempt_number]

    def stop(self, state: RetryCallState) -> bool:
        if state.attempt_number > self._client.max_retries:
            return True
        left = self._deadline.remaining()
        return left is not None and self.delay(state) >= left

    def before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        logger.warning(
            "MiMo request failed (%s); retry %d of %d in %.2f s",
            type(exc).__name__,
            state.attempt_number,
            self._client.max_retries,
            self.delay(state),
        )

    def options(self) -> dict[str, Any]:
        return {
            "stop": self.stop,
            "wait": self.delay,
            "retry": retry_if_exception(is_retryable),
            "before_sleep": self.before_sleep,
            "reraise": True,
        }


# ---- The clients ----------------------------------------------------------------------------


@dataclass
class _Call:
    """One call's settings: whether it streams, its deadline, its timeouts and extra headers."""

    stream: bool
    deadline: Deadline
    timeout: TimeoutArg
    headers: dict[str, str]


class _Sent:
    """What an attempt brought back: the response (open for a stream), the body, the hashes
    of the bytes sent."""

    def __init__(
        self, response: httpx.Response, data: bytes | None, digests: dict[str, str]
    ) -> None:
        self.response = response
        self.data = data
        self.digests = digests

    def close(self) -> None:
        self.response.close()


class _BodyHasher:
    """Hashes each local video's bytes as they are sent (for the cache) and watches the deadline."""

    def __init__(self, prepared: PreparedRequest, deadline: Deadline, enabled: bool) -> None:
        self._expected = (
            {marker: part.size_bytes for marker, part in prepared.markers.items()}
            if enabled
            else {}
        )
        self._hashes = {marker: hashlib.sha256() for marker in self._expected}
        self._seen = dict.fromkeys(self._expected, 0)
        self._deadline = deadline

    def __call__(self, marker: str, block: bytes) -> None:
        if marker in self._hashes:
            self._hashes[marker].update(block)
            self._seen[marker] += len(block)
        self._deadline.check()

    def digests(self) -> dict[str, str]:
        """Hex digests of the videos sent whole (a part cut short has none)."""
        return {
            m: h.hexdigest() for m, h in self._hashes.items() if self._seen[m] == self._expected[m]
        }


C = TypeVar("C", bound="_ClientBase")


class _ClientBase:
    """Options and the request-building steps shared by the sync and async clients."""

    _http: Any
    _owns_http: bool

    def _configure(
        self,
        api_key: str | None,
        base_url: str | None,
        model: str,
        timeout: TimeoutArg,
        stream_timeout: float | None,
        max_retries: int,
        retry_base_delay: float,
        retry_max_delay: float,
        max_response_bytes: int,
        cache: str | os.PathLike[str] | ResponseCache | None,
        offline: bool | None,
        prices: Prices | None,
        context_lengths: Mapping[str, int] | None,
        default_headers: Mapping[str, str] | None,
        profile: str | Profile = DEFAULT_PROFILE,
    ) -> None:
        """Check every option once, here, before anything can be sent."""
        self._api_key = _read_api_key(api_key)
        self.base_url = _check_base_url(base_url)
        if not isinstance(model, str) or not model.strip():
            raise ConfigurationError(
                f"model must be a model name such as {DEFAULT_MODEL!r}, got {model!r}."
            )
        self.model = model
        self.timeout = _check_timeout(timeout, "timeout")
        self.stream_timeout = (
            None if stream_timeout is None else _seconds(stream_timeout, "stream_timeout")
        )
        self.max_retries = _check_count(max_retries, "max_retries", 0)
        self.retry_base_delay = _check_delay(retry_base_delay, "retry_base_delay")
        self.retry_max_delay = _check_delay(retry_max_delay, "retry_max_delay")
        self.max_response_bytes = _check_count(max_response_bytes, "max_response_bytes", 1024)
        if cache is not None and not isinstance(cache, (str, os.PathLike, ResponseCache)):
            raise ConfigurationError(
                f"cache must be a directory or a ResponseCache, got {type(cache).__name__}."
            )
        self.cache = (
            cache if isinstance(cache, ResponseCache) or cache is None else ResponseCache(cache)
        )
        if offline is not None and not isinstance(offline, bool):
            raise ConfigurationError(
                f"offline must be True, False or None (read MIMO_NB_OFFLINE), got {offline!r}."
            )
        self.offline = offline_from_env() if offline is None else offline
        if prices is not None and not isinstance(prices, Prices):
            raise ConfigurationError(
                f"prices must be a mimo_nb.Prices, got {type(prices).__name__}."
            )
        if context_lengths is not None and not (
            isinstance(context_lengths, Mapping)
            and all(
                isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v > 0
                for k, v in context_lengths.items()
            )
        ):
            raise ConfigurationError(
                "context_lengths must map model names to positive token counts, "
                "e.g. {'mimo-v2.5': 262144}."
            )
        self.context_lengths = dict(context_lengths) if context_lengths is not None else None
        try:
            self.default_headers = _check_headers(default_headers, "default_headers")
        except LimitError as exc:
            raise ConfigurationError(str(exc)) from None
        try:  # whose rules the estimate follows: the hosted API's, or a self-hosted server's
            rules = get_profile(profile)
        except LimitError as exc:
            raise ConfigurationError(str(exc)) from None
        self.profile: str | Profile = profile if isinstance(profile, Profile) else rules.name
        self._prices = prices
        self._secrets = Secrets(
            self._api_key,
            *(v for k, v in self.default_headers.items() if k.lower() in SECRET_HEADERS),
        )
        # A URL's size is asked for once per client (HEAD), then remembered: a batch over one clip
        # with several prompts or settings need not probe it again and again.
        self._url_sizes: dict[str, int] = {}

    def _options(self) -> dict[str, Any]:
        """The constructor's arguments that rebuild this client (for :meth:`with_options`)."""
        return {
            "api_key": self._api_key,
            "base_url": self.base_url,
            "model": self.model,
            "timeout": self.timeout,
            "stream_timeout": self.stream_timeout,
            "max_retries": self.max_retries,
            "retry_base_delay": self.retry_base_delay,
            "retry_max_delay": self.retry_max_delay,
            "max_response_bytes": self.max_response_bytes,
            "cache": self.cache,
            "offline": self.offline,
            "prices": self._prices,
            "context_lengths": self.context_lengths,
            "default_headers": self.default_headers,
            "profile": self.profile,
        }

    def with_options(
        self: C,
        *,
        api_key: str | None | NotGiven = NOT_GIVEN,
        base_url: str | None | NotGiven = NOT_GIVEN,
        model: str | NotGiven = NOT_GIVEN,
        timeout: TimeoutArg | NotGiven = NOT_GIVEN,
        stream_timeout: float | None | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        retry_base_delay: float | NotGiven = NOT_GIVEN,
        retry_max_delay: float | NotGiven = NOT_GIVEN,
        max_response_bytes: int | NotGiven = NOT_GIVEN,
        cache: str | os.PathLike[str] | ResponseCache | None | NotGiven = NOT_GIVEN,
        offline: bool | None | NotGiven = NOT_GIVEN,
        prices: Prices | None | NotGiven = NOT_GIVEN,
        context_lengths: Mapping[str, int] | None | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | None | NotGiven = NOT_GIVEN,
        profile: str | Profile | NotGiven = NOT_GIVEN,
    ) -> C:
        """A copy of this client with some options changed; the rest, and the connections, shared.

        >>> quick = MimoClient("test-key").with_options(timeout=10, max_retries=0)
        >>> quick.timeout, quick.max_retries
        (10.0, 0)
        """
        given = dict(
            api_key=api_key,
            base_url=base_url,
            model=model,
            timeout=timeout,
            stream_timeout=stream_timeout,
            max_retries=max_retries,
            retry_base_delay=retry_base_delay,
            retry_max_delay=retry_max_delay,
            max_response_bytes=max_response_bytes,
            cache=cache,
            offline=offline,
            prices=prices,
            context_lengths=context_lengths,
            default_headers=default_headers,
            profile=profile,
        )
        options = {
            **self._options(),
            **{k: v for k, v in given.items() if not isinstance(v, NotGiven)},
        }
        copy = object.__new__(type(self))
        copy._configure(**options)
        copy._http, copy._owns_http = self._http, False  # the connections stay with this client
        copy._url_sizes = self._url_sizes
        return copy

    copy = with_options

    def __repr__(self) -> str:
        key = "set" if self._api_key else "missing"
        cache = str(self.cache.root) if self.cache else None
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key=<{key}>, timeout={self.timeout!r}, cache={cache!r}, offline={self.offline})"
        )

    @property
    def prices(self) -> Prices | None:
        """The prices of a completion's cost: the ones given, else the model's shipped ones."""
        if self._prices is None:
            try:
                self._prices = load_prices(self.model, "CNY")
            except LimitError:
                return None
        return self._prices

    @contextlib.contextmanager
    def _guarded(self) -> Iterator[None]:
        """The last line of defence at each public method: no MimoError leaves with a secret."""
        try:
            yield
        except MimoError as exc:
            self._secrets.scrub(exc)
            raise

    # -- one call --

    def _call(
        self, stream: bool, timeout: TimeoutArg | NotGiven, extra_headers: Mapping[str, str] | None
    ) -> _Call:
        """A call's settings; its deadline starts now."""
        if not isinstance(stream, bool):
            raise LimitError(f"stream must be True or False, got {stream!r}.")
        if isinstance(timeout, NotGiven):
            ops = self.timeout
            overall = self.stream_timeout if stream else overall_seconds(self.timeout)
        else:
            ops = _check_timeout(timeout, "timeout")
            overall = overall_seconds(ops)
        return _Call(stream, Deadline(overall), ops, _check_headers(extra_headers, "extra_headers"))

    def _headers(self, call: _Call, prepared: PreparedRequest) -> dict[str, str]:
        if not self._api_key:
            raise ConfigurationError(
                "no API key: set the MIMO_API_KEY environment variable or pass "
                "MimoClient(api_key=...). "
                "build_request(...) works without one (a dry run)."
            )
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "mimo-nb",
            **self.default_headers,
            **call.headers,
            "api-key": self._api_key,
            "Content-Length": str(prepared.content_length),
        }
        if call.stream:
            headers["Accept"] = "text/event-stream"
        return headers

    def _endpoint(self) -> str:
        return f"{self.base_url}/chat/completions"

    def _retry_policy(self, deadline: Deadline) -> dict[str, Any]:
        return _RetryPolicy(self, deadline).options()

    def _remember_size(self, url: str, response: httpx.Response) -> int | None:
        """The Content-Length of a HEAD answer (None when the server does not say), remembered."""
        length = response.headers.get("Content-Length")
        if not (response.is_success and length and length.isdigit()):
            return None
        self._url_sizes[url] = int(length)
        return int(length)

    # -- building --

    @staticmethod
    def _body_fields(
        temperature: float | None,
        top_p: float | None,
        extra_body: Mapping[str, Any] | None,
        stream: bool,
    ) -> dict[str, Any]:
        """The top-level fields beyond messages: sampling knobs and ``extra_body``, checked."""
        fields: dict[str, Any] = {}
        if temperature is not None:
            if (
                isinstance(temperature, bool)
                or not isinstance(temperature, (int, float))
                or not math.isfinite(temperature)
                or temperature < 0
            ):
                raise LimitError(
                    f"temperature must be a finite number >= 0 (e.g. 0.7), got {temperature!r}."
                )
            fields["temperature"] = temperature
        if top_p is not None:
            if (
                isinstance(top_p, bool)
                or not isinstance(top_p, (int, float))
                or not math.isfinite(top_p)
                or not 0 < top_p <= 1
            ):
                raise LimitError(f"top_p must be a number in (0, 1], got {top_p!r}.")
            fields["top_p"] = top_p
        if extra_body is not None:
            if not isinstance(extra_body, Mapping):
                raise LimitError(
                    "extra_body must be a dict of top-level fields, got "
                    f"{type(extra_body).__name__}."
                )
            for name, instead in (("model", "model=..."), ("stream", "stream=True")):
                if name in extra_body:
                    raise LimitError(f"extra_body cannot set {name!r}: pass {instead} instead.")
            fields.update(extra_body)
        return fields

    def _check_call(
        self,
        videos: Any,
        prompt: str,
        fps: float,
        media_resolution: str,
        system: str | None,
        max_completion_tokens: int,
        model: str | None,
        fields: dict[str, Any],
    ) -> tuple[list[Any], float]:
        """Every check that needs no I/O, before any probe or HEAD; fps is validated here, once."""
        fps = self._check_options(
            prompt, fps, media_resolution, system, max_completion_tokens, model, fields
        )
        items = list(videos) if isinstance(videos, (list, tuple)) else [videos]
        if not items:
            raise LimitError(
                "ask() needs at least one video: a Video, a path, bytes or an http(s) URL."
            )
        return items, fps

    def _check_options(
        self,
        prompt: str,
        fps: float,
        media_resolution: str,
        system: str | None,
        max_completion_tokens: int,
        model: str | None,
        fields: dict[str, Any],
    ) -> float:
        """The checks of a call's options (not its videos); returns the validated fps."""
        fps = validate_fps(fps)
        validate_media_resolution(media_resolution)
        check_request_args(prompt, system, max_completion_tokens, fields, model or self.model)
        return fps

    def _check_ask_args(
        self,
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
    ) -> None:
        """Raise :class:`LimitError` for any bad per-call option of :meth:`build_request`, as the
        call itself would, before any video is touched (``Corpus.ask`` checks once, up front)."""
        self._call(stream, timeout, None)
        fields = self._body_fields(temperature, top_p, extra_body, stream)
        self._check_options(
            prompt, fps, media_resolution, system, max_completion_tokens, model, fields
        )

    def _local_part(
        self, source: Any, fps: float, media_resolution: str, deadline: Deadline
    ) -> VideoPart:
        """A Video, path or bytes as a part; paths and bytes are opened (probed) with Video.open."""
        from mimo_nb.media.video import Video

        if isinstance(source, Video):
            video = source
        elif isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)):
            if deadline.expired():
                raise deadline_error("opening the videos", deadline)
            data = bytes(source) if isinstance(source, (bytearray, memoryview)) else source
            probe = max(deadline.cap(PROBE_TIMEOUT) or 0.0, 0.001)  # within the call's deadline
            video = Video.open(data, timeout=probe)
        else:
            raise LimitError(
                f"cannot send a {type(source).__name__} as a video: pass a Video, a local path, "
                "bytes or an http(s) URL."
            )
        breakdown = video.estimate(fps=fps, media_resolution=media_resolution, profile=self.profile)
        if video.url:
            return checked_url_part(
                video.url, fps, media_resolution, size_bytes=video.size_bytes, breakdown=breakdown
            )
        return checked_file_part(
            video.path,
            video.mime_type,
            fps,
            media_resolution,
            size_bytes=video.size_bytes,
            breakdown=breakdown,
            name=video.name,
        )

    def _prepare(
        self,
        parts: list[VideoPart],
        prompt: str,
        *,
        system: str | None,
        max_completion_tokens: int,
        model: str | None,
        stream: bool,
        fields: dict[str, Any],
    ) -> PreparedRequest:
        return prepare_request(
            parts,
            prompt,
            model=model or self.model,
            system=system,
            max_completion_tokens=max_completion_tokens,
            stream=stream,
            extra=fields,
            context_lengths=self.context_lengths,
            profile=get_profile(self.profile).name,
        )

    # -- the cache --

    def _cached(self, prepared: PreparedRequest) -> tuple[Completion | None, dict[str, Any] | None]:
        """The cached completion (or None) and the cache material (None when there is no cache)."""
        if self.cache is None:
            if self.offline:
                raise CacheMissError(
                    "offline mode is on (MIMO_NB_OFFLINE or offline=True) but no cache is set: "
                    "pass cache='path/' holding recorded responses, or turn offline mode off."
                )
            return None, None
        material = prepared.cache_material()  # local videos hashed as they are now
        raw = self.cache.get(material)
        if raw is not None:
            try:
                return completion_from_json(
                    raw,
                    estimate=prepared.estimate,
                    prices=self.prices,
                    origin="cache",
                    max_completion_tokens=_budget(prepared),
                ), material
            except APIResponseValidationError as exc:
                logger.warning(
                    "ignoring a cache entry that is not a chat completion (%s)", exc.problem
                )
        if self.offline:
            raise CacheMissError(
                f"offline mode is on and this request is not in the cache at {self.cache.root} "
                f"(key {request_key(material)[:12]}...). Run it once online to record it, or turn "
                "offline mode off."
            )
        return None, material

    def _store(
        self, prepared: PreparedRequest, material: dict[str, Any] | None, digests: dict[str, str]
    ) -> Callable[[Completion], None] | None:
        """Store an answer under the bytes that were actually sent (hashed while sending)."""
        if material is None or self.cache is None:
            return None
        if set(digests) != set(prepared.markers):
            logger.warning("not caching the answer: a video was not sent whole")
            return None
        sent = prepared.cache_material(digests)
        if request_key(sent) != request_key(material):
            logger.warning(
                "a video changed between the cache look-up and the upload; the answer is cached "
                "under the bytes that were sent"
            )
        cache, secrets = self.cache, self._secrets

        def store(completion: Completion) -> None:
            try:
                cache.put(sent, secrets.redact(completion.raw))
            except CacheError as exc:  # a cache that cannot be written must not lose the answer
                logger.warning("%s", exc)

        return store

    def _answer(
        self,
        sent: _Sent,
        prepared: PreparedRequest,
        material: dict[str, Any] | None,
        call: _Call,
        stream_type: type[_StreamBase],
    ) -> Any:
        """The Completion (or stream) an attempt brought back, stored in the cache when done."""
        store = self._store(prepared, material, sent.digests)
        if call.stream:
            return stream_type(
                sent.response,
                deadline=call.deadline,
                secrets=self._secrets,
                estimate=prepared.estimate,
                prices=self.prices,
                request_id=request_id_of(sent.response.headers, self._secrets),
                on_complete=store,
                max_completion_tokens=_budget(prepared),
            )
        assert sent.data is not None
        completion = parse_completion(
            sent.data,
            status=sent.response.status_code,
            request_id=request_id_of(sent.response.headers, self._secrets),
            secrets=self._secrets,
            estimate=prepared.estimate,
            prices=self.prices,
        )
        completion.max_completion_tokens = _budget(prepared)  # prices an answer without usage
        if store:
            store(completion)
        return completion


class MimoClient(_ClientBase):
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

    _http: httpx.Client

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
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._configure(
            api_key,
            base_url,
            model,
            timeout,
            stream_timeout,
            max_retries,
            retry_base_delay,
            retry_max_delay,
            max_response_bytes,
            cache,
            offline,
            prices,
            context_lengths,
            default_headers,
            profile,
        )
        if http_client is not None and transport is not None:
            raise ConfigurationError(
                "pass transport= or http_client=, not both (set the transport on your client)."
            )
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise ConfigurationError(
                f"http_client must be an httpx.Client, got {type(http_client).__name__} "
                "(an httpx.AsyncClient goes to AsyncMimoClient)."
            )
        if transport is not None and not isinstance(transport, httpx.BaseTransport):
            raise ConfigurationError(
                f"transport must be an httpx.BaseTransport, got {type(transport).__name__}."
            )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(transport=transport)

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
        """The Content-Length a HEAD request reports, or None when the server does not say.

        Never in offline mode; never longer than HEAD_TIMEOUT or the call's deadline.
        """
        if self.offline:
            return None
        if url in self._url_sizes:
            return self._url_sizes[url]
        probe = deadline.earliest(Deadline(HEAD_TIMEOUT))

        def head() -> httpx.Response:
            return self._http.head(
                url, timeout=per_operation(self.timeout, probe), follow_redirects=True
            )

        try:
            response = call_before(probe, head, discard=httpx.Response.close, name="mimo-nb-head")
        except (httpx.HTTPError, DeadlineExceeded) as exc:
            logger.debug("HEAD %s failed (%s); size unknown", url, type(exc).__name__)
            return None
        return self._remember_size(url, response)

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

    def _exchange(self, prepared: PreparedRequest, call: _Call, hashing: bool) -> _Sent:
        """One attempt, on the calling or a worker thread: send, check the status, read."""
        hasher = _BodyHasher(prepared, call.deadline, hashing)
        request = self._http.build_request(
            "POST",
            self._endpoint(),
            content=prepared.iter_body(on_block=hasher),
            headers=self._headers(call, prepared),
            timeout=per_operation(call.timeout, call.deadline),
        )
        logger.debug(
            "POST %s (%d bytes, stream=%s)", request.url, prepared.content_length, call.stream
        )
        with httpx_errors(f"POST {request.url}", self._secrets, call.timeout):
            response = self._http.send(request, stream=True)
            try:
                if response.status_code >= 400:
                    data = read_capped(response, ERROR_BODY_BYTES, call.deadline, keep_head=True)
                    raise status_error(response, data, self._secrets)
                if call.stream:
                    check_declared(response, self.max_response_bytes)
                    response.stream = CappedStream(response.stream, self.max_response_bytes)
                    return _Sent(response, None, hasher.digests())
                data = read_capped(response, self.max_response_bytes, call.deadline)
            except BaseException:
                response.close()
                raise
        response.close()
        return _Sent(response, data, hasher.digests())

    def _send_once(self, prepared: PreparedRequest, call: _Call, hashing: bool) -> _Sent:
        try:
            return call_before(
                call.deadline, lambda: self._exchange(prepared, call, hashing), discard=_Sent.close
            )
        except DeadlineExceeded:
            raise deadline_error(f"POST {self._endpoint()}", call.deadline) from None

    def _send_prepared(
        self, prepared: PreparedRequest, call: _Call
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
        _check_batch_options(self.ask, common, concurrency)
        items = list(items)
        result = BatchResult([BatchItem(i, "") for i in range(len(items))])
        bar = _progress(len(items), progress)

        def run(index: int) -> None:
            slot = result.items[index]
            try:
                kwargs = _batch_call(items[index], common)
                slot.label = _label(kwargs["videos"])
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


class AsyncMimoClient(_ClientBase):
    """The async twin of :class:`MimoClient`: ``await aclient.ask(...)``, ``await .map(...)``.

    Takes the same arguments; ``transport`` is an ``httpx.AsyncBaseTransport`` and
    ``http_client`` an ``httpx.AsyncClient``. Deadlines cancel the awaited request.
    """

    _http: httpx.AsyncClient

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
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._configure(
            api_key,
            base_url,
            model,
            timeout,
            stream_timeout,
            max_retries,
            retry_base_delay,
            retry_max_delay,
            max_response_bytes,
            cache,
            offline,
            prices,
            context_lengths,
            default_headers,
            profile,
        )
        if http_client is not None and transport is not None:
            raise ConfigurationError(
                "pass transport= or http_client=, not both (set the transport on your client)."
            )
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise ConfigurationError(
                f"http_client must be an httpx.AsyncClient, got {type(http_client).__name__} "
                "(an httpx.Client goes to MimoClient)."
            )
        if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
            raise ConfigurationError(
                f"transport must be an httpx.AsyncBaseTransport, got {type(transport).__name__}."
            )
        self._owns_http = http_client is None
        self._http = (
            http_client
            if http_client is not None
            else httpx.AsyncClient(
                transport=transport,
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
            )
        )

    async def aclose(self) -> None:
        """Close the connections (unless they belong to an ``http_client`` you passed)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncMimoClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def _head_size(self, url: str, deadline: Deadline) -> int | None:
        if self.offline:
            return None
        if url in self._url_sizes:
            return self._url_sizes[url]
        probe = deadline.earliest(Deadline(HEAD_TIMEOUT))
        try:
            response = await within(
                probe,
                self._http.head(
                    url, timeout=per_operation(self.timeout, probe), follow_redirects=True
                ),
            )
        except (httpx.HTTPError, DeadlineExceeded) as exc:
            logger.debug("HEAD %s failed (%s); size unknown", url, type(exc).__name__)
            return None
        return self._remember_size(url, response)

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

    async def _exchange(self, prepared: PreparedRequest, call: _Call, hashing: bool) -> _Sent:
        hasher = _BodyHasher(prepared, call.deadline, hashing)
        request = self._http.build_request(
            "POST",
            self._endpoint(),
            content=prepared.aiter_body(on_block=hasher),
            headers=self._headers(call, prepared),
            timeout=per_operation(call.timeout, call.deadline),
        )
        logger.debug(
            "POST %s (%d bytes, stream=%s)", request.url, prepared.content_length, call.stream
        )
        with httpx_errors(f"POST {request.url}", self._secrets, call.timeout):
            response = await self._http.send(request, stream=True)
            try:
                if response.status_code >= 400:
                    data = await aread_capped(response, ERROR_BODY_BYTES, keep_head=True)
                    raise status_error(response, data, self._secrets)
                if call.stream:
                    check_declared(response, self.max_response_bytes)
                    response.stream = CappedStream(response.stream, self.max_response_bytes)
                    return _Sent(response, None, hasher.digests())
                data = await aread_capped(response, self.max_response_bytes)
            except BaseException:
                await response.aclose()
                raise
        await response.aclose()
        return _Sent(response, data, hasher.digests())

    async def _send_once(self, prepared: PreparedRequest, call: _Call, hashing: bool) -> _Sent:
        try:
            return await within(call.deadline, self._exchange(prepared, call, hashing))
        except DeadlineExceeded:
            raise deadline_error(f"POST {self._endpoint()}", call.deadline) from None

    async def _send_prepared(
        self, prepared: PreparedRequest, call: _Call
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
        _check_batch_options(self.ask, common, concurrency)
        items = list(items)
        result = BatchResult([BatchItem(i, "") for i in range(len(items))])
        gate = asyncio.Semaphore(concurrency)
        bar = _progress(len(items), progress)

        async def run(index: int) -> None:
            slot = result.items[index]
            async with gate:
                try:
                    kwargs = _batch_call(items[index], common)
                    slot.label = _label(kwargs["videos"])
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
