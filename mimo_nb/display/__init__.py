"""Display: HTML (one home, sanitised: ``render``), plots, widgets and the report.

Depends on the core, media and API values; nothing below it imports it. Importing this package
registers how lower-layer values show themselves (:mod:`mimo_nb.core.display_hook`): the HTML
renderers in ``render`` register as it loads, and drawing is registered here so that matplotlib
is imported only when something is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mimo_nb.core.display_hook import renders
from mimo_nb.display import render  # noqa: F401  (registers the HTML renderers)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mimo_nb.core.budget import BudgetPlan


@renders("plot", "mimo_nb.core.budget.BudgetPlan")
def _plot_budget(plan: BudgetPlan, *, ax: Axes | None = None) -> Axes:
    from mimo_nb.display.plots import plot_budget_frontier

    return plot_budget_frontier(plan, ax=ax)
