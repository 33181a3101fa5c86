"""Renderings of breakdowns, costs and completions: the numbers shown are the numbers computed."""

from __future__ import annotations

from html import escape as html_escape
from html.parser import HTMLParser

import pytest

from mimo_nb.api.request import RequestEstimate
from mimo_nb.api.response import Completion, Usage, spec_example_completion
from mimo_nb.core import tokens
from mimo_nb.core.pricing import Prices, check_context, cost_from_usage, load_prices
from mimo_nb.core.tokens import explain_video_tokens
from mimo_nb.display import render


class Cells(HTMLParser):
    """Text of every table row, as lists of cell strings, and the <details> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.details: list[dict[str, str | None]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "details":
            self.details.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def cells(html: str) -> Cells:
    parser = Cells()
    parser.feed(html)
    return parser


def row(html: str, name: str) -> list[str]:
    matches = [r for r in cells(html).rows if r and r[0] == name]
    assert matches, f"no row {name!r}"
    return matches[0]


# The spec example's usage is consistent with a 3.02 s, 720x405 clip at fps 2 (spec summary).
SPEC_CLIP = explain_video_tokens(3.02, 720, 405, fps=2)


def test_breakdown_rows_match_the_breakdown() -> None:
    b = explain_video_tokens(60, 1920, 1080, fps=2)
    rows = {k: v for k, v, _ in tokens.breakdown_rows(b)}
    assert rows["frames"] == str(b.frames)
    assert rows["model frame size"] == f"{b.width} x {b.height}"
    assert rows["total"] == f"{b.total:,}"
    assert row(render.breakdown_html(b), "vision")[1] == f"{b.vision:,}"
    assert f"{b.total:,}" in tokens.breakdown_text(b).splitlines()[-1]


def test_spec_example_renders_answer_reasoning_usage_and_origin() -> None:
    done = spec_example_completion()
    html = render.completion_html(done)
    assert "recorded response" in html
    assert "kitten" in html
    assert render.usage_table_html(done) in html
    reasoning = [d for d in cells(html).details if d.get("class") == "mimo-reasoning"]
    assert len(reasoning) == 1 and "open" not in reasoning[0]  # collapsed
    usage = [d for d in cells(html).details if d.get("class") == "mimo-details"]
    assert len(usage) == 1 and "open" in usage[0]  # usage, estimate vs actual and cost show inline
    assert row(html, "video")[1] == "1,144"
    assert row(html, "audio")[1] == "19"
    assert row(html, "text")[1] == f"{done.usage.text_tokens:,}"
    assert row(html, "cached (of prompt)")[1] == "1,256"
    assert row(html, "reasoning (of completion)")[1] == "719"
    assert row(html, "completion")[1] == "849"
    assert row(html, "total")[1] == f"{done.usage.total_tokens:,}"
    assert "No estimate is attached to this answer" in html  # plain words, not jargon
    assert "no prices given" in html


def test_estimate_against_actual_with_percent() -> None:
    done = spec_example_completion()
    done.estimate = RequestEstimate(videos=(SPEC_CLIP,), text_tokens=20)
    html = render.comparison_html(done)
    assert html in render.completion_html(done)
    assert SPEC_CLIP.video_tokens == 1144 and SPEC_CLIP.audio_tokens == 19  # the inferred reading
    assert row(html, "video")[1:] == ["1,144", "1,144", "+0.0%"]
    assert row(html, "audio")[1:] == ["19", "19", "+0.0%"]
    est_total = SPEC_CLIP.total + 20
    pct = (est_total - 1260) / 1260 * 100
    assert row(html, "prompt total")[1:] == [f"{est_total:,}", "1,260", f"{pct:+.1f}%"]
    assert "inferred from the spec page's example" in html


def test_percent_sign_and_missing_values() -> None:
    done = Completion(
        id="a", model="m", content="x", usage=Usage(prompt_tokens=100, video_tokens=80)
    )
    done.estimate = RequestEstimate(
        videos=(explain_video_tokens(3.02, 720, 405, fps=2, mute=True),)
    )
    rows = {r[0]: r for r in render.comparison_rows(done)}
    est = rows["video"][1]
    assert rows["video"][3] == pytest.approx((est - 80) / 80 * 100)
    done.estimate = RequestEstimate(videos=(None,))  # an unprobed URL: no estimate at all
    assert all(r[1] is None and r[3] is None for r in render.comparison_rows(done))


def test_cost_is_shown_with_its_citation() -> None:
    prices = load_prices("mimo-v2.5", "CNY")
    done = spec_example_completion(prices=prices)
    html = render.cost_html(done.cost)
    assert html in render.completion_html(done)
    expected = cost_from_usage(done.usage, prices)
    assert row(html, "total")[-1] == f"{expected.total:.6f}"  # the cost table's last row
    assert html_escape(prices.source) in html
    assert f"{expected.total:.6f} CNY" in render.completion_text(done)


@pytest.mark.parametrize(
    "origin,label",
    [
        ("live", "live response"),
        ("cache", "replayed from cache"),
        ("recorded", "recorded response"),
    ],
)
def test_origin_badge(origin: str, label: str) -> None:
    done = Completion(id="a", model="m", content="hi", origin=origin)
    assert label in render.completion_html(done)
    assert label in render.completion_text(done)


def test_markdown_is_rendered() -> None:
    html = render.markdown_html("# Title\n\n**bold** and `code`\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert (
        "<h1>Title</h1>" in html and "<strong>bold</strong>" in html and "<code>code</code>" in html
    )
    assert [r for r in cells(html).rows] == [["a", "b"], ["1", "2"]]


def test_plain_text_fallback() -> None:
    done = spec_example_completion()
    text = render.completion_text(done)
    assert "recorded response" in text and "kitten" in text and "video 1,144" in text
    assert "<" not in text.split("\n", 1)[0]


def test_no_usage_is_said_not_invented() -> None:
    done = Completion(id=None, model=None, content="partial")
    assert "no usage reported" in render.completion_html(done)


def test_streaming_html_opens_reasoning_until_content_arrives() -> None:
    assert "open" in cells(render.streaming_html("", "thinking")).details[0]
    assert "open" not in cells(render.streaming_html("answer", "thinking")).details[0]


def test_figure_png_is_deterministic() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from mimo_nb.media.imaging import figure_png

    def draw() -> bytes:
        fig = Figure(figsize=(2, 2))
        fig.add_subplot().plot([0, 1], [1, 0])
        return figure_png(fig)

    first = draw()
    assert first.startswith(b"\x89PNG") and first == draw()
    assert render.figure_html(Figure(figsize=(1, 1))).startswith(
        "<img alt='plot' style='max-width:100%;height:auto' src='data:image/png;base64,"
    )


def test_user_prices_render() -> None:
    prices = Prices(input=2, cached_input=1, output=3, currency="USD", source="my contract")
    html = render.cost_html(
        cost_from_usage({"prompt_tokens": 1_000_000, "completion_tokens": 0}, prices)
    )
    assert row(html, "total")[-1] == "2.000000" and "my contract" in html


def test_breakdown_explanations_come_from_the_formulas_constants(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    b = explain_video_tokens(60, 1920, 1080, fps=2.5)
    why = {k: w for k, _, w in tokens.breakdown_rows(b)}
    assert why["timestamps"] == "grids x 5 (5 when fps > 2, else 3)"
    assert why["tokens / grid"] == "(h/16) x (w/16) / 4"
    assert why["special"] == "grids x 2 + 2" and "at most 2,048" in why["frames"]
    assert why["pixel budget / frame"] == "default caps a frame at 300 tokens x 1,024 px"
    assert why["audio"] == "about 6.25 per second, + 2 special"
    # Change a constant and the words follow: nothing is typed twice.
    monkeypatch.setattr(tokens, "MAX_FRAMES", 4096)
    monkeypatch.setattr(tokens, "FINE_TIMESTAMP_TOKENS", 7)
    why = {k: w for k, _, w in tokens.breakdown_rows(b)}
    assert "at most 4,096" in why["frames"] and "7 when fps > 2" in why["timestamps"]


def test_pixel_budget_says_which_rule_set_it() -> None:
    def reason(*args, **kwargs) -> str:
        return {k: w for k, _, w in tokens.breakdown_rows(explain_video_tokens(*args, **kwargs))}[
            "pixel budget / frame"
        ]

    assert reason(600, 1920, 1080, fps=2) == "131,072 tokens' worth of pixels shared by 1200 frames"
    assert (
        reason(60, 1920, 1080, fps=2, media_resolution="max")
        == "131,072 tokens' worth of pixels shared by 120 frames"
    )
    assert (
        reason(1, 1920, 1080, fps=1, media_resolution="max")
        == "lowered to the maximum of 8,388,608 px"
    )


def _code_without_docstrings(module: object) -> str:
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            body.pop(0)
    return ast.unparse(tree)  # comments and docstrings gone: only what runs


def test_no_formula_number_is_typed_outside_tokens() -> None:
    """The formula's constants appear in display code only through tokens.py's names."""
    import importlib
    import pkgutil

    from mimo_nb.display import plots, widgets

    modules = [plots] + [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for package in (render, widgets)
        for info in pkgutil.iter_modules(package.__path__)
    ]
    assert len(modules) > 10  # every module of both packages, not only their __init__
    for module in modules:
        code = _code_without_docstrings(module)
        for number in (
            "2048",
            "2,048",
            "131072",
            "131,072",
            "300-token",
            "300 token",
            "5 if",
            "/16",
            "/ 16",
            "6.25",
        ):
            assert number not in code, (
                f"{module.__name__} types {number!r}: use mimo_nb.core.tokens"
            )


def test_usage_prices_context_and_batch_tables() -> None:
    from mimo_nb.api.client import BatchItem, BatchResult
    from mimo_nb.errors import RateLimitError

    usage = spec_example_completion().usage
    html = usage._repr_html_()
    assert row(html, "video")[1] == "1,144" and row(html, "total")[1] == "2,109"

    prices = load_prices("mimo-v2.5", "CNY")
    html = prices._repr_html_()
    assert (
        row(html, "input")[1] == f"{prices.input:g}"
        and row(html, "output")[1] == f"{prices.output:g}"
    )
    assert html_escape(prices.source) in html and "<details" in html and " open" in html

    unknown = check_context([17240, 1000], text="describe", output_tokens=1024, model="mimo-v2.5")
    html = unknown._repr_html_()
    assert row(html, "video 1")[1] == "17,240" and row(html, "needed")[1] == f"{unknown.needed:,}"
    assert row(html, "context length")[1] == "not known"
    assert "can hold is not on the vendor&#x27;s page, so whether it fits is not checked" in html
    assert "context_lengths" not in html  # no jargon for a reader who did not pass it
    over = check_context([17240], model="m", context_lengths={"m": 10000})
    assert "7,240 tokens too many" in render.context_check_text(over)
    assert "it fits" in render.context_check_text(
        check_context([100], model="m", context_lengths={"m": 10000})
    )

    done = spec_example_completion(prices=prices)
    batch = BatchResult(
        [
            BatchItem(0, "a.mp4", completion=done),
            BatchItem(1, "<b>b.mp4</b>", error=RateLimitError("slow down <now>", status_code=429)),
        ]
    )
    html = batch._repr_html_()
    rows = cells(html).rows
    assert rows[1][:4] == ["0", "a.mp4", "recorded response", "1,260"]
    assert rows[1][5] == f"{done.cost.total:.6f} CNY" and rows[1][6].startswith(
        "The video features"
    )
    assert (
        rows[2][:3] == ["1", "<b>b.mp4</b>", "failed"]
        and "RateLimitError: slow down <now>" in rows[2][6]
    )
    assert "<b>b.mp4</b>" not in html and "<now>" not in html  # escaped
    assert "<b>2</b> items, <b>1</b> failed" in html


def test_request_html_says_the_context_plainly() -> None:
    from mimo_nb.api.request import VideoPart, prepare_request

    request = prepare_request(
        [VideoPart(kind="url", url="https://example.com/a.mp4", fps=2, media_resolution="default")],
        "describe it",
    )
    html = request._repr_html_()
    assert "Dry run" in html and "not checked" in html and "context_lengths" not in html
