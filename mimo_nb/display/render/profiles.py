"""Server profiles: one profile's rules, and one video under every profile side by side
(:mod:`mimo_nb.core.profiles`, :mod:`mimo_nb.display.compare`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mimo_nb.core.display_hook import renders
from mimo_nb.core.profiles import shorten_list
from mimo_nb.display.render._text import escape, reasons_table_html
from mimo_nb.media.imaging import format_time, jpeg_data_uri

if TYPE_CHECKING:
    from mimo_nb.core.profiles import Profile
    from mimo_nb.display.compare import ProfileComparison, ProfileView

__all__ = ["profile_comparison_html", "profile_html"]


@renders("html", "mimo_nb.core.profiles.Profile")
def profile_html(profile: Profile) -> str:
    """One sampling profile: what it is, where its rules come from, what it leaves out."""
    fields = {
        k: v
        for k, v in vars(profile).items()
        if k not in ("name", "title", "source", "summary", "notes")
    }
    rows = [("source", profile.source, ""), ("rules", profile.summary, "")]
    rows += [
        (k, f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v), "")
        for k, v in fields.items()
    ]
    notes = "".join(f"<li>{escape(n)}</li>" for n in profile.notes)
    return (
        f"<div class='mimo-profile'><b>{escape(profile.name)}</b>: "
        f"{escape(profile.title)}"
        f"{reasons_table_html(rows, 'mimo-profile-table')}"
        f"<ul style='color:#666;font-size:smaller'>{notes}</ul></div>"
    )


def _view_html(v: ProfileView, max_thumbnails: int) -> str:
    """One profile's row: its name, summary, timestamp text and strip of frames."""
    head = (
        f"<b>{escape(v.profile)}</b> <span style='color:#666'>"
        f"{escape(v.title)} · {escape(v.source)}</span>"
    )
    if v.error:
        return (
            f"<div style='margin-top:8px'>{head}<div style='color:#a60'>"
            f"refuses this video: {escape(v.error)}</div></div>"
        )
    summary = (
        f"{v.frames} frames at {v.width} x {v.height}; {v.vision:,} vision tokens, "
        f"{v.tokens:,} "
        f"({v.tokens_label}); {v.changed} of {v.frames} frames differ from the API's"
    )
    cells = []
    for k, index in enumerate(v.indices[:max_thumbnails]):
        border = "2px solid #e67e00" if v.differs[k] else "2px solid transparent"
        caption = f"#{index} · {format_time(v.timestamps[k])}"
        image = (
            (
                f"<img src='{jpeg_data_uri(v.thumbnails[k])}' style='display:block' "
                f"alt='{escape(caption)}'/>"
            )
            if k < len(v.thumbnails)
            else ""
        )
        cells.append(
            f"<figure style='margin:0 2px;text-align:center;border:{border}'>{image}"
            "<figcaption style='font:10px monospace;color:#444'>"
            f"{escape(caption)}</figcaption></figure>"
        )
    more = (
        (
            "<div style='color:#666;font-size:smaller'>"
            f"… {len(v.indices) - max_thumbnails} more frames</div>"
        )
        if len(v.indices) > max_thumbnails
        else ""
    )
    texts = (
        (
            "<div style='color:#666;font-size:smaller'>"
            f"timestamp text: {escape(shorten_list(v.timestamp_texts))}</div>"
        )
        if v.timestamp_texts
        else ""
    )
    return (
        f"<div style='margin-top:8px'>{head}<div>{escape(summary)}</div>{texts}"
        f"<div style='display:flex;overflow-x:auto'>{''.join(cells)}</div>{more}</div>"
    )


def profile_comparison_html(comparison: ProfileComparison, max_thumbnails: int = 48) -> str:
    """Profiles side by side: per profile a strip of its frames (index, time), size and tokens.

    Frames the hosted API would not pick at the same settings get an orange border.
    """
    c = comparison
    intro = (
        f"<div class='mimo-profiles'><div><b>{escape(c.video_name)}</b>: "
        f"{c.duration:.2f} s, {c.width} x {c.height}, "
        f"{c.native_frame_count} frames at {c.native_fps:g} fps; fps={c.fps:g}, "
        f"media_resolution={escape(c.media_resolution)} "
        "(API only). <span style='border:2px solid #e67e00;padding:0 3px'>orange</span>: "
        "a frame the API does not pick.</div>"
    )
    return intro + "".join(_view_html(v, max_thumbnails) for v in c.views) + "</div>"
