"""Model text is hostile until proven otherwise: nothing in an answer may run, load or restyle.

Each hostile string goes into ``content`` and ``reasoning_content`` of a real Completion; the
HTML that comes out is parsed (html.parser, which decodes entities in attribute values as a
browser does) and checked element by element, not by substring.
"""

from __future__ import annotations

import re
import urllib.parse
from html.parser import HTMLParser

import pytest

from mimo_nb.api.response import Completion, Usage
from mimo_nb.display import render

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)><circle r=5 /></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "</style><script>alert(1)</script>",
    "<style>body{display:none}</style>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab entity</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">entities</a>',
    "[markdown link](javascript:alert(1))",
    "[entity link](jav&#x09;ascript:alert(1))",
    "[upper](JAVASCRIPT:alert(1))",
    "[vb](vbscript:msgbox(1))",
    "![image](javascript:alert(1))",
    "![pixel](https://evil.example/track.png)",
    "![data](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<details open ontoggle=alert(1)><summary>x</summary></details>",
    '<object data="evil.swf"></object><embed src="evil.swf">',
    '<div style="background:url(javascript:alert(1))">styled</div>',
    '<body onload=alert(1)><form action="javascript:alert(1)"><button>go</button></form>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '"><script>alert(1)</script>',
    "```html\n<script>alert(1)</script>\n```",
    "<!--<script>alert(1)</script>-->",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<base href='javascript:alert(1)//'>",
    "<a href='\x01javascript:alert(1)'>control char</a>",
]

FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "object",
    "embed",
    "style",
    "svg",
    "math",
    "form",
    "meta",
    "base",
    "link",
    "frame",
    "frameset",
    "applet",
    "img",
    "body",
    "button",
    "input",
}
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "srcdoc",
    "data",
    "background",
    "poster",
    "content",
}
BAD_SCHEME = re.compile(r"^(javascript|vbscript|data|file):", re.IGNORECASE)


class Elements(HTMLParser):
    """Every start tag with its (entity-decoded) attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    handle_startendtag = handle_starttag


def parse(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def scheme_of(url: str) -> str:
    """What a browser would take as the URL: control chars and whitespace dropped, % decoded."""
    decoded = urllib.parse.unquote(url)
    return re.sub(r"[\x00-\x20\x7f]", "", decoded)


def assert_inert(html: str, allowed_styles: set[str]) -> None:
    for tag, attrs in parse(html):
        assert tag not in FORBIDDEN_TAGS, f"<{tag}> survived: {html[:300]}"
        for name, value in attrs:
            assert not name.lower().startswith("on"), f"event handler {name}={value!r} on <{tag}>"
            if name.lower() in URL_ATTRIBUTES and value is not None:
                assert not BAD_SCHEME.match(scheme_of(value)), f"{name}={value!r} on <{tag}>"
            if name.lower() == "style":  # only the styles our own frame uses, never model-made ones
                assert value in allowed_styles, f"style {value!r} on <{tag}> is not ours"


def completion_with(text: str) -> Completion:
    return Completion(
        id="x",
        model="mimo-v2.5",
        content=text,
        reasoning_content=text,
        finish_reason="stop",
        usage=Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15),
        origin="live",
    )


@pytest.fixture(scope="module")
def our_styles() -> set[str]:
    """Style attributes the renderer itself writes around a harmless answer."""
    html = render.completion_html(completion_with("hello")) + render.streaming_html("a", "b")
    return {value for _, attrs in parse(html) for name, value in attrs if name == "style" and value}


def test_there_are_enough_hostile_strings() -> None:
    assert len(HOSTILE) >= 10


@pytest.mark.parametrize("text", HOSTILE)
def test_completion_html_is_inert(text: str, our_styles: set[str]) -> None:
    assert_inert(render.completion_html(completion_with(text)), our_styles)


@pytest.mark.parametrize("text", HOSTILE)
def test_streaming_html_is_inert(text: str, our_styles: set[str]) -> None:
    assert_inert(render.streaming_html(text, text), our_styles)


def test_all_hostile_strings_at_once(our_styles: set[str]) -> None:
    joined = "\n\n".join(HOSTILE)
    assert_inert(render.completion_html(completion_with(joined)), our_styles)


def test_the_checker_itself_catches_each_kind_of_attack() -> None:
    """The assertions above can fail: feed them unsanitised HTML and each one fires."""
    for raw in [
        "<script>x</script>",
        "<p onclick='x'>",
        "<a href='jav&#x09;ascript:x'>",
        "<a href='%6Aavascript:x'>",
        "<iframe>",
        "<p style='color:red'>",
    ]:
        with pytest.raises(AssertionError):
            assert_inert(raw, allowed_styles=set())


def test_hostile_text_stays_visible_as_text() -> None:
    """Sanitising must not silently eat the answer: the words are still there to read."""
    html = render.completion_html(completion_with("<script>alert(1)</script> and more"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt; and more" in html


def test_safe_links_survive_with_rel() -> None:
    html = render.markdown_html("[docs](https://example.org/a?b=1)")
    ((tag, attrs),) = [e for e in parse(html) if e[0] == "a"]
    assert dict(attrs)["href"] == "https://example.org/a?b=1"
    assert "noopener" in dict(attrs)["rel"]
