"""A long video's segments: the timeline as bands, and what one request would lose beside it;
a long answer's parts in place on the same timeline, estimate against actual
(:mod:`mimo_nb.core.segments`, :mod:`mimo_nb.corpus.long`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mimo_nb.core.display_hook import renders
from mimo_nb.core.segments import hms
from mimo_nb.display.render._text import escape, markdown_html, rows_html
from mimo_nb.display.render.answers import stand_in_badge_html

if TYPE_CHECKING:
    from mimo_nb.core.segments import Segment, SegmentPlan
    from mimo_nb.core.timemap import GroundedTime
    from mimo_nb.corpus.long import LongAnswer, LongPart

__all__ = ["long_answer_html", "segment_bands_html", "segment_plan_html", "unsegmented_rows"]

_COLOURS = ("#d8e8f8", "#e6f2dc")


def _band(plan: SegmentPlan, s: Segment, body: str) -> str:
    left = 100 * s.start / plan.duration
    width = 100 * (s.end - s.start) / plan.duration
    title = escape(f"part {s.index + 1}: {hms(s.start)} to {hms(s.end)}")
    return (
        f"<div class='mimo-band' title='{title}' style='position:absolute;top:0;"
        f"left:{left:.4f}%;width:{width:.4f}%;height:100%;box-sizing:border-box;overflow:hidden;"
        f"background:{_COLOURS[s.index % 2]};border:1px solid #8aa;padding:2px 4px;"
        f"font-size:11px'>{body}</div>"
    )


def segment_bands_html(plan: SegmentPlan, bodies: list[str] | None = None, height: int = 56) -> str:
    """The timeline: one band per segment, placed and sized by its stretch of the original."""
    bands = "".join(
        _band(plan, s, bodies[s.index] if bodies is not None else _band_text(s))
        for s in plan.segments
    )
    ends = (
        f"<div style='display:flex;justify-content:space-between;font-size:11px;color:#666'>"
        f"<span>00:00:00</span><span>{hms(plan.duration)}</span></div>"
    )
    return (
        f"<div class='mimo-timeline' style='position:relative;height:{height}px;"
        f"margin:4px 0'>{bands}</div>{ends}"
    )


def _band_text(s: Segment) -> str:
    return (
        f"<b>{s.index + 1}</b> {hms(s.start)}<br>{s.frames:,} frames · {s.tokens:,} tok"
        f"<br>{s.width}x{s.height}"
    )


def unsegmented_rows(plan: SegmentPlan) -> list[tuple[str, str, str]]:
    """(what, one request, these segments) rows: what one unsegmented request would lose."""
    one, segments = plan.unsegmented, plan.segments
    sizes = sorted({(s.width, s.height) for s in segments}, key=lambda wh: wh[0] * wh[1])
    pixels = sorted({s.width * s.height for s in segments})
    span = f"{pixels[0]:,}" if len(pixels) == 1 else f"{pixels[0]:,} to {pixels[-1]:,}"
    return [
        ("frames asked", f"{one.asked:,}", f"{one.asked:,}"),
        ("frames sent", f"{one.frames:,}", f"{plan.total_frames:,}"),
        ("frames lost", f"{one.lost_frames:,}", "0"),
        ("effective fps", f"{one.effective_fps:.3g}", f"{plan.fps:g}"),
        (
            "frame size",
            f"{one.breakdown.width} x {one.breakdown.height}",
            ", ".join(f"{w} x {h}" for w, h in sizes),
        ),
        ("pixels per frame", f"{one.pixels_per_frame:,}", span),
        ("prompt tokens", f"{one.breakdown.total:,}", f"{plan.total_tokens:,}"),
        ("requests", "1", f"{len(plan.requests):,}"),
    ]


@renders("html", "mimo_nb.core.segments.SegmentPlan")
def segment_plan_html(plan: SegmentPlan) -> str:
    """A :class:`~mimo_nb.core.segments.SegmentPlan`: headline, bands, and one request beside."""
    cost = plan.cost
    money = "" if cost is None else f" · {escape(str(cost))}"
    packed = (
        f"{len(plan.requests)} requests"
        if plan.per_request == "one"
        else f"{len(plan.requests)} requests (packed up to {plan.context_length:,} tokens)"
    )
    overlap = (
        f" · overlap {plan.overlap_frames} frames ({plan.overlap_frames * plan.step:.3g} s)"
        if plan.overlap_frames
        else ""
    )
    head = (
        f"<div class='mimo-numbers'><b>{len(plan.segments)}</b> segments of "
        f"{hms(plan.duration)} at fps={plan.fps:g} ({escape(plan.media_resolution)}) · "
        f"<b>{plan.total_frames:,}</b> frames · <b>{plan.total_tokens:,}</b> tokens · "
        f"{packed}{overlap}{money}</div>"
    )
    note = f"<div>{escape(plan.budget_note)}</div>" if plan.budget_note else ""
    rows = unsegmented_rows(plan)
    table = rows_html(rows, "mimo-segments", header=("", "one request", "segments"))
    largest = max(s.est_bytes for s in plan.segments)
    basis = (
        f"<div style='color:#666;font-size:smaller'>Largest segment file about "
        f"{largest / 2**20:.1f} MB; {escape(plan.bytes_basis)}.</div>"
    )
    return (
        f"<div class='mimo-segment-plan'>{head}{note}{segment_bands_html(plan)}{table}{basis}</div>"
    )


def _placed(g: GroundedTime) -> str:
    """A part's time and where it lies on the original, flagged as the timeline flags it; a time
    after its part's end is not placed (the part's start added to it would be no seen moment)."""
    if g.past_end:
        return f"{escape(g.ref.text)} → <span style='color:#b00'>⚠ after this part's end</span>"
    flags = f" <span style='color:#b00'>⚠ {escape(', '.join(g.flags))}</span>" if g.flags else ""
    return f"{escape(g.ref.text)} → {hms(g.source_start)}{flags}"


def _part_body(answer: LongAnswer, part: LongPart) -> str:
    est = f"est {part.est_prompt_tokens:,}"
    actual = "" if part.prompt_tokens is None else f" · got {part.prompt_tokens:,}"
    if part.completion is None:
        text = escape(part.status or "not sent") + (f": {escape(part.error)}" if part.error else "")
    else:
        text = stand_in_badge_html(part.completion) + markdown_html(part.completion.content)
    times = ", ".join(_placed(g) for g in part.times[:6])
    return (
        f"<b>part {part.request + 1}</b> <span style='color:#666'>{est}{actual}</span>"
        f"<div>{text}</div>" + (f"<div style='color:#666'>times: {times}</div>" if times else "")
    )


@renders("html", "mimo_nb.corpus.long.LongAnswer")
def long_answer_html(answer: LongAnswer) -> str:
    """A :class:`~mimo_nb.corpus.long.LongAnswer`: the bands with each answer in place, the
    merged answer, and estimate against actual per part and in total."""
    plan = answer.plan
    bodies = [""] * len(plan.segments)
    for part in answer.parts:
        for k in part.segments:
            bodies[k] = _part_body(answer, part)
    rows = [
        (
            f"part {p.request + 1}",
            p.status,
            f"{p.est_prompt_tokens:,}",
            "" if p.prompt_tokens is None else f"{p.prompt_tokens:,}",
            "" if p.est_cost is None else f"{p.est_cost:.4f}",
            "" if p.cost is None else f"{p.cost:.4f}",
        )
        for p in answer.parts
    ]
    rows.append(
        (
            "total",
            "",
            f"{answer.est_prompt_tokens:,}",
            f"{answer.prompt_tokens:,}",
            f"{answer.forecast:.4f}",
            f"{answer.spent:.4f}",
        )
    )
    currency = "" if answer.prices is None else answer.prices.currency
    table = rows_html(
        rows,
        "mimo-long-answer",
        header=("", "status", "est. prompt", "reported", f"est. {currency}", f"cost {currency}"),
    )
    merged = (
        (
            ""
            if answer.merge_error is None
            else f"<div class='mimo-merged'><b>Merge</b>: {escape(answer.merge_error)}</div>"
        )
        if answer.merged is None
        else (
            f"<div class='mimo-merged'><b>Merged</b>{stand_in_badge_html(answer.merged)}"
            f"{markdown_html(answer.merged.content)}</div>"
        )
    )
    return (
        f"<div class='mimo-long'>{segment_bands_html(plan, bodies, height=160)}{merged}"
        f"{table}</div>"
    )
