"""A video's tokens: the hosted API's breakdown, a self-hosted server's, and an explorer's
headline numbers.

The rows come from the core (:func:`mimo_nb.core.tokens.breakdown_rows`,
:func:`mimo_nb.core.profiles.server_breakdown_rows`), so the numbers are never typed again here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mimo_nb.core.display_hook import renders
from mimo_nb.core.profiles import server_breakdown_rows
from mimo_nb.core.tokens import breakdown_rows
from mimo_nb.display.render._text import escape, reasons_table_html, rows_html

if TYPE_CHECKING:
    from mimo_nb.core.profiles import ServerTokenBreakdown
    from mimo_nb.core.tokens import TokenBreakdown

__all__ = [
    "breakdown_html",
    "sampled_frames_html",
    "server_breakdown_html",
    "server_total_html",
    "token_total_html",
]


@renders("html", "mimo_nb.core.tokens.TokenBreakdown")
def breakdown_html(b: TokenBreakdown) -> str:
    """The breakdown as an HTML table (every cell escaped)."""
    return rows_html(breakdown_rows(b), "mimo-breakdown")


@renders("html", "mimo_nb.core.profiles.ServerTokenBreakdown")
def server_breakdown_html(b: ServerTokenBreakdown) -> str:
    """A server breakdown as an HTML table (every cell escaped), notes underneath."""
    notes = "".join(f"<li>{escape(n)}</li>" for n in b.notes)
    return reasons_table_html(server_breakdown_rows(b), "mimo-breakdown mimo-server") + (
        f"<ul style='color:#666;font-size:smaller'>{notes}</ul>" if notes else ""
    )


def sampled_frames_html(b: TokenBreakdown | ServerTokenBreakdown) -> str:
    """How many frames the model samples and the size it sees them at (an explorer's headline)."""
    return (
        f"<div class='mimo-numbers'><b>{b.frames:,}</b> frames sampled ({b.grids:,} pairs) · "
        "model frame "
        f"<b>{b.width} x {b.height}</b> (from {b.source_width} x {b.source_height})</div>"
    )


def token_total_html(b: TokenBreakdown) -> str:
    """The estimate's total and the model frame size (an explorer's headline)."""
    return (
        f"<div class='mimo-numbers'><b>{b.total:,}</b> tokens estimated · {b.frames:,} frames at "
        f"<b>{b.width} x {b.height}</b></div>"
    )


def server_total_html(b: ServerTokenBreakdown) -> str:
    """A self-hosted server's counted tokens and frame size (an explorer's headline)."""
    return (
        f"<div class='mimo-numbers'><b>{b.counted:,}</b> tokens counted (vision + special, "
        f"{escape(b.profile)}) · {b.frames:,} frames at <b>{b.width} x {b.height}</b></div>"
    )
