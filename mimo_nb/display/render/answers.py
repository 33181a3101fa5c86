"""What was asked and what came back: the dry-run request, usage, a completion (its origin,
answer, reasoning, estimate against actual and cost), a streaming answer, a batch.

Model text (answers, reasoning) is shown only through :func:`~._text.markdown_html`, or as one
escaped line in a table.

>>> from mimo_nb.api.response import spec_example_completion
>>> "recorded response" in completion_text(spec_example_completion())
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mimo_nb.core.display_hook import renders
from mimo_nb.display.render._text import MUTED, escape, markdown_html, one_line, rows_html
from mimo_nb.display.render.prices import context_check_text, cost_html
from mimo_nb.display.render.timeline import answer_html, thumbnails, timeline_strip_html

if TYPE_CHECKING:
    from mimo_nb.api.client import BatchResult
    from mimo_nb.api.request import PreparedRequest
    from mimo_nb.api.response import Completion, Usage

__all__ = [
    "batch_html",
    "comparison_html",
    "comparison_rows",
    "completion_html",
    "completion_text",
    "origin_badge_html",
    "stand_in_badge_html",
    "origin_label",
    "request_html",
    "streaming_html",
    "usage_html",
    "usage_rows",
    "usage_table_html",
]


# ---- The request, sent nowhere ----------------------------------------------------------------


@renders("html", "mimo_nb.api.request.PreparedRequest")
def request_html(request: PreparedRequest) -> str:
    """A prepared request as a dry run: its estimate, its size, the context check and the JSON."""
    est = request.estimate
    known = "" if est.complete else " (some videos were not probed and are not counted)"
    said = context_check_text(request.context) if request.context else ""
    context = f"<div>{escape(said[:1].upper() + said[1:])}.</div>" if said else ""
    return (
        "<div class='mimo-request'><div><b>Dry run</b>: nothing was sent. Estimated prompt tokens: "
        f"{est.prompt_tokens:,}{escape(known)}; body {request.content_length:,} bytes.</div>"
        f"{context}<pre style='white-space:pre-wrap'>{escape(request)}</pre></div>"
    )


# ---- Usage ------------------------------------------------------------------------------------


def usage_rows(usage: Usage) -> list[tuple[str, int]]:
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
def usage_html(usage: Usage) -> str:
    """A :class:`~mimo_nb.api.response.Usage` as a table of token counts."""
    return rows_html(
        [(k, f"{int(v):,}") for k, v in usage_rows(usage)], "mimo-usage", ("usage", "tokens")
    )


def usage_table_html(completion: Completion) -> str:
    """The completion's usage as an HTML table; a note when the server sent none."""
    usage = getattr(completion, "usage", None)
    if usage is None:
        return f"<div class='mimo-usage' style='{MUTED}'>no usage reported</div>"
    return usage_html(usage)


# ---- Completion: origin, usage, estimate against actual -------------------------------------

_ORIGINS = {
    "live": ("live response", "#1a7f37"),
    "cache": ("replayed from cache", "#9a6700"),
    "recorded": ("recorded response", "#6639ba"),
}


def _origin(origin: str | None) -> tuple[str, str]:
    """(words, colour) for where a completion came from."""
    return _ORIGINS.get(origin or "live", (f"origin: {origin}", "#666"))


def origin_label(origin: str | None) -> str:
    """Words for where a completion came from: live, replayed from cache, or recorded.

    >>> origin_label("cache")
    'replayed from cache'
    """
    return _origin(origin)[0]


def origin_badge_html(origin: str | None) -> str:
    """A small coloured badge naming the completion's origin."""
    label, colour = _origin(origin)
    return (
        f"<span class='mimo-origin' style='border:1px solid {colour};color:{colour};"
        f"border-radius:4px;padding:0 4px;font-size:smaller'>{escape(label)}</span>"
    )


def _percent(estimated: int | None, actual: int | None) -> float | None:
    """How far the estimate is from the truth, in percent of the truth."""
    if estimated is None or actual is None or actual == 0:
        return None
    return (estimated - actual) / actual * 100.0


def comparison_rows(
    completion: Completion,
) -> list[tuple[str, int | None, int | None, float | None]]:
    """(field, estimated, actual, difference in % of actual) from ``completion.comparison()``.

    >>> from mimo_nb.api.response import spec_example_completion
    >>> comparison_rows(spec_example_completion())[0]
    ('video', None, 1144, None)
    """
    return [(name, est, act, _percent(est, act)) for name, est, act in completion.comparison()]


def _fmt(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def comparison_html(completion: Completion) -> str:
    """Estimate against actual, field by field, with the inferred mapping in small print."""
    rows = comparison_rows(completion)
    if all(est is None for _, est, _, _ in rows):
        return (
            f"<div class='mimo-comparison' style='{MUTED}'>"
            "No estimate is attached to this answer, so "
            "its usage is shown alone (an estimate comes with answers to requests built here, "
            "when every video could be measured).</div>"
        )
    body = "".join(
        f"<tr><th style='text-align:left'>{escape(name)}</th>"
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


def _reserved_note() -> str:
    """The sentence that says a cost is its reserved worst case (no usage came)."""
    from mimo_nb.api.response import RESERVED_NOTE  # not at import: it loads the http seam

    return RESERVED_NOTE


def _cost_section(completion: Completion) -> str:
    cost = getattr(completion, "cost", None)
    if cost is None:
        return (
            f"<div class='mimo-cost' style='{MUTED}'>cost: no prices given "
            "(pass prices=load_prices(...) to the client)</div>"
        )
    if not getattr(completion, "cost_reserved", False):
        return cost_html(cost)
    note = escape(_reserved_note().strip())
    return f"{cost_html(cost)}<div class='mimo-cost-reserved' style='color:#b60'>{note}</div>"


def stand_in_badge_html(completion: Completion) -> str:
    """The badge saying an answer is the rule-based stand-in's, not a model's ("" otherwise)."""
    if not completion.stand_in:
        return ""
    return (
        f" <span class='mimo-stand-in' style='border:1px solid #b35900;color:#b35900;"
        f"border-radius:4px;padding:0 4px;font-size:smaller'>{escape(completion.label)}</span>"
    )


def _header_html(completion: Completion) -> str:
    parts = [
        escape(getattr(completion, "model", None) or "model?"),
        escape(getattr(completion, "finish_reason", None) or "unfinished"),
    ]
    stand_in = stand_in_badge_html(completion)
    return (
        f"<div class='mimo-header' style='color:#666;font-size:smaller'>{' · '.join(parts)} "
        f"{origin_badge_html(getattr(completion, 'origin', 'live'))}{stand_in}</div>"
    )


def _answer_html(completion: Completion) -> str:
    """The answer: with its times as chips and a timeline strip when its request is known."""
    timeline = completion.timeline
    if not timeline.known or not timeline.refs:
        return f"<div class='mimo-answer'>{markdown_html(completion.content)}</div>"
    pictures, missing = thumbnails(timeline)
    notes = " ".join(n for n in (timeline.note, missing) if n)
    note = f"<div class='mimo-timeline-note' style='{MUTED}'>{escape(notes)}</div>" if notes else ""
    strip = timeline_strip_html(timeline)
    return (
        f"<div class='mimo-answer'>{answer_html(timeline, pictures)}</div>"
        f"<div class='mimo-timeline'>{strip}{note}</div>"
    )


def _reasoning_html(reasoning: str | None, *, open_: bool = False) -> str:
    if not reasoning:
        return ""
    return (
        f"<details class='mimo-reasoning'{' open' if open_ else ''}><summary>reasoning</summary>"
        f"<div style='color:#555'>{markdown_html(reasoning)}</div></details>"
    )


@renders("html", "mimo_nb.api.response.Completion")
def completion_html(completion: Completion) -> str:
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
        f"{_answer_html(completion)}"
        f"{_reasoning_html(getattr(completion, 'reasoning_content', None))}"
        f"<details class='mimo-details' open><summary>tokens and cost</summary>{tables}</details>"
        "</div>"
    )


def completion_text(completion: Completion) -> str:
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
            lines.append(f"cost is{_reserved_note()}")
    return "\n".join(lines)


def streaming_html(content: str, reasoning: str, *, note: str = "streaming…") -> str:
    """A partial answer while it streams: reasoning (open) and the answer so far, sanitised."""
    return (
        "<div class='mimo-completion mimo-streaming'>"
        f"<div style='color:#666;font-size:smaller'>{escape(note)}</div>"
        f"{_reasoning_html(reasoning, open_=not content)}"
        f"<div class='mimo-answer'>{markdown_html(content)}</div></div>"
    )


# ---- Batches --------------------------------------------------------------------------------


@renders("html", "mimo_nb.api.client._batch.BatchResult")
def batch_html(result: BatchResult) -> str:
    """A :class:`~mimo_nb.api.client.BatchResult` as a table: one row per item, errors named.

    Answers are shortened to one line of plain text (escaped); each item's completion renders
    in full on its own.
    """
    rows = []
    for item in result.items:
        done = item.completion
        usage = getattr(done, "usage", None)
        cost = getattr(done, "cost", None)
        if item.ok and done is not None:
            status = f"{origin_label(getattr(done, 'origin', 'live'))}"
            said = escape(one_line(done.content))
        else:
            status = "failed"
            said = (
                f"<span style='color:#b00'>{escape(type(item.error).__name__)}: "
                f"{escape(one_line(str(item.error)))}</span>"
            )
        rows.append(
            f"<tr><td style='text-align:right'>{item.index}</td><td>{escape(item.label)}</td>"
            f"<td>{escape(status)}</td>"
            "<td style='text-align:right'>"
            f"{'' if usage is None else f'{usage.prompt_tokens:,}'}</td>"
            "<td style='text-align:right'>"
            f"{'' if usage is None else f'{usage.completion_tokens:,}'}</td>"
            "<td style='text-align:right;white-space:nowrap'>"
            f"{'' if cost is None else f'{cost.total:.6f} {escape(cost.currency)}'}"
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
