"""Plots on the page: a matplotlib figure we drew, as an inline PNG ``<img>``.

The figure is encoded once, by :func:`mimo_nb.media.imaging.figure_png` (no timestamp, so the
same figure gives the same bytes), and drawn off screen by :func:`mimo_nb.display.plots.drawn`
when it is made only for a page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mimo_nb.display.render._text import escape
from mimo_nb.display.render.players import media_data_uri
from mimo_nb.media import imaging as _imaging

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = ["figure_html", "plot_html"]


def figure_html(fig: Figure | SubFigure, *, dpi: int = 100, alt: str = "plot") -> str:
    """An ``<img>`` holding the figure as an inline PNG that we drew (never from model text)."""
    uri = media_data_uri(_imaging.figure_png(fig, dpi=dpi), "image/png")
    return f"<img alt='{escape(alt)}' style='max-width:100%;height:auto' src='{uri}'/>"


def plot_html(
    plot: Callable[..., Axes],
    *,
    figsize: tuple[float, float],
    alt: str,
    dpi: int = 100,
) -> str:
    """``plot(ax=...)`` drawn on a figure of our own (never shown on its own), as an ``<img>``."""
    from mimo_nb.display.plots import drawn  # matplotlib only when something is drawn

    return figure_html(drawn(plot, figsize=figsize), dpi=dpi, alt=alt)
