"""Every piece of HTML mimo_nb shows: breakdowns, prices, costs, answers, frames, explorers,
reports.

This module is the one place HTML is built; other modules call these functions and never write
markup themselves (pictures are encoded in :mod:`mimo_nb.media.imaging`, and shown here). Every
string that reaches a page is escaped here.

Everything a model wrote is untrusted. :func:`markdown_html` renders it as Markdown with raw HTML
switched off (a ``<script>`` in an answer shows up as text) and then passes the result through
``nh3`` with a short allow-list of tags, attributes and URL schemes, so nothing in it can run,
load or restyle the page. The only images this module ever emits are pictures we drew or decoded
ourselves (plots, frames); model text cannot produce a ``data:`` URL or an ``<img>``.

The numbers in the explanations come from :mod:`mimo_nb.core.tokens`' constants, never typed again.

>>> from mimo_nb.api.response import spec_example_completion
>>> html = completion_html(spec_example_completion())   # answer, reasoning, usage, origin badge
>>> text = completion_text(spec_example_completion())    # the same as plain text
>>> "recorded response" in html and "recorded response" in text
True
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import nh3
import numpy as np
import numpy.typing as npt
from markdown_it import MarkdownIt

from mimo_nb.core.display_hook import renders
from mimo_nb.core.limits import data_uri
from mimo_nb.core.profiles import server_breakdown_rows, shorten_list
from mimo_nb.core.tokens import (
    breakdown_rows,
)
from mimo_nb.media import imaging as _imaging

if TYPE_CHECKING:
    from mimo_nb.media.video import Frames, Player, Video

__all__ = [
    "batch_html",
    "breakdown_html",
    "comparison_html",
    "comparison_rows",
    "completion_html",
    "completion_text",
    "context_check_html",
    "context_check_text",
    "corpus_answers_html",
    "corpus_summary_html",
    "cost_html",
    "cost_line_html",
    "error_html",
    "explorer_snapshot_html",
    "explorer_style",
    "figure_html",
    "forecast_html",
    "fps_choice_html",
    "frame_grid_html",
    "markdown_html",
    "origin_badge_html",
    "origin_label",
    "prices_html",
    "prices_note_html",
    "report_html",
    "request_html",
    "sampled_frames_html",
    "streaming_html",
    "token_total_html",
    "usage_html",
    "usage_rows",
    "usage_table_html",
    "video_card_html",
    "widget_fallback_html",
]

_MUTED = "color:#666;font-size:smaller"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def error_html(exc: BaseException) -> str:
    """An error, named and explained, in red (the message is escaped)."""
    return f"<div class='mimo-error' style='color:#b00'>{_e(type(exc).__name__)}: {_e(exc)}</div>"


# ---- Token breakdowns -----------------------------------------------------------------------


def _rows_html(rows: Sequence[Sequence[str]], css: str, header: Sequence[str] = ()) -> str:
    """A table: the first cell of a row is its heading; numbers (second cell) never wrap."""
    head = ("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>") if header else ""
    body = "".join(
        f"<tr><th style='text-align:left;white-space:nowrap'>{_e(r[0])}</th>"
        + "".join(f"<td style='text-align:right;white-space:nowrap'>{_e(c)}</td>" for c in r[1:2])
        + "".join(f"<td style='text-align:left;{_MUTED}'>{_e(c)}</td>" for c in r[2:])
        + "</tr>"
        for r in rows
    )
    return f"<table class='{css}'>{head}{body}</table>"


@renders("html", "mimo_nb.core.tokens.TokenBreakdown")
def breakdown_html(b: Any) -> str:
    """The breakdown as an HTML table (every cell escaped)."""
    return _rows_html(breakdown_rows(b), "mimo-breakdown")


def sampled_frames_html(b: Any) -> str:
    """How many frames the model samples and the size it sees them at (an explorer's headline)."""
    return (
        f"<div class='mimo-numbers'><b>{b.frames:,}</b> frames sampled ({b.grids:,} pairs) · "
        "model frame "
        f"<b>{b.width} x {b.height}</b> (from {b.source_width} x {b.source_height})</div>"
    )


def token_total_html(b: Any) -> str:
    """The estimate's total and the model frame size (an explorer's headline)."""
    return (
        f"<div class='mimo-numbers'><b>{b.total:,}</b> tokens estimated · {b.frames:,} frames at "
        f"<b>{b.width} x {b.height}</b></div>"
    )


def server_total_html(b: Any) -> str:
    """A self-hosted server's counted tokens and frame size (an explorer's headline)."""
    return (
        f"<div class='mimo-numbers'><b>{b.counted:,}</b> tokens counted (vision + special, "
        f"{_e(b.profile)}) · {b.frames:,} frames at <b>{b.width} x {b.height}</b></div>"
    )


def self_hosted_cost_html(b: Any) -> str:
    """The cost line of a self-hosted profile: no per-token price applies."""
    return (
        f"<div class='mimo-cost-line' style='{_MUTED}'>self-hosted ({_e(b.profile)}): "
        "no per-token price; the hosted API's prices do not apply</div>"
    )


def budget_best_html(plan: Any) -> str:
    """A budget plan's verdict in one line (a budget explorer's headline)."""
    fit = f"{len(plan.settings)} of {plan.grid_size} settings fit"
    if plan.best is None:
        cheapest = plan.cheapest
        need = "" if cheapest is None else f"; the cheapest needs <b>{cheapest.tokens:,}</b> tokens"
        return f"<div class='mimo-numbers'>Nothing fits {_e(plan.budget_text)}{need}</div>"
    b = plan.best
    knob = f", media_resolution={_e(b.media_resolution)}" if b.media_resolution else ""
    return (
        f"<div class='mimo-numbers'>Best: fps={b.fps:g}{knob} · <b>{b.frames:,}</b> frames at "
        f"<b>{b.width} x {b.height}</b> · <b>{b.tokens:,}</b> tokens ({fit})</div>"
    )


# ---- Prices and costs -----------------------------------------------------------------------


def _prices_summary(prices: Any) -> str:
    when = f", as of {prices.as_of}" if prices.as_of else ""
    return f"{prices.model or 'custom'} prices in {prices.currency} per 1M tokens{when}"


def prices_note_html(prices: Any, *, open_: bool = False) -> str:
    """Where prices come from, in one line: what they are, with the source one click away.

    >>> from mimo_nb.core.pricing import Prices
    >>> "my quote" in prices_note_html(Prices(input=1, cached_input=0, output=2, source="my quote"))
    True
    """
    return (
        f"<details class='mimo-prices' style='{_MUTED}'{' open' if open_ else ''}>"
        f"<summary>{_e(_prices_summary(prices))}</summary>{_e(prices.source)}</details>"
    )


@renders("html", "mimo_nb.core.pricing.Prices")
def prices_html(prices: Any) -> str:
    """A :class:`~mimo_nb.core.pricing.Prices` as a table of rates, its source written out."""
    rows = [
        ("input", f"{prices.input:g}"),
        ("cached input", f"{prices.cached_input:g}"),
        ("output", f"{prices.output:g}"),
    ]
    return (
        "<div class='mimo-prices-table'>"
        f"{_rows_html(rows, 'mimo-rates', ('', f'{prices.currency} / 1M tokens'))}"
        f"{prices_note_html(prices, open_=True)}</div>"
    )


@renders("html", "mimo_nb.core.pricing.Cost")
def cost_html(cost: Any, *, open_citation: bool = False) -> str:
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
        f"<table class='mimo-cost'><tr><th></th><th>tokens</th><th>{_e(p.currency)} / 1M</th>"
        f"<th>{_e(p.currency)}</th></tr>{body}<tr><th style='text-align:left'>total</th>"
        "<td></td><td></td>"
        f"<td style='text-align:right'><b>{cost.total:.6f}</b></td></tr></table>"
        f"{prices_note_html(p, open_=open_citation)}"
    )


def cost_line_html(cost: Any) -> str:
    """One line of cost for a control panel: the total, what it counts, the prices folded under
    it."""
    what = "prompt" + (f" + {cost.output_tokens:,} output tokens" if cost.output_tokens else "")
    return (
        f"<div class='mimo-cost-line'><b>{cost.total:.6f} {_e(cost.currency)}</b> "
        f"estimated ({_e(what)})"
        f"{prices_note_html(cost.prices)}</div>"
    )


# ---- Usage and context ----------------------------------------------------------------------


def usage_rows(usage: Any) -> list[tuple[str, int]]:
    """(name, tokens) rows of a Usage: video, audio, text, cached, reasoning, completion, total."""
    return [
        ("video", usage.video_tokens),
        ("audio", usage.audio_tokens),
        ("text", usage.text_tokens),
        ("cached (of prompt)", usage.cached_tokens),
        ("prompt", usage.prompt_tokens),
        ("reasoning (of completion)", usage.reasoning_tokens),
        ("completion", usage.completion_tokens),
        ("total", usage.total_tokens),
    ]


@renders("html", "mimo_nb.api.response.Usage")
def usage_html(usage: Any) -> str:
    """A :class:`~mimo_nb.api.response.Usage` as a table of token counts."""
    return _rows_html(
        [(k, f"{int(v):,}") for k, v in usage_rows(usage)], "mimo-usage", ("usage", "tokens")
    )


def usage_table_html(completion: Any) -> str:
    """The completion's usage as an HTML table; a note when the server sent none."""
    usage = getattr(completion, "usage", None)
    if usage is None:
        return f"<div class='mimo-usage' style='{_MUTED}'>no usage reported</div>"
    return usage_html(usage)


def context_check_text(check: Any) -> str:
    """Whether a request fits the model's context, said plainly (``str(check)``).

    >>> from mimo_nb.core.pricing import check_context
    >>> check = check_context([17240], model="my-model")
    >>> context_check_text(check)  # doctest: +NORMALIZE_WHITESPACE
    "about 17,240 tokens needed; how many 'my-model' can hold is not on the vendor's page,
    so whether it fits is not checked"
    """
    return str(check)  # the one wording, the core's


@renders("html", "mimo_nb.core.pricing.ContextCheck")
def context_check_html(check: Any) -> str:
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
        f"<div class='mimo-context'>{_rows_html(rows, 'mimo-context-table', ('', 'tokens'))}"
        f"<div>{_e(context_check_text(check))}</div></div>"
    )


@renders("html", "mimo_nb.api.request.PreparedRequest")
def request_html(request: Any) -> str:
    """A prepared request as a dry run: its estimate, its size, the context check and the JSON."""
    est = request.estimate
    known = "" if est.complete else " (some videos were not probed and are not counted)"
    said = context_check_text(request.context) if request.context else ""
    context = f"<div>{_e(said[:1].upper() + said[1:])}.</div>" if said else ""
    return (
        "<div class='mimo-request'><div><b>Dry run</b>: nothing was sent. Estimated prompt tokens: "
        f"{est.prompt_tokens:,}{_e(known)}; body {request.content_length:,} bytes.</div>{context}"
        f"<pre style='white-space:pre-wrap'>{_e(request)}</pre></div>"
    )


# ---- Untrusted text: Markdown, then a strict sanitiser ----------------------------------------

# What an answer may contain after sanitising: structure and emphasis, links to http(s)/mailto.
# No img (a remote image would let model text make the browser fetch a URL), no style, no class.
_ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "b",
    "i",
    "s",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "sub",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_ALLOWED_SCHEMES = {"http", "https", "mailto"}


def _render_image_as_link(self: Any, tokens: list, idx: int, options: Any, env: Any) -> str:
    """Markdown images from model text become a plain link: the browser fetches nothing."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env) or "image"
    src = token.attrGet("src") or ""
    return f'<a href="{html.escape(src)}">[image: {html.escape(alt)}]</a>'


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")
    md.add_render_rule("image", _render_image_as_link)
    return md


_MD = _markdown()


def markdown_html(text: str | None) -> str:
    """Render untrusted Markdown to HTML that cannot run, load or restyle anything.

    Raw HTML in ``text`` is shown as text; links keep only http, https and mailto URLs.

    >>> markdown_html("**hi** <script>alert(1)</script>")
    '<p><strong>hi</strong> &lt;script&gt;alert(1)&lt;/script&gt;</p>\\n'
    """
    rendered = _MD.render(text or "")
    return nh3.clean(
        rendered,
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_ALLOWED_SCHEMES,
        url_relative="deny",  # a relative link could hide a scheme behind escapes; drop it
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


# ---- Completion: origin, usage, estimate against actual -------------------------------------

_ORIGINS = {
    "live": ("live response", "#1a7f37"),
    "cache": ("replayed from cache", "#9a6700"),
    "recorded": ("recorded response", "#6639ba"),
}


def origin_label(origin: str | None) -> str:
    """Words for where a completion came from: live, replayed from cache, or recorded.

    >>> origin_label("cache")
    'replayed from cache'
    """
    return _ORIGINS.get(origin or "live", (f"origin: {origin}", "#666"))[0]


def origin_badge_html(origin: str | None) -> str:
    """A small coloured badge naming the completion's origin."""
    label, colour = _ORIGINS.get(origin or "live", (f"origin: {origin}", "#666"))
    return (
        f"<span class='mimo-origin' style='border:1px solid {colour};color:{colour};"
        f"border-radius:4px;padding:0 4px;font-size:smaller'>{html.escape(label)}</span>"
    )


def _percent(estimated: int | None, actual: int | None) -> float | None:
    """How far the estimate is from the truth, in percent of the truth."""
    if estimated is None or actual is None or actual == 0:
        return None
    return (estimated - actual) / actual * 100.0


def comparison_rows(completion: Any) -> list[tuple[str, int | None, int | None, float | None]]:
    """(field, estimated, actual, difference in % of actual) from ``completion.comparison()``.

    >>> from mimo_nb.api.response import spec_example_completion
    >>> comparison_rows(spec_example_completion())[0]
    ('video', None, 1144, None)
    """
    return [(name, est, act, _percent(est, act)) for name, est, act in completion.comparison()]


def _fmt(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def comparison_html(completion: Any) -> str:
    """Estimate against actual, field by field, with the inferred mapping in small print."""
    rows = comparison_rows(completion)
    if all(est is None for _, est, _, _ in rows):
        return (
            f"<div class='mimo-comparison' style='{_MUTED}'>"
            "No estimate is attached to this answer, so "
            "its usage is shown alone (an estimate comes with answers to requests built here, "
            "when every video could be measured).</div>"
        )
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
        f"<td style='text-align:right'>{_fmt(est)}</td>"
        f"<td style='text-align:right'>{_fmt(act)}</td><td style='text-align:right'>"
        f"{'–' if pct is None else f'{pct:+.1f}%'}</td></tr>"
        for name, est, act, pct in rows
    )
    return (
        "<table class='mimo-comparison'><tr><th></th><th>estimated</th><th>actual</th>"
        "<th>difference</th></tr>"
        f"{body}</table><div style='color:#666;font-size:smaller'>"
        "video = the estimate's vision tokens, "
        "audio = its audio tokens minus 2 special tokens; this mapping onto <code>usage</code> is "
        "inferred from the spec page's example, not stated by the vendor. The prompt total also "
        "holds timestamps, special and text tokens.</div>"
    )


def _cost_section(completion: Any) -> str:
    cost = getattr(completion, "cost", None)
    if cost is None:
        return (
            f"<div class='mimo-cost' style='{_MUTED}'>cost: no prices given "
            "(pass prices=load_prices(...) to the client)</div>"
        )
    return cost_html(cost) + _reserved_note(completion)


def _reserved_note(completion: Any) -> str:
    """A warning when a completion's cost is its reserved worst case (no usage came)."""
    if not getattr(completion, "cost_reserved", False):
        return ""
    from mimo_nb.api.response import RESERVED_NOTE

    return f"<div class='mimo-cost-reserved' style='color:#b60'>{_e(RESERVED_NOTE.strip())}</div>"


def _header_html(completion: Any) -> str:
    parts = [
        html.escape(str(getattr(completion, "model", None) or "model?")),
        html.escape(str(getattr(completion, "finish_reason", None) or "unfinished")),
    ]
    return (
        f"<div class='mimo-header' style='color:#666;font-size:smaller'>{' · '.join(parts)} "
        f"{origin_badge_html(getattr(completion, 'origin', 'live'))}</div>"
    )


def _reasoning_html(reasoning: str | None, *, open_: bool = False) -> str:
    if not reasoning:
        return ""
    return (
        f"<details class='mimo-reasoning'{' open' if open_ else ''}><summary>reasoning</summary>"
        f"<div style='color:#555'>{markdown_html(reasoning)}</div></details>"
    )


@renders("html", "mimo_nb.api.response.Completion")
def completion_html(completion: Any) -> str:
    """A Completion as HTML: origin, answer (sanitised Markdown), reasoning, usage, estimate, cost.

    >>> from mimo_nb.api.response import spec_example_completion
    >>> "recorded response" in completion_html(spec_example_completion())
    True
    """
    tables = (
        f"<div style='display:flex;gap:2em;flex-wrap:wrap;align-items:flex-start'>"
        f"<div>{usage_table_html(completion)}</div><div>{comparison_html(completion)}</div>"
        f"<div>{_cost_section(completion)}</div></div>"
    )
    return (
        "<div class='mimo-completion'>"
        f"{_header_html(completion)}"
        f"<div class='mimo-answer'>{markdown_html(completion.content)}</div>"
        f"{_reasoning_html(getattr(completion, 'reasoning_content', None))}"
        f"<details class='mimo-details' open><summary>tokens and cost</summary>{tables}</details>"
        "</div>"
    )


def completion_text(completion: Any) -> str:
    """A Completion as plain text: header, reasoning (shortened), answer, usage, estimate, cost."""
    lines = [
        (
            f"{getattr(completion, 'model', None) or 'model?'} · "
            f"{getattr(completion, 'finish_reason', None) or 'unfinished'} · "
            f"{origin_label(getattr(completion, 'origin', 'live'))}"
        )
    ]
    reasoning = getattr(completion, "reasoning_content", None)
    if reasoning:
        short = reasoning if len(reasoning) <= 600 else reasoning[:599].rstrip() + "…"
        lines += ["", "[reasoning]", short]
    lines += ["", completion.content or ""]
    usage = getattr(completion, "usage", None)
    if usage is not None:
        lines += ["", "usage: " + ", ".join(f"{k} {int(v):,}" for k, v in usage_rows(usage))]
    rows = comparison_rows(completion)
    if any(est is not None for _, est, _, _ in rows):
        lines.append(
            "estimate vs actual (mapping inferred from the spec's example): "
            + "; ".join(
                f"{n} {_fmt(e)} vs {_fmt(a)}" + ("" if p is None else f" ({p:+.1f}%)")
                for n, e, a, p in rows
            )
        )
    cost = getattr(completion, "cost", None)
    if cost is not None:
        lines.append(f"cost: {cost.total:.6f} {cost.currency} ({cost.prices.citation})")
        if getattr(completion, "cost_reserved", False):
            from mimo_nb.api.response import RESERVED_NOTE

            lines.append(f"cost is{RESERVED_NOTE}")
    return "\n".join(lines)


def streaming_html(content: str, reasoning: str, *, note: str = "streaming…") -> str:
    """A partial answer while it streams: reasoning (open) and the answer so far, sanitised."""
    return (
        "<div class='mimo-completion mimo-streaming'>"
        f"<div style='color:#666;font-size:smaller'>{html.escape(note)}</div>"
        f"{_reasoning_html(reasoning, open_=not content)}"
        f"<div class='mimo-answer'>{markdown_html(content)}</div></div>"
    )


# ---- Batches --------------------------------------------------------------------------------


def _one_line(text: str | None, limit: int = 120) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


@renders("html", "mimo_nb.api.client._batch.BatchResult")
def batch_html(result: Any) -> str:
    """A :class:`~mimo_nb.api.client.BatchResult` as a table: one row per item, errors named.

    Answers are shortened to one line of plain text (escaped); each item's completion renders
    in full on its own.
    """
    rows = []
    for item in result.items:
        done = item.completion
        usage = getattr(done, "usage", None)
        cost = getattr(done, "cost", None)
        if item.ok:
            status = f"{origin_label(getattr(done, 'origin', 'live'))}"
            said = _e(_one_line(done.content))
        else:
            status = "failed"
            said = (
                f"<span style='color:#b00'>{_e(type(item.error).__name__)}: "
                f"{_e(_one_line(str(item.error)))}</span>"
            )
        rows.append(
            f"<tr><td style='text-align:right'>{item.index}</td><td>{_e(item.label)}</td>"
            f"<td>{_e(status)}</td>"
            "<td style='text-align:right'>"
            f"{'' if usage is None else f'{usage.prompt_tokens:,}'}</td>"
            "<td style='text-align:right'>"
            f"{'' if usage is None else f'{usage.completion_tokens:,}'}</td>"
            "<td style='text-align:right;white-space:nowrap'>"
            f"{'' if cost is None else f'{cost.total:.6f} {_e(cost.currency)}'}"
            f"{' (reserved: no usage)' if getattr(done, 'cost_reserved', False) else ''}</td>"
            f"<td>{said}</td></tr>"
        )
    failed = len(result.errors)
    head = f"<div><b>{len(result.items)}</b> items, <b>{failed}</b> failed</div>"
    return (
        f"<div class='mimo-batch'>{head}<table class='mimo-batch-table'>"
        "<tr><th>#</th><th>video</th>"
        "<th>answer from</th><th>prompt tokens</th><th>completion tokens</th><th>cost</th>"
        "<th>answer or error</th></tr>" + "".join(rows) + "</table></div>"
    )


# ---- Our own pictures: plots, frames, the video card ----------------------------------------


def figure_html(fig: Any, *, dpi: int = 100, alt: str = "plot") -> str:
    """An ``<img>`` holding the figure as an inline PNG that we drew (never from model text)."""
    data = media_data_uri(_imaging.figure_png(fig, dpi=dpi), "image/png")
    return f"<img alt='{_e(alt)}' style='max-width:100%;height:auto' src='{data}'/>"


Images: TypeAlias = "Sequence[npt.NDArray[np.uint8]] | npt.NDArray[np.uint8]"


def frame_grid_html(
    images: Images, captions: Sequence[str], columns: int = 6, note: str = "", max_width: int = 192
) -> str:
    """An HTML grid of inline JPEG thumbnails with a caption under each; ``note`` above it."""
    cells = [
        frame_cell_html(thumbnail_uri(image, max_width), caption)
        for image, caption in zip(images, captions, strict=True)
    ]
    return frame_cells_html(cells, columns, note, max_width)


def thumbnail_uri(image: npt.NDArray[np.uint8], max_width: int = 192) -> str:
    """A frame's grid thumbnail (at most ``max_width`` wide) as a JPEG data URI."""
    return _imaging.jpeg_data_uri(_imaging.thumbnail(np.asarray(image), max_width))


def frame_cell_html(uri: str, caption: str) -> str:
    """One cell of :func:`frame_grid_html`: the thumbnail ``uri`` with ``caption`` under it."""
    return (
        "<figure style='margin:0;text-align:center'>"
        f"<img src='{uri}' style='max-width:100%;image-rendering:auto' alt='{_e(caption)}'/>"
        "<figcaption style='font:11px monospace;color:#444'>"
        f"{_e(caption)}</figcaption></figure>"
    )


def frame_cells_html(
    cells: Sequence[str], columns: int = 6, note: str = "", max_width: int = 192
) -> str:
    """:func:`frame_grid_html` from cells already made (a repaint encodes only new ones)."""
    head = f"<div style='color:#555;margin:2px 0'>{_e(note)}</div>" if note else ""
    grid = (
        "<div class='mimo-frames' style='display:grid;"
        f"grid-template-columns:repeat({int(columns)},minmax(0,1fr));"
        f"gap:4px;max-width:{int(columns) * (max_width + 8)}px'>" + "".join(cells) + "</div>"
    )
    return f"<div>{head}{grid}</div>"


def video_card_html(
    title: str,
    rows: Sequence[tuple[str, str]],
    strip: Images = (),
    captions: Sequence[str] = (),
    note: str = "",
) -> str:
    """A small card: the title, a strip of thumbnails, and a two-column metadata table."""
    thumbs = "".join(
        "<figure style='margin:0 2px;text-align:center'><img src='"
        f"{_imaging.jpeg_data_uri(_imaging.thumbnail(np.asarray(img), 128))}' "
        "style='height:72px'/><figcaption style='font:10px monospace;color:#666'>"
        f"{_e(cap)}</figcaption></figure>"
        for img, cap in zip(strip, captions, strict=True)
    )
    table = "".join(
        f"<tr><th style='text-align:left;padding-right:12px'>{_e(k)}</th><td>{_e(v)}</td></tr>"
        for k, v in rows
    )
    extra = f"<div style='color:#a60'>{_e(note)}</div>" if note else ""
    return (
        "<div class='mimo-video' "
        "style='border:1px solid #ddd;border-radius:6px;padding:8px;display:inline-block'>"
        f"<div style='font-weight:bold;margin-bottom:4px'>{_e(title)}</div>"
        f"<div style='display:flex;overflow-x:auto'>{thumbs}</div>"
        f"<table style='font-size:12px;margin-top:4px'>{table}</table>{extra}</div>"
    )


@renders("html", "mimo_nb.media.video.Frames")
def frames_html(frames: Frames, columns: int = 6, max_frames: int | None = None) -> str:
    """:meth:`Frames.to_html <mimo_nb.media.video.Frames.to_html>`: the grid with its note."""
    shown, head = frames.grid_note(max_frames)
    return frame_grid_html(frames.array[:shown], frames.captions()[:shown], columns, note=head)


@renders("html", "mimo_nb.media.video.Video")
def video_html(video: Video) -> str:
    """A video's card: thumbnails (or why there are none) and its metadata."""
    strip, captions, note = video.thumbnail_strip()
    return video_card_html(video.name, video.metadata_rows(), strip, captions, note)


# ---- Explorers: what a widget shows where widgets cannot run -------------------------------

_FALLBACK_ATTR = "data-mimo-fallback-for"


def explorer_snapshot_html(title: str, settings: str, numbers: str, view: str) -> str:
    """An explorer's state as plain HTML: a heading, the settings, the numbers beside the view.

    ``numbers`` and ``view`` are HTML made by this module; ``title`` and ``settings`` are text.
    """
    heading = f"<b>{_e(title)}</b> · " if title else ""
    return (
        f"<div>{heading}{_e(settings)}</div>"
        "<div style='display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start'>"
        f"<div style='max-width:460px'>{numbers}</div><div>{view}</div></div>"
    )


def widget_fallback_html(snapshot: str, model_id: str) -> str:
    """The static snapshot shown in place of a widget that cannot load (offline export, GitHub).

    It is marked with the widget's model id: the live widget hides it (see
    :func:`explorer_style`), so where widgets run only the widget is seen.
    """
    return (
        f"<div class='mimo-snapshot' {_FALLBACK_ATTR}='IPY_MODEL_{_e(model_id)}'>{snapshot}"
        f"<div style='{_MUTED}'>static snapshot (the widget could not load here); "
        "run the notebook to "
        "use the controls</div></div>"
    )


EXPLORER_CLASS = "mimo-explorer"


def explorer_style(model_id: str) -> str:
    """The ``<style>`` a live explorer carries: readable text, and its static snapshot hidden.

    Only a widget that actually rendered puts these rules in the page, so a page where widget
    JavaScript cannot load keeps showing the snapshot. In JupyterLab (and nbconvert's lab
    template) the snapshot's whole output row is hidden, so no empty gap is left. Widget HTML
    inherits a control's line height (28 px in JupyterLab); text and tables get their own.
    """
    target = f"[{_FALLBACK_ATTR}='IPY_MODEL_{_e(model_id)}']"
    return (
        f"<style>{target}{{display:none}}.jp-OutputArea-child:has({target}){{display:none}}"
        f".{EXPLORER_CLASS} .widget-html-content{{line-height:1.4}}"
        f".{EXPLORER_CLASS} table td,.{EXPLORER_CLASS} table th"
        "{padding:1px 6px;line-height:1.3}</style>"
    )


# ---- The report page ------------------------------------------------------------------------

# The page may show inline styles and data: images, and nothing else: no script, no fetch.
_REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
# Written as joined pieces so no source line passes 100 columns; the text (and so the page's
# bytes) is what one triple-quoted block held.
_REPORT_STYLE = (
    "\n"
    "body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; "
    "margin: 24px auto; max-width: 1180px;\n"
    "       padding: 0 16px; color: #1f2328; }\n"
    "h1 { font-size: 22px; margin-bottom: 4px; } "
    "h2 { font-size: 17px; border-bottom: 1px solid #ddd; padding-bottom: 3px; }\n"
    "section { margin: 20px 0 28px; } table { border-collapse: collapse; } "
    "th, td { padding: 2px 8px; vertical-align: top; }\n"
    ".muted { color: #666; font-size: smaller; } "
    ".figures { display: flex; flex-wrap: wrap; gap: 16px; }\n"
    ".figures figure { margin: 0; } .figures img { max-width: 100%; border: 1px solid #eee; }\n"
    ".label { display: inline-block; border: 1px solid #9a6700; color: #9a6700; "
    "border-radius: 4px; padding: 0 6px; }\n"
    ".error { border: 1px solid #cf222e; color: #cf222e; border-radius: 4px; padding: 4px 8px; }\n"
    "pre { background: #f6f8fa; padding: 8px; white-space: pre-wrap; word-break: break-all; "
    "font-size: 12px; }\n"
)


def _section(ident: str, heading: str, body: str) -> str:
    return f"<section id='{ident}'><h2>{_e(heading)}</h2>{body}</section>"


def _report_figures(figures: Sequence[Any]) -> str:
    items = "".join(
        f"<figure><img class='plot' alt='{_e(f.caption)}' "
        f"src='{media_data_uri(f.png, 'image/png')}'/>"
        f"<figcaption class='muted'>{_e(f.caption)}</figcaption></figure>"
        for f in figures
    )
    return f"<div class='figures'>{items}</div>"


def _report_cost(data: Any) -> str:
    return (
        f"<p>Estimated prompt: <b>{data.estimated_prompt_tokens:,}</b> tokens (the video's "
        f"{data.breakdown.total:,} plus about "
        f"{data.estimated_prompt_tokens - data.breakdown.total:,} of text). "
        f"Output counted at max_completion_tokens = {data.max_completion_tokens:,}, "
        "the most the answer may "
        "use (reasoning included): an upper bound. Nothing assumed cached.</p>"
        f"{cost_html(data.cost, open_citation=True)}"
    )


def _report_answer(data: Any, dry_run_label: str) -> str:
    question = f"<p>Question: <q>{_e(data.prompt)}</q></p>"
    if data.completion is not None:
        origin = getattr(data.completion, "origin", "live")
        how = {
            "live": "The model was asked; its answer:",
            "cache": "Replayed from the response cache:",
            "recorded": "A recorded response:",
        }.get(origin, f"Answer ({origin}):")
        return f"{question}<p>{_e(how)}</p>{completion_html(data.completion)}"
    if data.error is not None:
        why = f"<p class='error'>The request failed, so there is no answer: {_e(data.error)}</p>"
    else:
        why = (
            "<p>No <code>MIMO_API_KEY</code> is set, so nothing was sent. "
            "This is the exact request "
            "that would be sent (the video's base64 elided):</p>"
        )
    return (
        f"{question}{why}<p><span class='label'>{_e(dry_run_label)}</span></p>"
        f"<pre class='request'>{_e(data.request_text)}</pre>"
    )


def report_html(data: Any, *, dry_run_label: str) -> str:
    """A :class:`~mimo_nb.display.report.ReportData` as one self-contained HTML document: same data,
    same bytes."""
    settings = " · ".join(f"{_e(k)} {_e(v)}" for k, v in data.settings)
    when = f" · generated {_e(data.generated_at)}" if data.generated_at else ""
    mode = "answered" if data.sent else dry_run_label
    b = data.breakdown
    sections = [
        _section(
            "video", "Video", f"{data.video_card}<p class='muted'>sha256 {_e(data.sha256)}</p>"
        ),
        _section("frames", "Frames the model sees", data.frames_grid),
        _section(
            "tokens",
            "Tokens",
            f"<p>Estimated for this video: <b>{b.total:,}</b> tokens ({b.frames} frames at "
            f"{b.width}x{b.height}); the response's usage is the truth.</p>{breakdown_html(b)}",
        ),
        _section("curves", "Curves", _report_figures(data.figures)),
        _section("cost", "Cost", _report_cost(data)),
        _section(
            "answer",
            "Answer" if data.sent else f"Request ({dry_run_label})",
            _report_answer(data, dry_run_label),
        ),
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'/>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{_REPORT_CSP}\"/>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'/>"
        f"<title>mimo_nb report: {_e(data.title)}</title>"
        f"<style>{_REPORT_STYLE}</style></head><body>"
        f"<h1>mimo_nb report: {_e(data.title)}</h1>"
        f"<p class='muted'>{settings} · {_e(mode)}{when}</p>"
        + "".join(sections)
        + "<footer class='muted'>Made by mimo_nb. "
        "Token counts follow the vendor's published formula; "
        "the API's usage is the bill.</footer></body></html>\n"
    )


# ---- Players: a video or the sampled frames, watched in the notebook --------------------------
# The media are ours (a file the user opened, or frames we encoded); every text is escaped and a
# src is either a data: URI we built or the video's own http(s) URL. Plain HTML, no script: it
# plays in JupyterLab, in an nbconvert export, and in a notebook opened offline.


def media_data_uri(data: bytes, mime: str) -> str:
    """A ``data:<mime>;base64,...`` URI for media bytes we made or the user opened.

    >>> media_data_uri(b"GIF89a", "image/gif")
    'data:image/gif;base64,R0lGODlh'
    """
    return data_uri(data, mime)


def _player_frame(title: str, body: str, caption: str) -> str:
    head = (
        f"<div style='font-weight:bold;margin-bottom:4px'>{html.escape(title)}</div>"
        if title
        else ""
    )
    foot = (
        f"<div style='font:12px sans-serif;color:#555;margin-top:2px'>{html.escape(caption)}</div>"
        if caption
        else ""
    )
    return (
        "<div class='mimo-player' style='display:inline-block;max-width:100%'>"
        f"{head}{body}{foot}</div>"
    )


def video_player_html(
    src: str,
    *,
    mime: str = "video/mp4",
    width: int | None = None,
    title: str = "",
    caption: str = "",
    loop: bool = False,
) -> str:
    """An HTML5 ``<video>`` with controls for ``src`` (a data: URI or an http(s) URL).

    >>> "<video" in video_player_html("https://example.com/clip.mp4", width=320)
    True
    """
    if not src.startswith(("data:video/", "http://", "https://")):
        raise ValueError(f"a player plays data:video URIs and http(s) URLs, not {src[:20]!r}")
    size = f" width='{int(width)}'" if width else ""
    return _player_frame(
        title,
        f"<video controls preload='metadata' playsinline{' loop' if loop else ''}{size} "
        "style='max-width:100%;display:block'>"
        f"<source src='{html.escape(src, quote=True)}' type='{html.escape(mime, quote=True)}'/>"
        "This browser cannot play the video here.</video>",
        caption,
    )


def animation_html(
    data: bytes,
    *,
    mime: str = "image/gif",
    width: int | None = None,
    title: str = "",
    caption: str = "",
) -> str:
    """An animated image (a GIF we encoded) as an inline ``<img>``."""
    size = f" width='{int(width)}'" if width else ""
    alt = html.escape(caption or title or "animation", quote=True)
    return _player_frame(
        title,
        (
            f"<img src='{media_data_uri(data, mime)}'{size} alt='{alt}' "
            "style='max-width:100%;display:block'/>"
        ),
        caption,
    )


def player_note_html(title: str, note: str) -> str:
    """Why there is no player here, and what to do instead."""
    return _player_frame(
        title, f"<div class='mimo-player-note' style='color:#a60'>{html.escape(note)}</div>", ""
    )


@renders("html", "mimo_nb.media.video.Player")
def player_html(player: Player) -> str:
    """A :class:`~mimo_nb.media.video.Player`: a ``<video>``, an animated image, or its note."""
    if player.note is not None:
        return player_note_html(player.title, player.note)
    width, title, caption = player.width, player.title, player.caption
    if player.media_type.startswith("image/"):
        return animation_html(
            player.media, mime=player.media_type, width=width, title=title, caption=caption
        )
    src = player.url or media_data_uri(player.media, player.media_type)
    return video_player_html(
        src, mime=player.media_type, width=width, title=title, caption=caption, loop=player.loop
    )


# ---- Server profiles, the budget planner, profiles side by side ----------------------------


def _table_html(rows: list[tuple[str, str, str]], css: str) -> str:
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:right'>"
        f"{html.escape(v)}</td><td style='color:#666'>{html.escape(why)}</td></tr>"
        for k, v, why in rows
    )
    return f"<table class='{css}'>{body}</table>"


@renders("html", "mimo_nb.core.profiles.ServerTokenBreakdown")
def server_breakdown_html(b: Any) -> str:
    """A server breakdown as an HTML table (every cell escaped), notes underneath."""
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in b.notes)
    return _table_html(server_breakdown_rows(b), "mimo-breakdown mimo-server") + (
        f"<ul style='color:#666;font-size:smaller'>{notes}</ul>" if notes else ""
    )


@renders("html", "mimo_nb.core.profiles.Profile")
def profile_html(profile: Any) -> str:
    """One sampling profile: what it is, where its rules come from, what it leaves out."""
    fields = {
        k: v
        for k, v in vars(profile).items()
        if k not in ("name", "title", "source", "summary", "notes")
    }
    rows = [("source", profile.source, ""), ("rules", profile.summary, "")]
    rows += [
        (k, f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v), "")
        for k, v in fields.items()
    ]
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in profile.notes)
    return (
        f"<div class='mimo-profile'><b>{html.escape(profile.name)}</b>: "
        f"{html.escape(profile.title)}"
        f"{_table_html(rows, 'mimo-profile-table')}"
        f"<ul style='color:#666;font-size:smaller'>{notes}</ul></div>"
    )


def _setting_cells(s: Any) -> str:
    cost = "" if s.cost is None else f"{s.cost:.6f}"
    return (
        f"<td style='text-align:right'>{s.fps:g}</td>"
        f"<td>{html.escape(str(s.media_resolution or '—'))}</td>"
        f"<td style='text-align:right'>{s.frames}</td>"
        f"<td style='text-align:right'>{s.width} x {s.height}</td>"
        f"<td style='text-align:right'>{s.pixels_per_frame:,}</td>"
        f"<td style='text-align:right'>{s.tokens:,}</td>"
        f"<td style='text-align:right'>{cost}</td>"
    )


@renders("html", "mimo_nb.core.budget.BudgetPlan")
def budget_html(plan: Any) -> str:
    """A :class:`~mimo_nb.core.budget.BudgetPlan`: verdict, rule, and the frontier as a table."""
    currency = "" if plan.prices is None else html.escape(plan.prices.currency)
    head = (
        f"<tr><th></th><th>fps</th><th>media_resolution</th><th>frames</th><th>frame size</th>"
        f"<th>pixels/frame</th><th>tokens</th><th>{currency or 'cost'}</th></tr>"
    )
    best_style = " style='font-weight:bold;background:#eef6ee'"
    rows = "".join(
        f"<tr{best_style if s == plan.best else ''}><td>{'best' if s == plan.best else ''}</td>"
        f"{_setting_cells(s)}</tr>"
        for s in plan.frontier
    )
    if plan.best is None:
        need = (
            ""
            if plan.cheapest is None
            else (
                f" The cheapest setting (fps {plan.cheapest.fps:g}, "
                f"{plan.cheapest.media_resolution or 'no media_resolution'}) "
                f"needs {plan.cheapest.tokens:,} tokens."
            )
        )
        verdict = f"<b>Nothing fits</b> {html.escape(plan.budget_text)}.{html.escape(need)}"
    else:
        b = plan.best
        verdict = (
            f"<b>Best: fps={b.fps:g}, media_resolution={html.escape(str(b.media_resolution))}</b>: "
            f"{b.frames} frames "
            f"at {b.width} x {b.height}, {b.tokens:,} tokens"
        )
    citation = (
        ""
        if plan.prices is None
        else f"<div style='color:#666;font-size:smaller'>{html.escape(plan.prices.citation)}</div>"
    )
    return (
        f"<div class='mimo-budget'><div>{html.escape(plan.profile)}: {plan.duration:g} s, "
        f"{plan.width} x {plan.height}"
        f"{', muted' if plan.mute else ''}; budget {html.escape(plan.budget_text)}. "
        f"{len(plan.settings)} of {plan.grid_size} settings fit "
        f"({html.escape(plan.grid_note)}).</div>"
        f"<div>{verdict}</div><div style='color:#666'>Rule: {html.escape(plan.rule)}. "
        "Frontier (frames against "
        f"pixels per frame; nothing that fits beats these on both):</div>"
        f"<table class='mimo-budget-frontier'>{head}{rows}</table>{citation}</div>"
    )


@renders("html", "mimo_nb.core.budget.BudgetTable")
def budget_table_html(table: Any, max_rows: int = 20) -> str:
    """A :class:`~mimo_nb.core.budget.BudgetTable`: the best setting per video (``max_rows``)."""
    n = len(table)
    head = (
        "<tr><th>#</th><th>fps</th><th>media_resolution</th><th>frames</th><th>frame size</th>"
        "<th>tokens</th>" + ("<th>cost</th>" if table.cost is not None else "") + "</tr>"
    )
    rows = []
    for i in range(min(n, max_rows)):
        s = table.setting(i)
        if s is None:
            rows.append(f"<tr><td>{i}</td><td colspan='6'>nothing fits</td></tr>")
            continue
        cost = "" if s.cost is None else f"<td style='text-align:right'>{s.cost:.6f}</td>"
        rows.append(
            f"<tr><td>{i}</td><td style='text-align:right'>{s.fps:g}</td>"
            f"<td>{html.escape(str(s.media_resolution or '—'))}</td>"
            f"<td style='text-align:right'>{s.frames}</td>"
            f"<td style='text-align:right'>{s.width} x {s.height}</td>"
            f"<td style='text-align:right'>{s.tokens:,}</td>{cost}</tr>"
        )
    more = (
        f"<div style='color:#666'>… {n - max_rows:,} more (to_pandas() has all)</div>"
        if n > max_rows
        else ""
    )
    return (
        f"<div class='mimo-budget-table'><div>{html.escape(table.profile)}: "
        f"best setting for {n:,} videos "
        f"({int(table.fits.sum()):,} fit); rule: {html.escape(table.rule)}</div>"
        f"<table>{head}{''.join(rows)}</table>{more}</div>"
    )


def profile_comparison_html(comparison: Any, max_thumbnails: int = 48) -> str:
    """Profiles side by side: per profile a strip of its frames (index, time), size and tokens.

    Frames the hosted API would not pick at the same settings get an orange border.
    """
    from mimo_nb.media.imaging import format_time, jpeg_data_uri

    c = comparison
    parts = [
        f"<div class='mimo-profiles'><div><b>{html.escape(c.video_name)}</b>: "
        f"{c.duration:.2f} s, {c.width} x {c.height}, "
        f"{c.native_frame_count} frames at {c.native_fps:g} fps; fps={c.fps:g}, "
        f"media_resolution={html.escape(c.media_resolution)} "
        "(API only). <span style='border:2px solid #e67e00;padding:0 3px'>orange</span>: "
        "a frame the API does not pick.</div>"
    ]
    for v in c.views:
        head = (
            f"<b>{html.escape(v.profile)}</b> <span style='color:#666'>"
            f"{html.escape(v.title)} · {html.escape(v.source)}</span>"
        )
        if v.error:
            parts.append(
                f"<div style='margin-top:8px'>{head}<div style='color:#a60'>"
                f"refuses this video: {html.escape(v.error)}</div></div>"
            )
            continue
        summary = (
            f"{v.frames} frames at {v.width} x {v.height}; {v.vision:,} vision tokens, "
            f"{v.tokens:,} "
            f"({v.tokens_label}); {v.changed} of {v.frames} frames differ from the API's"
        )
        cells = []
        for k, index in enumerate(v.indices[:max_thumbnails]):
            border = "2px solid #e67e00" if v.differs[k] else "2px solid transparent"
            caption = f"#{index} · {format_time(v.timestamps[k])}"
            image = (
                (
                    f"<img src='{jpeg_data_uri(v.thumbnails[k])}' style='display:block' "
                    f"alt='{html.escape(caption, quote=True)}'/>"
                )
                if k < len(v.thumbnails)
                else ""
            )
            cells.append(
                f"<figure style='margin:0 2px;text-align:center;border:{border}'>{image}"
                "<figcaption style='font:10px monospace;color:#444'>"
                f"{html.escape(caption)}</figcaption></figure>"
            )
        more = (
            (
                "<div style='color:#666;font-size:smaller'>"
                f"… {len(v.indices) - max_thumbnails} more frames</div>"
            )
            if len(v.indices) > max_thumbnails
            else ""
        )
        texts = (
            (
                "<div style='color:#666;font-size:smaller'>"
                f"timestamp text: {html.escape(shorten_list(v.timestamp_texts))}</div>"
            )
            if v.timestamp_texts
            else ""
        )
        parts.append(
            f"<div style='margin-top:8px'>{head}<div>{html.escape(summary)}</div>{texts}"
            f"<div style='display:flex;overflow-x:auto'>{''.join(cells)}</div>{more}</div>"
        )
    return "".join(parts) + "</div>"


# ---- Corpus: what a set of videos holds, its forecast, the fps a budget allows, the answers ---


def _axes_figure_html(plot: Any, figsize: tuple[float, float], alt: str) -> str:
    """``plot(ax=...)`` drawn on a Figure of our own (not pyplot's: never shown twice), as HTML."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    plot(ax=fig.add_subplot())
    return figure_html(fig, alt=alt)


def _count_table_html(title: str, counts: dict[str, int]) -> str:
    rows = "".join(
        f"<tr><td>{_e(k)}</td><td style='text-align:right'>{v:,}</td></tr>"
        for k, v in counts.items()
    )
    return (
        f"<table style='display:inline-table;margin-right:1.5em;vertical-align:top'>"
        f"<tr><th colspan=2 style='text-align:left'>{_e(title)}</th></tr>{rows}</table>"
    )


def corpus_summary_html(summary: Any) -> str:
    """A :class:`~mimo_nb.corpus.CorpusSummary`: counts, hours, formats, size classes, failures and
    histograms of duration and file size. File names and error messages are escaped."""
    s = summary
    parts = [
        f"<div class='mimo-corpus'><div><b>{s.count:,} items</b> from {_e(s.source)}: "
        f"{s.probed:,} probed, {s.failed:,} failed · {s.hours:.2f} hours of video "
        f"({s.hours * 60:.1f} min) · {s.total_bytes / 2**20:.2f} MB · "
        f"{s.with_audio:,} with audio</div>",
        "<div>"
        + _count_table_html("format", s.formats)
        + _count_table_html("size class", s.size_classes)
        + _count_table_html("delivery (base64 / url / needs fit)", s.delivery)
        + (_count_table_html("failures", s.failures) if s.failures else "")
        + "</div>",
    ]
    if s.failure_examples:
        rows = "".join(
            f"<tr><td>{_e(n)}</td><td>{_e(t)}</td><td>{_e(e[:200])}</td></tr>"
            for n, t, e in s.failure_examples
        )
        parts.append(
            f"<details><summary>failed items (first {len(s.failure_examples)})</summary>"
            "<table><tr><th>item</th><th>error</th><th>message</th></tr>"
            f"{rows}</table></details>"
        )
    if s.durations:
        parts.append(figure_html(s.figure(), alt="histograms of duration and file size"))
    return "".join(parts) + "</div>"


FORECAST_COLUMNS = (
    "fps",
    "media_resolution",
    "frames",
    "vision_tokens",
    "audio_tokens",
    "prompt_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
)


def _forecast_cell(value: Any, currency: str = "") -> str:
    if currency:
        return f"{value:,.4f} {_e(currency)}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    return _e(value)


def forecast_html(forecast: Any) -> str:
    """A :class:`~mimo_nb.corpus.Forecast`: what it assumes, one row per setting, and its plot."""
    f = forecast
    left_out = f" ({f.excluded:,} failed items left out)" if f.excluded else ""
    head = (
        f"<div class='mimo-forecast'><div><b>Forecast</b> for {f.videos:,} videos{left_out}: "
        f"the spec's formula per video, {f.text_tokens:,} text tokens and {f.output_tokens:,} "
        f"output tokens each (assumed). Prices: {_e(f.prices.citation)}.</div>"
    )
    header = "".join(f"<th>{_e(c.replace('_', ' '))}</th>" for c in FORECAST_COLUMNS)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td style='text-align:right'>"
            f"{_forecast_cell(r[c], r['currency'] if c == 'cost' else '')}</td>"
            for c in FORECAST_COLUMNS
        )
        + "</tr>"
        for r in f.rows
    )
    plot = ""
    if len(f.rows) > 1:
        plot = _axes_figure_html(f.plot, (7.0, 3.6), "forecast: tokens against fps")
    return f"{head}<table><tr>{header}</tr>{body}</table>{plot}</div>"


def fps_choice_html(choice: Any) -> str:
    """A :class:`~mimo_nb.corpus.FpsChoice`: the verdict and the curve against the budget."""
    note = (
        ""
        if choice.monotonic
        else (" (tokens are not monotonic in fps here: some lower fps may cost more)")
    )
    plot = _axes_figure_html(choice.plot, (7.0, 3.4), "tokens or cost against fps, with the budget")
    return f"<div class='mimo-fps-choice'><div>{_e(choice)}{_e(note)}</div>{plot}</div>"


def _cell(value: Any, spec: str = ",") -> str:
    """A table cell's text: blank for a missing value, else ``value`` formatted by ``spec``."""
    try:
        missing = value is None or bool(value != value)  # None, NaN and pandas' NA
    except TypeError:  # pandas' NA refuses bool()
        missing = True
    return "" if missing else _e(format(value, spec))


def corpus_answers_html(answers: Any, max_rows: int = 50) -> str:
    """A :class:`~mimo_nb.corpus.CorpusAnswers`: the outcome, then per item its status, estimate
    beside actual, cost and the answer (one line, escaped) or error. A dry run shows the first
    request exactly as it would be sent instead."""
    body = f"<div class='mimo-corpus-answers'><div>{_e(answers)}</div>"
    if answers.dry_run:
        if answers.requests:
            body += (
                "<div>The first request, exactly as it would be sent (base64 elided):</div>"
                f"<pre style='white-space:pre-wrap'>{_e(answers.requests[0])}</pre>"
            )
        return body + "</div>"
    table = answers.to_pandas()
    shown = table.head(max_rows)
    rows = []
    for r in shown.itertuples(index=False):
        if r.content is not None and r.status in ("answered", "replayed"):
            said = _e(_one_line(r.content))
        else:
            error = f"{r.error_type}: {r.error}" if isinstance(r.error_type, str) else r.error
            said = (
                f"<span style='color:#b00'>{_e(_one_line(error))}</span>"
                if isinstance(error, str)
                else ""
            )
        rows.append(
            f"<tr><td>{_e(r.name)}</td><td>{_e(r.status)}</td>"
            f"<td style='text-align:right'>{_cell(r.est_prompt_tokens)}</td>"
            f"<td style='text-align:right'>{_cell(r.prompt_tokens)}</td>"
            f"<td style='text-align:right'>{_cell(r.completion_tokens)}</td>"
            f"<td style='text-align:right'>{_cell(r.est_cost, '.6f')}</td>"
            f"<td style='text-align:right'>{_cell(r.cost, '.6f')}"
            f"{' (reserved: no usage)' if r.cost_reserved else ''}</td><td>{said}</td></tr>"
        )
    currency = "" if answers.prices is None else f" ({_e(answers.prices.currency)})"
    more = (
        f"<div style='{_MUTED}'>… {len(table) - max_rows:,} more (to_pandas() has all)</div>"
        if len(table) > max_rows
        else ""
    )
    return (
        body + "<table class='mimo-corpus-answers-table'><tr><th>item</th><th>status</th>"
        "<th>est. prompt tokens</th><th>prompt tokens</th><th>completion tokens</th>"
        f"<th>est. cost{currency}</th><th>cost{currency}</th><th>answer or error</th></tr>"
        + "".join(rows)
        + f"</table>{more}</div>"
    )
