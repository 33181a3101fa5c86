"""A sweep of settings (:mod:`mimo_nb.corpus.sweep`): per setting the accuracy with its 95%
interval beside tokens and cost, the recommendation in words, the plot, the forecast, and every
answer beside the answer read from it. Answers (model text) are escaped, shown on one line; a
sweep answered by the rule-based stand-in says so at the top."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mimo_nb.api.response import STAND_IN
from mimo_nb.core.display_hook import renders
from mimo_nb.core.profiles import DEFAULT_PROFILE
from mimo_nb.display.render._text import MUTED, escape, one_line
from mimo_nb.display.render.figures import plot_html

if TYPE_CHECKING:
    from mimo_nb.core.stats import Recommendation
    from mimo_nb.corpus.sweep import SweepResult, SweepRow

__all__ = ["sweep_html"]

_RIGHT = "style='text-align:right'"
_LEFT = "style='text-align:left'"  # text: JupyterLab's and nbconvert's tables align cells right
_NAME = "style='text-align:left;white-space:nowrap'"  # a setting or a task: on one line
_STAND_IN = (
    "<div class='mimo-stand-in' style='border:1px solid #b35900;color:#b35900;border-radius:4px;"
    "padding:2px 6px;margin:4px 0'><b>{label}</b>: these answers come from rules that read the "
    "frame counters of generated clips. The accuracies below measure those rules, not a model."
    "</div>"
)


def _number(value: float | None, spec: str = ",.0f") -> str:
    return "" if value is None or value != value else format(value, spec)  # None, NaN: blank


def _summary_html(result: SweepResult, chosen: Recommendation | None) -> str:
    edge = {s.label for s in result.frontier()} if chosen is not None else set()
    head = (
        f"<tr><th {_LEFT}>setting</th><th>tasks</th><th>right</th>"
        f"<th {_LEFT}>accuracy (95% Wilson interval)</th>"
        "<th>mean prompt tokens / video (reported)</th><th>(estimated)</th>"
        f"<th>mean cost / video{f' ({escape(result.currency)})' if result.currency else ''}</th>"
        "<th>frontier</th><th>recommended</th></tr>"
    )
    body = "".join(
        f"<tr><td {_NAME}>{escape(r.setting)}</td><td {_RIGHT}>{r.n:,}</td>"
        f"<td {_RIGHT}>{r.correct:,}</td><td {_LEFT}>{escape(r.interval)}</td>"
        f"<td {_RIGHT}>{_number(r.mean_prompt_tokens)}</td>"
        f"<td {_RIGHT}>{_number(r.mean_est_prompt_tokens)}</td>"
        f"<td {_RIGHT}>{_number(r.mean_cost, '.6f')}</td>"
        f"<td>{'yes' if r.setting in edge else ''}</td>"
        f"<td>{'&#9733;' if chosen is not None and r.setting == chosen.setting else ''}</td></tr>"
        for r in result.summary().itertuples(index=False)
    )
    return f"<table class='mimo-sweep-summary'>{head}{body}</table>"


def _recommendation_html(result: SweepResult, chosen: Recommendation | None) -> str:
    if chosen is None:
        return (
            f"<div class='mimo-sweep-recommendation' style='color:#b00'>{result.missing} answers "
            "are missing (errors, or not sent under max_cost; the table below says which): no "
            "frontier or recommendation until the sweep is run again with the same cache.</div>"
        )
    return (
        f"<div class='mimo-sweep-recommendation'><b>Recommended: {escape(chosen.setting)}</b>. "
        f"{escape(chosen.reason)}</div>"
    )


def _comparisons_html(result: SweepResult) -> str:
    table = result.comparisons()
    if table.empty:
        return ""
    rows = "".join(
        f"<tr><td {_NAME}>{escape(c.setting)}</td><td {_RIGHT}>{c.only_best:,}</td>"
        f"<td {_RIGHT}>{c.only_setting:,}</td><td {_RIGHT}>{c.difference:.1%}</td>"
        f"<td {_RIGHT}>{c.p_value:.3g}</td></tr>"
        for c in table.itertuples(index=False)
    )
    best = escape(table["best"].iloc[0])
    return (
        f"<details><summary>Each setting against the best, {best}, on the same tasks "
        f"({escape(table['test'].iloc[0])})</summary><table class='mimo-sweep-comparisons'>"
        f"<tr><th {_LEFT}>setting</th><th>only {best} right</th><th>only this right</th>"
        f"<th>accuracy below the best</th><th>p</th></tr>{rows}</table></details>"
    )


def _profile_html(result: SweepResult) -> str:
    """A line naming a self-hosted server's profile; nothing for the hosted API's."""
    if result.profile == DEFAULT_PROFILE:
        return ""
    return (
        f"<div class='mimo-sweep-profile'>Tokens estimated and forecast by profile "
        f"<b>{escape(result.profile)}</b> (a self-hosted server's sampling rules: vision and "
        "special tokens; its audio and timestamp text not counted), not the hosted API's "
        "formula.</div>"
    )


def _forecast_html(result: SweepResult) -> str:
    rows = "".join(
        f"<tr><td {_NAME}>{escape(f['setting'])}</td><td {_RIGHT}>{f['prompt_tokens']:,}</td>"
        f"<td {_RIGHT}>{f['output_tokens']:,}</td>"
        f"<td {_RIGHT}>{_number(f['cost'], '.6f')}</td></tr>"
        for f in result.forecast
    )
    tokens = sum(f["prompt_tokens"] + f["output_tokens"] for f in result.forecast)
    currency = escape(result.currency or "")
    money = (
        f"{sum(f['cost'] for f in result.forecast):.6f} {currency}; spent {result.spent:.6f} on "
        "live answers (replays from the cache cost nothing)"
        if result.currency
        else "no prices (an unpriced client)"
    )
    rules = "" if result.profile == DEFAULT_PROFILE else f" (by profile {result.profile!r})"
    return (
        f"<details><summary>Forecast before sending{escape(rules)}: {tokens:,} tokens for the "
        f"whole grid, {money}</summary><table><tr><th {_LEFT}>setting</th>"
        "<th>prompt tokens</th><th>output tokens (assumed)</th>"
        f"<th>cost{f' ({currency})' if currency else ''}</th></tr>{rows}</table></details>"
    )


def _who(row: SweepRow) -> str:
    if row.answer is None:
        return f"<span style='color:#b00'>{escape(row.status)}</span>"
    who = STAND_IN if row.answered_by == "stand-in" else "model"
    return escape(who + (" (cache replay)" if row.origin == "cache" else ""))


def _answers_html(result: SweepResult, max_rows: int) -> str:
    shown = result.rows[:max_rows]
    cells = "".join(
        f"<tr><td {_NAME}>{escape(r.task)}</td><td {_NAME}>{escape(r.setting)}</td>"
        f"<td {_LEFT}>{_who(r)}</td>"
        f"<td {_LEFT}>{escape(one_line(r.answer if r.answer is not None else r.error, 160))}</td>"
        f"<td {_RIGHT}>{escape(r.score.extracted if r.score.extracted is not None else '')}</td>"
        f"<td {_RIGHT}>{escape(r.score.expected)}</td>"
        f"<td {_LEFT}>{ {True: 'right', False: 'wrong', None: 'unread'}[r.score.correct] }</td>"
        f"<td style='text-align:left;{MUTED}'>{escape(r.scorer)}: {escape(r.score.note)}</td></tr>"
        for r in shown
    )
    more = len(result.rows) - len(shown)
    tail = f"<div style='{MUTED}'>… {more:,} more (to_pandas() has all)</div>" if more else ""
    return (
        f"<details><summary>Every answer ({len(result.rows):,}), beside the answer read from it"
        f"</summary><table class='mimo-sweep-answers'><tr><th {_LEFT}>task</th>"
        f"<th {_LEFT}>setting</th><th {_LEFT}>answered by</th><th {_LEFT}>answer (or error)</th>"
        f"<th>read</th><th>expected</th><th {_LEFT}>score</th><th {_LEFT}>how it was read</th>"
        f"</tr>{cells}</table>{tail}</details>"
    )


@renders("html", "mimo_nb.corpus.sweep.SweepResult")
def sweep_html(result: SweepResult, max_rows: int = 200) -> str:
    """A :class:`~mimo_nb.corpus.sweep.SweepResult`: the stand-in's label when it answered, the
    summary per setting, the recommendation in words, the plot, the forecast and the answers."""
    from mimo_nb.display.plots import FIGSIZE, plot_sweep

    chosen = None if result.missing else result.recommend()
    parts = [
        f"<div class='mimo-sweep'><div><b>Sweep</b>: {len(result.tasks):,} tasks x "
        f"{len(result.settings):,} settings, {len(result.rows) - result.missing:,} answers. "
        "Accuracy counts an answer that could not be read as not right.</div>",
        _profile_html(result),
        _STAND_IN.format(label=escape(STAND_IN)) if result.stand_in else "",
        _summary_html(result, chosen),
        _recommendation_html(result, chosen),
        plot_html(
            lambda ax: plot_sweep(result, ax=ax),
            figsize=FIGSIZE,
            alt="accuracy with its 95% interval against mean prompt tokens per video",
        ),
        "" if chosen is None else _comparisons_html(result),
        _forecast_html(result),
        _answers_html(result, max_rows),
    ]
    return "".join(parts) + "</div>"
