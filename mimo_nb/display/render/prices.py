"""Prices, costs and the context check (the values of :mod:`mimo_nb.core.pricing`).

Every price shown carries where it comes from (:func:`prices_note_html`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mimo_nb.core.display_hook import renders
from mimo_nb.display.render._text import MUTED, escape, rows_html

if TYPE_CHECKING:
    from mimo_nb.core.pricing import ContextCheck, Cost, Prices
    from mimo_nb.core.profiles import ServerTokenBreakdown

__all__ = [
    "context_check_html",
    "context_check_text",
    "cost_html",
    "cost_line_html",
    "prices_html",
    "prices_note_html",
    "self_hosted_cost_html",
]


def _prices_summary(prices: Prices) -> str:
    when = f", as of {prices.as_of}" if prices.as_of else ""
    return f"{prices.model or 'custom'} prices in {prices.currency} per 1M tokens{when}"


def prices_note_html(prices: Prices, *, open_: bool = False) -> str:
    """Where prices come from, in one line: what they are, with the source one click away.

    >>> from mimo_nb.core.pricing import Prices
    >>> "my quote" in prices_note_html(Prices(input=1, cached_input=0, output=2, source="my quote"))
    True
    """
    return (
        f"<details class='mimo-prices' style='{MUTED}'{' open' if open_ else ''}>"
        f"<summary>{escape(_prices_summary(prices))}</summary>{escape(prices.source)}</details>"
    )


@renders("html", "mimo_nb.core.pricing.Prices")
def prices_html(prices: Prices) -> str:
    """A :class:`~mimo_nb.core.pricing.Prices` as a table of rates, its source written out."""
    rows = [
        ("input", f"{prices.input:g}"),
        ("cached input", f"{prices.cached_input:g}"),
        ("output", f"{prices.output:g}"),
    ]
    return (
        "<div class='mimo-prices-table'>"
        f"{rows_html(rows, 'mimo-rates', ('', f'{prices.currency} / 1M tokens'))}"
        f"{prices_note_html(prices, open_=True)}</div>"
    )


@renders("html", "mimo_nb.core.pricing.Cost")
def cost_html(cost: Cost, *, open_citation: bool = False) -> str:
    """A :class:`~mimo_nb.core.pricing.Cost` as a table by rate, the prices' citation under it."""
    p = cost.prices
    rows = [
        ("input", cost.input_tokens, p.input, cost.input),
        ("cached input", cost.cached_tokens, p.cached_input, cost.cached_input),
        ("output", cost.output_tokens, p.output, cost.output),
    ]
    body = "".join(
        f"<tr><th style='text-align:left'>{k}</th><td style='text-align:right'>{n:,}</td>"
        f"<td style='text-align:right'>{rate:g}</td><td style='text-align:right'>{c:.6f}</td></tr>"
        for k, n, rate, c in rows
    )
    return (
        f"<table class='mimo-cost'><tr><th></th><th>tokens</th><th>{escape(p.currency)} / 1M</th>"
        f"<th>{escape(p.currency)}</th></tr>{body}<tr><th style='text-align:left'>total</th>"
        "<td></td><td></td>"
        f"<td style='text-align:right'><b>{cost.total:.6f}</b></td></tr></table>"
        f"{prices_note_html(p, open_=open_citation)}"
    )


def cost_line_html(cost: Cost) -> str:
    """One line of cost for a control panel: the total, what it counts, the prices folded under
    it."""
    what = "prompt" + (f" + {cost.output_tokens:,} output tokens" if cost.output_tokens else "")
    return (
        f"<div class='mimo-cost-line'><b>{cost.total:.6f} {escape(cost.currency)}</b> "
        f"estimated ({escape(what)})"
        f"{prices_note_html(cost.prices)}</div>"
    )


def self_hosted_cost_html(b: ServerTokenBreakdown) -> str:
    """The cost line of a self-hosted profile: no per-token price applies."""
    return (
        f"<div class='mimo-cost-line' style='{MUTED}'>self-hosted ({escape(b.profile)}): "
        "no per-token price; the hosted API's prices do not apply</div>"
    )


def context_check_text(check: ContextCheck) -> str:
    """Whether a request fits the model's context, said plainly (``str(check)``).

    >>> from mimo_nb.core.pricing import check_context
    >>> check = check_context([17240], model="my-model")
    >>> context_check_text(check)  # doctest: +NORMALIZE_WHITESPACE
    "about 17,240 tokens needed; how many 'my-model' can hold is not on the vendor's page,
    so whether it fits is not checked"
    """
    return str(check)  # the one wording, the core's


@renders("html", "mimo_nb.core.pricing.ContextCheck")
def context_check_html(check: ContextCheck) -> str:
    """A :class:`~mimo_nb.core.pricing.ContextCheck` as a table (videos, text, answer, limit) and
    its verdict."""
    rows = [(f"video {n + 1}", f"{t:,}") for n, t in enumerate(check.video_tokens)]
    rows += [
        ("text (estimated)", f"{check.text_tokens:,}"),
        ("room for the answer", f"{check.output_tokens:,}"),
        ("needed", f"{check.needed:,}"),
        ("context length", "not known" if check.limit is None else f"{check.limit:,}"),
    ]
    return (
        f"<div class='mimo-context'>{rows_html(rows, 'mimo-context-table', ('', 'tokens'))}"
        f"<div>{escape(context_check_text(check))}</div></div>"
    )
