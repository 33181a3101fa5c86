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
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any, Literal, Mapping

from .pricing import Cost, Prices, cost_from_usage
from .request import RequestEstimate

__all__ = ["Usage", "Completion", "completion_from_json", "spec_example_completion"]

Origin = Literal["live", "cache", "recorded"]


def _int(value: Any) -> int:
    """An int from a JSON value that may be missing or null."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True)
class Usage:
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
    def from_dict(cls, data: Mapping[str, Any] | None) -> "Usage":
        """Read an OpenAI-style ``usage`` object, with its ``*_details`` sub-objects.

        >>> Usage.from_dict({"prompt_tokens": 10, "prompt_tokens_details": {"video_tokens": 6}}).text_tokens
        4
        """
        data = data or {}
        prompt_details = data.get("prompt_tokens_details") or {}
        completion_details = data.get("completion_tokens_details") or {}
        return cls(
            prompt_tokens=_int(data.get("prompt_tokens")),
            completion_tokens=_int(data.get("completion_tokens")),
            total_tokens=_int(data.get("total_tokens")),
            reasoning_tokens=_int(completion_details.get("reasoning_tokens")),
            video_tokens=_int(prompt_details.get("video_tokens")),
            audio_tokens=_int(prompt_details.get("audio_tokens")),
            cached_tokens=_int(prompt_details.get("cached_tokens")),
        )

    def to_dict(self) -> dict[str, int]:
        """The flat fields as a dict."""
        return asdict(self)

    def _repr_html_(self) -> str:
        from .render import usage_html

        return usage_html(self)


@dataclass
class Completion:
    """One answer of the model, with usage, the request's estimate, cost and where it came from.

    ``origin`` is ``"live"`` (just received), ``"cache"`` (replayed from the response cache) or
    ``"recorded"`` (a recorded response such as the spec page's example).
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

    @property
    def cost(self) -> Cost | None:
        """What the answer cost at ``prices``; None without usage or prices."""
        if self.usage is None or self.prices is None:
            return None
        return cost_from_usage(self.usage, self.prices)

    def comparison(self) -> list[tuple[str, int | None, int | None]]:
        """Rows ``(field, estimated, actual)`` for video, audio and the prompt total.

        The estimate is None when there is none or when a video was not probed.
        """
        est = self.estimate if self.estimate is not None and self.estimate.complete else None
        use = self.usage
        return [
            ("video", est.video_tokens if est else None, use.video_tokens if use else None),
            ("audio", est.audio_tokens if est else None, use.audio_tokens if use else None),
            ("prompt total", est.prompt_tokens if est else None, use.prompt_tokens if use else None),
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
            "currency": cost.currency if cost else None,
            "request_id": self.request_id,
        }

    def _repr_html_(self) -> str:
        from .render import completion_html  # display code stays out of the core's imports

        return completion_html(self)

    def __str__(self) -> str:
        label = {"live": "", "cache": " (replayed from cache)", "recorded": " (recorded example, not a live answer)"}
        lines = [f"{self.model or 'model?'} · {self.finish_reason or 'unfinished'}{label.get(self.origin, '')}"]
        if self.reasoning_content:
            lines += ["", "[reasoning]", _shorten(self.reasoning_content, 600)]
        lines += ["", self.content]
        if self.usage:
            u = self.usage
            lines += ["", f"tokens: prompt {u.prompt_tokens:,} (video {u.video_tokens:,}, audio "
                          f"{u.audio_tokens:,}, cached {u.cached_tokens:,}) · completion "
                          f"{u.completion_tokens:,} (reasoning {u.reasoning_tokens:,})"]
        cost = self.cost
        if cost:
            lines.append(f"cost: {cost}")
        return "\n".join(lines)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def completion_from_json(
    raw: Mapping[str, Any],
    *,
    estimate: RequestEstimate | None = None,
    prices: Prices | None = None,
    origin: Origin = "live",
    request_id: str | None = None,
) -> Completion:
    """Build a :class:`Completion` from an OpenAI-style chat completion JSON object.

    Raises ``KeyError``/``TypeError``/``IndexError`` on a body without ``choices[0].message``;
    the client translates those into an :class:`~mimo_nb.errors.APIError`.
    """
    choice = raw["choices"][0]
    message = choice["message"]
    usage = raw.get("usage")
    return Completion(
        id=raw.get("id"),
        model=raw.get("model"),
        content=message.get("content") or "",
        reasoning_content=message.get("reasoning_content"),
        finish_reason=choice.get("finish_reason"),
        usage=Usage.from_dict(usage) if usage else None,
        raw=dict(raw),
        estimate=estimate,
        prices=prices,
        origin=origin,
        request_id=request_id,
    )


def spec_example_json() -> dict[str, Any]:
    """The vendor page's example response, as a fresh dict (see the ``_note`` in the data file)."""
    text = resources.files("mimo_nb").joinpath("data/spec_example_response.json").read_text(encoding="utf-8")
    return json.loads(text)["response"]


def spec_example_completion(prices: Prices | None = None) -> Completion:
    """The vendor page's recorded example response as a :class:`Completion` (origin "recorded").

    It answered the page's request about a ~3 s kitten clip; it is shown as a recorded example,
    never as an answer to your video.

    >>> spec_example_completion().usage.reasoning_tokens
    719
    """
    return completion_from_json(spec_example_json(), prices=prices, origin="recorded")

