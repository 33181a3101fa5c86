"""What the sync and async clients share: options, one call's settings, building, the cache.

The sync client (:mod:`._sync`) and the async one (:mod:`._async`) add only how they wait
(threads, or the event loop) around these steps.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import inspect
import logging
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from mimo_nb._deadline import Deadline
from mimo_nb.api.cache import ResponseCache, request_key
from mimo_nb.api.client._options import (
    NOT_GIVEN,
    ClientOptions,
    NotGiven,
    check_headers,
)
from mimo_nb.api.client._retry import RetryPolicy
from mimo_nb.api.request import (
    PreparedRequest,
    VideoPart,
    checked_file_part,
    checked_url_part,
    prepare_request,
)
from mimo_nb.api.response import Completion, completion_from_json, parse_completion
from mimo_nb.api.streaming import _StreamBase
from mimo_nb.api.timeline import timemap_of
from mimo_nb.core.payload import check_request_args
from mimo_nb.core.pricing import Prices, load_prices
from mimo_nb.core.profiles import Profile, get_profile
from mimo_nb.core.tokens import validate_fps, validate_media_resolution
from mimo_nb.errors import (
    APIResponseValidationError,
    CacheError,
    CacheMissError,
    ConfigurationError,
    LimitError,
    MimoError,
)
from mimo_nb.net.http import (
    SECRET_HEADERS,
    Reply,
    Secrets,
    TimeoutArg,
    check_timeout,
    deadline_error,
    overall_seconds,
)

if TYPE_CHECKING:
    from typing import TypeAlias

    from mimo_nb.media.video import Video

    VideoInput: TypeAlias = "Video | str | os.PathLike[str] | bytes"
    """A :class:`~mimo_nb.media.video.Video`, a local path, a file's bytes, or an http(s) URL."""
    Videos: TypeAlias = "VideoInput | Sequence[VideoInput]"

HEAD_TIMEOUT = 10.0  # the URL size probe must never hold up a request for long
PROBE_TIMEOUT = 60.0  # opening a local video inside ask(), as Video.open

logger = logging.getLogger("mimo_nb.api.client")


@dataclass
class Call:
    """One call's settings: whether it streams, its deadline, its timeouts and extra headers."""

    stream: bool
    deadline: Deadline
    timeout: TimeoutArg
    headers: dict[str, str]


@dataclass
class Sent:
    """What an attempt brought back: the reply (open for a stream) and the hashes of the videos
    sent whole."""

    reply: Reply
    digests: dict[str, str]

    def close(self) -> None:
        self.reply.close()


class BodyHasher:
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


def _budget(prepared: PreparedRequest) -> int | None:
    """The request's ``max_completion_tokens``: what an answer without usage is counted at."""
    value = prepared.template.get("max_completion_tokens")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# The names a client reads from its options, which no assignment may change: each would become
# a second copy of an option, drifting from the one the client sends with (``api_key`` too).
_READ_ONLY = frozenset({"options", *(f.name for f in dataclasses.fields(ClientOptions))})


def _read_only(client: ClientBase, name: str) -> ConfigurationError:
    """The error for assigning (or deleting) ``client.<name>``: what to do instead."""
    kind = type(client).__name__
    if name == "options":
        return ConfigurationError(
            f"{kind}.options is read-only: a client's options are fixed when it is made. "
            "Use client.with_options(...) for a copy with some changed (it shares this "
            "client's connections)."
        )
    per_call = f", or ask(..., {name}=...) for one call" if name in ("model", "timeout") else ""
    return ConfigurationError(
        f"{kind}.{name} is read-only: a client's options are fixed when it is made. "
        f"Use client = client.with_options({name}=...) for a copy with it changed (it shares "
        f"this client's connections){per_call}."
    )


@functools.lru_cache(maxsize=64)
def _shipped_prices(model: str) -> Prices | None:
    """The shipped CNY prices of ``model``, or None when none are shipped (read once a model)."""
    try:
        return load_prices(model, "CNY")
    except LimitError:
        return None


C = TypeVar("C", bound="ClientBase")


class ClientBase:
    """Options and the request-building steps shared by the sync and async clients.

    :attr:`options` is the one place a client's options live: ``client.timeout``,
    ``client.model`` and the others read it (they are properties, not copies that could drift),
    and none can be assigned (a :class:`~mimo_nb.errors.ConfigurationError` says to call
    :meth:`with_options`, which returns a changed copy sharing the connections and the cache).
    """

    _http: Any
    _owns_http: bool
    _custom_http: bool  # made with a transport or http_client of the caller's
    _options: ClientOptions

    def _configure(self, options: ClientOptions) -> None:
        """Take checked options; nothing can be sent before this."""
        object.__setattr__(self, "_options", options)
        self._secrets = Secrets(
            options.api_key,
            *(v for k, v in options.default_headers.items() if k.lower() in SECRET_HEADERS),
        )
        # A URL's size is asked for once per client (HEAD), then remembered: a batch over one clip
        # with several prompts or settings need not probe it again and again.
        self._url_sizes: dict[str, int] = {}

    if not TYPE_CHECKING:  # hidden from type checkers: they keep flagging unknown names

        def __setattr__(self, name: str, value: Any) -> None:
            if name in _READ_ONLY:
                raise _read_only(self, name)
            super().__setattr__(name, value)

        def __delattr__(self, name: str) -> None:
            if name in _READ_ONLY:
                raise _read_only(self, name)
            super().__delattr__(name)

    # -- the options, read from self.options (the one copy) --

    @property
    def options(self) -> ClientOptions:
        """Every option, checked and frozen (:class:`~mimo_nb.api.client.ClientOptions`); the
        properties below read it. Change options with :meth:`with_options`."""
        return self._options

    @property
    def base_url(self) -> str:
        """The API root, ending in ``/v1`` (no trailing slash)."""
        return self._options.base_url

    @property
    def model(self) -> str:
        """The model asked when a call names none."""
        return self._options.model

    @property
    def timeout(self) -> TimeoutArg:
        """The deadline of a whole call in seconds, an ``httpx.Timeout``, or None (no limit)."""
        return self._options.timeout

    @property
    def stream_timeout(self) -> float | None:
        """The deadline of a whole streamed answer in seconds (None: no limit)."""
        return self._options.stream_timeout

    @property
    def max_retries(self) -> int:
        """Extra tries on 429, 5xx, connection errors and timeouts, within the deadline."""
        return self._options.max_retries

    @property
    def retry_base_delay(self) -> float:
        """The backoff's first delay, in seconds."""
        return self._options.retry_base_delay

    @property
    def retry_max_delay(self) -> float:
        """The backoff's ceiling, in seconds."""
        return self._options.retry_max_delay

    @property
    def max_response_bytes(self) -> int:
        """The largest answer read, in bytes."""
        return self._options.max_response_bytes

    @property
    def cache(self) -> ResponseCache | None:
        """The cache responses are recorded in and replayed from (None: no cache)."""
        return self._options.cache

    @property
    def offline(self) -> bool:
        """Whether answers come from the cache only, never from the network."""
        return self._options.offline

    @property
    def context_lengths(self) -> Mapping[str, int] | None:
        """Model name -> context length in tokens, given to check requests against (read-only)."""
        return self._options.context_lengths

    @property
    def default_headers(self) -> Mapping[str, str]:
        """The headers sent with every request to the API (read-only)."""
        return self._options.default_headers

    @property
    def profile(self) -> str | Profile:
        """Whose sampling rules the estimates follow: a profile's name, or the Profile given."""
        return self._options.profile

    @property
    def prices(self) -> Prices | None:
        """The prices of a completion's cost: the ones given, else the model's shipped ones
        (None when none are shipped for it)."""
        given = self._options.prices
        return given if given is not None else _shipped_prices(self._options.model)

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

        >>> quick = mn.MimoClient("test-key").with_options(timeout=10, max_retries=0)
        >>> quick.timeout, quick.max_retries
        (10.0, 0)
        """
        given = {name: value for name, value in locals().items() if name != "self"}
        options = self.options.replace(**given)
        copy = object.__new__(type(self))
        copy._configure(options)
        copy._http, copy._owns_http = self._http, False  # the connections stay with this client
        copy._custom_http = self._custom_http
        copy._url_sizes = self._url_sizes
        return copy

    copy = with_options

    def __repr__(self) -> str:
        key = "set" if self._options.api_key else "missing"
        cache = str(self.cache.root) if self.cache else None
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key=<{key}>, timeout={self.timeout!r}, cache={cache!r}, offline={self.offline})"
        )

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
    ) -> Call:
        """A call's settings; its deadline starts now."""
        if not isinstance(stream, bool):
            raise LimitError(f"stream must be True or False, got {stream!r}.")
        if isinstance(timeout, NotGiven):
            ops = self.timeout
            overall = self.stream_timeout if stream else overall_seconds(self.timeout)
        else:
            ops = check_timeout(timeout, "timeout")
            overall = overall_seconds(ops)
        return Call(stream, Deadline(overall), ops, check_headers(extra_headers, "extra_headers"))

    def _headers(self, call: Call, prepared: PreparedRequest) -> dict[str, str]:
        if not self._options.api_key:
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
            "api-key": self._options.api_key,
            "Content-Length": str(prepared.content_length),
        }
        if call.stream:
            headers["Accept"] = "text/event-stream"
        return headers

    def _endpoint(self) -> str:
        return f"{self.base_url}/chat/completions"

    def _retry_policy(self, deadline: Deadline) -> dict[str, Any]:
        return RetryPolicy(self.options, deadline).options()

    def _head_deadline(self, url: str, deadline: Deadline) -> Deadline | None:
        """The deadline of a HEAD probe for ``url``'s size; None when none is to be made (offline,
        or the size is known)."""
        if self.offline or url in self._url_sizes:
            return None
        return deadline.earliest(Deadline(HEAD_TIMEOUT))

    def _remember_size(self, url: str, size: int | None) -> int | None:
        """A URL's size as the HEAD probe gave it (None: unknown), remembered when known."""
        if size is not None:
            self._url_sizes[url] = size
        return size

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
            part = checked_url_part(
                video.url, fps, media_resolution, size_bytes=video.size_bytes, breakdown=breakdown
            )
        else:
            part = checked_file_part(
                video.path,
                video.mime_type,
                fps,
                media_resolution,
                size_bytes=video.size_bytes,
                breakdown=breakdown,
                name=video.name,
            )
        try:  # the frames the model is sent, for the answer's timeline
            timemap = timemap_of(video, fps, media_resolution, self.profile)
        except LimitError:  # a Video rebuilt without its frame table (a corpus row): not known
            return part
        return replace(part, timemap=timemap, video=video)

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
                done = completion_from_json(
                    raw,
                    estimate=prepared.estimate,
                    prices=self.prices,
                    origin="cache",
                    max_completion_tokens=_budget(prepared),
                )
                done.parts = prepared.parts  # the request is known: the timeline reads it
                return done, material
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
        sent: Sent,
        prepared: PreparedRequest,
        material: dict[str, Any] | None,
        call: Call,
        stream_type: type[_StreamBase],
    ) -> Any:
        """The Completion (or stream) an attempt brought back, stored in the cache when done."""
        store = self._store(prepared, material, sent.digests)
        request_id = sent.reply.request_id(self._secrets)

        def complete(completion: Completion) -> None:
            completion.parts = prepared.parts  # the request is known: the timeline reads it
            if store:
                store(completion)

        if call.stream:
            return stream_type(
                sent.reply,
                deadline=call.deadline,
                secrets=self._secrets,
                estimate=prepared.estimate,
                prices=self.prices,
                request_id=request_id,
                on_complete=complete,
                max_completion_tokens=_budget(prepared),
            )
        assert sent.reply.data is not None
        completion = parse_completion(
            sent.reply.data,
            status=sent.reply.status,
            request_id=request_id,
            secrets=self._secrets,
            estimate=prepared.estimate,
            prices=self.prices,
        )
        completion.max_completion_tokens = _budget(prepared)  # prices an answer without usage
        complete(completion)
        return completion


#: The per-call options of ``ask`` and ``build_request`` (their ``**options``) that the runs
#: asking many requests (``Corpus.ask``, ``sweep``) pass on to each request, by name.
PER_CALL_OPTIONS = tuple(
    name
    for name in inspect.signature(ClientBase._check_ask_args).parameters
    if name not in ("self", "prompt")
)
