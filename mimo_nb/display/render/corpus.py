"""A set of videos (:mod:`mimo_nb.corpus`): what it holds, its forecast, the fps a budget allows,
and the answers. File names, error messages and answers are escaped."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mimo_nb.core.profiles import DEFAULT_PROFILE
from mimo_nb.display.render._text import MUTED, escape, one_line
from mimo_nb.display.render.figures import figure_html, plot_html

if TYPE_CHECKING:
    from mimo_nb.corpus import CorpusAnswers, CorpusSummary, Forecast, FpsChoice

__all__ = [
    "FORECAST_COLUMNS",
    "corpus_answers_html",
    "corpus_summary_html",
    "forecast_html",
    "fps_choice_html",
]


def _count_table_html(title: str, counts: dict[str, int]) -> str:
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td style='text-align:right'>{v:,}</td></tr>"
        for k, v in counts.items()
    )
    return (
        f"<table style='display:inline-table;margin-right:1.5em;vertical-align:top'>"
        f"<tr><th colspan=2 style='text-align:left'>{escape(title)}</th></tr>{rows}</table>"
    )


def corpus_summary_html(summary: CorpusSummary) -> str:
    """A :class:`~mimo_nb.corpus.CorpusSummary`: counts, hours, formats, size classes, failures and
    histograms of duration and file size. File names and error messages are escaped."""
    s = summary
    parts = [
        f"<div class='mimo-corpus'><div><b>{s.count:,} items</b> from {escape(s.source)}: "
        f"{s.probed:,} probed, {s.failed:,} failed · {s.hours:.2f} hours of video "
        f"({s.hours * 60:.1f} min) · {s.total_bytes / 2**20:.2f} MB · "
        f"{s.with_audio:,} with audio</div>",
        "<div>"
        + _count_table_html("format", s.formats)
        + _count_table_html("size class", s.size_classes)
        + _count_table_html("delivery (base64 / url / needs fit)", s.delivery)
        + (_count_table_html("failures", s.failures) if s.failures else "")
        + "</div>",
    ]
    if s.failure_examples:
        rows = "".join(
            f"<tr><td>{escape(n)}</td><td>{escape(t)}</td><td>{escape(e[:200])}</td></tr>"
            for n, t, e in s.failure_examples
        )
        parts.append(
            f"<details><summary>failed items (first {len(s.failure_examples)})</summary>"
            "<table><tr><th>item</th><th>error</th><th>message</th></tr>"
            f"{rows}</table></details>"
        )
    if s.durations:
        parts.append(figure_html(s.figure(), alt="histograms of duration and file size"))
    return "".join(parts) + "</div>"


FORECAST_COLUMNS = (
    "fps",
    "media_resolution",
    "frames",
    "vision_tokens",
    "audio_tokens",
    "prompt_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
)


def _forecast_cell(value: object, currency: str = "") -> str:
    if value is None:  # a server profile's audio
        return f"<span style='{MUTED}'>not counted</span>"
    if currency:
        return f"{value:,.4f} {escape(currency)}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    return escape(value)


def forecast_html(forecast: Forecast) -> str:
    """A :class:`~mimo_nb.corpus.Forecast`: what it assumes, one row per setting, and its plot."""
    f = forecast
    left_out = f" ({f.excluded:,} failed items left out)" if f.excluded else ""
    columns: tuple[str, ...] = FORECAST_COLUMNS
    rules = "the spec's formula per video"
    if f.profile != DEFAULT_PROFILE:
        refused = max((r.get("refused", 0) for r in f.rows), default=0)
        rules = (
            f"profile {escape(repr(f.profile))}'s sampling rules per video (a self-hosted "
            "server's: vision and special tokens; its audio and timestamp text not counted"
            + (f"; up to {refused:,} videos it would reject count 0" if refused else "")
            + ")"
        )
        columns = (*FORECAST_COLUMNS, "refused")
    head = (
        f"<div class='mimo-forecast'><div><b>Forecast</b> for {f.videos:,} videos{left_out}: "
        f"{rules}, {f.text_tokens:,} text tokens and {f.output_tokens:,} "
        f"output tokens each (assumed). Prices: {escape(f.prices.citation)}.</div>"
    )
    header = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td style='text-align:right'>"
            f"{_forecast_cell(r[c], r['currency'] if c == 'cost' else '')}</td>"
            for c in columns
        )
        + "</tr>"
        for r in f.rows
    )
    plot = ""
    if len(f.rows) > 1:
        plot = plot_html(f.plot, figsize=(7.0, 3.6), alt="forecast: tokens against fps")
    return f"{head}<table><tr>{header}</tr>{body}</table>{plot}</div>"


def fps_choice_html(choice: FpsChoice) -> str:
    """A :class:`~mimo_nb.corpus.FpsChoice`: the verdict and the curve against the budget."""
    note = (
        ""
        if choice.monotonic
        else (" (tokens are not monotonic in fps here: some lower fps may cost more)")
    )
    plot = plot_html(
        choice.plot, figsize=(7.0, 3.4), alt="tokens or cost against fps, with the budget"
    )
    return f"<div class='mimo-fps-choice'><div>{escape(choice)}{escape(note)}</div>{plot}</div>"


def _cell(value: object, spec: str = ",") -> str:
    """A table cell's text: blank for a missing value, else ``value`` formatted by ``spec``."""
    try:
        missing = value is None or bool(value != value)  # None, NaN and pandas' NA
    except TypeError:  # pandas' NA refuses bool()
        missing = True
    return "" if missing else escape(format(value, spec))


def corpus_answers_html(answers: CorpusAnswers, max_rows: int = 50) -> str:
    """A :class:`~mimo_nb.corpus.CorpusAnswers`: the outcome, then per item its status, estimate
    beside actual, cost and the answer (one line, escaped) or error. A dry run shows the first
    request exactly as it would be sent instead."""
    body = f"<div class='mimo-corpus-answers'><div>{escape(answers)}</div>"
    if answers.dry_run:
        if answers.requests:
            body += (
                "<div>The first request, exactly as it would be sent (base64 elided):</div>"
                f"<pre style='white-space:pre-wrap'>{escape(answers.requests[0])}</pre>"
            )
        return body + "</div>"
    table = answers.to_pandas()
    shown = table.head(max_rows)
    rows = []
    for r in shown.itertuples(index=False):
        if r.content is not None and r.status in ("answered", "replayed"):
            said = escape(one_line(r.content))
        else:
            error = f"{r.error_type}: {r.error}" if isinstance(r.error_type, str) else r.error
            said = (
                f"<span style='color:#b00'>{escape(one_line(error))}</span>"
                if isinstance(error, str)
                else ""
            )
        rows.append(
            f"<tr><td>{escape(r.name)}</td><td>{escape(r.status)}</td>"
            f"<td style='text-align:right'>{_cell(r.est_prompt_tokens)}</td>"
            f"<td style='text-align:right'>{_cell(r.prompt_tokens)}</td>"
            f"<td style='text-align:right'>{_cell(r.completion_tokens)}</td>"
            f"<td style='text-align:right'>{_cell(r.est_cost, '.6f')}</td>"
            f"<td style='text-align:right'>{_cell(r.cost, '.6f')}"
            f"{' (reserved: no usage)' if r.cost_reserved else ''}</td><td>{said}</td></tr>"
        )
    currency = "" if answers.prices is None else f" ({escape(answers.prices.currency)})"
    more = (
        f"<div style='{MUTED}'>… {len(table) - max_rows:,} more (to_pandas() has all)</div>"
        if len(table) > max_rows
        else ""
    )
    return (
        body + "<table class='mimo-corpus-answers-table'><tr><th>item</th><th>status</th>"
        "<th>est. prompt tokens</th><th>prompt tokens</th><th>completion tokens</th>"
        f"<th>est. cost{currency}</th><th>cost{currency}</th><th>answer or error</th></tr>"
        + "".join(rows)
        + f"</table>{more}</div>"
    )
