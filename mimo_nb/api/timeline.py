"""An answer's times tied to the frames its request sent: :class:`Timeline`.

``Completion.timeline`` reads every time in the answer (:func:`mimo_nb.core.times.find_times`)
and grounds it (:func:`mimo_nb.core.timemap.ground`) on the time map of the request's video:
the frames the model was sent, found when the client opened the video
(:func:`timemap_of`: the formula's frames for the hosted API, a server profile's own frames for
a self-hosted server). Each time gets the frames it falls on or between (their index in the
request and in the file, their times), its gap to the nearest of them, and its flags.

When the request is not known (a completion built from JSON, a recorded example not yet tied to
a request, a video sent by URL and never opened) the timeline still lists the times found, with
no frames, and :attr:`Timeline.note` says why and what to do; it never raises, so every answer
can show itself.

>>> from mimo_nb.core.timemap import TimeMap
>>> clip = TimeMap((0, 2, 4, 6, 8), (0, 60, 120, 180, 240), duration=10, label="clip.mp4")
>>> line = Timeline.of("At 00:03 a cat; at 00:04 a dog; the end at 00:12.", clip)
>>> print(line)                                       # doctest: +NORMALIZE_WHITESPACE
clip.mp4: 3 times in the answer, 5 frames sent over 10 s
00:03  between frame 1 (00:02.000, file #60) and frame 2 (00:04.000, file #120); gap 1 s;
  unseen: no frame the model saw is within ±0.5 s (the nearest is 1 s away): it cannot have
  seen this moment
00:04  on frame 2 (00:04.000, file #120)
00:12  after frame 4 (00:08.000, file #240); gap 4 s; past_end: after the video's end (10 s):
  no frame there
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mimo_nb.core.display_hook import Displayed
from mimo_nb.core.timemap import GroundedTime, SampledFrame, TimeMap, ground
from mimo_nb.core.times import TimeRef, find_times, write_time

if TYPE_CHECKING:
    import pandas as pd

    from mimo_nb.api.request import VideoPart
    from mimo_nb.core.profiles import Profile
    from mimo_nb.media.video import Video

__all__ = ["Timeline", "timemap_of", "NOT_KNOWN"]

NOT_KNOWN = (
    "the request behind this answer is not known here, so neither are the frames the model saw: "
    "ask with client.ask(...) (a live answer or a cache replay carries its request), or tie a "
    "recorded answer to a request with completion.for_request(client.build_request(...))"
)
NOT_OPENED = (
    "the frames of the request's videos are not known (a URL sent without being opened, or a "
    "video rebuilt without its frame table), so neither are the frames the model saw: pass "
    "Video.open(...) of the file or URL"
)


def timemap_of(
    video: Video, fps: float, media_resolution: str = "default", profile: str | Profile = "mimo-api"
) -> TimeMap:
    """The frames a request about ``video`` sends the model, with their times in the file.

    The hosted API's frames are the formula's count spread over the clip's time; a server
    profile's are its own (the frames :meth:`Video.sample <mimo_nb.media.video.Video.sample>`
    decodes for that profile).
    """
    plan = video.plan(fps, media_resolution, profile=profile)
    indices = (
        plan.indices() if plan.planned_indices is not None else video.sample_indices(plan.frames)
    )
    return TimeMap.from_plan(plan, video.timestamps(indices), indices=indices, label=video.name)


def _frame(frame: SampledFrame) -> str:
    time = write_time(frame.request_time, 3)
    return f"frame {frame.request_index} ({time}, file #{frame.file_index})"


@dataclass(frozen=True, repr=False)
class Timeline(Displayed):
    """The times an answer refers to, each tied to the frames its request sent the model.

    ``refs`` are every time found in ``text``; ``times`` the same, grounded (empty when the
    request is not known: then ``timemap`` is None and ``note`` says why). ``video`` is the
    opened :class:`~mimo_nb.media.video.Video` the frames come from (the display decodes the
    frames it shows from it, lazily), ``name`` its name; ``label`` says where the answer came
    from when that matters (a recorded example, a rule-based stand-in).
    """

    text: str
    refs: tuple[TimeRef, ...]
    times: tuple[GroundedTime, ...] = ()
    timemap: TimeMap | None = None
    video: Video | None = field(default=None, compare=False)
    name: str = ""
    label: str = ""
    note: str = ""

    @classmethod
    def of(
        cls,
        text: str,
        timemap: TimeMap | None,
        *,
        video: Video | None = None,
        label: str = "",
        note: str = "",
    ) -> Timeline:
        """The times of ``text`` grounded on ``timemap`` (None: found, not grounded)."""
        refs = tuple(find_times(text))
        if timemap is None:
            return cls(text, refs, label=label, note=note or NOT_KNOWN)
        return cls(
            text,
            refs,
            tuple(ground(refs, timemap)),
            timemap,
            video,
            timemap.label or (video.name if video else ""),
            label,
            note,
        )

    @classmethod
    def of_request(cls, text: str, parts: Sequence[VideoPart], *, label: str = "") -> Timeline:
        """The times of ``text`` on the clock of the first of the request's videos whose frames
        are known (a request of several videos: the note says so)."""
        known = [part for part in parts if part.timemap is not None]
        if not known:
            return cls.of(text, None, label=label, note=NOT_OPENED if parts else NOT_KNOWN)
        part = known[0]
        note = (
            ""
            if len(parts) == 1
            else f"the request sent {len(parts)} videos; the times are read on the clock of "
            f"{part.name}, the first whose frames are known"
        )
        return cls.of(text, part.timemap, video=part.video, label=label, note=note)

    @property
    def known(self) -> bool:
        """Whether the frames the model saw are known (else the times are found, not grounded)."""
        return self.timemap is not None

    @property
    def flagged(self) -> tuple[GroundedTime, ...]:
        """The grounded times with a flag set."""
        return tuple(t for t in self.times if t.flags)

    def __len__(self) -> int:
        return len(self.refs)

    # ---- words -------------------------------------------------------------------------------

    def where(self, item: GroundedTime) -> str:
        """Where a grounded time falls among the frames, in words."""
        frames, ref = item.frames, item.ref
        t, half = round(ref.start, 9), ref.precision / 2
        if ref.end is not None and all(
            t - half <= f.request_time <= ref.end + half for f in frames
        ):
            if len(frames) == 1:
                return f"holds {_frame(frames[0])}"
            first, last = frames[0].request_index, frames[-1].request_index
            return f"holds frames {first}-{last} ({len(frames)} frames)"
        if len(frames) == 2 and frames[0].request_time < t < frames[1].request_time:
            return f"between {_frame(frames[0])} and {_frame(frames[1])}"
        if all(f.request_time == t for f in frames):
            return "on " + " and ".join(_frame(f) for f in frames)
        side = "before" if t < frames[0].request_time else "after"
        return f"{side} {_frame(frames[0])}"

    def explain(self, item: GroundedTime) -> str:
        """Why each of a grounded time's flags is set, in words ("" when none is)."""
        assert self.timemap is not None
        half = item.ref.precision / 2
        said = {
            "past_end": f"after the video's end ({self.timemap.duration:g} s): no frame there",
            "unseen": (
                f"no frame the model saw is within ±{half:g} s (the nearest is {item.gap:.3g} s "
                "away): it cannot have seen this moment"
            ),
            "uncovered": "no frame the model saw lies in this range",
        }
        return "; ".join(f"{flag}: {said[flag]}" for flag in item.flags)

    def line(self, item: GroundedTime) -> str:
        """One grounded time in words: where it falls, its gap, its flags."""
        gap = f"; gap {item.gap:.3g} s" if item.gap else ""
        why = self.explain(item)
        return f"{item.ref.text}  {self.where(item)}{gap}" + (f"; {why}" if why else "")

    def __str__(self) -> str:
        label = f" ({self.label})" if self.label else ""
        if self.timemap is None:
            found = ", ".join(ref.text for ref in self.refs) or "none"
            count = f"{len(self.refs)} times in the answer{label} (not grounded)"
            return f"{count}: {found}\n{self.note}"
        head = (
            f"{self.name or 'video'}: {len(self.refs)} times in the answer{label}, "
            f"{len(self.timemap)} frames sent over {self.timemap.duration:g} s"
        )
        return "\n".join([head, *([self.note] if self.note else []), *map(self.line, self.times)])

    def __repr__(self) -> str:
        return (
            f"Timeline(times={len(self.refs)}, flagged={len(self.flagged)}, "
            f"known={self.known}, name={self.name!r})"
        )

    # ---- tables ------------------------------------------------------------------------------

    def rows(self) -> list[dict[str, object]]:
        """One dict per time: its text, start and end, the frames (indices in the request and
        in the file, their times), the gap and the flags; frame fields None when not grounded."""
        grounded: Sequence[GroundedTime | None] = self.times or [None] * len(self.refs)
        out = []
        for ref, item in zip(self.refs, grounded, strict=True):
            frames = item.frames if item else ()
            out.append(
                {
                    "text": ref.text,
                    "start": ref.start,
                    "end": ref.end,
                    "precision": ref.precision,
                    "request_indices": [f.request_index for f in frames] if item else None,
                    "file_indices": [f.file_index for f in frames] if item else None,
                    "frame_times": [f.request_time for f in frames] if item else None,
                    "gap": item.gap if item else None,
                    "source_start": item.source_start if item else None,
                    "past_end": item.past_end if item else None,
                    "unseen": item.unseen if item else None,
                    "uncovered": item.uncovered if item else None,
                    "flags": ", ".join(item.flags) if item else None,
                }
            )
        return out

    def to_pandas(self) -> pd.DataFrame:
        """:meth:`rows` as a DataFrame (one row per time)."""
        import pandas as pd

        columns = ["text", "start", "end", "precision", "request_indices", "file_indices"]
        columns += ["frame_times", "gap", "source_start", "past_end", "unseen", "uncovered"]
        return pd.DataFrame(self.rows(), columns=[*columns, "flags"])
