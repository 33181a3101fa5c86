"""Ask MiMo about videos from a notebook: sync and async clients, streaming, retries, cache, batches.

>>> client = MimoClient()                     # api_key from MIMO_API_KEY
>>> client.build_request("clip.mp4", "What happens?")       # dry run: the exact body, nothing sent
>>> done = client.ask("clip.mp4", "What happens?")          # a Completion
>>> done.comparison()                                       # estimate vs the server's usage
>>> for delta in client.ask("clip.mp4", "What happens?", stream=True):
...     print(delta.text, end="")
>>> results = client.map(["a.mp4", "b.mp4"], prompt="Describe it.", concurrency=4)
>>> results.to_dataframe()

All HTTP goes through httpx, and httpx's exceptions are translated in one place
(:func:`_map_httpx_errors`) into the :mod:`mimo_nb.errors` tree. Retries (tenacity) cover 429,
5xx and connection errors, with exponential backoff and jitter, honouring ``Retry-After``;
other 4xx are never retried. The API key is sent as the ``api-key`` header, like the spec's curl,
and never appears in a repr, an exception, a log line or the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Iterable, Iterator, Literal, Sequence

import httpx
from httpx_sse import EventSource, SSEError
from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from .cache import ResponseCache, offline_from_env, request_key
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CacheError,
    CacheMissError,
    LimitError,
    MimoError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from .pricing import Prices, load_prices
from .request import PreparedRequest, VideoPart, check_request_args, file_part, is_url, prepare_request, url_part
from .request import RequestEstimate
from .response import Completion, completion_from_json
from .tokens import validate_fps, validate_media_resolution

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
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
DEFAULT_TIMEOUT = 120.0  # seconds; a long video can take a while to be read and answered
HEAD_TIMEOUT = 10.0  # the URL size probe must never hold up a request for long
MAX_RETRY_AFTER = 60.0  # we honour Retry-After, but not beyond a minute

logger = logging.getLogger("mimo_nb.client")

VideoSource = Any  # a Video, a local path, bytes, or an http(s) URL


# ---- The one border with httpx --------------------------------------------------------------


@contextlib.contextmanager
def _map_httpx_errors(what: str, timeout: float | None) -> Iterator[None]:
    """Translate httpx's exceptions raised inside the block into mimo_nb's error tree."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise APITimeoutError(
            f"{what}: no answer within the timeout ({timeout} s; {type(exc).__name__}). The server may be "
            "busy or the video long: raise timeout=..., or try again later."
        ) from None
    except httpx.HTTPError as exc:  # ConnectError, RemoteProtocolError, ReadError, ...
        raise APIConnectionError(
            f"{what}: the connection failed ({type(exc).__name__}: {exc}). Check the network and base_url."
        ) from None


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_ADVICE = {
    400: "The request was rejected: check the video (format MP4/MOV/AVI/WMV, not corrupt) and the fields.",
    401: "Set MIMO_API_KEY or pass api_key= with a valid key.",
    403: "The key is not allowed to do this: check the key's permissions and the model name.",
    429: "Too many requests: they were retried; lower the batch concurrency or wait.",
}


def _status_error(response: httpx.Response, secret: str | None) -> APIError:
    """The :class:`APIError` subclass for an error response (the key redacted from the text)."""
    status = response.status_code
    try:
        body: Any = response.json()
    except (ValueError, UnicodeDecodeError):
        body = response.text[:500]
    detail = body.get("error", body) if isinstance(body, dict) else body
    message = detail.get("message") if isinstance(detail, dict) else None
    message = str(message or detail or response.reason_phrase)
    if secret:
        message = message.replace(secret, "***")
    request_id = response.headers.get("x-request-id") or response.headers.get("request-id")
    advice = _ADVICE.get(status, "The server failed: it was retried; try again later." if status >= 500 else "")
    text = f"MiMo answered {status}: {message}. {advice}".strip()
    kwargs = {"status_code": status, "request_id": request_id, "body": body,
              "retry_after": _retry_after_seconds(response.headers.get("Retry-After"))}
    if status == 400:
        return BadRequestError(text, **kwargs)
    if status in (401, 403):
        return AuthenticationError(text, **kwargs)
    if status == 429:
        return RateLimitError(text, **kwargs)
    if status >= 500:
        return ServerError(text, **kwargs)  # a 503 may carry Retry-After too
    return APIError(text, **kwargs)


def _is_retryable(exc: BaseException) -> bool:
    """429, 5xx and connection errors are worth another try; nothing else is."""
    if isinstance(exc, StreamInterruptedError):
        return False
    return isinstance(exc, (RateLimitError, ServerError, APIConnectionError))


def _parse_completion(response: httpx.Response, *, estimate: RequestEstimate, prices: Prices | None,
                      secret: str | None) -> Completion:
    request_id = response.headers.get("x-request-id")
    try:
        raw = response.json()
        return completion_from_json(raw, estimate=estimate, prices=prices, request_id=request_id)
    except (ValueError, UnicodeDecodeError, KeyError, IndexError, TypeError, AttributeError):
        snippet = response.text[:200].replace(secret, "***") if secret else response.text[:200]
        raise APIError(
            f"MiMo answered {response.status_code} but the body is not a chat completion: {snippet!r}. "
            "Check base_url points at a chat-completions endpoint; try again.",
            status_code=response.status_code, request_id=request_id, body=snippet,
        ) from None


# ---- Streaming ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamDelta:
    """A piece of a streamed answer: ``kind`` is "content" or "reasoning"."""

    kind: Literal["content", "reasoning"]
    text: str


class _Assembler:
    """Collects stream chunks into the same shape as a non-streamed chat completion."""

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.chunks = 0

    def add(self, chunk: dict[str, Any]) -> list[StreamDelta]:
        self.chunks += 1
        for key in ("id", "model", "created"):
            if chunk.get(key) is not None:
                self.meta.setdefault(key, chunk[key])
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        deltas = []
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("reasoning_content"):
                self.reasoning.append(delta["reasoning_content"])
                deltas.append(StreamDelta("reasoning", delta["reasoning_content"]))
            if delta.get("content"):
                self.content.append(delta["content"])
                deltas.append(StreamDelta("content", delta["content"]))
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return deltas

    def raw(self) -> dict[str, Any]:
        """A chat.completion dict assembled from the chunks (what ``Completion.raw`` holds)."""
        message = {"role": "assistant", "content": "".join(self.content),
                   "reasoning_content": "".join(self.reasoning) if self.reasoning else None}
        raw: dict[str, Any] = {**self.meta, "object": "chat.completion",
                               "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason}]}
        if self.usage is not None:
            raw["usage"] = self.usage
        return raw


class _StreamBase:
    """What the sync and async streams share: assembling chunks, replay, the final Completion."""

    def __init__(self, response: httpx.Response | None, *, timeout: float | None = None,
                 estimate: RequestEstimate | None, prices: Prices | None, request_id: str | None,
                 on_complete: Callable[[Completion], None] | None) -> None:
        self._response = response
        self._timeout = timeout
        self._replay: Completion | None = None
        self._assembler = _Assembler()
        self._estimate = estimate
        self._prices = prices
        self._request_id = request_id
        self._on_complete = on_complete
        self._done = False
        self.completion: Completion | None = None
        """The assembled :class:`Completion`, once the stream has finished."""

    @classmethod
    def from_completion(cls, completion: Completion) -> Any:
        """A stream replaying a finished completion (from the cache) as two deltas."""
        stream = cls(None, estimate=completion.estimate, prices=completion.prices,
                     request_id=completion.request_id, on_complete=None)
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

    def _build(self, origin: str = "live") -> Completion:
        return completion_from_json(self._assembler.raw(), estimate=self._estimate, prices=self._prices,
                                    origin=origin, request_id=self._request_id)  # type: ignore[arg-type]

    def _handle_event(self, data: str) -> list[StreamDelta] | None:
        """Deltas of one SSE data field; None at ``[DONE]``."""
        if data.strip() == "[DONE]":
            return None
        try:
            chunk = json.loads(data)
        except ValueError:
            raise self._interrupted(f"a stream event is not JSON: {data[:120]!r}") from None
        if isinstance(chunk, dict) and chunk.get("error"):
            error = chunk["error"]
            raise self._interrupted(f"the server reported an error mid-stream: "
                                    f"{error.get('message') if isinstance(error, dict) else error}")
        return self._assembler.add(chunk)

    def _interrupted(self, why: str) -> StreamInterruptedError:
        partial = self._build()
        return StreamInterruptedError(
            f"the streamed answer broke off ({why}) after {len(partial.content)} characters of content; "
            "what arrived is in .partial. Ask again (or without stream=True) for the whole answer.",
            partial=partial,
        )

    def _finish(self, saw_done: bool) -> Completion:
        if not saw_done and self._assembler.finish_reason is None:
            raise self._interrupted("the stream ended without [DONE] or a finish reason")
        self._done = True
        self.completion = self._build()
        if self._on_complete is not None:
            self._on_complete(self.completion)
        return self.completion


class CompletionStream(_StreamBase):
    """A streamed answer: iterate for :class:`StreamDelta` pieces; ``.completion`` at the end.

    >>> with client.ask(video, "Describe it.", stream=True) as stream:
    ...     for delta in stream:
    ...         print(delta.text, end="")
    >>> stream.completion.usage
    """

    def __iter__(self) -> Iterator[StreamDelta]:
        replay = self._replay
        if replay is not None:
            yield from _replay_deltas(replay)
            self.completion, self._done = replay, True
            return
        if self._done or self._response is None:
            return
        saw_done = False
        try:
            with _map_httpx_errors("reading the stream", self._timeout):
                for sse in EventSource(self._response).iter_sse():
                    deltas = self._handle_event(sse.data)
                    if deltas is None:
                        saw_done = True
                        break
                    yield from deltas
        except APIConnectionError as exc:
            raise self._interrupted(str(exc)) from None
        except SSEError as exc:
            raise self._interrupted(f"not an event stream: {exc}") from None
        finally:
            self._response.close()
        self._finish(saw_done)

    def until_done(self) -> Completion:
        """Read the rest of the stream and return the assembled :class:`Completion`."""
        for _ in self:
            pass
        assert self.completion is not None
        return self.completion

    def close(self) -> None:
        """Stop reading and release the connection."""
        if self._response is not None:
            self._response.close()

    def __enter__(self) -> "CompletionStream":
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
        if self._done or self._response is None:
            return
        saw_done = False
        try:
            with _map_httpx_errors("reading the stream", self._timeout):
                async for sse in EventSource(self._response).aiter_sse():
                    deltas = self._handle_event(sse.data)
                    if deltas is None:
                        saw_done = True
                        break
                    for delta in deltas:
                        yield delta
        except APIConnectionError as exc:
            raise self._interrupted(str(exc)) from None
        except SSEError as exc:
            raise self._interrupted(f"not an event stream: {exc}") from None
        finally:
            await self._response.aclose()
        self._finish(saw_done)

    async def until_done(self) -> Completion:
        async for _ in self:
            pass
        assert self.completion is not None
        return self.completion

    async def aclose(self) -> None:
        if self._response is not None:
            await self._response.aclose()

    async def __aenter__(self) -> "AsyncCompletionStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


def _replay_deltas(completion: Completion) -> Iterator[StreamDelta]:
    if completion.reasoning_content:
        yield StreamDelta("reasoning", completion.reasoning_content)
    if completion.content:
        yield StreamDelta("content", completion.content)


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
        record: dict[str, Any] = {"index": self.index, "video": self.label, "ok": self.ok,
                                  "error_type": type(self.error).__name__ if self.error else None,
                                  "error": str(self.error) if self.error else None}
        if self.completion is not None:
            record.update(self.completion.to_dict())
        return record


@dataclass
class BatchResult(Sequence[BatchItem]):
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
            raise MimoError("to_dataframe() needs pandas: pip install pandas (or use to_records()).") from None
        return pd.DataFrame.from_records(self.to_records())

    def __repr__(self) -> str:
        return f"BatchResult({len(self.items)} items, {len(self.errors)} failed)"

    def _repr_html_(self) -> str:
        from .render import batch_html

        return batch_html(self)


def _batch_call(item: Any, common: dict[str, Any]) -> dict[str, Any]:
    """ask() keyword arguments for one batch item: a dict, a (videos, prompt) pair, or videos."""
    if isinstance(item, dict):
        kwargs = {**common, **item}
    elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], str):
        kwargs = {**common, "videos": item[0], "prompt": item[1]}
    else:
        kwargs = {**common, "videos": item}
    if "prompt" not in kwargs or "videos" not in kwargs:
        raise LimitError("each batch item needs videos and a prompt: pass prompt=... to map(), "
                         "or items as dicts {'videos': ..., 'prompt': ...} or (videos, prompt) pairs.")
    kwargs["stream"] = False
    return kwargs


def _label(videos: Any) -> str:
    items = videos if isinstance(videos, (list, tuple)) else [videos]
    names = []
    for v in items:
        if isinstance(v, bytes):
            names.append(f"<{len(v):,} bytes>")
        else:
            names.append(str(getattr(v, "name", None) or v))
    return ", ".join(names)


def _progress(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc="MiMo", unit="req")


# ---- The clients ----------------------------------------------------------------------------


class _ClientBase:
    """Configuration and the request-building steps shared by the sync and async clients."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        model: str = DEFAULT_MODEL,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        transport: Any = None,
        cache: str | os.PathLike[str] | ResponseCache | None = None,
        offline: bool | None = None,
        prices: Prices | None = None,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 20.0,
        context_lengths: dict[str, int] | None = None,
    ) -> None:
        self._api_key = api_key if api_key is not None else os.environ.get("MIMO_API_KEY") or None
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        if not isinstance(max_retries, int) or max_retries < 0:
            raise LimitError(f"max_retries must be a non-negative integer, got {max_retries!r}.")
        self.max_retries = max_retries
        self.retry_base_delay = retry_base_delay
        self.retry_max_delay = retry_max_delay
        self.cache = cache if isinstance(cache, ResponseCache) or cache is None else ResponseCache(cache)
        self.offline = offline_from_env() if offline is None else bool(offline)
        self.context_lengths = context_lengths
        self._prices = prices
        self._transport = transport
        # A URL's size is asked for once per client (HEAD), then remembered: a batch over one clip
        # with several prompts or settings need not probe it again and again.
        self._url_sizes: dict[str, int] = {}

    def _remember_size(self, url: str, response: httpx.Response) -> int | None:
        """The Content-Length of a HEAD answer (None when the server does not say), remembered."""
        length = response.headers.get("Content-Length")
        if not (response.is_success and length and length.isdigit()):
            return None
        self._url_sizes[url] = int(length)
        return int(length)

    def __repr__(self) -> str:
        key = "set" if self._api_key else "missing"
        return (f"{type(self).__name__}(base_url={self.base_url!r}, model={self.model!r}, api_key=<{key}>, "
                f"cache={str(self.cache.root) if self.cache else None!r}, offline={self.offline})")

    @property
    def prices(self) -> Prices | None:
        """The prices a completion's cost uses: the ones given, else the shipped ones for the model."""
        if self._prices is None:
            try:
                self._prices = load_prices(self.model, "CNY")
            except LimitError:
                return None
        return self._prices

    def _headers(self) -> dict[str, str]:
        if not self._api_key:
            raise AuthenticationError(
                "no API key: set the MIMO_API_KEY environment variable or pass MimoClient(api_key=...). "
                "build_request(...) works without one (a dry run)."
            )
        return {"api-key": self._api_key, "Content-Type": "application/json", "Accept": "application/json",
                "User-Agent": "mimo-nb"}

    def _wait(self, state: RetryCallState) -> float:
        """Backoff before the next try: the server's Retry-After, else exponential with jitter."""
        exc = state.outcome.exception() if state.outcome else None
        retry_after = exc.retry_after if isinstance(exc, APIError) else None
        if retry_after is not None:
            delay = min(retry_after, MAX_RETRY_AFTER)
        else:
            ceiling = min(self.retry_max_delay, self.retry_base_delay * 2 ** (state.attempt_number - 1))
            delay = ceiling * (0.5 + random.random() / 2)  # "equal jitter": spread the herd, keep a floor
        logger.warning("MiMo request failed (%s); retry %d of %d in %.2f s", type(exc).__name__,
                       state.attempt_number, self.max_retries, delay)
        return delay

    def _retry_policy(self) -> dict[str, Any]:
        return {"stop": stop_after_attempt(self.max_retries + 1), "wait": self._wait,
                "retry": retry_if_exception(_is_retryable), "reraise": True}

    @staticmethod
    def _check_args(prompt: str, fps: float, media_resolution: str, system: str | None,
                    max_completion_tokens: int, extra: dict[str, Any]) -> None:
        """Every check that needs no I/O, before any HEAD request or probe."""
        validate_fps(fps)
        validate_media_resolution(media_resolution)
        check_request_args(prompt, system, max_completion_tokens, extra)

    @staticmethod
    def _sources(videos: Any) -> list[Any]:
        items = list(videos) if isinstance(videos, (list, tuple)) else [videos]
        if not items:
            raise LimitError("ask() needs at least one video: a Video, a path, bytes or an http(s) URL.")
        return items

    def _local_part(self, source: Any, fps: float, media_resolution: str) -> VideoPart:
        """A Video, path or bytes as a part; paths and bytes are opened (probed) with Video.open."""
        video = source if hasattr(source, "mime_type") and hasattr(source, "estimate") else None
        if video is None:
            if not isinstance(source, (str, os.PathLike, bytes, bytearray)):
                raise LimitError(f"cannot send a {type(source).__name__} as a video: pass a Video, a local "
                                 "path, bytes or an http(s) URL.")
            try:
                from .video import Video
            except ImportError:  # pragma: no cover - only before the video module exists
                if isinstance(source, (bytes, bytearray)):
                    raise LimitError("bytes need mimo_nb.video to be probed; save them to a file first.") from None
                return file_part(source, fps=fps, media_resolution=media_resolution)
            video = Video.open(bytes(source) if isinstance(source, bytearray) else source)
        breakdown = video.estimate(fps=fps, media_resolution=media_resolution)
        if video.url:
            return url_part(video.url, fps=fps, media_resolution=media_resolution,
                            size_bytes=video.size_bytes, breakdown=breakdown)
        return file_part(video.path, video.mime_type, fps=fps, media_resolution=media_resolution,
                         size_bytes=video.size_bytes, breakdown=breakdown, name=video.name, sha256_fn=video.sha256)

    def _prepare(self, parts: list[VideoPart], prompt: str, *, system: str | None, max_completion_tokens: int,
                 stream: bool, extra: dict[str, Any]) -> PreparedRequest:
        return prepare_request(parts, prompt, model=extra.pop("model", self.model), system=system,
                               max_completion_tokens=max_completion_tokens, stream=stream, extra=extra,
                               context_lengths=self.context_lengths)

    def _cached(self, prepared: PreparedRequest) -> tuple[Completion | None, dict[str, Any] | None]:
        """The cached completion (or None) and the cache material (None when there is no cache)."""
        if self.cache is None:
            if self.offline:
                raise CacheMissError("offline mode is on (MIMO_NB_OFFLINE or offline=True) but no cache is set: "
                                     "pass cache='path/' holding recorded responses, or turn offline mode off.")
            return None, None
        material = prepared.cache_material()
        raw = self.cache.get(material)
        if raw is not None:
            try:
                return completion_from_json(raw, estimate=prepared.estimate, prices=self.prices, origin="cache"), material
            except (KeyError, IndexError, TypeError, AttributeError):
                logger.warning("ignoring a cache entry that is not a chat completion")
        if self.offline:
            raise CacheMissError(
                f"offline mode is on and this request is not in the cache at {self.cache.root} "
                f"(key {request_key(material)[:12]}...). Run it once online to record it, or turn offline mode off."
            )
        return None, material

    def _store(self, material: dict[str, Any] | None) -> Callable[[Completion], None] | None:
        if material is None or self.cache is None:
            return None
        cache = self.cache

        def store(completion: Completion) -> None:
            try:
                cache.put(material, completion.raw)
            except CacheError as exc:  # a cache that cannot be written must not lose the answer
                logger.warning("%s", exc)

        return store

    def _send_kwargs(self, prepared: PreparedRequest, headers: dict[str, str], stream: bool) -> dict[str, Any]:
        headers = {**headers, "Content-Length": str(prepared.content_length)}
        if stream:
            headers["Accept"] = "text/event-stream"
        return {"headers": headers}


class MimoClient(_ClientBase):
    """A client for MiMo's chat completions with videos.

    Args:
        api_key: defaults to the ``MIMO_API_KEY`` environment variable.
        base_url: the API root (``.../v1``); point it at your own server or the test server.
        model: ``"mimo-v2.5"`` or ``"mimo-v2-omni"``.
        timeout: seconds to wait for the server (per attempt).
        max_retries: extra tries on 429, 5xx and connection errors.
        transport: an ``httpx.BaseTransport`` (e.g. ``httpx.MockTransport``) to use instead of the network.
        cache: a directory (or :class:`ResponseCache`) to record and replay responses.
        offline: answer from the cache only (default: the ``MIMO_NB_OFFLINE`` variable).
        prices: prices for ``Completion.cost`` (default: the shipped, cited ones).
        retry_base_delay, retry_max_delay: the backoff's first delay and ceiling, in seconds.

    >>> client = MimoClient(base_url=server.base_url, api_key="test-key")
    >>> client.ask("https://example.com/a.mp4", "Describe it.").usage.video_tokens
    """

    def __init__(self, api_key: str | None = None, **kwargs: Any) -> None:
        super().__init__(api_key, **kwargs)
        self._http = httpx.Client(base_url=self.base_url + "/", timeout=self.timeout, transport=self._transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "MimoClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- building --

    def _head_size(self, url: str) -> int | None:
        """The Content-Length a HEAD request reports, or None when the server does not say."""
        if url in self._url_sizes:
            return self._url_sizes[url]
        try:
            response = self._http.head(url, timeout=min(HEAD_TIMEOUT, self.timeout), follow_redirects=True)
        except httpx.HTTPError as exc:
            logger.debug("HEAD %s failed (%s); size unknown", url, type(exc).__name__)
            return None
        return self._remember_size(url, response)

    def _parts(self, videos: Any, fps: float, media_resolution: str) -> list[VideoPart]:
        parts = []
        for source in self._sources(videos):
            if is_url(source):
                parts.append(url_part(source, fps=fps, media_resolution=media_resolution,
                                      size_bytes=self._head_size(source)))
            else:
                parts.append(self._local_part(source, fps, media_resolution))
        return parts

    def build_request(self, videos: Any, prompt: str, *, fps: float = 2, media_resolution: str = "default",
                      system: str | None = None, max_completion_tokens: int = 1024, stream: bool = False,
                      **extra: Any) -> PreparedRequest:
        """The exact request :meth:`ask` would send, without sending it (no API key needed).

        >>> print(client.build_request("clip.mp4", "What happens?"))   # base64 elided
        """
        self._check_args(prompt, fps, media_resolution, system, max_completion_tokens, extra)
        parts = self._parts(videos, fps, media_resolution)
        return self._prepare(parts, prompt, system=system, max_completion_tokens=max_completion_tokens,
                             stream=stream, extra=extra)

    # -- sending --

    def _send(self, prepared: PreparedRequest, *, stream: bool) -> httpx.Response:
        headers = self._headers()
        for attempt in Retrying(**self._retry_policy()):
            with attempt:
                return self._send_once(prepared, headers, stream)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(self, prepared: PreparedRequest, headers: dict[str, str], stream: bool) -> httpx.Response:
        request = self._http.build_request("POST", "chat/completions", content=prepared.iter_body(),
                                           **self._send_kwargs(prepared, headers, stream))
        logger.debug("POST %s (%d bytes, stream=%s)", request.url, prepared.content_length, stream)
        with _map_httpx_errors(f"POST {request.url}", self.timeout):
            response = self._http.send(request, stream=stream)
            if response.status_code >= 400 and stream:
                response.read()
        if response.status_code >= 400:
            response.close()
            raise _status_error(response, self._api_key)
        return response

    def ask(self, videos: Any, prompt: str, *, fps: float = 2, media_resolution: str = "default",
            system: str | None = None, max_completion_tokens: int = 1024, stream: bool = False,
            **extra: Any) -> Completion | CompletionStream:
        """Ask about one or several videos; returns a :class:`Completion` (or a stream).

        Args:
            videos: a Video, a local path, bytes, an http(s) URL, or a list of them.
            prompt: the question.
            fps: frames sampled per second, in [0.1, 10].
            media_resolution: ``"default"`` or ``"max"``.
            system: an optional system message.
            max_completion_tokens: the answer's budget (reasoning included).
            stream: return a :class:`CompletionStream` of deltas instead.
            **extra: more top-level fields for the body (e.g. ``temperature=0.2``).
        """
        prepared = self.build_request(videos, prompt, fps=fps, media_resolution=media_resolution, system=system,
                                      max_completion_tokens=max_completion_tokens, stream=stream, **extra)
        return self.send(prepared, stream=stream)

    def send(self, prepared: PreparedRequest, *, stream: bool = False) -> Completion | CompletionStream:
        """Send a :class:`PreparedRequest` (from :meth:`build_request`), using the cache if set."""
        cached, material = self._cached(prepared)
        if cached is not None:
            return CompletionStream.from_completion(cached) if stream else cached
        response = self._send(prepared, stream=stream)
        if stream:
            return CompletionStream(response, timeout=self.timeout, estimate=prepared.estimate, prices=self.prices,
                                    request_id=response.headers.get("x-request-id"),
                                    on_complete=self._store(material))
        with _map_httpx_errors("reading the answer", self.timeout):
            response.read()
        completion = _parse_completion(response, estimate=prepared.estimate, prices=self.prices,
                                       secret=self._api_key)
        store = self._store(material)
        if store:
            store(completion)
        return completion

    # -- batches --

    def map(self, items: Iterable[Any], *, concurrency: int = 4, progress: bool = True, **common: Any) -> BatchResult:
        """Ask about many items, ``concurrency`` at a time; errors are collected per item.

        Each item is a dict of :meth:`ask` arguments, a ``(videos, prompt)`` pair, or videos
        (with ``prompt=`` given here). Results keep the input order.

        >>> results = client.map(["a.mp4", "b.mp4"], prompt="Describe it.")
        >>> results.to_records()
        """
        items = list(items)
        if concurrency < 1:
            raise LimitError(f"concurrency must be at least 1, got {concurrency}.")
        result = BatchResult([BatchItem(i, "") for i in range(len(items))])
        bar = _progress(len(items), progress)

        def run(index: int) -> None:
            slot = result.items[index]
            try:
                kwargs = _batch_call(items[index], common)
                slot.label = _label(kwargs["videos"])
                slot.completion = self.ask(**kwargs)  # type: ignore[assignment]
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
    """The async twin of :class:`MimoClient`: ``await aclient.ask(...)``, ``await aclient.map(...)``.

    Takes the same arguments; ``transport`` is an ``httpx.AsyncBaseTransport``.
    """

    def __init__(self, api_key: str | None = None, **kwargs: Any) -> None:
        super().__init__(api_key, **kwargs)
        self._http = httpx.AsyncClient(base_url=self.base_url + "/", timeout=self.timeout,
                                       transport=self._transport,
                                       limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncMimoClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def _head_size(self, url: str) -> int | None:
        if url in self._url_sizes:
            return self._url_sizes[url]
        try:
            response = await self._http.head(url, timeout=min(HEAD_TIMEOUT, self.timeout), follow_redirects=True)
        except httpx.HTTPError as exc:
            logger.debug("HEAD %s failed (%s); size unknown", url, type(exc).__name__)
            return None
        return self._remember_size(url, response)

    async def build_request(self, videos: Any, prompt: str, *, fps: float = 2, media_resolution: str = "default",
                            system: str | None = None, max_completion_tokens: int = 1024, stream: bool = False,
                            **extra: Any) -> PreparedRequest:
        """The exact request :meth:`ask` would send, without sending it."""
        self._check_args(prompt, fps, media_resolution, system, max_completion_tokens, extra)
        parts = []
        for source in self._sources(videos):
            if is_url(source):
                size = await self._head_size(source)
                parts.append(url_part(source, fps=fps, media_resolution=media_resolution, size_bytes=size))
            else:  # probing decodes headers from disk: keep it off the event loop
                parts.append(await asyncio.to_thread(self._local_part, source, fps, media_resolution))
        return self._prepare(parts, prompt, system=system, max_completion_tokens=max_completion_tokens,
                             stream=stream, extra=extra)

    async def _send(self, prepared: PreparedRequest, *, stream: bool) -> httpx.Response:
        headers = self._headers()
        async for attempt in AsyncRetrying(**self._retry_policy()):
            with attempt:
                return await self._send_once(prepared, headers, stream)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_once(self, prepared: PreparedRequest, headers: dict[str, str], stream: bool) -> httpx.Response:
        request = self._http.build_request("POST", "chat/completions", content=prepared.aiter_body(),
                                           **self._send_kwargs(prepared, headers, stream))
        with _map_httpx_errors(f"POST {request.url}", self.timeout):
            response = await self._http.send(request, stream=stream)
            if response.status_code >= 400 and stream:
                await response.aread()
        if response.status_code >= 400:
            await response.aclose()
            raise _status_error(response, self._api_key)
        return response

    async def ask(self, videos: Any, prompt: str, *, fps: float = 2, media_resolution: str = "default",
                  system: str | None = None, max_completion_tokens: int = 1024, stream: bool = False,
                  **extra: Any) -> Completion | AsyncCompletionStream:
        """Like :meth:`MimoClient.ask`; with ``stream=True`` returns an :class:`AsyncCompletionStream`."""
        prepared = await self.build_request(videos, prompt, fps=fps, media_resolution=media_resolution,
                                            system=system, max_completion_tokens=max_completion_tokens,
                                            stream=stream, **extra)
        return await self.send(prepared, stream=stream)

    async def send(self, prepared: PreparedRequest, *, stream: bool = False) -> Completion | AsyncCompletionStream:
        if self.cache is not None and prepared.markers:  # hashing local files is blocking
            cached, material = await asyncio.to_thread(self._cached, prepared)
        else:
            cached, material = self._cached(prepared)
        if cached is not None:
            return AsyncCompletionStream.from_completion(cached) if stream else cached
        response = await self._send(prepared, stream=stream)
        if stream:
            return AsyncCompletionStream(response, timeout=self.timeout, estimate=prepared.estimate,
                                         prices=self.prices, request_id=response.headers.get("x-request-id"),
                                         on_complete=self._store(material))
        with _map_httpx_errors("reading the answer", self.timeout):
            await response.aread()
        completion = _parse_completion(response, estimate=prepared.estimate, prices=self.prices,
                                       secret=self._api_key)
        store = self._store(material)
        if store:
            store(completion)
        return completion

    async def map(self, items: Iterable[Any], *, concurrency: int = 4, progress: bool = True,
                   **common: Any) -> BatchResult:
        """Like :meth:`MimoClient.map`, on the event loop, ``concurrency`` requests at a time."""
        items = list(items)
        if concurrency < 1:
            raise LimitError(f"concurrency must be at least 1, got {concurrency}.")
        result = BatchResult([BatchItem(i, "") for i in range(len(items))])
        gate = asyncio.Semaphore(concurrency)
        bar = _progress(len(items), progress)

        async def run(index: int) -> None:
            slot = result.items[index]
            async with gate:
                try:
                    kwargs = _batch_call(items[index], common)
                    slot.label = _label(kwargs["videos"])
                    slot.completion = await self.ask(**kwargs)  # type: ignore[assignment]
                except Exception as exc:  # noqa: BLE001  (a batch collects every item's failure)
                    slot.error = exc
                finally:
                    bar.update(1)

        try:
            await asyncio.gather(*(run(i) for i in range(len(items))))
        finally:
            bar.close()
        return result
