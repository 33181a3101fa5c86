"""A client's options, checked once: :class:`ClientOptions`, shared by both clients.

:class:`~mimo_nb.api.client.MimoClient` and :class:`~mimo_nb.api.client.AsyncMimoClient` list
every option in their signatures (so Shift-Tab and type checkers show them, as openai-python's
clients do) and hand them all to :meth:`ClientOptions.of_call`, the one place they are checked
and stored; ``with_options`` changes some through :meth:`ClientOptions.replace`. A test pins the
two signatures (and ``with_options``'s) to these fields, so they cannot drift.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from mimo_nb.api.cache import ResponseCache
from mimo_nb.core import validate
from mimo_nb.core.pricing import Prices
from mimo_nb.core.profiles import Profile, get_profile
from mimo_nb.errors import ConfigurationError, LimitError
from mimo_nb.net.http import (
    SECRET_HEADERS,
    TimeoutArg,
    check_seconds,
    check_timeout,
    offline_from_env,
    parses_as_http_url,
    url_text,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "DEFAULT_TIMEOUT",
    "DEFAULT_STREAM_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "NOT_GIVEN",
    "NotGiven",
    "ClientOptions",
    "check_headers",
]

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.xiaomimimo.com/v1"
DEFAULT_MODEL = "mimo-v2.5"
# Seconds for a whole call: a long video can take a while to be read and answered.
DEFAULT_TIMEOUT = 120.0
# Seconds for a whole streamed answer, reasoning included.
DEFAULT_STREAM_TIMEOUT = 600.0
DEFAULT_MAX_RETRIES = 2
# A chat completion is kilobytes; this bounds memory, not answers.
DEFAULT_MAX_RESPONSE_BYTES = 16 * 2**20


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


@dataclass(frozen=True)
class ClientOptions:
    """Every option of a MiMo client, checked (see :class:`~mimo_nb.api.client.MimoClient` for
    what each means). Build it with :meth:`checked`, never directly.

    Frozen, its mappings (``context_lengths``, ``default_headers``) read-only views: a client's
    options are the one copy it reads, changed only by making new ones (:meth:`replace`). The
    repr shows neither the key nor a secret header's value.

    >>> headers = {"Authorization": "Bearer sk-secret"}
    >>> options = mn.MimoClient("sk-secret", default_headers=headers).options
    >>> options.timeout, "sk-secret" in repr(options), options.default_headers["Authorization"]
    (120.0, False, 'Bearer sk-secret')
    """

    api_key: str | None
    base_url: str
    model: str
    timeout: TimeoutArg
    stream_timeout: float | None
    max_retries: int
    retry_base_delay: float
    retry_max_delay: float
    max_response_bytes: int
    cache: ResponseCache | None
    offline: bool
    prices: Prices | None
    context_lengths: Mapping[str, int] | None
    default_headers: Mapping[str, str]
    profile: str | Profile

    def __post_init__(self) -> None:
        # Read-only views of private copies: no caller's dict, and no later assignment into one,
        # can change what a client sends (or send a header its redaction does not know of).
        if self.context_lengths is not None:
            object.__setattr__(
                self, "context_lengths", MappingProxyType(dict(self.context_lengths))
            )
        object.__setattr__(self, "default_headers", MappingProxyType(dict(self.default_headers)))

    def __repr__(self) -> str:
        shown = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "api_key":
                text = "<set>" if value else "<missing>"
            elif isinstance(value, MappingProxyType):
                text = repr(
                    {
                        k: "***"
                        if f.name == "default_headers" and k.lower() in SECRET_HEADERS
                        else v
                        for k, v in value.items()
                    }
                )
            else:
                text = repr(value)
            shown.append(f"{f.name}={text}")
        return f"ClientOptions({', '.join(shown)})"

    def __reduce__(self) -> tuple[Any, ...]:
        # copy, deepcopy and pickle: a mappingproxy cannot be pickled, the dict it shows can.
        values = [getattr(self, f.name) for f in dataclasses.fields(self)]
        return (type(self), tuple(dict(v) if isinstance(v, Mapping) else v for v in values))

    @classmethod
    def checked(
        cls,
        *,
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
        profile: str | Profile,
    ) -> ClientOptions:
        """The options, each checked: a :class:`ConfigurationError` names the first bad one.

        None reads the environment: ``api_key`` from ``MIMO_API_KEY``, ``base_url`` from
        ``MIMO_BASE_URL``, ``offline`` from ``MIMO_NB_OFFLINE``.
        """
        key = _read_api_key(api_key)  # checked in the signature's order: the first bad one
        url = _check_base_url(base_url)
        if not isinstance(model, str) or not model.strip():
            raise ConfigurationError(
                f"model must be a model name such as {DEFAULT_MODEL!r}, got {model!r}."
            )
        return cls(
            api_key=key,
            base_url=url,
            model=model,
            timeout=check_timeout(timeout, "timeout"),
            stream_timeout=(
                None if stream_timeout is None else check_seconds(stream_timeout, "stream_timeout")
            ),
            max_retries=_check_count(max_retries, "max_retries", 0),
            retry_base_delay=_check_delay(retry_base_delay, "retry_base_delay"),
            retry_max_delay=_check_delay(retry_max_delay, "retry_max_delay"),
            max_response_bytes=_check_count(max_response_bytes, "max_response_bytes", 1024),
            cache=_check_cache(cache),
            offline=_check_offline(offline),
            prices=_check_prices(prices),
            context_lengths=_check_context_lengths(context_lengths),
            default_headers=_configuration(check_headers, default_headers, "default_headers"),
            profile=_check_profile(profile),
        )

    @classmethod
    def of_call(cls, arguments: Mapping[str, Any]) -> ClientOptions:
        """:meth:`checked` with each option taken from ``arguments``, a constructor's
        ``locals()``: the constructors list every option for Shift-Tab and type checkers, and
        pass them all on here, by name, without listing them again."""
        return cls.checked(**{f.name: arguments[f.name] for f in dataclasses.fields(cls)})

    def replace(self, **changes: Any) -> ClientOptions:
        """These options with ``changes`` (checked again); :data:`NOT_GIVEN` values are left."""
        given = {k: v for k, v in changes.items() if not isinstance(v, NotGiven)}
        current = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return ClientOptions.checked(**{**current, **given})


# ---- The checks -------------------------------------------------------------------------------


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
    text = url_text(value)
    if text is None:
        raise ConfigurationError(
            f"base_url must be a string such as {DEFAULT_BASE_URL!r}, got {value!r}."
        )
    text = text.strip().rstrip("/")
    if not parses_as_http_url(text):
        raise ConfigurationError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got {text!r} "
            "(MIMO_BASE_URL sets it too)."
        )
    return text


def _configuration(check: Callable[..., T], *args: Any) -> T:
    """``check(*args)``, its :class:`LimitError` raised as a :class:`ConfigurationError`."""
    try:
        return check(*args)
    except LimitError as exc:
        raise ConfigurationError(str(exc)) from None


def _check_profile(profile: Any) -> str | Profile:
    """A Profile as given, else the name of the one ``profile`` names."""
    rules = _configuration(get_profile, profile)
    return profile if isinstance(profile, Profile) else rules.name


def _check_cache(cache: Any) -> ResponseCache | None:
    if cache is None or isinstance(cache, ResponseCache):
        return cache
    if not isinstance(cache, (str, os.PathLike)):
        raise ConfigurationError(
            f"cache must be a directory or a ResponseCache, got {type(cache).__name__}."
        )
    return ResponseCache(cache)


def _check_offline(offline: Any) -> bool:
    if offline is not None and not isinstance(offline, bool):
        raise ConfigurationError(
            f"offline must be True, False or None (read MIMO_NB_OFFLINE), got {offline!r}."
        )
    return offline_from_env() if offline is None else offline


def _check_prices(prices: Any) -> Prices | None:
    if prices is not None and not isinstance(prices, Prices):
        raise ConfigurationError(f"prices must be a mimo_nb.Prices, got {type(prices).__name__}.")
    return prices


def _check_context_lengths(context_lengths: Any) -> Mapping[str, int] | None:
    if context_lengths is None:
        return None
    if not (
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
    return dict(context_lengths)


def check_headers(headers: Any, name: str) -> dict[str, str]:
    """Header names and values as httpx will send them: strings without control characters
    (a :class:`LimitError` naming ``name`` otherwise)."""
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
