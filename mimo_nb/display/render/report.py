"""The report page: one self-contained HTML document (:mod:`mimo_nb.display.report` gathers its
data).

The page may show inline styles and data: images, and nothing else: its Content-Security-Policy
forbids scripts and fetching anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mimo_nb.display.render._text import escape
from mimo_nb.display.render.answers import completion_html
from mimo_nb.display.render.players import media_data_uri
from mimo_nb.display.render.prices import cost_html
from mimo_nb.display.render.segments import segment_plan_html
from mimo_nb.display.render.tokens import breakdown_html

if TYPE_CHECKING:
    from mimo_nb.display.report import ReportData, ReportFigure

__all__ = ["report_html"]

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
    return f"<section id='{ident}'><h2>{escape(heading)}</h2>{body}</section>"


def _report_figures(figures: Sequence[ReportFigure]) -> str:
    items = "".join(
        f"<figure><img class='plot' alt='{escape(f.caption)}' "
        f"src='{media_data_uri(f.png, 'image/png')}'/>"
        f"<figcaption class='muted'>{escape(f.caption)}</figcaption></figure>"
        for f in figures
    )
    return f"<div class='figures'>{items}</div>"


def _report_cost(data: ReportData) -> str:
    return (
        f"<p>Estimated prompt: <b>{data.estimated_prompt_tokens:,}</b> tokens (the video's "
        f"{data.breakdown.total:,} plus about "
        f"{data.estimated_prompt_tokens - data.breakdown.total:,} of text). "
        f"Output counted at max_completion_tokens = {data.max_completion_tokens:,}, "
        "the most the answer may "
        "use (reasoning included): an upper bound. Nothing assumed cached.</p>"
        f"{cost_html(data.cost, open_citation=True)}"
    )


def _report_answer(data: ReportData, dry_run_label: str) -> str:
    question = f"<p>Question: <q>{escape(data.prompt)}</q></p>"
    if data.completion is not None:
        origin = getattr(data.completion, "origin", "live")
        how = {
            "live": "The model was asked; its answer:",
            "cache": "Replayed from the response cache:",
            "recorded": "A recorded response:",
        }.get(origin, f"Answer ({origin}):")
        return f"{question}<p>{escape(how)}</p>{completion_html(data.completion)}"
    if data.error is not None:
        why = (
            f"<p class='error'>The request failed, so there is no answer: {escape(data.error)}</p>"
        )
    else:
        why = (
            "<p>No <code>MIMO_API_KEY</code> is set, so nothing was sent. "
            "This is the exact request "
            "that would be sent (the video's base64 elided):</p>"
        )
    return (
        f"{question}{why}<p><span class='label'>{escape(dry_run_label)}</span></p>"
        f"<pre class='request'>{escape(data.request_text)}</pre>"
    )


def _report_segments(data: ReportData) -> str:
    """Why one request cannot take the video, and the segment plan that sends it whole."""
    why = "; ".join(escape(r) for r in data.over_limits)
    if data.segment_plan is None:
        failed = escape(data.segment_error or "no plan")
        return f"<p>Over the limits: {why}.</p><p class='error'>No segment plan: {failed}</p>"
    plan = data.segment_plan
    return (
        f"<p>Over the limits: {why}. A segment plan keeps fps {plan.fps:g}: "
        f"{len(plan.segments)} segments, each a video the formula samples whole, within the "
        f"frame cap and the base64 limit, {len(plan.requests)} requests, "
        f"{plan.total_tokens:,} tokens in all. <code>plan_video_segments(video, "
        f"fps={plan.fps:g}).write(folder)</code> writes them; <code>ask_long</code> asks them "
        "(mimo_nb.corpus.long).</p>"
        f"{segment_plan_html(plan)}"
    )


def report_html(data: ReportData, *, dry_run_label: str) -> str:
    """A :class:`~mimo_nb.display.report.ReportData` as one self-contained HTML document: same
    data, same bytes."""
    settings = " · ".join(f"{escape(k)} {escape(v)}" for k, v in data.settings)
    when = f" · generated {escape(data.generated_at)}" if data.generated_at else ""
    mode = "answered" if data.sent else dry_run_label
    b = data.breakdown
    sections = [
        _section(
            "video", "Video", f"{data.video_card}<p class='muted'>sha256 {escape(data.sha256)}</p>"
        ),
        _section("frames", "Frames the model sees", data.frames_grid),
        _section(
            "tokens",
            "Tokens",
            f"<p>Estimated for this video: <b>{b.total:,}</b> tokens ({b.frames} frames at "
            f"{b.width}x{b.height}); the response's usage is the truth.</p>{breakdown_html(b)}",
        ),
        *(
            [_section("segments", "Over the limits: segments", _report_segments(data))]
            if data.over_limits
            else []
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
        f"<title>mimo_nb report: {escape(data.title)}</title>"
        f"<style>{_REPORT_STYLE}</style></head><body>"
        f"<h1>mimo_nb report: {escape(data.title)}</h1>"
        f"<p class='muted'>{settings} · {escape(mode)}{when}</p>"
        + "".join(sections)
        + "<footer class='muted'>Made by mimo_nb. "
        "Token counts follow the vendor's published formula; "
        "the API's usage is the bill.</footer></body></html>\n"
    )
