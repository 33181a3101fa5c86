"""Players: a video or the sampled frames, watched in the notebook.

The media are ours (a file the user opened, or frames we encoded); every text is escaped and a
src is either a data: URI we built or the video's own http(s) URL. Plain HTML, no script: it
plays in JupyterLab, in an nbconvert export, and in a notebook opened offline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mimo_nb.core.display_hook import renders
from mimo_nb.core.limits import data_uri
from mimo_nb.display.render._text import escape

if TYPE_CHECKING:
    from mimo_nb.media.frames import Player

__all__ = [
    "animation_html",
    "media_data_uri",
    "player_html",
    "player_note_html",
    "video_player_html",
]


def media_data_uri(data: bytes, mime: str) -> str:
    """A ``data:<mime>;base64,...`` URI for media bytes we made or the user opened.

    >>> media_data_uri(b"GIF89a", "image/gif")
    'data:image/gif;base64,R0lGODlh'
    """
    return data_uri(data, mime)


def _player_frame(title: str, body: str, caption: str) -> str:
    head = f"<div style='font-weight:bold;margin-bottom:4px'>{escape(title)}</div>" if title else ""
    foot = (
        f"<div style='font:12px sans-serif;color:#555;margin-top:2px'>{escape(caption)}</div>"
        if caption
        else ""
    )
    return (
        "<div class='mimo-player' style='display:inline-block;max-width:100%'>"
        f"{head}{body}{foot}</div>"
    )


def video_player_html(
    src: str,
    *,
    mime: str = "video/mp4",
    width: int | None = None,
    title: str = "",
    caption: str = "",
    loop: bool = False,
) -> str:
    """An HTML5 ``<video>`` with controls for ``src`` (a data: URI or an http(s) URL).

    >>> "<video" in video_player_html("https://example.com/clip.mp4", width=320)
    True
    """
    if not src.startswith(("data:video/", "http://", "https://")):
        raise ValueError(f"a player plays data:video URIs and http(s) URLs, not {src[:20]!r}")
    size = f" width='{int(width)}'" if width else ""
    return _player_frame(
        title,
        f"<video controls preload='metadata' playsinline{' loop' if loop else ''}{size} "
        "style='max-width:100%;display:block'>"
        f"<source src='{escape(src)}' type='{escape(mime)}'/>"
        "This browser cannot play the video here.</video>",
        caption,
    )


def animation_html(
    data: bytes,
    *,
    mime: str = "image/gif",
    width: int | None = None,
    title: str = "",
    caption: str = "",
) -> str:
    """An animated image (a GIF we encoded) as an inline ``<img>``."""
    size = f" width='{int(width)}'" if width else ""
    alt = escape(caption or title or "animation")
    return _player_frame(
        title,
        (
            f"<img src='{media_data_uri(data, mime)}'{size} alt='{alt}' "
            "style='max-width:100%;display:block'/>"
        ),
        caption,
    )


def player_note_html(title: str, note: str) -> str:
    """Why there is no player here, and what to do instead."""
    return _player_frame(
        title, f"<div class='mimo-player-note' style='color:#a60'>{escape(note)}</div>", ""
    )


@renders("html", "mimo_nb.media.frames.Player")
def player_html(player: Player) -> str:
    """A :class:`~mimo_nb.media.frames.Player`: a ``<video>``, an animated image, or its note."""
    if player.note is not None:
        return player_note_html(player.title, player.note)
    width, title, caption = player.width, player.title, player.caption
    if player.media_type.startswith("image/"):
        return animation_html(
            player.media, mime=player.media_type, width=width, title=title, caption=caption
        )
    src = player.url or media_data_uri(player.media, player.media_type)
    return video_player_html(
        src, mime=player.media_type, width=width, title=title, caption=caption, loop=player.loop
    )
