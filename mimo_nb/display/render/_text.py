"""Text on the page: escaped when it is ours, sanitised Markdown when a model wrote it.

Everything a model wrote is untrusted. :func:`markdown_html` renders it as Markdown with raw HTML
switched off (a ``<script>`` in an answer shows up as text) and then passes the result through
``nh3`` with a short allow-list of tags, attributes and URL schemes, so nothing in it can run,
load or restyle the page. Model text cannot produce a ``data:`` URL or an ``<img>``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

import nh3
from markdown_it import MarkdownIt

if TYPE_CHECKING:
    from markdown_it.renderer import RendererHTML
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

__all__ = ["error_html", "markdown_html"]

MUTED = "color:#666;font-size:smaller"  # the style of small print: notes, citations, sources


def escape(text: object) -> str:
    """``str(text)`` with ``& < > " '`` escaped: safe in an element and in a quoted attribute."""
    return html.escape(str(text), quote=True)


def one_line(text: str | None, limit: int = 120) -> str:
    """``text`` on one line (white space folded), shortened with an ellipsis to ``limit``."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def error_html(exc: BaseException) -> str:
    """An error, named and explained, in red (the message is escaped)."""
    return (
        f"<div class='mimo-error' style='color:#b00'>{escape(type(exc).__name__)}: "
        f"{escape(exc)}</div>"
    )


def rows_html(rows: Sequence[Sequence[str]], css: str, header: Sequence[str] = ()) -> str:
    """A table: the first cell of a row is its heading; numbers (second cell) never wrap; later
    cells are small print."""
    head = ("<tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>") if header else ""
    body = "".join(
        f"<tr><th style='text-align:left;white-space:nowrap'>{escape(r[0])}</th>"
        + "".join(
            f"<td style='text-align:right;white-space:nowrap'>{escape(c)}</td>" for c in r[1:2]
        )
        + "".join(f"<td style='text-align:left;{MUTED}'>{escape(c)}</td>" for c in r[2:])
        + "</tr>"
        for r in rows
    )
    return f"<table class='{css}'>{head}{body}</table>"


def reasons_table_html(rows: Sequence[tuple[str, str, str]], css: str) -> str:
    """A table of (name, value, why) rows: the name as heading, the value right, why in grey."""
    body = "".join(
        f"<tr><th style='text-align:left'>{escape(k)}</th><td style='text-align:right'>"
        f"{escape(v)}</td><td style='color:#666'>{escape(why)}</td></tr>"
        for k, v, why in rows
    )
    return f"<table class='{css}'>{body}</table>"


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


def _render_image_as_link(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """Markdown images from model text become a plain link: the browser fetches nothing."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env) or "image"
    src = token.attrGet("src") or ""
    return f'<a href="{escape(src)}">[image: {escape(alt)}]</a>'


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
