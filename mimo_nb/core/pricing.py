"""What a request costs: prices as cited data, cost from an estimate or a real usage.

Prices are data, never constants in code: :func:`load_prices` reads the dated, cited table
shipped in ``mimo_nb/data/prices.json``, and every function takes a :class:`Prices` you can
build yourself. Billing (spec): input tokens, cached input tokens and output tokens, each at its
own rate; reasoning tokens are billed as output.

>>> prices = load_prices("mimo-v2.5", "CNY")
>>> estimate_cost(17240, prices, output_tokens=800).total
0.01884
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from mimo_nb.core import validate
from mimo_nb.core.display_hook import Displayed
from mimo_nb.errors import ContextLengthError, LimitError

__all__ = [
    "Prices",
    "Cost",
    "as_prices",
    "ContextCheck",
    "load_prices",
    "estimate_cost",
    "cost_from_usage",
    "context_length",
    "check_context",
    "estimate_text_tokens",
]


@dataclass(frozen=True)
class Prices(Displayed):
    """Prices per million tokens in one currency, with where they came from."""

    input: float
    cached_input: float
    output: float
    currency: str = "CNY"
    model: str | None = None
    as_of: str | None = None
    source: str = "user-supplied"

    def __post_init__(self) -> None:
        for name in ("input", "cached_input", "output"):
            validate.non_negative(
                f"Prices.{name}", getattr(self, name), hint="(per million tokens)"
            )

    @property
    def citation(self) -> str:
        """One line saying what these prices are and where they come from."""
        when = f", as of {self.as_of}" if self.as_of else ""
        return (
            f"{self.model or 'custom'} prices in {self.currency} per 1M tokens{when}: {self.source}"
        )


@dataclass(frozen=True)
class Cost(Displayed):
    """A cost split by what it was for, in ``prices.currency``."""

    input_tokens: int
    cached_tokens: int
    output_tokens: int
    prices: Prices

    @property
    def input(self) -> float:
        return self.input_tokens * self.prices.input / 1e6

    @property
    def cached_input(self) -> float:
        return self.cached_tokens * self.prices.cached_input / 1e6

    @property
    def output(self) -> float:
        return self.output_tokens * self.prices.output / 1e6

    @property
    def total(self) -> float:
        return self.input + self.cached_input + self.output

    @property
    def currency(self) -> str:
        return self.prices.currency

    def __str__(self) -> str:
        return f"{self.total:.6f} {self.currency}"


_PRICE_FIELDS = ("input", "cached_input", "output", "currency", "model", "as_of", "source")


def as_prices(prices: Any, name: str = "prices") -> Prices | None:
    """``prices`` as a :class:`Prices` (None stays None): a Prices, or a mapping with its fields
    (``input``, ``cached_input`` and ``output`` per million tokens; ``currency`` and the rest
    optional), checked here so a wrong one is a :class:`LimitError` naming what is missing.
    """
    if prices is None or isinstance(prices, Prices):
        return prices
    how = (
        "Pass mn.load_prices('mimo-v2.5', 'CNY') (cited, dated) or "
        "mn.Prices(input=..., cached_input=..., output=..., currency=...)."
    )
    if not isinstance(prices, Mapping):
        raise LimitError(
            f"{name} must be a mimo_nb.Prices or a mapping of its fields, got "
            f"{type(prices).__name__}. {how}"
        )
    missing = [k for k in ("input", "cached_input", "output") if k not in prices]
    unknown = [str(k) for k in prices if k not in _PRICE_FIELDS]
    if missing or unknown:
        wrong = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unknown {', '.join(unknown)}" if unknown else "",
            )
            if part
        )
        raise LimitError(
            f"{name} as a mapping needs input, cached_input and output (per million tokens); "
            f"{wrong}. {how}"
        )
    return Prices(**prices)


def _load_data() -> Mapping[str, Any]:
    text = resources.files("mimo_nb").joinpath("data/prices.json").read_text(encoding="utf-8")
    return json.loads(text)


def load_prices(model: str = "mimo-v2.5", currency: str = "CNY") -> Prices:
    """The shipped, cited prices for ``model`` in ``currency``; read the ``source`` before use."""
    base = model.split("[", 1)[0]
    for row in _load_data()["prices"]:
        if row["model"] == base and row["currency"] == currency:
            return Prices(**row)
    known = sorted({(r["model"], r["currency"]) for r in _load_data()["prices"]})
    raise LimitError(
        f"no shipped prices for {model!r} in {currency}; known: {known}. "
        "Pass your own: Prices(input=..., cached_input=..., output=..., currency=...)."
    )


def cost_from_usage(usage: Any, prices: Prices) -> Cost:
    """Cost of a real response from its ``usage`` (a mapping or an object with attributes).

    Cached prompt tokens are billed at the cached rate and the rest of the prompt at the input
    rate; completion tokens (reasoning included) at the output rate.
    """

    def get(obj: Any, name: str, default: Any = 0) -> Any:
        if obj is None:
            return default
        value = obj.get(name, default) if isinstance(obj, Mapping) else getattr(obj, name, default)
        return default if value is None else value

    prices = _need_prices(prices)
    prompt = int(get(usage, "prompt_tokens"))
    details = get(usage, "prompt_tokens_details", None)
    cached = (
        int(get(details, "cached_tokens"))
        if details is not None
        else int(get(usage, "cached_tokens"))
    )
    return Cost(prompt - cached, cached, int(get(usage, "completion_tokens")), prices)


def _need_prices(prices: Any) -> Prices:
    checked = as_prices(prices)
    if checked is None:
        raise LimitError(
            "prices are needed: pass mn.load_prices('mimo-v2.5', 'CNY') or your own mn.Prices(...)."
        )
    return checked


def estimate_cost(
    prompt_tokens: int | Any,
    prices: Prices,
    *,
    output_tokens: int = 0,
    cached_tokens: int = 0,
) -> Cost:
    """Cost of a request before sending it.

    ``prompt_tokens`` is a token count or anything with a ``total`` (a TokenBreakdown).
    ``output_tokens`` is your guess of the answer's length (reasoning included; at most the
    request's ``max_completion_tokens``); ``cached_tokens`` the part of the prompt you expect
    the server to have cached.
    """
    total = validate.non_negative_int(
        "prompt_tokens", getattr(prompt_tokens, "total", prompt_tokens)
    )
    output_tokens = validate.non_negative_int("output_tokens", output_tokens)
    cached_tokens = validate.non_negative_int("cached_tokens", cached_tokens)
    prices = _need_prices(prices)
    if cached_tokens > total:
        raise LimitError(
            f"cached_tokens ({cached_tokens}) cannot exceed the prompt's {total} tokens."
        )
    return Cost(total - cached_tokens, cached_tokens, output_tokens, prices)


# ---- Context -----------------------------------------------------------------------------


def context_length(model: str, overrides: Mapping[str, int] | None = None) -> int | None:
    """The context length of ``model``: from ``overrides``, else the shipped cited table, else
    None."""
    if overrides and model in overrides:
        return int(overrides[model])
    for row in _load_data()["context_lengths"]:
        if row["model"] == model:
            return int(row["tokens"])
    return None


def estimate_text_tokens(text: str) -> int:
    """A rough count of text tokens: one per 4 UTF-8 bytes, rounded up (no tokenizer here)."""
    return math.ceil(len(text.encode("utf-8")) / 4)


@dataclass(frozen=True)
class ContextCheck(Displayed):
    """Whether a request fits the model's context, and by how much it misses."""

    model: str
    video_tokens: tuple[int, ...]
    text_tokens: int
    output_tokens: int
    limit: int | None
    needed: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "needed", sum(self.video_tokens) + self.text_tokens + self.output_tokens
        )

    @property
    def fits(self) -> bool | None:
        """True or False; None when the model's context length is unknown."""
        return None if self.limit is None else self.needed <= self.limit

    @property
    def over_by(self) -> int:
        return 0 if self.limit is None else max(self.needed - self.limit, 0)

    def __str__(self) -> str:
        """Whether the request fits, said plainly: the one wording of a context check (the
        error, the HTML and the request's card all use it).

        >>> print(check_context([17240], model="my-model"))  # doctest: +NORMALIZE_WHITESPACE
        about 17,240 tokens needed; how many 'my-model' can hold is not on the vendor's page,
        so whether it fits is not checked
        """
        needed = f"about {self.needed:,} tokens needed"
        if self.output_tokens:
            needed += f" (counting room for a {self.output_tokens:,}-token answer)"
        if self.limit is None:
            return (
                f"{needed}; how many {self.model!r} can hold is not on the vendor's page, "
                "so whether it fits is not checked"
            )
        verdict = "it fits" if self.fits else f"{self.over_by:,} tokens too many"
        return f"{needed} of the {self.limit:,} that {self.model!r} holds: {verdict}"

    def raise_if_over(self) -> None:
        """Raise :class:`ContextLengthError` when the request does not fit."""
        if self.fits is False:
            raise ContextLengthError(
                f"the request does not fit: {self}. Lower fps, use media_resolution='default', "
                "shorten the clips or send fewer videos.",
                needed=self.needed,
                limit=int(self.limit or 0),
            )


def check_context(
    video_tokens: Iterable[int | Any],
    *,
    text: str = "",
    model: str = "mimo-v2.5",
    output_tokens: int = 0,
    context_lengths: Mapping[str, int] | None = None,
) -> ContextCheck:
    """Check several videos (token counts or breakdowns) plus text against a model's context.

    ``output_tokens`` reserves room for the answer (the request's max_completion_tokens).
    """
    counts = tuple(
        validate.non_negative_int("video_tokens", getattr(v, "total", v)) for v in video_tokens
    )
    return ContextCheck(
        model=model,
        video_tokens=counts,
        text_tokens=estimate_text_tokens(text),
        output_tokens=validate.non_negative_int("output_tokens", output_tokens),
        limit=context_length(model, context_lengths),
    )
