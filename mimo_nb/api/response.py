"""What came back: a chat completion with its usage, the estimate it was made from, and its cost.

A :class:`Completion` keeps the JSON exactly as received (``raw``) beside typed fields, the
:class:`RequestEstimate` computed before sending (so estimate and truth can be compared field by
field), and the prices to turn usage into money.

>>> done = spec_example_completion()        # the vendor page's recorded example, not a live answer
>>> done.usage.video_tokens, done.usage.audio_tokens
(1144, 19)
>>> done.comparison()                       # (field, estimated, actual); no estimate here
[('video', None, 1144), ('audio', None, 19), ('prompt total', None, 1260)]

The mapping of the estimate onto ``usage`` (vision tokens to ``video_tokens``, audio minus its two
special tokens to ``audio_tokens``) is our reading of the spec's example, not stated by the vendor.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from typing import Any, Literal

from mimo_nb.api.request import PreparedRequest, RequestEstimate, VideoPart
from mimo_nb.api.timeline import Timeline
from mimo_nb.core.display_hook import Displayed
from mimo_nb.core.pricing import Cost, Prices, cost_from_usage
from mimo_nb.errors import APIResponseValidationError, LimitError
from mimo_nb.net.http import Secrets

__all__ = [
    "Usage",
    "Completion",
    "ChunkPiece",
    "completion_from_json",
    "chunk_pieces",
    "spec_example_completion",
    "STAND_IN",
]

Origin = Literal["live", "cache", "recorded"]

STAND_IN = "rule-based stand-in, not a model"
"""The ``model`` of every answer of :class:`mimo_nb.testing.MockMimoServer` ``(answer="rules")``,
and what every display of such an answer says."""

_ORIGINS = {"cache": "replayed from cache", "recorded": "recorded example, not a live answer"}

RESERVED_NOTE = (
    " (reserved worst case: the server sent no usage, so the whole max_completion_tokens is "
    "counted)"
)


# ---- The schema: what a chat completion must look like ----------------------------------------


def _invalid(where: str, value: Any, expected: str) -> APIResponseValidationError:
    shown = repr(value) if isinstance(value, float) else json.dumps(value, default=repr)
    shown = shown if len(shown) <= 80 else shown[:79] + "…"
    problem = f"{where} is {shown} ({type(value).__name__}), expected {expected}"
    return APIResponseValidationError(
        f"the answer is not a chat completion: {problem}. Check that base_url points at a "
        "chat-completions endpoint; if it does, the server is misbehaving: try again, or report it "
        "with the request id.",
        problem=problem,
    )


def _mapping(value: Any, where: str, *, optional: bool = False) -> Mapping[str, Any]:
    if value is None and optional:
        return {}
    if not isinstance(value, Mapping):
        raise _invalid(where, value, "an object" + (" or null" if optional else ""))
    return value


def _text(value: Any, where: str) -> str | None:
    """A string or null field."""
    if value is None or isinstance(value, str):
        return value
    raise _invalid(where, value, "a string or null")


def _count(value: Any, where: str) -> int:
    """A token count: a whole number >= 0 (a float such as 12.0 is read as 12), or null."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _invalid(where, value, "a whole number of tokens")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise _invalid(where, value, "a whole number of tokens")
    if value < 0:
        raise _invalid(where, value, "a count of at least 0")
    return int(value)


@dataclass(frozen=True)
class Usage(Displayed):
    """Token counts the server reported; every field is 0 when the server left it out."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int = 0
    video_tokens: int = 0
    audio_tokens: int = 0
    cached_tokens: int = 0

    @property
    def text_tokens(self) -> int:
        """Prompt tokens that are neither video nor audio (text, timestamps, special tokens)."""
        return self.prompt_tokens - self.video_tokens - self.audio_tokens

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, where: str = "usage") -> Usage:
        """Read an OpenAI-style ``usage`` object, with its ``*_details`` sub-objects.

        Missing and null counts are 0; a count that is not a whole number >= 0 (a string, 1e999,
        -3) raises :class:`~mimo_nb.errors.APIResponseValidationError` naming the field.

        >>> usage = {"prompt_tokens": 10, "prompt_tokens_details": {"video_tokens": 6}}
        >>> Usage.from_dict(usage).text_tokens
        4
        """
        data = _mapping(data, where, optional=True)
        prompt = _mapping(
            data.get("prompt_tokens_details"), f"{where}.prompt_tokens_details", optional=True
        )
        completion = _mapping(
            data.get("completion_tokens_details"),
            f"{where}.completion_tokens_details",
            optional=True,
        )
        return cls(
            prompt_tokens=_count(data.get("prompt_tokens"), f"{where}.prompt_tokens"),
            completion_tokens=_count(data.get("completion_tokens"), f"{where}.completion_tokens"),
            total_tokens=_count(data.get("total_tokens"), f"{where}.total_tokens"),
            reasoning_tokens=_count(
                completion.get("reasoning_tokens"),
                f"{where}.completion_tokens_details.reasoning_tokens",
            ),
            video_tokens=_count(
                prompt.get("video_tokens"), f"{where}.prompt_tokens_details.video_tokens"
            ),
            audio_tokens=_count(
                prompt.get("audio_tokens"), f"{where}.prompt_tokens_details.audio_tokens"
            ),
            cached_tokens=_count(
                prompt.get("cached_tokens"), f"{where}.prompt_tokens_details.cached_tokens"
            ),
        )

    def to_dict(self) -> dict[str, int]:
        """The flat fields as a dict."""
        return asdict(self)


@dataclass
class Completion(Displayed):
    """One answer of the model, with usage, the request's estimate, cost and where it came from.

    ``origin`` is ``"live"`` (just received), ``"cache"`` (replayed from the response cache) or
    ``"recorded"`` (a recorded response such as the spec page's example). ``content`` is always
    a string: None becomes "", and any other value its JSON text, so every display is safe.

    ``max_completion_tokens`` is the request's answer budget. An answer that came without
    ``usage`` (a server that ignores ``stream_options``, a proxy that strips it) is never priced
    at 0: its :attr:`cost` is the reserved worst case, the estimated prompt plus the whole
    ``max_completion_tokens`` at the output price, and :attr:`cost_reserved` says so.

    ``parts`` are the request's videos when the request is known (the client sets them on a live
    answer and a cache replay; :meth:`for_request` ties a recorded answer to a request), so
    :attr:`timeline` can tie the answer's times to the frames the model saw.
    """

    id: str | None
    model: str | None
    content: str
    reasoning_content: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    estimate: RequestEstimate | None = field(default=None, repr=False)
    prices: Prices | None = field(default=None, repr=False)
    origin: Origin = "live"
    request_id: str | None = None
    max_completion_tokens: int | None = field(default=None, repr=False)
    parts: tuple[VideoPart, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.content, str):
            self.content = (
                ""
                if self.content is None
                else json.dumps(self.content, ensure_ascii=False, default=repr)
            )
        if self.reasoning_content is not None and not isinstance(self.reasoning_content, str):
            self.reasoning_content = json.dumps(
                self.reasoning_content, ensure_ascii=False, default=repr
            )

    @property
    def cost(self) -> Cost | None:
        """What the answer cost at ``prices``, from its usage.

        Without usage it is the reserved worst case (see :attr:`cost_reserved`); None without
        prices, or without usage when the request's budget or a complete estimate is unknown.

        >>> from mimo_nb.pricing import Prices
        >>> done = Completion(None, None, "hi", prices=Prices(1, 1, 2), max_completion_tokens=10,
        ...                   estimate=RequestEstimate((), text_tokens=5))
        >>> round(done.cost.total * 1e6), done.cost_reserved   # 5 prompt + 10 answer tokens at most
        (25, True)
        """
        if self.prices is None:
            return None
        if self.usage is not None:
            return cost_from_usage(self.usage, self.prices)
        if (
            self.max_completion_tokens is None
            or self.estimate is None
            or not self.estimate.complete
        ):
            return None
        return Cost(self.estimate.prompt_tokens, 0, self.max_completion_tokens, self.prices)

    @property
    def stand_in(self) -> bool:
        """True for an answer of the rule-based stand-in server (:data:`STAND_IN`)."""
        return self.model == STAND_IN

    @property
    def timeline(self) -> Timeline:
        """The answer's times tied to the frames its request sent the model
        (:class:`~mimo_nb.api.timeline.Timeline`).

        Needs the request (:attr:`parts`); without it the times are listed, not grounded, and
        the timeline's ``note`` says what to do. It never raises.

        >>> line = spec_example_completion().timeline      # no request: found, not grounded
        >>> line.known, [ref.text for ref in line.refs]
        (False, [])
        """
        return Timeline.of_request(self.content, self.parts, label=self.label)

    @property
    def reasoning_timeline(self) -> Timeline:
        """:attr:`timeline` for the reasoning (where models often lay out their times, as the
        vendor page's example does: "(00:00 - 00:01): the video opens...")."""
        return Timeline.of_request(self.reasoning_content or "", self.parts, label=self.label)

    @property
    def label(self) -> str:
        """Where the answer came from, when that matters: "" for a live answer of a model.

        >>> spec_example_completion().label
        'recorded example, not a live answer'
        """
        said = [STAND_IN] if self.stand_in else []
        return "; ".join([*said, *([_ORIGINS[self.origin]] if self.origin in _ORIGINS else [])])

    def for_request(self, request: PreparedRequest) -> Completion:
        """A copy of this answer tied to ``request`` (from ``client.build_request``), so its
        :attr:`timeline` reads the frames that request sends: for a recorded answer (a dry run),
        or to read a cached answer against another request. The origin stays as it was.

        >>> from mimo_nb.api.request import prepare_request, url_part
        >>> done = spec_example_completion().for_request(
        ...     prepare_request([url_part("https://example.com/kitten.mp4")], "Describe it."))
        >>> done.origin, done.timeline.known                 # a URL never opened: no frames
        ('recorded', False)
        """
        if not isinstance(request, PreparedRequest):
            raise LimitError(
                "for_request takes a PreparedRequest (client.build_request(...)), got "
                f"{type(request).__name__}."
            )
        return replace(self, parts=request.parts, raw=dict(self.raw))

    @property
    def cost_reserved(self) -> bool:
        """True when :attr:`cost` is the reserved worst case because the server sent no usage."""
        return self.usage is None and self.cost is not None

    def comparison(self) -> list[tuple[str, int | None, int | None]]:
        """Rows ``(field, estimated, actual)`` for video, audio and the prompt total.

        The estimate is None when there is none or when a video was not probed.
        """
        est = self.estimate if self.estimate is not None and self.estimate.complete else None
        use = self.usage
        return [
            ("video", est.video_tokens if est else None, use.video_tokens if use else None),
            ("audio", est.audio_tokens if est else None, use.audio_tokens if use else None),
            (
                "prompt total",
                est.prompt_tokens if est else None,
                use.prompt_tokens if use else None,
            ),
        ]

    def to_dict(self) -> dict[str, Any]:
        """A flat, JSON-friendly dict (for records and DataFrames); ``raw`` is left out."""
        usage = self.usage.to_dict() if self.usage else {}
        cost = self.cost
        return {
            "id": self.id,
            "model": self.model,
            "origin": self.origin,
            "finish_reason": self.finish_reason,
            "content": self.content,
            "reasoning_content": self.reasoning_content,
            **{f"usage_{k}": v for k, v in usage.items()},
            "estimated_prompt_tokens": self.estimate.prompt_tokens if self.estimate else None,
            "cost": cost.total if cost else None,
            "cost_reserved": self.cost_reserved,
            "currency": cost.currency if cost else None,
            "request_id": self.request_id,
        }

    def __str__(self) -> str:
        origin = f" ({_ORIGINS[self.origin]})" if self.origin in _ORIGINS else ""
        lines = [f"{self.model or 'model?'} · {self.finish_reason or 'unfinished'}{origin}"]
        if self.reasoning_content:
            lines += ["", "[reasoning]", _shorten(self.reasoning_content, 600)]
        lines += ["", self.content]
        if self.usage:
            u = self.usage
            lines += [
                "",
                f"tokens: prompt {u.prompt_tokens:,} (video {u.video_tokens:,}, audio "
                f"{u.audio_tokens:,}, cached {u.cached_tokens:,}) · completion "
                f"{u.completion_tokens:,} (reasoning {u.reasoning_tokens:,})",
            ]
        cost = self.cost
        if cost:
            lines.append(f"cost: {cost}{RESERVED_NOTE if self.cost_reserved else ''}")
        return "\n".join(lines)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def completion_from_json(
    raw: Any,
    *,
    estimate: RequestEstimate | None = None,
    prices: Prices | None = None,
    origin: Origin = "live",
    request_id: str | None = None,
    max_completion_tokens: int | None = None,
    partial: bool = False,
) -> Completion:
    """Build a :class:`Completion` from an OpenAI-style chat completion JSON object.

    Raises :class:`~mimo_nb.errors.APIResponseValidationError`, naming the field, for anything
    that is not the schema: no ``choices``, a choice or message that is not an object, content
    that is not a string or null, a usage count that is not a whole number, ...

    A complete answer has a ``finish_reason`` or some content. With a finish reason the content
    may be empty (``"length"`` when the budget went on reasoning, ``"content_filter"``): the model
    did finish. A message with neither (an empty message, or reasoning alone, and no finish
    reason) is no answer and is refused too, so it is never cached or counted as a success.
    ``partial=True`` reads what a broken-off stream delivered, without that rule.

    >>> completion_from_json({"choices": [{"message": {"content": "hi"}}]}).content
    'hi'
    >>> completion_from_json({"choices": {"0": {}}})
    Traceback (most recent call last):
    ...
    mimo_nb.errors.APIResponseValidationError: the answer is not a chat completion: choices is ...
    """
    raw = _mapping(raw, "the body")
    choices = raw.get("choices")
    if not isinstance(choices, list) or not choices:
        raise _invalid("choices", choices, "a non-empty list")
    choice = _mapping(choices[0], "choices[0]")
    message = _mapping(choice.get("message"), "choices[0].message")
    usage = raw.get("usage")
    content = _text(message.get("content"), "choices[0].message.content") or ""
    reasoning = _text(message.get("reasoning_content"), "choices[0].message.reasoning_content")
    finish_reason = _text(choice.get("finish_reason"), "choices[0].finish_reason")
    if not partial and not content and finish_reason is None:
        raise _invalid("choices[0]", choices[0], "a message with content, or a finish_reason")
    return Completion(
        id=_text(raw.get("id"), "id"),
        model=_text(raw.get("model"), "model"),
        content=content,
        reasoning_content=reasoning,
        finish_reason=finish_reason,
        usage=Usage.from_dict(usage) if usage is not None else None,
        raw=dict(raw),
        estimate=estimate,
        prices=prices,
        origin=origin,
        request_id=request_id,
        max_completion_tokens=max_completion_tokens,
    )


@dataclass(frozen=True)
class ChunkPiece:
    """What one choice of a stream chunk adds: reasoning text, content text, a finish reason."""

    reasoning: str | None
    content: str | None
    finish_reason: str | None


def chunk_pieces(chunk: Any) -> tuple[dict[str, Any], dict[str, Any] | None, list[ChunkPiece]]:
    """Read one ``chat.completion.chunk``: its id/model/created, its usage object (checked, or
    None), and what each choice adds.

    Raises :class:`~mimo_nb.errors.APIResponseValidationError`, naming the field, when the chunk
    is not an object, ``choices`` is not a list, a choice or delta is not an object, or a text is
    not a string.

    >>> chunk_pieces({"choices": [{"delta": {"content": "Hi"}}]})[2]
    [ChunkPiece(reasoning=None, content='Hi', finish_reason=None)]
    """
    chunk = _mapping(chunk, "a stream event")
    meta: dict[str, Any] = {
        "id": _text(chunk.get("id"), "chunk id"),
        "model": _text(chunk.get("model"), "chunk model"),
    }
    created = chunk.get("created")
    if created is not None:
        meta["created"] = _count(created, "chunk created")
    usage = chunk.get("usage")
    choices = chunk.get("choices")
    if choices is None:
        choices = []
    if not isinstance(choices, list):
        raise _invalid("a chunk's choices", choices, "a list")
    pieces = []
    for i, choice in enumerate(choices):
        choice = _mapping(choice, f"a chunk's choices[{i}]")
        delta = _mapping(choice.get("delta"), f"a chunk's choices[{i}].delta", optional=True)
        pieces.append(
            ChunkPiece(
                reasoning=_text(
                    delta.get("reasoning_content"),
                    f"a chunk's choices[{i}].delta.reasoning_content",
                ),
                content=_text(delta.get("content"), f"a chunk's choices[{i}].delta.content"),
                finish_reason=_text(
                    choice.get("finish_reason"), f"a chunk's choices[{i}].finish_reason"
                ),
            )
        )
    if usage is not None:
        Usage.from_dict(usage, "a chunk's usage")  # checked now, so the assembled answer is valid
        usage = dict(usage)
    return meta, usage, pieces


def spec_example_json() -> dict[str, Any]:
    """The vendor page's example response, as a fresh dict (see the ``_note`` in the data file)."""
    text = (
        resources.files("mimo_nb")
        .joinpath("data/spec_example_response.json")
        .read_text(encoding="utf-8")
    )
    return json.loads(text)["response"]


def spec_example_completion(prices: Prices | None = None) -> Completion:
    """The vendor page's recorded example response as a :class:`Completion` (origin "recorded").

    It answered the page's request about a ~3 s kitten clip; it is shown as a recorded example,
    never as an answer to your video.

    >>> spec_example_completion().usage.reasoning_tokens
    719
    """
    return completion_from_json(spec_example_json(), prices=prices, origin="recorded")


def parse_completion(
    data: bytes,
    *,
    status: int,
    request_id: str | None,
    secrets: Secrets,
    estimate: RequestEstimate,
    prices: Prices | None,
) -> Completion:
    """A Completion from a 2xx body, or an :class:`APIResponseValidationError` naming the fault."""
    try:
        raw = secrets.redact(json.loads(data))  # redacted before anything shows or shortens it
    except (ValueError, RecursionError) as exc:
        snippet = secrets.text(data[:4096].decode("utf-8", "replace"), 200)
        raise APIResponseValidationError(
            f"MiMo answered {status} but the body is not a chat completion: it is not JSON "
            f"({type(exc).__name__}): {snippet!r}. Check base_url points at a chat-completions "
            "endpoint; try again.",
            problem="the body is not JSON",
            status_code=status,
            request_id=request_id,
            body=snippet,
        ) from None
    try:
        return completion_from_json(raw, estimate=estimate, prices=prices, request_id=request_id)
    except APIResponseValidationError as exc:
        exc.status_code, exc.request_id, exc.body = status, request_id, raw
        raise
