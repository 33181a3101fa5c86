"""HTML and text renderings of mimo_nb's values (placeholder; grown by the UI work)."""
from __future__ import annotations

import html
from typing import Any


def breakdown_rows(b: Any) -> list[tuple[str, str, str]]:
    """(step, value, explanation) rows of a TokenBreakdown, in the spec's order."""
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
    rows = breakdown_rows(b)
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    return "\n".join(f"{k:<{width}}  {v:>{vwidth}}  {why}" for k, v, why in rows)


def breakdown_html(b: Any) -> str:
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:right'>"
        f"{html.escape(v)}</td><td style='color:#666'>{html.escape(why)}</td></tr>"
        for k, v, why in breakdown_rows(b)
    )
    return f"<table class='mimo-breakdown'>{body}</table>"


def cost_html(cost: Any) -> str:
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
