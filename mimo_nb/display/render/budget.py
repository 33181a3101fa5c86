"""The budget planner's answers: its verdict in one line, the frontier as a table, and the best
setting per video (:mod:`mimo_nb.core.budget`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mimo_nb.core.display_hook import renders
from mimo_nb.display.render._text import escape

if TYPE_CHECKING:
    from mimo_nb.core.budget import BudgetPlan, BudgetSetting, BudgetTable

__all__ = ["budget_best_html", "budget_html", "budget_table_html"]


def budget_best_html(plan: BudgetPlan) -> str:
    """A budget plan's verdict in one line (a budget explorer's headline)."""
    fit = f"{len(plan.settings)} of {plan.grid_size} settings fit"
    if plan.best is None:
        cheapest = plan.cheapest
        need = "" if cheapest is None else f"; the cheapest needs <b>{cheapest.tokens:,}</b> tokens"
        return f"<div class='mimo-numbers'>Nothing fits {escape(plan.budget_text)}{need}</div>"
    b = plan.best
    knob = f", media_resolution={escape(b.media_resolution)}" if b.media_resolution else ""
    return (
        f"<div class='mimo-numbers'>Best: fps={b.fps:g}{knob} · <b>{b.frames:,}</b> frames at "
        f"<b>{b.width} x {b.height}</b> · <b>{b.tokens:,}</b> tokens ({fit})</div>"
    )


def _setting_cells(s: BudgetSetting) -> str:
    cost = "" if s.cost is None else f"{s.cost:.6f}"
    return (
        f"<td style='text-align:right'>{s.fps:g}</td>"
        f"<td>{escape(s.media_resolution or '—')}</td>"
        f"<td style='text-align:right'>{s.frames}</td>"
        f"<td style='text-align:right'>{s.width} x {s.height}</td>"
        f"<td style='text-align:right'>{s.pixels_per_frame:,}</td>"
        f"<td style='text-align:right'>{s.tokens:,}</td>"
        f"<td style='text-align:right'>{cost}</td>"
    )


@renders("html", "mimo_nb.core.budget.BudgetPlan")
def budget_html(plan: BudgetPlan) -> str:
    """A :class:`~mimo_nb.core.budget.BudgetPlan`: verdict, rule, and the frontier as a table."""
    currency = "" if plan.prices is None else escape(plan.prices.currency)
    head = (
        f"<tr><th></th><th>fps</th><th>media_resolution</th><th>frames</th><th>frame size</th>"
        f"<th>pixels/frame</th><th>tokens</th><th>{currency or 'cost'}</th></tr>"
    )
    best_style = " style='font-weight:bold;background:#eef6ee'"
    rows = "".join(
        f"<tr{best_style if s == plan.best else ''}><td>{'best' if s == plan.best else ''}</td>"
        f"{_setting_cells(s)}</tr>"
        for s in plan.frontier
    )
    if plan.best is None:
        need = (
            ""
            if plan.cheapest is None
            else (
                f" The cheapest setting (fps {plan.cheapest.fps:g}, "
                f"{plan.cheapest.media_resolution or 'no media_resolution'}) "
                f"needs {plan.cheapest.tokens:,} tokens."
            )
        )
        verdict = f"<b>Nothing fits</b> {escape(plan.budget_text)}.{escape(need)}"
    else:
        b = plan.best
        verdict = (
            f"<b>Best: fps={b.fps:g}, media_resolution={escape(b.media_resolution)}</b>: "
            f"{b.frames} frames "
            f"at {b.width} x {b.height}, {b.tokens:,} tokens"
        )
    citation = (
        ""
        if plan.prices is None
        else f"<div style='color:#666;font-size:smaller'>{escape(plan.prices.citation)}</div>"
    )
    return (
        f"<div class='mimo-budget'><div>{escape(plan.profile)}: {plan.duration:g} s, "
        f"{plan.width} x {plan.height}"
        f"{', muted' if plan.mute else ''}; budget {escape(plan.budget_text)}. "
        f"{len(plan.settings)} of {plan.grid_size} settings fit "
        f"({escape(plan.grid_note)}).</div>"
        f"<div>{verdict}</div><div style='color:#666'>Rule: {escape(plan.rule)}. "
        "Frontier (frames against "
        f"pixels per frame; nothing that fits beats these on both):</div>"
        f"<table class='mimo-budget-frontier'>{head}{rows}</table>{citation}</div>"
    )


@renders("html", "mimo_nb.core.budget.BudgetTable")
def budget_table_html(table: BudgetTable, max_rows: int = 20) -> str:
    """A :class:`~mimo_nb.core.budget.BudgetTable`: the best setting per video (``max_rows``)."""
    n = len(table)
    head = (
        "<tr><th>#</th><th>fps</th><th>media_resolution</th><th>frames</th><th>frame size</th>"
        "<th>tokens</th>" + ("<th>cost</th>" if table.cost is not None else "") + "</tr>"
    )
    rows = []
    for i in range(min(n, max_rows)):
        s = table.setting(i)
        if s is None:
            rows.append(f"<tr><td>{i}</td><td colspan='6'>nothing fits</td></tr>")
            continue
        cost = "" if s.cost is None else f"<td style='text-align:right'>{s.cost:.6f}</td>"
        rows.append(
            f"<tr><td>{i}</td><td style='text-align:right'>{s.fps:g}</td>"
            f"<td>{escape(s.media_resolution or '—')}</td>"
            f"<td style='text-align:right'>{s.frames}</td>"
            f"<td style='text-align:right'>{s.width} x {s.height}</td>"
            f"<td style='text-align:right'>{s.tokens:,}</td>{cost}</tr>"
        )
    more = (
        f"<div style='color:#666'>… {n - max_rows:,} more (to_pandas() has all)</div>"
        if n > max_rows
        else ""
    )
    return (
        f"<div class='mimo-budget-table'><div>{escape(table.profile)}: "
        f"best setting for {n:,} videos "
        f"({int(table.fits.sum()):,} fit); rule: {escape(table.rule)}</div>"
        f"<table>{head}{''.join(rows)}</table>{more}</div>"
    )
