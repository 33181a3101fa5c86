"""The one time map: the frames a request showed the model, on its clock and on the original's.

A request shows the model some frames of a video. Each has an index in the request, an index in
the source file it was decoded from, and a time on the request's clock (the clock of the video
sent). The request's clock is the original video's clock shifted by ``offset``: 0 for a whole
video (and for ``Video.fit``, which keeps the times), the segment's start for a segment of a
long video. A :class:`TimeMap` holds those frames and answers the questions a grounded answer
asks: where a time falls among the frames (:meth:`TimeMap.frames_at`), how far it is from the
nearest frame the model saw (:meth:`TimeMap.gap`), whether a range holds a frame
(:meth:`TimeMap.covers`), and what it is on the original's clock (:meth:`TimeMap.to_source`).
:func:`ground` does all of it for the times :func:`mimo_nb.core.times.find_times` reads in an
answer.

Times are seconds held to the nanosecond (rounded to 9 decimals at every step), so a time in an
answer and a frame's time that agree to the nanosecond are equal, and a time shifted onto the
original and back is the same time.

>>> from mimo_nb.core.tokens import plan_api_sampling
>>> plan = plan_api_sampling(10, 640, 360, fps=0.5, native_fps=30, native_frame_count=300)
>>> clip = TimeMap.from_plan(plan)            # the formula spreads 6 frames over the 10 s
>>> clip.request_times
(0.0, 2.0, 4.0, 5.966666667, 7.966666667, 9.966666667)
>>> [(f.request_index, f.file_index, f.request_time) for f in clip.frames_at(3)]
[(1, 60, 2.0), (2, 120, 4.0)]
>>> clip.gap(3), clip.covers(1, 3), clip.covers(2.5, 3.5)
(1.0, True, False)

Pure: numpy (through the validation layer) and the error tree; no I/O.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy.typing as npt

from mimo_nb.core import validate
from mimo_nb.errors import LimitError

if TYPE_CHECKING:
    from mimo_nb.core.times import TimeRef
    from mimo_nb.core.tokens import SamplingPlan

__all__ = ["SampledFrame", "TimeMap", "GroundedTime", "ground"]


def _t(seconds: float) -> float:
    """A time held to the nanosecond (and never -0.0)."""
    return round(float(seconds), 9) + 0.0


def _times(name: str, values: npt.ArrayLike) -> tuple[float, ...]:
    """Frame times: a flat sequence of seconds >= 0, each to the nanosecond."""
    got = validate.array(name, values, minimum=0, maximum=validate.MAX_DURATION)
    if got.ndim != 1:
        raise LimitError(f"{name} must be flat, one time per frame; got shape {got.shape}.")
    return tuple(_t(t) for t in got.tolist())


def _indices(name: str, values: npt.ArrayLike, n: int) -> tuple[int, ...]:
    """Frame indices: whole numbers >= 0, one per frame."""
    got = validate.array(name, values, minimum=0, integer=True)
    if got.shape != (n,):
        raise LimitError(f"{name} has shape {got.shape} for {n} frames: give one per frame.")
    return tuple(int(i) for i in got.tolist())


def _time(name: str, value: float) -> float:
    """A time argument: a finite number of seconds >= 0, to the nanosecond."""
    hint = "Times are seconds from the start of the video."
    return _t(validate.non_negative(name, value, maximum=validate.MAX_DURATION, hint=hint))


@dataclass(frozen=True)
class SampledFrame:
    """One frame the model was sent: its index in its request and in the source file, its time
    on the request's clock and on the original's, and (on a joined map) which part it came from.
    """

    request_index: int
    file_index: int
    request_time: float
    source_time: float
    part: int = 0


@dataclass(frozen=True, repr=False)
class TimeMap:
    """The frames a request showed the model and the two clocks they stand on.

    ``request_times`` are the frames' times on the request's clock (sorted), ``file_indices``
    their indices in the source file, ``duration`` the request's video length and ``offset``
    where the request's clock starts on the original's. ``source_duration`` is the original's
    length; 0 (the default) means ``offset + duration``. ``request_indices`` and ``parts`` are
    each frame's index in its request and which request it came from; they default to
    ``0, 1, 2...`` and all 0, and :meth:`concat` fills them. Build one with :meth:`from_plan`,
    :meth:`for_segment`, :meth:`shifted` or :meth:`concat`.

    Every query takes a time on the request's clock (the clock an answer's times are on).

    >>> TimeMap((0, 2, 4, 6, 8), (0, 60, 120, 180, 240), duration=10)
    TimeMap(frames=5, duration=10.0, offset=0.0, source_duration=10.0, label='')
    """

    request_times: tuple[float, ...]
    file_indices: tuple[int, ...]
    duration: float
    offset: float = 0.0
    source_duration: float = 0.0
    label: str = ""
    request_indices: tuple[int, ...] = ()
    parts: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        times = _times("request_times", self.request_times)
        if not times:
            raise LimitError("a time map needs at least one frame; got no request_times.")
        if list(times) != sorted(times):
            raise LimitError("request_times must be sorted: the frames in the order they play.")
        n = len(times)
        duration = validate.positive("duration", self.duration, maximum=validate.MAX_DURATION)
        offset = _time("offset", self.offset)
        end = _t(offset + duration)
        source = _time("source_duration", self.source_duration) or end
        if source < end:
            raise LimitError(
                f"source_duration ({source:g} s) ends before this map does (offset {offset:g} s "
                f"+ duration {duration:g} s = {end:g} s): give the original's full length."
            )
        set_ = object.__setattr__
        set_(self, "request_times", times)
        set_(self, "file_indices", _indices("file_indices", self.file_indices, n))
        set_(
            self,
            "request_indices",
            _indices("request_indices", self.request_indices, n)
            if len(self.request_indices)
            else tuple(range(n)),
        )
        set_(self, "parts", _indices("parts", self.parts, n) if len(self.parts) else (0,) * n)
        set_(self, "duration", _t(duration))
        set_(self, "offset", offset)
        set_(self, "source_duration", source)
        set_(self, "label", str(self.label))

    def __repr__(self) -> str:
        return (
            f"TimeMap(frames={len(self)}, duration={self.duration!r}, offset={self.offset!r}, "
            f"source_duration={self.source_duration!r}, label={self.label!r})"
        )

    def __len__(self) -> int:
        """The number of frames."""
        return len(self.request_times)

    # ---- constructors ------------------------------------------------------------------------

    @classmethod
    def from_plan(
        cls,
        plan: SamplingPlan,
        timestamps: npt.ArrayLike | None = None,
        *,
        indices: npt.ArrayLike | None = None,
        label: str = "",
    ) -> TimeMap:
        """The frames a sampling plan picks, on the clock of the video it was made for.

        The plan must know the file's frames (``native_fps`` and ``native_frame_count``, as
        ``Video.plan`` gives; a server profile's plan always does), or you pass the frames' real
        ``timestamps`` and ``indices`` (a :class:`~mimo_nb.media.video.Frames`' own).

        >>> from mimo_nb.core.tokens import plan_api_sampling
        >>> TimeMap.from_plan(plan_api_sampling(10, 640, 360, fps=0.5))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        mimo_nb.errors.LimitError: this plan does not know the file's frames, so not their ...
        """
        planned = plan.planned_indices
        knows_times = timestamps is not None or (plan.native_fps and planned is not None)
        picked = planned if indices is None else indices
        if not knows_times or picked is None:
            raise LimitError(
                "this plan does not know the file's frames, so not their times: plan with "
                "native_fps= and native_frame_count= (Video.plan does), or pass timestamps= and "
                "indices= (a Frames' own)."
            )
        times = _times("timestamps", plan.timestamps if timestamps is None else timestamps)
        return cls(
            times,
            _indices("indices", picked, len(times)),
            duration=plan.duration,
            label=label,
        )

    @classmethod
    def for_segment(
        cls,
        start: float,
        end: float,
        request_times: npt.ArrayLike,
        file_indices: npt.ArrayLike,
        *,
        source_duration: float = 0.0,
        label: str = "",
    ) -> TimeMap:
        """A segment ``[start, end)`` of the original sent as a video of its own.

        ``request_times`` are on the segment's clock (0 at ``start``); ``file_indices`` are the
        frames' indices in the original file.

        >>> part = TimeMap.for_segment(60, 90, (0, 10, 20), (1800, 2100, 2400), source_duration=120)
        >>> part.to_source(12.5), part.to_request(75)
        (72.5, 15.0)
        """
        start, end = _time("start", start), _time("end", end)
        if end <= start:
            raise LimitError(f"a segment ends after it starts; got [{start:g}, {end:g}) s.")
        times = _times("request_times", request_times)
        return cls(
            times,
            _indices("file_indices", file_indices, len(times)),
            duration=end - start,
            offset=start,
            source_duration=source_duration,
            label=label,
        )

    def shifted(self, offset: float, *, source_duration: float = 0.0) -> TimeMap:
        """This map with its clock starting ``offset`` seconds later on the original's (a
        negative ``offset`` moves it earlier, not before 0). ``source_duration`` defaults to the
        larger of this map's and the shifted end.

        >>> TimeMap((0, 1), (0, 30), duration=2).shifted(5).to_source(1)
        6.0
        """
        moved = _t(self.offset + validate.number("offset", offset))
        if moved < 0:
            raise LimitError(
                f"shifting by {offset:g} s moves this map (offset {self.offset:g} s) before the "
                "original's start."
            )
        source = source_duration or max(self.source_duration, _t(moved + self.duration))
        return replace(self, offset=moved, source_duration=source)

    @classmethod
    def concat(cls, maps: Iterable[TimeMap], *, label: str = "") -> TimeMap:
        """The frames of several maps of one original on one timeline: the original's.

        The joined map's clock is the original's (offset 0, duration the original's), its
        frames sorted by time; each keeps its index in its own request, and ``part`` says which
        map it came from (the parts of a joined map count on, so joining is associative).

        >>> a = TimeMap.for_segment(0, 30, (0, 15), (0, 450), source_duration=60)
        >>> b = TimeMap.for_segment(30, 60, (0, 15), (900, 1350), source_duration=60)
        >>> whole = TimeMap.concat([a, b])
        >>> [(f.source_time, f.part, f.request_index) for f in whole.frames_at(40)]
        [(30.0, 1, 0), (45.0, 1, 1)]
        """
        maps = tuple(maps)
        if not maps:
            raise LimitError("concat needs at least one time map.")
        rows: list[tuple[float, int, int, int]] = []
        first_part = 0
        for m in maps:
            rows += [
                (f.source_time, first_part + f.part, f.request_index, f.file_index)
                for f in m.frames
            ]
            first_part += max(m.parts) + 1
        rows.sort()  # by time; a time two parts share, in part order
        source = max(m.source_duration for m in maps)
        return cls(
            tuple(r[0] for r in rows),
            tuple(r[3] for r in rows),
            duration=source,
            label=label,
            request_indices=tuple(r[2] for r in rows),
            parts=tuple(r[1] for r in rows),
        )

    # ---- the clocks --------------------------------------------------------------------------

    @property
    def source_times(self) -> tuple[float, ...]:
        """The frames' times on the original's clock."""
        return tuple(_t(t + self.offset) for t in self.request_times)

    @property
    def frames(self) -> tuple[SampledFrame, ...]:
        """Every frame, in order."""
        return tuple(self._frame(i) for i in range(len(self)))

    def to_source(self, t: float) -> float:
        """A time on the request's clock, on the original's."""
        return _t(_time("t", t) + self.offset)

    def to_request(self, t: float) -> float:
        """A time on the original's clock, on the request's; a time before the request's
        start is a :class:`LimitError`."""
        moved = _t(_time("t", t) - self.offset)
        if moved < 0:
            raise LimitError(
                f"{t:g} s on the original is before this map's start ({self.offset:g} s), so "
                "not on its request's clock: ask the map of the part that holds it."
            )
        return moved

    # ---- where a time falls among the frames -------------------------------------------------

    def _frame(self, i: int) -> SampledFrame:
        return SampledFrame(
            request_index=self.request_indices[i],
            file_index=self.file_indices[i],
            request_time=self.request_times[i],
            source_time=_t(self.request_times[i] + self.offset),
            part=self.parts[i],
        )

    def frames_at(self, t: float) -> tuple[SampledFrame, ...]:
        """The frames a time falls on (all of them, if a frame was sent twice) or between (the
        one before and the one after; only one before the first frame or after the last)."""
        t = _time("t", t)
        lo, hi = bisect_left(self.request_times, t), bisect_right(self.request_times, t)
        picked = range(lo, hi) if hi > lo else (i for i in (lo - 1, lo) if 0 <= i < len(self))
        return tuple(self._frame(i) for i in picked)

    def frames_in(self, start: float, end: float) -> tuple[SampledFrame, ...]:
        """The frames in ``[start, end]`` (request clock), in order; none if the range falls
        between two frames."""
        start, end = self._range(start, end)
        lo, hi = bisect_left(self.request_times, start), bisect_right(self.request_times, end)
        return tuple(self._frame(i) for i in range(lo, hi))

    def gap(self, t: float) -> float:
        """Seconds from ``t`` to the nearest frame the model saw (0 on a frame).

        >>> TimeMap((0, 2, 4), (0, 60, 120), duration=6).gap(4.5)
        0.5
        """
        t = _time("t", t)
        return min(_t(abs(frame.request_time - t)) for frame in self.frames_at(t))

    def covers(self, start: float, end: float) -> bool:
        """Whether a frame the model saw lies in ``[start, end]`` (request clock)."""
        start, end = self._range(start, end)
        i = bisect_left(self.request_times, start)
        return i < len(self) and self.request_times[i] <= end

    @staticmethod
    def _range(start: float, end: float) -> tuple[float, float]:
        start, end = _time("start", start), _time("end", end)
        if end < start:
            raise LimitError(f"a range ends at or after its start; got [{start:g}, {end:g}] s.")
        return start, end


# ---- grounding the times of an answer -------------------------------------------------------


@dataclass(frozen=True)
class GroundedTime:
    """A time from an answer tied to the frames the model saw.

    ``frames``: for an instant, the frames it falls on or between; for a range, the frames in
    it (each end widened by half the time's precision), or the two it falls between. ``gap``:
    seconds to the nearest frame the model saw (0 for a range that holds one, ends widened).
    ``source_start`` and ``source_end``: the time on the original's clock. Flags: ``past_end``,
    the time (or a range's end) is after the video's end by more than half its precision;
    ``unseen``, an instant within the video with no frame
    within half its precision (the samples around it are farther apart than its precision);
    ``uncovered``, a range within the video that holds no frame.
    """

    ref: TimeRef
    frames: tuple[SampledFrame, ...]
    gap: float
    source_start: float
    source_end: float | None
    past_end: bool
    unseen: bool
    uncovered: bool

    @property
    def flags(self) -> tuple[str, ...]:
        """The names of the flags that are set, e.g. ``("unseen",)``."""
        return tuple(n for n in ("past_end", "unseen", "uncovered") if getattr(self, n))


def ground(refs: Iterable[TimeRef], timemap: TimeMap) -> list[GroundedTime]:
    """Each time reference (on the request's clock, as the model wrote it) tied to the frames.

    >>> from mimo_nb.core.times import find_times
    >>> clip = TimeMap((0, 2, 4, 6, 8), (0, 60, 120, 180, 240), duration=10)
    >>> for g in ground(find_times("at 00:03, at 00:04, at 00:12, 00:01 - 00:05"), clip):
    ...     print(g.ref.text, [f.request_time for f in g.frames], g.gap, g.flags)
    00:03 [2.0, 4.0] 1.0 ('unseen',)
    00:04 [4.0] 0.0 ()
    00:12 [8.0] 4.0 ('past_end',)
    00:01 - 00:05 [2.0, 4.0] 0.0 ()
    """
    return [_ground(ref, timemap) for ref in refs]


def _ground(ref: TimeRef, timemap: TimeMap) -> GroundedTime:
    half = ref.precision / 2
    start, end = _t(ref.start), None if ref.end is None else _t(ref.end)
    # past the end only when no reading of the digits ends inside: "00:03" on a 2.97 s clip is not
    past_end = _t((start if end is None else end) - half) > timemap.duration
    within = start <= timemap.duration
    if end is None:
        frames, gap = timemap.frames_at(start), timemap.gap(start)
        unseen, uncovered = not past_end and gap > half, False
    else:
        frames = timemap.frames_in(max(0.0, start - half), end + half)
        # a frame within the range as written (its ends widened by half the precision) is seen
        gap = 0.0 if frames else min(timemap.gap(start), timemap.gap(end))
        unseen, uncovered = False, within and not frames
        frames = frames or timemap.frames_at(start)
    return GroundedTime(
        ref=ref,
        frames=frames,
        gap=gap,
        source_start=timemap.to_source(start),
        source_end=None if end is None else timemap.to_source(end),
        past_end=past_end,
        unseen=unseen,
        uncovered=uncovered,
    )
