"""One self-contained HTML report about one video: what MiMo sees, what it costs, what it said.

The report is a single file you can mail or hand in: every image is an inline base64 PNG or
JPEG, there is no script, no external stylesheet or font, and a Content-Security-Policy in the
page forbids loading anything else. Its sections, in order:

1. **video**: the file's card (format, duration, size, frame rate, audio, bytes, sha256);
2. **frames**: the frames the model sees at the chosen ``fps`` and ``media_resolution``;
3. **tokens**: the spec's formula step by step (:func:`mimo_nb.core.tokens.explain_video_tokens`);
   when the video is over the limits (more frames asked than one request keeps, or a file over
   the base64 limit), **segments**: the segment plan that sends it whole at the fps asked
   (:func:`mimo_nb.media.segments.plan_video_segments`);
4. **curves**: tokens against fps and resolution, cost against duration, this video marked;
5. **cost**: the request's estimated cost, with the prices' citation;
6. **answer**: the model's answer when an API key is set, else the exact request, labelled
   "dry run: not sent".

Building is split in two: :func:`collect_report` does the I/O (opens and decodes the video, asks
the model) and returns a :class:`ReportData`; :func:`render_report` turns that into HTML and is
pure, so the same inputs give the same bytes (no clock unless you pass ``generated_at``).

>>> write_report("clip.mp4", "report.html", fps=1).name   # no key set: the answer is a dry run
'report.html'
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from mimo_nb.core import validate
from mimo_nb.core.limits import BASE64_LIMIT_BYTES, base64_length
from mimo_nb.core.pricing import (
    Cost,
    Prices,
    as_prices,
    estimate_cost,
    estimate_text_tokens,
    load_prices,
)
from mimo_nb.core.tokens import TokenBreakdown, validate_fps, validate_media_resolution
from mimo_nb.display.render import report_html
from mimo_nb.errors import MimoError, VideoError
from mimo_nb.media import encode as _encode
from mimo_nb.media.imaging import figure_png

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mimo_nb.api.client import MimoClient
    from mimo_nb.api.request import PreparedRequest
    from mimo_nb.api.response import Completion
    from mimo_nb.core.segments import SegmentPlan
    from mimo_nb.media.video import Video

__all__ = [
    "DEFAULT_PROMPT",
    "DRY_RUN_LABEL",
    "ReportData",
    "ReportFigure",
    "build_report",
    "check_knobs",
    "check_output",
    "collect_report",
    "over_limits",
    "render_report",
    "write_html",
    "write_report",
]

DEFAULT_PROMPT = "please describe the content of the video"  # the spec page's example question
DRY_RUN_LABEL = "dry run: not sent"
MAX_FRAMES_SHOWN = 60  # a 10-minute clip at fps 2 has 1200 frames; the grid shows the first ones
FIGURE_DPI = 80  # small PNGs: the report stays a few hundred kB
# What a report is about: an opened video, a local path, the file's bytes or an http(s) URL.
Source: TypeAlias = "Video | str | os.PathLike[str] | bytes"


@dataclass(frozen=True)
class ReportFigure:
    """One plot of the report: a caption and the PNG we drew."""

    caption: str
    png: bytes


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, gathered once; :func:`render_report` only formats it.

    ``video_card`` and ``frames_grid`` are HTML made by :mod:`mimo_nb.media.video` (strings in them
    are escaped there); every other string here is escaped when rendered.
    """

    title: str
    video_name: str
    sha256: str
    video_card: str
    frames_grid: str
    breakdown: TokenBreakdown
    prompt: str
    request_text: str
    estimated_prompt_tokens: int
    cost: Cost
    max_completion_tokens: int
    figures: tuple[ReportFigure, ...]
    completion: Completion | None = None  # when the model was asked
    error: str | None = None  # why asking failed, when it did
    generated_at: str | None = None
    settings: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    over_limits: tuple[str, ...] = ()  # why one request cannot take the video as asked
    segment_plan: SegmentPlan | None = None  # the plan that can, when over the limits
    segment_error: str | None = None  # why there is no plan, when planning failed

    @property
    def sent(self) -> bool:
        """True when the report holds a model answer (live or replayed), not a dry run."""
        return self.completion is not None


# ---- Collecting: the I/O --------------------------------------------------------------------


def _figures(video: Video, breakdown: TokenBreakdown, prices: Prices) -> tuple[ReportFigure, ...]:
    """Token and cost curves around this video, each with the video's own setting marked."""
    from mimo_nb.display import plots  # matplotlib is imported only when a report is drawn

    def draw(plot: Callable[..., Axes], *args: float, **kwargs: Any) -> bytes:
        return figure_png(plots.drawn(plot, *args, **kwargs), dpi=FIGURE_DPI)

    mute = not video.has_audio
    res = breakdown.media_resolution
    short, long_ = sorted((video.width, video.height))
    cost_fps = sorted({1.0, 2.0, float(breakdown.fps)})
    by_fps = draw(
        plots.plot_tokens_vs_fps,
        video.duration,
        video.width,
        video.height,
        mute=mute,
        current=breakdown.fps,
    )
    by_res = draw(
        plots.plot_tokens_vs_frame_size,
        video.duration,
        breakdown.fps,
        aspect=long_ / short,
        portrait=video.height > video.width,
        max_short_side=max(2160, short),
        mute=mute,
        current=short,
    )
    by_cost = draw(
        plots.plot_cost,
        video.width,
        video.height,
        fps=cost_fps,
        media_resolution=res,
        max_duration=max(600.0, video.duration),
        prices=prices,
        mute=mute,
        current=video.duration,
    )
    return (
        ReportFigure(
            "Tokens against fps for this video "
            f"({video.duration:g} s, {video.width}x{video.height}); "
            f"the vertical line is fps {breakdown.fps:g}.",
            by_fps,
        ),
        ReportFigure(
            f"Tokens against frame size at fps {breakdown.fps:g}; "
            "the vertical line is this video's "
            f"short side ({short} px).",
            by_res,
        ),
        ReportFigure(
            f"Prompt cost against duration at {video.width}x{video.height}, "
            f"media_resolution={res}; "
            f"the vertical line is this video ({video.duration:g} s); prices as cited under Cost.",
            by_cost,
        ),
    )


def _video_card(video: Video) -> str:
    """The video's own card: a thumbnail strip and its metadata (escaped by mimo_nb.media.video)."""
    return video._repr_html_()


def over_limits(video: Video, plan: SegmentPlan | None) -> tuple[str, ...]:
    """Why one request cannot take ``video`` as asked: the frame cap (from ``plan``'s
    unsegmented numbers) and the base64 limit; empty when it can."""
    reasons = []
    if plan is not None and plan.unsegmented.lost_frames:
        one = plan.unsegmented
        reasons.append(
            f"at fps {plan.fps:g} the video asks for {one.asked:,} frames and one request keeps "
            f"{one.frames:,} (an effective {one.effective_fps:.2f} fps, each at "
            f"{one.breakdown.width}x{one.breakdown.height})"
        )
    encoded = base64_length(video.size_bytes)
    if encoded > BASE64_LIMIT_BYTES:
        reasons.append(
            f"the file is {video.size_bytes / 2**20:.1f} MB, so its base64 text would be "
            f"{encoded / 2**20:.1f} MB: over the {BASE64_LIMIT_BYTES / 2**20:.0f} MB limit"
        )
    return tuple(reasons)


def _segments(
    video: Video, fps: float, media_resolution: str
) -> tuple[tuple[str, ...], SegmentPlan | None, str | None]:
    """The video's limits and, when it is over them, its segment plan (or why there is none)."""
    from mimo_nb.media.segments import plan_video_segments

    plan: SegmentPlan | None = None
    error: str | None = None
    try:
        plan = plan_video_segments(video, fps=fps, media_resolution=media_resolution).plan
    except MimoError as exc:
        error = f"{type(exc).__name__}: {exc}"
    reasons = over_limits(video, plan)
    if not reasons:
        return (), None, None
    return reasons, plan, error


def check_knobs(
    fps: Any, media_resolution: Any, max_completion_tokens: Any, max_frames: Any = 0
) -> tuple[float, str, int, int]:
    """The report's knobs checked (:mod:`mimo_nb.validate`), as :func:`collect_report` uses them."""
    return (
        validate_fps(fps),
        validate_media_resolution(media_resolution),
        validate.positive_int("max_completion_tokens", max_completion_tokens),
        validate.non_negative_int("max_frames", max_frames),
    )


def collect_report(
    source: Source,
    *,
    fps: float = 2.0,
    media_resolution: str = "default",
    prompt: str = DEFAULT_PROMPT,
    client: MimoClient | None = None,
    send: bool | None = None,
    prices: Prices | None = None,
    max_completion_tokens: int = 1024,
    max_frames: int = MAX_FRAMES_SHOWN,
    generated_at: str | None = None,
    title: str | None = None,
) -> ReportData:
    """Open ``source``, sample it, estimate, draw the curves and (with a key) ask the model.

    Args:
        source: a :class:`~mimo_nb.media.video.Video`, a local path, bytes or an http(s) URL.
        fps, media_resolution: the sampling the request asks for.
        prompt: the question sent with the video.
        client: a :class:`~mimo_nb.api.client.MimoClient`; one is made from the environment if None.
        send: ask the model; default: only when ``MIMO_API_KEY`` is set. Without sending, the
            report shows the exact request instead, labelled as a dry run.
        prices: prices for the cost (default: the shipped, cited CNY prices).
        max_completion_tokens: the answer's budget; the cost counts it as the output, an upper
            bound.
        max_frames: how many frames the grid shows at most.
        generated_at: a date/time string to print in the header; none by default, so the same
            inputs give the same file.
        title: the report's heading (default: the video's file name).
    """
    fps, media_resolution, max_completion_tokens, max_frames = check_knobs(
        fps, media_resolution, max_completion_tokens, max_frames
    )  # cheap checks first: a bad knob fails before any decoding
    from mimo_nb.api.client import MimoClient
    from mimo_nb.media.video import Video

    prices = as_prices(prices) or load_prices()
    video = source if isinstance(source, Video) else Video.open(source)
    client = client if client is not None else MimoClient(prices=prices)
    send = bool(os.environ.get("MIMO_API_KEY")) if send is None else send

    breakdown = video.estimate(fps=fps, media_resolution=media_resolution)
    frames = video.sample(fps=fps, media_resolution=media_resolution)
    reasons, plan, plan_error = _segments(video, fps, media_resolution)
    completion, error = None, None
    request: PreparedRequest | None = None
    try:
        request = client.build_request(
            video,
            prompt,
            fps=fps,
            media_resolution=media_resolution,
            max_completion_tokens=max_completion_tokens,
        )
    except MimoError as exc:
        if not reasons:  # only a video over the limits may fail here; anything else is a bug
            raise
        request_text = f"One request cannot send this video: {exc}"
        prompt_tokens = breakdown.total + estimate_text_tokens(prompt)
        error = f"{type(exc).__name__}: {exc}" if send else None
    if request is not None:
        request_text, prompt_tokens = str(request), request.estimate.prompt_tokens
    if send and request is not None:
        try:
            completion = client.send(request)
        except MimoError as exc:  # the report still shows everything else, and why asking failed
            error = f"{type(exc).__name__}: {exc}"
    return ReportData(
        title=title or video.name,
        video_name=video.name,
        sha256=video.sha256(),
        video_card=_video_card(video),
        frames_grid=frames.to_html(columns=6, max_frames=max_frames),
        breakdown=breakdown,
        prompt=prompt,
        request_text=request_text,
        estimated_prompt_tokens=prompt_tokens,
        cost=estimate_cost(prompt_tokens, prices, output_tokens=max_completion_tokens),
        max_completion_tokens=max_completion_tokens,
        figures=_figures(video, breakdown, prices),
        completion=completion,
        error=error,
        generated_at=generated_at,
        settings=(
            ("fps", f"{fps:g}"),
            ("media_resolution", media_resolution),
            ("model", str(getattr(client, "model", "?"))),
            ("max_completion_tokens", f"{max_completion_tokens:,}"),
        ),
        over_limits=reasons,
        segment_plan=plan,
        segment_error=plan_error,
    )


# ---- Rendering: pure -------------------------------------------------------------------------


def render_report(data: ReportData) -> str:
    """The report as one HTML document (built by :func:`mimo_nb.display.render.report_html`): same
    data, same bytes.

    >>> render_report(collect_report("clip.mp4")).startswith("<!DOCTYPE html>")
    True
    """
    return report_html(data, dry_run_label=DRY_RUN_LABEL)


def build_report(source: Source, **kwargs: Any) -> str:
    """:func:`collect_report` then :func:`render_report`: the report as an HTML string."""
    validate.keywords("build_report", kwargs, collect_report)
    return render_report(collect_report(source, **kwargs))


def write_report(source: Source, out: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write the report for ``source`` to ``out`` (UTF-8) and return its path.

    Keyword arguments are those of :func:`collect_report`.
    """
    check_output(out)  # before the work: a folder or a bad path fails at once
    validate.keywords("write_report", kwargs, collect_report)
    return write_html(out, build_report(source, **kwargs))


def check_output(out: Any) -> Path:
    """Where a report may go: a file path that is not a folder (:class:`VideoError`
    ``unwritable`` if it is; :class:`LimitError` if it is no path at all)."""
    text = _encode.path_argument(out, "the report's output")
    if os.path.isdir(text):
        raise VideoError(
            f"{text!r} is a folder; give a file name inside it, e.g. "
            f"{os.path.join(text, 'report.html')!r}.",
            reason="unwritable",
            source=text,
        )
    return Path(text)


def write_html(out: str | os.PathLike[str], html_text: str) -> Path:
    """Write ``html_text`` to ``out`` (UTF-8), creating its folder; a failure (a folder, no
    space, no permission) is a :class:`VideoError` ``unwritable`` that says what to do."""
    path = check_output(out)
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html_text, encoding="utf-8")
    except OSError as exc:
        if not existed and path.is_file():  # never a half-written report
            path.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise VideoError(
                f"Cannot write {str(path)!r}: no space left on the device. Free some space or "
                "write the report elsewhere (-o).",
                reason="unwritable",
                source=str(path),
            ) from None
        raise _encode._unwritable(path, exc) from None
    return path
