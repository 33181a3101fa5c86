"""The request payload, pure: the JSON body the spec shapes, its checks and its token estimate.

A video travels as a ``video_url`` content part with ``fps`` and ``media_resolution`` *beside*
``video_url``; a public URL is sent as the URL, a local file as ``data:{MIME};base64,...``::

    {"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AAAA..."},
     "fps": 2, "media_resolution": "default"}

This module builds that body around the URL text it is given (the API layer,
:mod:`mimo_nb.api.request`, gives a placeholder for a local file and streams the file's base64
in its place when sending), checks every argument, and estimates the request's tokens. It reads
no file and sends nothing.

>>> body = request_body([("https://example.com/clip.mp4", 2.0, "default")], "Describe it.")
>>> body["messages"][0]["content"][0]
{'type': 'video_url', 'video_url': {'url': 'https://example.com/clip.mp4'}, 'fps': 2, \
'media_resolution': 'default'}
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mimo_nb.core.limits import MIME_TYPES
from mimo_nb.core.pricing import ContextCheck, check_context, estimate_text_tokens
from mimo_nb.core.profiles import ServerTokenBreakdown
from mimo_nb.core.tokens import TokenBreakdown
from mimo_nb.errors import LimitError

__all__ = [
    "RequestEstimate",
    "VideoEntry",
    "check_json_value",
    "check_request_args",
    "estimate_request",
    "is_url",
    "json_number",
    "mime_type_for",
    "request_body",
    "video_prompt_tokens",
    "with_stream",
]

VideoEntry = tuple[str, float, str]
"""One video of a body: its URL text (a URL, or a placeholder for a file), fps, media_resolution."""


def mime_type_for(name_or_format: str | os.PathLike[str]) -> str:
    """The MIME type of an MP4/MOV/AVI/WMV file, from its format name or file name.

    >>> mime_type_for("clip.MOV")
    'video/quicktime'
    """
    text = str(name_or_format).lower()
    fmt = text.rsplit(".", 1)[-1]
    if fmt in MIME_TYPES:
        return MIME_TYPES[fmt]
    raise LimitError(
        f"cannot tell the video format of {str(name_or_format)!r}: MiMo accepts MP4, MOV, AVI and "
        "WMV. Convert the file to MP4, or open it with Video.open(...), which probes the format."
    )


def is_url(source: Any) -> bool:
    """True for an ``http://`` or ``https://`` URL string."""
    return (
        isinstance(source, str)
        and source.split("://", 1)[0].lower() in ("http", "https")
        and "://" in source
    )


def json_number(value: float) -> int | float:
    """2.0 -> 2, so the body reads like the spec's (``"fps": 2``)."""
    return int(value) if float(value).is_integer() else float(value)


# ---- The estimate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestEstimate:
    """The token estimate of a whole request, made before sending it.

    ``videos`` holds one :class:`TokenBreakdown` per video, or None for a URL that was not probed
    (its tokens are then unknown and the sums below leave it out; see :attr:`complete`).
    Under a self-hosted server's ``profile`` a video's estimate is that server's
    :class:`~mimo_nb.core.profiles.ServerTokenBreakdown`: its vision and special tokens count, its
    audio is not estimated (``audio_tokens`` is then None).
    ``text_tokens`` is a rough count of the system prompt and question (4 bytes per token).
    """

    videos: tuple[TokenBreakdown | ServerTokenBreakdown | None, ...]
    text_tokens: int = 0
    profile: str = "mimo-api"

    @property
    def complete(self) -> bool:
        """True when every video has an estimate."""
        return all(v is not None for v in self.videos)

    @property
    def video_tokens(self) -> int:
        """Estimated vision tokens: what the API reports as ``video_tokens``."""
        return sum(v.vision for v in self.videos if v is not None)

    @property
    def audio_tokens(self) -> int | None:
        """Estimated audio tokens without their special tokens: the API's ``audio_tokens``.

        None when a server profile estimated a video: its audio layout is not counted.
        """
        if any(isinstance(v, ServerTokenBreakdown) for v in self.videos):
            return None
        return sum(v.audio_tokens for v in self.videos if isinstance(v, TokenBreakdown))

    @property
    def prompt_tokens(self) -> int:
        """Estimated prompt tokens: each video's total (a server's counted tokens) plus text."""
        return sum(video_prompt_tokens(v) for v in self.videos if v is not None) + self.text_tokens

    def to_dict(self) -> dict[str, Any]:
        return {
            "videos": [None if v is None else v.to_dict() for v in self.videos],
            "text_tokens": self.text_tokens,
            "video_tokens": self.video_tokens,
            "audio_tokens": self.audio_tokens,
            "prompt_tokens": self.prompt_tokens,
            "complete": self.complete,
            "profile": self.profile,
        }


def video_prompt_tokens(breakdown: TokenBreakdown | ServerTokenBreakdown) -> int:
    """One video's prompt tokens: the API's total, or what a server's source fixes (counted)."""
    if isinstance(breakdown, ServerTokenBreakdown):
        return breakdown.counted
    return breakdown.total


def estimate_request(
    breakdowns: Sequence[TokenBreakdown | ServerTokenBreakdown | None],
    prompt: str,
    *,
    system: str | None = None,
    model: str = "mimo-v2.5",
    max_completion_tokens: int = 1024,
    context_lengths: Mapping[str, int] | None = None,
    profile: str = "mimo-api",
) -> tuple[RequestEstimate, ContextCheck]:
    """A request's estimate and its context check; a :class:`~mimo_nb.errors.ContextLengthError`
    when it does not fit the model's context (known only for some models)."""
    text = (system or "") + prompt
    estimate = RequestEstimate(
        videos=tuple(breakdowns), text_tokens=estimate_text_tokens(text), profile=profile
    )
    context = check_context(
        [video_prompt_tokens(b) for b in breakdowns if b is not None],
        text=text,
        model=model,
        output_tokens=max_completion_tokens,
        context_lengths=context_lengths,
    )
    context.raise_if_over()
    return estimate, context


# ---- The body ---------------------------------------------------------------------------------


def request_body(
    videos: Iterable[VideoEntry],
    prompt: str,
    *,
    model: str = "mimo-v2.5",
    system: str | None = None,
    max_completion_tokens: int = 1024,
    stream: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of a chat completion about ``videos``, as the spec's examples shape it.

    The message order follows the spec: an optional system message, then one user message whose
    content is the videos followed by the text. ``extra`` adds top-level fields (for example
    ``temperature`` or ``thinking``); a None value there removes the field. The arguments are
    checked (:func:`check_request_args`).
    """
    check_request_args(prompt, system, max_completion_tokens, extra, model)
    content: list[dict[str, Any]] = [
        {
            "type": "video_url",
            "video_url": {"url": url},
            "fps": json_number(fps),
            "media_resolution": media_resolution,
        }
        for url, fps, media_resolution in videos
    ]
    content.append({"type": "text", "text": prompt})
    messages: list[dict[str, Any]] = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": content})
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "max_completion_tokens": max_completion_tokens,
    }
    body = with_stream(body, stream)
    for key, value in (extra or {}).items():  # None removes a field (e.g. stream_options=None)
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def with_stream(body: dict[str, Any], stream: bool) -> dict[str, Any]:
    """``body`` asking for a streamed answer (``stream``, usage in the final chunk) or a plain
    one: a new dict, or ``body`` itself when it already does."""
    if stream == bool(body.get("stream")):
        return body
    body = dict(body)
    if stream:
        body["stream"] = True
        body.setdefault("stream_options", {"include_usage": True})
    else:
        body.pop("stream", None)
        body.pop("stream_options", None)
    return body


# ---- The checks -------------------------------------------------------------------------------

_RESERVED = ("messages",)


def check_request_args(
    prompt: str,
    system: str | None = None,
    max_completion_tokens: int = 1024,
    extra: Mapping[str, Any] | None = None,
    model: str = "mimo-v2.5",
) -> None:
    """Raise :class:`LimitError` for a bad prompt, system, token budget, model or extra field.

    >>> check_request_args("q", extra={"temperature": float("nan")})
    Traceback (most recent call last):
    ...
    mimo_nb.errors.LimitError: extra_body['temperature'] is nan: JSON has no NaN or infinity, ...
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise LimitError(
            "prompt must be a non-empty string: the question to ask about the video(s)."
        )
    check_json_value(prompt, "prompt")
    if system is not None:
        if not isinstance(system, str):
            raise LimitError(f"system must be a string or None, got {type(system).__name__}.")
        check_json_value(system, "system")
    if not isinstance(model, str) or not model.strip():
        raise LimitError(f"model must be a model name such as 'mimo-v2.5', got {model!r}.")
    check_json_value(model, "model")
    if (
        not isinstance(max_completion_tokens, int)
        or isinstance(max_completion_tokens, bool)
        or max_completion_tokens < 1
    ):
        raise LimitError(
            f"max_completion_tokens must be a positive integer, got {max_completion_tokens!r}."
        )
    if extra is None:
        return
    if not isinstance(extra, Mapping):
        raise LimitError(
            f"extra_body must be a dict of top-level fields, got {type(extra).__name__}."
        )
    clash = [k for k in _RESERVED if k in extra]
    if clash:
        raise LimitError(
            f"{clash} are set by ask() itself; pass the videos and prompt instead of raw {clash}."
        )
    for key, value in extra.items():
        if not isinstance(key, str):
            raise LimitError(f"extra_body keys must be strings, got {key!r}.")
        check_json_value(value, f"extra_body[{key!r}]")


def check_json_value(value: Any, where: str) -> None:
    """Raise :class:`LimitError` unless ``value`` can be sent as JSON in UTF-8, exactly.

    Refused: NaN and infinities (``json.dumps`` would write ``NaN``, which is not JSON), strings
    with lone surrogates (not encodable as UTF-8), and anything but str, int, float, bool, None,
    lists, tuples and dicts with string keys. ``where`` names the value in the message.
    """
    if value is None or isinstance(value, (bool, int)):
        return
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise LimitError(
                f"{where} contains a lone surrogate (U+{ord(value[exc.start]):04X} at character "
                f"{exc.start}), "
                "which cannot be sent as UTF-8. Remove it, or clean the text with "
                "text.encode('utf-8', 'replace').decode('utf-8')."
            ) from None
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LimitError(
                f"{where} is {value!r}: JSON has no NaN or infinity, so it cannot be sent. "
                "Pass a finite number."
            )
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise LimitError(
                    f"{where} has a key {key!r} that is not a string; JSON keys are strings."
                )
            check_json_value(key, f"a key of {where}")
            check_json_value(item, f"{where}[{key!r}]")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_json_value(item, f"{where}[{i}]")
        return
    raise LimitError(
        f"{where} is a {type(value).__name__}; a request holds only JSON values (str, int, float, "
        "bool, None, lists and dicts). Convert it first, e.g. float(x) or x.tolist()."
    )
