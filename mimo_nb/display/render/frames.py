"""Frames on the page: grids of thumbnails with captions, and a video's card.

The pictures are ours (frames we decoded), encoded as inline JPEGs by
:mod:`mimo_nb.media.imaging`; every caption and metadata value is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
import numpy.typing as npt

from mimo_nb.core.display_hook import renders
from mimo_nb.display.render._text import escape
from mimo_nb.media import imaging as _imaging

if TYPE_CHECKING:
    from mimo_nb.media.frames import Frames
    from mimo_nb.media.video import Video

__all__ = [
    "Images",
    "frame_cell_html",
    "frame_cells_html",
    "frame_grid_html",
    "frames_html",
    "thumbnail_uri",
    "video_card_html",
    "video_html",
]

Images: TypeAlias = "Sequence[npt.NDArray[np.uint8]] | npt.NDArray[np.uint8]"


def thumbnail_uri(image: npt.NDArray[np.uint8], max_width: int = 192) -> str:
    """A frame's grid thumbnail (at most ``max_width`` wide) as a JPEG data URI."""
    return _imaging.jpeg_data_uri(_imaging.thumbnail(np.asarray(image), max_width))


def frame_cell_html(uri: str, caption: str) -> str:
    """One cell of :func:`frame_grid_html`: the thumbnail ``uri`` with ``caption`` under it."""
    return (
        "<figure style='margin:0;text-align:center'>"
        f"<img src='{uri}' style='max-width:100%;image-rendering:auto' alt='{escape(caption)}'/>"
        "<figcaption style='font:11px monospace;color:#444'>"
        f"{escape(caption)}</figcaption></figure>"
    )


def frame_cells_html(
    cells: Sequence[str], columns: int = 6, note: str = "", max_width: int = 192
) -> str:
    """:func:`frame_grid_html` from cells already made (a repaint encodes only new ones)."""
    head = f"<div style='color:#555;margin:2px 0'>{escape(note)}</div>" if note else ""
    grid = (
        "<div class='mimo-frames' style='display:grid;"
        f"grid-template-columns:repeat({int(columns)},minmax(0,1fr));"
        f"gap:4px;max-width:{int(columns) * (max_width + 8)}px'>" + "".join(cells) + "</div>"
    )
    return f"<div>{head}{grid}</div>"


def frame_grid_html(
    images: Images, captions: Sequence[str], columns: int = 6, note: str = "", max_width: int = 192
) -> str:
    """An HTML grid of inline JPEG thumbnails with a caption under each; ``note`` above it."""
    cells = [
        frame_cell_html(thumbnail_uri(image, max_width), caption)
        for image, caption in zip(images, captions, strict=True)
    ]
    return frame_cells_html(cells, columns, note, max_width)


def video_card_html(
    title: str,
    rows: Sequence[tuple[str, str]],
    strip: Images = (),
    captions: Sequence[str] = (),
    note: str = "",
) -> str:
    """A small card: the title, a strip of thumbnails, and a two-column metadata table."""
    thumbs = "".join(
        "<figure style='margin:0 2px;text-align:center'><img src='"
        f"{_imaging.jpeg_data_uri(_imaging.thumbnail(np.asarray(img), 128))}' "
        "style='height:72px'/><figcaption style='font:10px monospace;color:#666'>"
        f"{escape(cap)}</figcaption></figure>"
        for img, cap in zip(strip, captions, strict=True)
    )
    table = "".join(
        f"<tr><th style='text-align:left;padding-right:12px'>{escape(k)}</th>"
        f"<td>{escape(v)}</td></tr>"
        for k, v in rows
    )
    extra = f"<div style='color:#a60'>{escape(note)}</div>" if note else ""
    return (
        "<div class='mimo-video' "
        "style='border:1px solid #ddd;border-radius:6px;padding:8px;display:inline-block'>"
        f"<div style='font-weight:bold;margin-bottom:4px'>{escape(title)}</div>"
        f"<div style='display:flex;overflow-x:auto'>{thumbs}</div>"
        f"<table style='font-size:12px;margin-top:4px'>{table}</table>{extra}</div>"
    )


@renders("html", "mimo_nb.media.frames.Frames")
def frames_html(frames: Frames, columns: int = 6, max_frames: int | None = None) -> str:
    """:meth:`Frames.to_html <mimo_nb.media.frames.Frames.to_html>`: the grid with its note."""
    shown, head = frames.grid_note(max_frames)
    return frame_grid_html(frames.array[:shown], frames.captions()[:shown], columns, note=head)


@renders("html", "mimo_nb.media.video.Video")
def video_html(video: Video) -> str:
    """A video's card: thumbnails (or why there are none) and its metadata."""
    strip, captions, note = video.thumbnail_strip()
    return video_card_html(video.name, video.metadata_rows(), strip, captions, note)
