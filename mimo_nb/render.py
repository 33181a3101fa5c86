"""HTML and text renderings of mimo_nb's values: breakdowns, costs and model answers.

Everything a model wrote is untrusted. :func:`markdown_html` renders it as Markdown with raw HTML
switched off (a ``<script>`` in an answer shows up as text) and then passes the result through
``nh3`` with a short allow-list of tags, attributes and URL schemes, so nothing in it can run,
load or restyle the page. The only images this module ever emits are PNGs we draw ourselves
(:func:`figure_html`); model text cannot produce a ``data:`` URL or an ``<img>``.

>>> from mimo_nb.response import spec_example_completion
>>> html = completion_html(spec_example_completion())   # answer, reasoning, usage, origin badge
>>> text = completion_text(spec_example_completion())    # the same as plain text
"""
from __future__ import annotations

import base64
import html
import io
from typing import Any

import nh3
from markdown_it import MarkdownIt

__all__ = [
    "breakdown_rows",
    "breakdown_text",
    "breakdown_html",
    "cost_html",
    "markdown_html",
    "origin_label",
    "origin_badge_html",
    "usage_rows",
    "usage_table_html",
    "comparison_rows",
    "comparison_html",
    "completion_html",
    "completion_text",
    "streaming_html",
    "figure_png",
    "figure_html",
    "media_data_uri",
    "video_player_html",
    "animation_html",
    "player_note_html",
]

# ---- Token breakdowns and costs -------------------------------------------------------------


def breakdown_rows(b: Any) -> list[tuple[str, str, str]]:
    """(step, value, explanation) rows of a TokenBreakdown, in the spec's order.

    >>> from mimo_nb.tokens import explain_video_tokens
    >>> breakdown_rows(explain_video_tokens(60, 1920, 1080))[0][:2]
    ('frames', '120')
    """
    return [
        ("frames", f"{b.frames}", f"ceil({b.duration:g} s x {b.fps:g} fps), capped at 2048, even, >= 2"),
        ("grids", f"{b.grids}", "frames / 2 (frames are encoded in pairs)"),
        ("pixel budget / frame", f"{b.pixel_budget:,}", f"shared budget, {b.media_resolution} cap, clamped"),
        ("model frame size", f"{b.width} x {b.height}", f"from {b.source_width} x {b.source_height}, sides multiples of 32"),
        ("tokens / grid", f"{b.tokens_per_grid}", "(h/16) x (w/16) / 4"),
        ("vision", f"{b.vision:,}", "grids x tokens per grid"),
        ("timestamps", f"{b.timestamps:,}", f"grids x {5 if b.fps > 2 else 3} (5 when fps > 2)"),
        ("special", f"{b.special:,}", "grids x 2 + 2"),
        ("audio", f"{b.audio:,}", "muted" if b.mute else "about 6.25 per second, + 2 special"),
        ("total", f"{b.total:,}", "estimate; the response's usage is the truth"),
    ]


def breakdown_text(b: Any) -> str:
    """The breakdown as an aligned plain-text table."""
    rows = breakdown_rows(b)
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    return "\n".join(f"{k:<{width}}  {v:>{vwidth}}  {why}" for k, v, why in rows)


def breakdown_html(b: Any) -> str:
    """The breakdown as an HTML table (every cell escaped)."""
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:right'>"
        f"{html.escape(v)}</td><td style='color:#666'>{html.escape(why)}</td></tr>"
        for k, v, why in breakdown_rows(b)
    )
    return f"<table class='mimo-breakdown'>{body}</table>"


def cost_html(cost: Any) -> str:
    """A :class:`~mimo_nb.pricing.Cost` as a table by rate, with the prices' citation under it."""
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
        f"<table class='mimo-cost'><tr><th></th><th>tokens</th><th>{html.escape(p.currency)} / 1M</th>"
        f"<th>{html.escape(p.currency)}</th></tr>{body}<tr><th style='text-align:left'>total</th><td></td><td></td>"
        f"<td style='text-align:right'><b>{cost.total:.6f}</b></td></tr></table>"
        f"<div style='color:#666;font-size:smaller'>{html.escape(p.citation)}</div>"
    )


# ---- Untrusted text: Markdown, then a strict sanitiser ----------------------------------------

# What an answer may contain after sanitising: structure and emphasis, links to http(s)/mailto.
# No img (a remote image would let model text make the browser fetch a URL), no style, no class.
_ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "s", "del",
    "code", "pre", "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th",
    "td", "sup", "sub",
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


def usage_table_html(completion: Any) -> str:
    """The completion's usage as an HTML table; a note when the server sent none."""
    usage = getattr(completion, "usage", None)
    if usage is None:
        return "<div class='mimo-usage' style='color:#666'>no usage reported</div>"
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:right'>{int(v):,}</td></tr>"
        for k, v in usage_rows(usage)
    )
    return f"<table class='mimo-usage'><tr><th>usage</th><th>tokens</th></tr>{body}</table>"


def _percent(estimated: int | None, actual: int | None) -> float | None:
    """How far the estimate is from the truth, in percent of the truth."""
    if estimated is None or actual is None or actual == 0:
        return None
    return (estimated - actual) / actual * 100.0


def comparison_rows(completion: Any) -> list[tuple[str, int | None, int | None, float | None]]:
    """(field, estimated, actual, difference in % of actual) from ``completion.comparison()``.

    >>> from mimo_nb.response import spec_example_completion
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
        return ("<div class='mimo-comparison' style='color:#666;font-size:smaller'>no estimate to "
                "compare with (the request was not estimated, or a video URL was not probed)</div>")
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(name)}</th><td style='text-align:right'>{_fmt(est)}</td>"
        f"<td style='text-align:right'>{_fmt(act)}</td><td style='text-align:right'>"
        f"{'–' if pct is None else f'{pct:+.1f}%'}</td></tr>"
        for name, est, act, pct in rows
    )
    return (
        "<table class='mimo-comparison'><tr><th></th><th>estimated</th><th>actual</th><th>difference</th></tr>"
        f"{body}</table><div style='color:#666;font-size:smaller'>video = the estimate's vision tokens, "
        "audio = its audio tokens minus 2 special tokens; this mapping onto <code>usage</code> is "
        "inferred from the spec page's example, not stated by the vendor. The prompt total also "
        "holds timestamps, special and text tokens.</div>"
    )


def _cost_section(completion: Any) -> str:
    cost = getattr(completion, "cost", None)
    if cost is None:
        return ("<div class='mimo-cost' style='color:#666;font-size:smaller'>cost: no prices given "
                "(pass prices=load_prices(...) to the client)</div>")
    return cost_html(cost)


def _header_html(completion: Any) -> str:
    parts = [html.escape(str(getattr(completion, "model", None) or "model?")),
             html.escape(str(getattr(completion, "finish_reason", None) or "unfinished"))]
    return (f"<div class='mimo-header' style='color:#666;font-size:smaller'>{' · '.join(parts)} "
            f"{origin_badge_html(getattr(completion, 'origin', 'live'))}</div>")


def _reasoning_html(reasoning: str | None, *, open_: bool = False) -> str:
    if not reasoning:
        return ""
    return (f"<details class='mimo-reasoning'{' open' if open_ else ''}><summary>reasoning</summary>"
            f"<div style='color:#555'>{markdown_html(reasoning)}</div></details>")


def completion_html(completion: Any) -> str:
    """A Completion as HTML: origin, answer (sanitised Markdown), reasoning, usage, estimate, cost.

    >>> from mimo_nb.response import spec_example_completion
    >>> "recorded response" in completion_html(spec_example_completion())
    True
    """
    tables = (f"<div style='display:flex;gap:2em;flex-wrap:wrap;align-items:flex-start'>"
              f"<div>{usage_table_html(completion)}</div><div>{comparison_html(completion)}</div>"
              f"<div>{_cost_section(completion)}</div></div>")
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
    lines = [f"{getattr(completion, 'model', None) or 'model?'} · "
             f"{getattr(completion, 'finish_reason', None) or 'unfinished'} · "
             f"{origin_label(getattr(completion, 'origin', 'live'))}"]
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
        lines.append("estimate vs actual (mapping inferred from the spec's example): " + "; ".join(
            f"{n} {_fmt(e)} vs {_fmt(a)}" + ("" if p is None else f" ({p:+.1f}%)") for n, e, a, p in rows))
    cost = getattr(completion, "cost", None)
    if cost is not None:
        lines.append(f"cost: {cost.total:.6f} {cost.currency} ({cost.prices.citation})")
    return "\n".join(lines)


def streaming_html(content: str, reasoning: str, *, note: str = "streaming…") -> str:
    """A partial answer while it streams: reasoning (open) and the answer so far, sanitised."""
    return (
        "<div class='mimo-completion mimo-streaming'>"
        f"<div style='color:#666;font-size:smaller'>{html.escape(note)}</div>"
        f"{_reasoning_html(reasoning, open_=not content)}"
        f"<div class='mimo-answer'>{markdown_html(content)}</div></div>"
    )


# ---- Our own pictures -----------------------------------------------------------------------


def figure_png(fig: Any, *, dpi: int = 100) -> bytes:
    """A matplotlib Figure as PNG bytes, with no timestamp or software tag (stable across runs)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    return buffer.getvalue()


def figure_html(fig: Any, *, dpi: int = 100, alt: str = "plot") -> str:
    """An ``<img>`` holding the figure as an inline PNG that we drew (never from model text)."""
    data = base64.b64encode(figure_png(fig, dpi=dpi)).decode("ascii")
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'/>"


# ---- Players: a video or the sampled frames, watched in the notebook --------------------------
# The media are ours (a file the user opened, or frames we encoded); every text is escaped and a
# src is either a data: URI we built or the video's own http(s) URL. Plain HTML, no script: it
# plays in JupyterLab, in an nbconvert export, and in a notebook opened offline.


def media_data_uri(data: bytes, mime: str) -> str:
    """A ``data:<mime>;base64,...`` URI for media bytes we made or the user opened.

    >>> media_data_uri(b"GIF89a", "image/gif")
    'data:image/gif;base64,R0lGODlh'
    """
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _player_frame(title: str, body: str, caption: str) -> str:
    head = f"<div style='font-weight:bold;margin-bottom:4px'>{html.escape(title)}</div>" if title else ""
    foot = f"<div style='font:12px sans-serif;color:#555;margin-top:2px'>{html.escape(caption)}</div>" if caption else ""
    return f"<div class='mimo-player' style='display:inline-block;max-width:100%'>{head}{body}{foot}</div>"


def video_player_html(src: str, *, mime: str = "video/mp4", width: int | None = None, title: str = "", caption: str = "", loop: bool = False) -> str:
    """An HTML5 ``<video>`` with controls for ``src`` (a data: URI or an http(s) URL).

    >>> "<video" in video_player_html("https://example.com/clip.mp4", width=320)
    True
    """
    if not src.startswith(("data:video/", "http://", "https://")):
        raise ValueError(f"a player plays data:video URIs and http(s) URLs, not {src[:20]!r}")
    size = f" width='{int(width)}'" if width else ""
    return _player_frame(
        title,
        f"<video controls preload='metadata' playsinline{' loop' if loop else ''}{size} style='max-width:100%;display:block'>"
        f"<source src='{html.escape(src, quote=True)}' type='{html.escape(mime, quote=True)}'/>"
        "This browser cannot play the video here.</video>",
        caption,
    )


def animation_html(data: bytes, *, mime: str = "image/gif", width: int | None = None, title: str = "", caption: str = "") -> str:
    """An animated image (a GIF we encoded) as an inline ``<img>``."""
    size = f" width='{int(width)}'" if width else ""
    alt = html.escape(caption or title or "animation", quote=True)
    return _player_frame(title, f"<img src='{media_data_uri(data, mime)}'{size} alt='{alt}' style='max-width:100%;display:block'/>", caption)


def player_note_html(title: str, note: str) -> str:
    """Why there is no player here, and what to do instead."""
    return _player_frame(title, f"<div class='mimo-player-note' style='color:#a60'>{html.escape(note)}</div>", "")


# ---- Server profiles, the budget planner, profiles side by side ----------------------------


def _table_html(rows: list[tuple[str, str, str]], css: str) -> str:
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:right'>"
        f"{html.escape(v)}</td><td style='color:#666'>{html.escape(why)}</td></tr>"
        for k, v, why in rows
    )
    return f"<table class='{css}'>{body}</table>"


def _shorten(texts: Any, keep: int = 4) -> str:
    texts = list(texts)
    if len(texts) <= 2 * keep:
        return ", ".join(texts)
    return ", ".join(texts[:keep]) + f", … ({len(texts) - 2 * keep} more), " + ", ".join(texts[-keep:])


def server_breakdown_rows(b: Any) -> list[tuple[str, str, str]]:
    """(step, value, explanation) rows of a :class:`~mimo_nb.profiles.ServerTokenBreakdown`."""
    return [
        ("profile", b.profile, b.source),
        ("file", f"{b.native_frame_count} frames at {b.native_fps:g} fps", f"{b.duration:g} s, {b.source_width} x {b.source_height}"),
        ("frames", f"{b.frames}", f"at fps={b.fps:g}, by the server's rules (pairs complete)"),
        ("indices", _shorten(str(i) for i in b.indices), "file frames the server decodes"),
        ("model frame size", f"{b.width} x {b.height}", "by the server's resize rule"),
        ("tokens / grid", f"{b.tokens_per_grid}", "one grid = a pair of frames"),
        ("vision", f"{b.vision:,}", "grids x tokens per grid"),
        ("special", f"{b.special:,}", "start/end tokens the source writes"),
        ("timestamp text", _shorten(b.timestamp_texts) or "none", "tokenized by the model's tokenizer: not counted"),
        ("counted", f"{b.counted:,}", "vision + special; timestamps and audio not counted"),
    ]


def server_breakdown_text(b: Any) -> str:
    """A server breakdown as aligned plain text, with its notes."""
    rows = server_breakdown_rows(b)
    width = max(len(r[0]) for r in rows)
    lines = [f"{k:<{width}}  {v}  ({why})" for k, v, why in rows]
    return "\n".join(lines + [f"note: {n}" for n in b.notes])


def server_breakdown_html(b: Any) -> str:
    """A server breakdown as an HTML table (every cell escaped), notes underneath."""
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in b.notes)
    return _table_html(server_breakdown_rows(b), "mimo-breakdown mimo-server") + (
        f"<ul style='color:#666;font-size:smaller'>{notes}</ul>" if notes else ""
    )


def profile_html(profile: Any) -> str:
    """One sampling profile: what it is, where its rules come from, what it leaves out."""
    fields = {k: v for k, v in vars(profile).items() if k not in ("name", "title", "source", "summary", "notes")}
    rows = [("source", profile.source, ""), ("rules", profile.summary, "")]
    rows += [(k, f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v), "") for k, v in fields.items()]
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in profile.notes)
    return (
        f"<div class='mimo-profile'><b>{html.escape(profile.name)}</b>: {html.escape(profile.title)}"
        f"{_table_html(rows, 'mimo-profile-table')}<ul style='color:#666;font-size:smaller'>{notes}</ul></div>"
    )


def _setting_cells(s: Any) -> str:
    cost = "" if s.cost is None else f"{s.cost:.6f}"
    return (
        f"<td style='text-align:right'>{s.fps:g}</td><td>{html.escape(str(s.media_resolution or '—'))}</td>"
        f"<td style='text-align:right'>{s.frames}</td><td style='text-align:right'>{s.width} x {s.height}</td>"
        f"<td style='text-align:right'>{s.pixels_per_frame:,}</td><td style='text-align:right'>{s.tokens:,}</td>"
        f"<td style='text-align:right'>{cost}</td>"
    )


def budget_html(plan: Any) -> str:
    """A :class:`~mimo_nb.budget.BudgetPlan`: the verdict, the rule, and the frontier as a table."""
    currency = "" if plan.prices is None else html.escape(plan.prices.currency)
    head = (f"<tr><th></th><th>fps</th><th>media_resolution</th><th>frames</th><th>frame size</th>"
            f"<th>pixels/frame</th><th>tokens</th><th>{currency or 'cost'}</th></tr>")
    best_style = " style='font-weight:bold;background:#eef6ee'"
    rows = "".join(
        f"<tr{best_style if s == plan.best else ''}><td>{'best' if s == plan.best else ''}</td>{_setting_cells(s)}</tr>"
        for s in plan.frontier
    )
    if plan.best is None:
        need = "" if plan.cheapest is None else (
            f" The cheapest setting (fps {plan.cheapest.fps:g}, {plan.cheapest.media_resolution or 'no media_resolution'}) "
            f"needs {plan.cheapest.tokens:,} tokens.")
        verdict = f"<b>Nothing fits</b> {html.escape(plan.budget_text)}.{html.escape(need)}"
    else:
        b = plan.best
        verdict = (f"<b>Best: fps={b.fps:g}, media_resolution={html.escape(str(b.media_resolution))}</b>: {b.frames} frames "
                   f"at {b.width} x {b.height}, {b.tokens:,} tokens")
    citation = "" if plan.prices is None else f"<div style='color:#666;font-size:smaller'>{html.escape(plan.prices.citation)}</div>"
    return (
        f"<div class='mimo-budget'><div>{html.escape(plan.profile)}: {plan.duration:g} s, {plan.width} x {plan.height}"
        f"{', muted' if plan.mute else ''}; budget {html.escape(plan.budget_text)}. "
        f"{len(plan.settings)} of {plan.grid_size} settings fit ({html.escape(plan.grid_note)}).</div>"
        f"<div>{verdict}</div><div style='color:#666'>Rule: {html.escape(plan.rule)}. Frontier (frames against "
        f"pixels per frame; nothing that fits beats these on both):</div>"
        f"<table class='mimo-budget-frontier'>{head}{rows}</table>{citation}</div>"
    )


def budget_table_html(table: Any, max_rows: int = 20) -> str:
    """A :class:`~mimo_nb.budget.BudgetTable`: the best setting per video (first ``max_rows``)."""
    n = len(table)
    head = ("<tr><th>#</th><th>fps</th><th>media_resolution</th><th>frames</th><th>frame size</th><th>tokens</th>"
            + ("<th>cost</th>" if table.cost is not None else "") + "</tr>")
    rows = []
    for i in range(min(n, max_rows)):
        s = table.setting(i)
        if s is None:
            rows.append(f"<tr><td>{i}</td><td colspan='6'>nothing fits</td></tr>")
            continue
        cost = "" if s.cost is None else f"<td style='text-align:right'>{s.cost:.6f}</td>"
        rows.append(f"<tr><td>{i}</td><td style='text-align:right'>{s.fps:g}</td><td>{html.escape(str(s.media_resolution or '—'))}</td>"
                    f"<td style='text-align:right'>{s.frames}</td><td style='text-align:right'>{s.width} x {s.height}</td>"
                    f"<td style='text-align:right'>{s.tokens:,}</td>{cost}</tr>")
    more = f"<div style='color:#666'>… {n - max_rows:,} more (to_pandas() has all)</div>" if n > max_rows else ""
    return (f"<div class='mimo-budget-table'><div>{html.escape(table.profile)}: best setting for {n:,} videos "
            f"({int(table.fits.sum()):,} fit); rule: {html.escape(table.rule)}</div><table>{head}{''.join(rows)}</table>{more}</div>")


def profile_comparison_html(comparison: Any, max_thumbnails: int = 48) -> str:
    """Profiles side by side: per profile a strip of its frames (index, time), size and tokens.

    Frames the hosted API would not pick at the same settings get an orange border.
    """
    from ._imaging import jpeg_data_uri, format_time

    c = comparison
    parts = [
        f"<div class='mimo-profiles'><div><b>{html.escape(c.video_name)}</b>: {c.duration:.2f} s, {c.width} x {c.height}, "
        f"{c.native_frame_count} frames at {c.native_fps:g} fps; fps={c.fps:g}, media_resolution={html.escape(c.media_resolution)} "
        "(API only). <span style='border:2px solid #e67e00;padding:0 3px'>orange</span>: a frame the API does not pick.</div>"
    ]
    for v in c.views:
        head = f"<b>{html.escape(v.profile)}</b> <span style='color:#666'>{html.escape(v.title)} · {html.escape(v.source)}</span>"
        if v.error:
            parts.append(f"<div style='margin-top:8px'>{head}<div style='color:#a60'>refuses this video: {html.escape(v.error)}</div></div>")
            continue
        summary = (f"{v.frames} frames at {v.width} x {v.height}; {v.vision:,} vision tokens, {v.tokens:,} "
                   f"({v.tokens_label}); {v.changed} of {v.frames} frames differ from the API's")
        cells = []
        for k, index in enumerate(v.indices[:max_thumbnails]):
            border = "2px solid #e67e00" if v.differs[k] else "2px solid transparent"
            caption = f"#{index} · {format_time(v.timestamps[k])}"
            image = (f"<img src='{jpeg_data_uri(v.thumbnails[k])}' style='display:block' alt='{html.escape(caption, quote=True)}'/>"
                     if k < len(v.thumbnails) else "")
            cells.append(f"<figure style='margin:0 2px;text-align:center;border:{border}'>{image}"
                         f"<figcaption style='font:10px monospace;color:#444'>{html.escape(caption)}</figcaption></figure>")
        more = (f"<div style='color:#666;font-size:smaller'>… {len(v.indices) - max_thumbnails} more frames</div>"
                if len(v.indices) > max_thumbnails else "")
        texts = (f"<div style='color:#666;font-size:smaller'>timestamp text: {html.escape(_shorten(v.timestamp_texts))}</div>"
                 if v.timestamp_texts else "")
        parts.append(f"<div style='margin-top:8px'>{head}<div>{html.escape(summary)}</div>{texts}"
                     f"<div style='display:flex;overflow-x:auto'>{''.join(cells)}</div>{more}</div>")
    return "".join(parts) + "</div>"
