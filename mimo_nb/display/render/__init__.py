"""Every piece of HTML mimo_nb shows: breakdowns, prices, costs, answers, frames, explorers,
reports.

This package is the one place HTML is built; other modules call these functions and never write
markup themselves (pictures are encoded in :mod:`mimo_nb.media.imaging`, and shown here). Every
string that reaches a page is escaped here. Importing it registers, with the display hook
(:mod:`mimo_nb.core.display_hook`), how each value of the lower layers shows itself.

One module per domain, every name importable from here:

- ``_text``: escaping, tables of escaped cells, and model text as sanitised Markdown: raw HTML
  off, then ``nh3`` with a short allow-list of tags, attributes and URL schemes, so nothing a
  model wrote can run, load or restyle the page. The only images this package ever emits are
  pictures we drew or decoded ourselves (plots, frames);
- ``tokens``: breakdowns (the API's and a server's) and an explorer's headline numbers; the
  numbers come from :mod:`mimo_nb.core.tokens`' constants, never typed again;
- ``prices``: prices, costs and the context check;
- ``answers``: the dry-run request, usage, a completion, a streaming answer, a batch;
- ``timeline``: an answer's times as chips that open the frames the model saw, and a strip;
- ``frames``: grids of thumbnails and a video's card; ``players``: inline players;
- ``figures``: a matplotlib figure as an inline PNG;
- ``budget``: the budget planner; ``profiles``: server profiles side by side;
- ``corpus``: a set of videos, its forecast and answers;
- ``explorers``: an explorer's static snapshot; ``report``: the report page;
- ``segments``: a long video's segment plan and its answer on one timeline;
- ``sweep``: a sweep of settings: accuracy with its interval against spend, the recommendation.

>>> from mimo_nb.api.response import spec_example_completion
>>> html = completion_html(spec_example_completion())   # answer, reasoning, usage, origin badge
>>> text = completion_text(spec_example_completion())    # the same as plain text
>>> "recorded response" in html and "recorded response" in text
True
"""

from __future__ import annotations

from mimo_nb.display.render._text import error_html, markdown_html
from mimo_nb.display.render.answers import (
    batch_html,
    comparison_html,
    comparison_rows,
    completion_html,
    completion_text,
    origin_badge_html,
    origin_label,
    request_html,
    streaming_html,
    usage_html,
    usage_rows,
    usage_table_html,
)
from mimo_nb.display.render.budget import budget_best_html, budget_html, budget_table_html
from mimo_nb.display.render.corpus import (
    FORECAST_COLUMNS,
    corpus_answers_html,
    corpus_summary_html,
    forecast_html,
    fps_choice_html,
)
from mimo_nb.display.render.explorers import (
    EXPLORER_CLASS,
    explorer_snapshot_html,
    explorer_style,
    widget_fallback_html,
)
from mimo_nb.display.render.figures import figure_html, plot_html
from mimo_nb.display.render.frames import (
    Images,
    frame_cell_html,
    frame_cells_html,
    frame_grid_html,
    frames_html,
    thumbnail_uri,
    video_card_html,
    video_html,
)
from mimo_nb.display.render.players import (
    animation_html,
    media_data_uri,
    player_html,
    player_note_html,
    video_player_html,
)
from mimo_nb.display.render.prices import (
    context_check_html,
    context_check_text,
    cost_html,
    cost_line_html,
    prices_html,
    prices_note_html,
    self_hosted_cost_html,
)
from mimo_nb.display.render.profiles import profile_comparison_html, profile_html
from mimo_nb.display.render.report import report_html
from mimo_nb.display.render.segments import long_answer_html, segment_plan_html
from mimo_nb.display.render.sweep import sweep_html
from mimo_nb.display.render.timeline import (
    answer_html,
    time_chip_html,
    timeline_html,
    timeline_strip_html,
)
from mimo_nb.display.render.tokens import (
    breakdown_html,
    sampled_frames_html,
    server_breakdown_html,
    server_total_html,
    token_total_html,
)

__all__ = [
    "EXPLORER_CLASS",
    "FORECAST_COLUMNS",
    "Images",
    "animation_html",
    "answer_html",
    "batch_html",
    "breakdown_html",
    "budget_best_html",
    "budget_html",
    "budget_table_html",
    "comparison_html",
    "comparison_rows",
    "completion_html",
    "completion_text",
    "context_check_html",
    "context_check_text",
    "corpus_answers_html",
    "corpus_summary_html",
    "cost_html",
    "cost_line_html",
    "error_html",
    "explorer_snapshot_html",
    "explorer_style",
    "figure_html",
    "forecast_html",
    "fps_choice_html",
    "frame_cell_html",
    "frame_cells_html",
    "frame_grid_html",
    "frames_html",
    "long_answer_html",
    "markdown_html",
    "media_data_uri",
    "origin_badge_html",
    "origin_label",
    "player_html",
    "player_note_html",
    "plot_html",
    "prices_html",
    "prices_note_html",
    "profile_comparison_html",
    "profile_html",
    "report_html",
    "request_html",
    "sampled_frames_html",
    "segment_plan_html",
    "self_hosted_cost_html",
    "server_breakdown_html",
    "server_total_html",
    "streaming_html",
    "sweep_html",
    "thumbnail_uri",
    "time_chip_html",
    "timeline_html",
    "timeline_strip_html",
    "token_total_html",
    "usage_html",
    "usage_rows",
    "usage_table_html",
    "video_card_html",
    "video_html",
    "video_player_html",
    "widget_fallback_html",
]
