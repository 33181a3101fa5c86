"""An answer's times on the page: each a chip that opens the frames the model saw at that time,
and a strip of the video's duration with a tick per sampled frame and a span per time.

No JavaScript: a chip is a ``<details>`` whose ``<summary>`` is the time as the model wrote it,
so it opens in a live notebook, in a static HTML export and in the report alike. The frames are
decoded lazily, only those a time refers to, at thumbnail size. The answer itself still goes
through :func:`~._text.markdown_html` whole: each time is swapped for a private marker before
sanitising and the marker for its chip after, so model text is sanitised exactly as before; a
marker that did not come through intact (a time inside a link's URL) leaves the answer as it was,
with the chips listed under it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from mimo_nb.core.display_hook import renders
from mimo_nb.core.times import write_time
from mimo_nb.display.render._text import MUTED, escape, markdown_html
from mimo_nb.display.render.frames import thumbnail_uri
from mimo_nb.errors import MimoError
from mimo_nb.media import decode

if TYPE_CHECKING:
    from mimo_nb.api.timeline import Timeline
    from mimo_nb.core.timemap import SampledFrame

__all__ = ["answer_html", "timeline_html", "timeline_strip_html", "time_chip_html"]

THUMB_WIDTH = 160
_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use characters: a marker model text cannot forge
_MARKER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_FLAG = "#b35900"
_STRIP_HIDDEN = (
    "The timeline strip is a drawing (SVG), which JupyterLab shows only in trusted outputs: run "
    "the cell, or trust the notebook (command palette: Trust Notebook), to see it."
)
_OK = "#1a7f37"


def thumbnails(timeline: Timeline) -> tuple[dict[int, str], str]:
    """JPEG data URIs of the frames the timeline's times refer to, by file index, decoded now
    at thumbnail size; and a note when they cannot be (no video, the file changed)."""
    video = timeline.video
    wanted = sorted({f.file_index for item in timeline.times for f in item.frames})
    if video is None or not wanted:
        return {}, "" if not wanted else "no pictures: the video is not at hand"
    try:
        video.check_unchanged()
        width = min(THUMB_WIDTH, video.width)
        height = max(2, round(video.height * width / video.width / 2) * 2)
        array = decode.read_frames(video.probe_info, wanted, (width, height), timeout=30.0)
    except MimoError as exc:
        return {}, f"no pictures: {exc}"
    return {
        i: thumbnail_uri(np.asarray(a), THUMB_WIDTH) for i, a in zip(wanted, array, strict=True)
    }, ""


def _caption(frame: SampledFrame) -> str:
    return (
        f"frame {frame.request_index} · {write_time(frame.request_time, 3)} · "
        f"file #{frame.file_index}"
    )


def _figure(frame: SampledFrame, uri: str | None) -> str:
    caption = escape(_caption(frame))
    picture = (
        f"<img src='{uri}' alt='{caption}' style='display:block;max-width:{THUMB_WIDTH}px'/>"
        if uri
        else ""
    )
    return (
        "<figure class='mimo-chip-frame' style='margin:0;text-align:center'>"
        f"{picture}<figcaption style='font:11px monospace;color:#444'>{caption}</figcaption>"
        "</figure>"
    )


def time_chip_html(timeline: Timeline, index: int, pictures: dict[int, str]) -> str:
    """The chip of the timeline's ``index``-th time: the time as written, coloured by its flags,
    its explanation on hover; opened, the frames it falls on or between, with their times."""
    ref = timeline.refs[index]
    if not timeline.times:
        return (
            f"<span class='mimo-time' title='{escape(timeline.note)}' style='border-bottom:1px "
            f"dotted #888'>{escape(ref.text)}</span>"
        )
    item = timeline.times[index]
    colour = _FLAG if item.flags else _OK
    mark = " ⚠" if item.flags else ""
    why = timeline.explain(item)
    frames = "".join(_figure(f, pictures.get(f.file_index)) for f in item.frames)
    said = f"<div style='color:{_FLAG};font-size:smaller'>{escape(why)}</div>" if why else ""
    return (
        f"<details class='mimo-chip' data-time='{index}' "
        "style='display:inline-block;vertical-align:top;margin:0 1px'>"
        f"<summary class='mimo-time{' mimo-flagged' if item.flags else ''}' "
        f"title='{escape(timeline.line(item))}' style='cursor:pointer;list-style:none;"
        f"display:inline;border:1px solid {colour};color:{colour};border-radius:8px;"
        f"padding:0 5px'>{escape(ref.text)}{mark}</summary>"
        "<div class='mimo-chip-body' style='border:1px solid #ddd;border-radius:6px;"
        "padding:4px;margin:2px 0;background:#fafafa'>"
        f"<div style='{MUTED}'>{escape(timeline.where(item))}</div>"
        f"<div class='mimo-chip-frames' style='display:flex;gap:4px'>{frames}</div>{said}"
        "</div></details>"
    )


def answer_html(timeline: Timeline, pictures: dict[int, str] | None = None) -> str:
    """The answer as sanitised Markdown with each time as a chip (see the module docstring)."""
    text = timeline.text.replace(_OPEN, "\ufffd").replace(_CLOSE, "\ufffd")  # same length
    if not timeline.refs:
        return markdown_html(text)
    pictures = pictures if pictures is not None else thumbnails(timeline)[0]
    pieces, last = [], 0
    for i, ref in enumerate(timeline.refs):
        pieces += [text[last : ref.span[0]], f"{_OPEN}{i}{_CLOSE}"]
        last = ref.span[1]
    html = markdown_html("".join([*pieces, text[last:]]))
    found = [int(m) for m in _MARKER.findall(html)]
    if found != list(range(len(timeline.refs))):  # a marker was eaten or moved: no chips inline
        chips = " ".join(time_chip_html(timeline, i, pictures) for i in range(len(timeline.refs)))
        return f"{markdown_html(text)}<div class='mimo-chips'>{chips}</div>"
    html = _MARKER.sub(lambda m: time_chip_html(timeline, int(m[1]), pictures), html)
    # a <details> may not stand in a <p> (the parser would close it): paragraphs become divs
    return html.replace("<p>", "<div class='mimo-p' style='margin:0 0 .6em'>").replace(
        "</p>", "</div>"
    )


def _label_width(text: str) -> float:
    """About how wide a span's label is drawn (11 px monospace, a mark), in pixels."""
    return 7 * (len(text) + 2) + 6


def _lanes(spans: list[tuple[float, float]]) -> list[int]:
    """A lane per span (in pixels), so no two overlap: the first lane free at its start."""
    ends: list[float] = []
    lanes = []
    for start, stop in spans:
        lane = next((k for k, end in enumerate(ends) if end <= start), len(ends))
        if lane == len(ends):
            ends.append(stop)
        ends[lane] = stop
        lanes.append(lane)
    return lanes


def timeline_strip_html(timeline: Timeline, width: int = 640) -> str:
    """An SVG strip: the video's duration, a tick per sampled frame, each time a labelled span
    (flagged ones in orange, their explanation on hover)."""
    timemap = timeline.timemap
    if timemap is None:
        return ""
    latest = max([timemap.duration, *(r.end or r.start for r in timeline.refs)])
    left, right = 8, width - 8

    def x(t: float) -> float:
        return round(left + (right - left) * t / latest, 1)

    order = sorted(range(len(timeline.times)), key=lambda i: timeline.refs[i].start)
    boxes = {}
    for i in order:
        ref = timeline.refs[i]
        start = min(x(ref.start), right - _label_width(ref.text))  # a label stays on the strip
        boxes[i] = (start, max(x(ref.end or ref.start), start + _label_width(ref.text)) + 4)
    lanes = dict(zip(order, _lanes([boxes[i] for i in order]), strict=True))
    rows = max(lanes.values(), default=-1) + 1
    axis = 22 + 18 * rows
    height = axis + 26
    ticks = "".join(
        f"<line x1='{x(f.request_time)}' x2='{x(f.request_time)}' y1='{axis - 6}' "
        f"y2='{axis + 6}' stroke='#555'><title>{escape(_caption(f))}</title></line>"
        for f in timemap.frames
    )
    spans = []
    for i, item in enumerate(timeline.times):
        ref, y = item.ref, 18 + 18 * lanes[i]
        colour = _FLAG if item.flags else _OK
        start, stop = x(ref.start), x(ref.end if ref.end is not None else ref.start)
        spans.append(
            f"<g class='mimo-span' data-time='{i}'><title>{escape(timeline.line(item))}</title>"
            f"<rect x='{start}' y='{y - 12}' width='{max(stop - start, 3)}' height='14' "
            f"fill='{colour}' fill-opacity='0.18' stroke='{colour}'/>"
            f"<line x1='{start}' x2='{start}' y1='{y + 2}' y2='{axis}' stroke='{colour}' "
            f"stroke-dasharray='2,2'/><text x='{boxes[i][0] + 3}' y='{y}' font-size='11' "
            f"font-family='monospace' fill='{colour}'>{escape(ref.text)}"
            f"{' ⚠' if item.flags else ''}</text></g>"
        )
    end = x(timemap.duration)
    frame_word = "frame" if len(timemap) == 1 else "frames"
    # JupyterLab drops <svg> and its elements from an untrusted output (a notebook received and
    # opened afresh) but keeps their text: at font-size 0 that text takes no room (the drawing's
    # own sizes are set on each <text>), and the note in the empty <foreignObject>, never drawn
    # in the SVG, is all that shows. The chips carry every time and flag in plain HTML.
    return (
        "<div class='mimo-strip' style='font-size:0;line-height:0'>"
        f"<svg class='mimo-timeline-strip' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' xmlns='http://www.w3.org/2000/svg'>"
        f"<foreignObject width='0' height='0'><div class='mimo-strip-hidden' "
        f"style='color:#666;font-size:12px;line-height:normal'>{_STRIP_HIDDEN}</div>"
        "</foreignObject>"
        f"<rect x='{left}' y='{axis - 2}' width='{end - left}' height='4' fill='#ccc'/>"
        f"{ticks}{''.join(spans)}"
        f"<text x='{left}' y='{axis + 20}' font-size='11' fill='#666'>0 s</text>"
        f"<text x='{end}' y='{axis + 20}' font-size='11' fill='#666' text-anchor='end'>"
        f"{timemap.duration:g} s · {len(timemap)} {frame_word} sent</text></svg></div>"
    )


@renders("html", "mimo_nb.api.timeline.Timeline")
def timeline_html(timeline: Timeline) -> str:
    """A timeline: its head, the strip, each time as a chip with where it falls, and its note."""
    label = f" ({timeline.label})" if timeline.label else ""
    if not timeline.known:
        chips = " ".join(time_chip_html(timeline, i, {}) for i in range(len(timeline.refs)))
        return (
            f"<div class='mimo-timeline'><div><b>{len(timeline.refs)}</b> times in the answer"
            f"{escape(label)}, not tied to frames: {chips or 'none'}</div>"
            f"<div style='{MUTED}'>{escape(timeline.note)}</div></div>"
        )
    pictures, missing = thumbnails(timeline)
    rows = "".join(
        f"<tr><td>{time_chip_html(timeline, i, pictures)}</td>"
        f"<td style='{MUTED}'>{escape(timeline.where(item))}</td>"
        f"<td style='text-align:right;white-space:nowrap'>{item.gap:.3g} s</td>"
        f"<td style='color:{_FLAG}'>{escape(timeline.explain(item))}</td></tr>"
        for i, item in enumerate(timeline.times)
    )
    notes = " ".join(n for n in (timeline.note, missing) if n)
    return (
        "<div class='mimo-timeline'>"
        f"<div><b>{escape(timeline.name or 'video')}</b>: {len(timeline.refs)} times in the "
        f"answer{escape(label)}</div>{timeline_strip_html(timeline)}"
        + (f"<div style='{MUTED}'>{escape(notes)}</div>" if notes else "")
        + (
            "<table class='mimo-timeline-table'><tr><th>time</th><th>frames the model saw</th>"
            f"<th>gap</th><th>flags</th></tr>{rows}</table>"
            if rows
            else ""
        )
        + "</div>"
    )
