"""Videos of any length: cut one video into segments the formula takes whole, at the fps asked.

One request gets at most :data:`~mimo_nb.core.tokens.MAX_FRAMES` frames and one pixel budget, so
a two-hour lecture at ``fps=2`` (14,400 frames asked) is sent as 2,048 small frames. A
:class:`SegmentPlan` keeps the fps and splits the video into segments, each a video of its own
that the formula samples completely.

**The sampling grid.** At ``fps`` the formula asks the whole video for ``N`` frames
(``ceil(duration x fps)`` rounded up to even, no cap). The plan spreads them as *slots*
``duration / N`` seconds apart: slot ``g`` is at ``g x duration / N`` on the original's clock
and shows the original's frame that starts nearest that time. The slots are cut into runs of an
even length ``m`` (at most the frame cap, the byte limit and ``max_frames_per_segment``); a
segment is its run of slots, from its first slot's time to the next segment's first.

**Why each segment's frames are exactly its slots.** A segment file holds only its ``m``
frames, one slot apart, so it lasts ``m x duration / N`` seconds (a few microseconds less at most:
the file's frame rate is rounded *up* at 10^-8, so the count never lands on an edge where a
float rounding adds a frame). Since ``N >= duration x fps``, ``m x duration / N x fps`` is at most
``m``; since ``N < duration x fps + 2`` and ``m < N``, it is more than ``m - 2``; so the formula's
``ceil(d x fps)`` rounded up to even is ``m`` for every segment, and it samples all ``m`` frames
of its file, in order: nothing the user asked for is dropped or repeated. The first frame of
segment ``k + 1`` is the slot after the last of segment ``k`` (or ``overlap`` seconds earlier,
rounded up to an even number of slots). The plan checks the count of every segment against the
formula itself.

>>> plan = plan_segments(7200, 1920, 1080, fps=2, native_fps=30, native_frame_count=216_000)
>>> len(plan.segments), {s.frames for s in plan.segments}, plan.unsegmented.frames
(8, {1800}, 2048)
>>> s = plan.segments[1]
>>> s.start, s.end, s.width, s.height, s.file_indices[:3]
(900.0, 1800.0, 512, 288, (27000, 27015, 27030))

Pure: arithmetic on the core's formula (tokens, budget grid, prices, time map); no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from mimo_nb.core import validate
from mimo_nb.core.budget import FPS_GRID
from mimo_nb.core.display_hook import Displayed
from mimo_nb.core.limits import max_base64_file_bytes
from mimo_nb.core.pricing import Cost, Prices, as_prices, estimate_cost
from mimo_nb.core.timemap import TimeMap
from mimo_nb.core.tokens import (
    FPS_DEFAULT,
    MAX_FRAMES,
    TEMPORAL_PATCH,
    TokenBreakdown,
    _check_array_args,
    explain_video_tokens,
    explain_video_tokens_array,
    frame_pixel_budget,
    model_frame_size,
    model_frame_size_array,
    sampled_frame_count,
    validate_fps,
    validate_media_resolution,
)
from mimo_nb.errors import LimitError

__all__ = [
    "VIDEO_BITS_PER_PIXEL",
    "AUDIO_BITS_PER_SECOND",
    "BYTES_BASIS",
    "Segment",
    "Unsegmented",
    "SegmentPlan",
    "plan_segments",
    "plan_segments_array",
    "hms",
]

# ---- The size estimate ------------------------------------------------------------------------

VIDEO_BITS_PER_PIXEL = 0.3
AUDIO_BITS_PER_SECOND = 96_000
_CONTAINER_BYTES = 4096
_INDEX_BYTES_PER_FRAME = 32
BYTES_BASIS = (
    f"estimate: {VIDEO_BITS_PER_PIXEL:g} bits per pixel of the sampled frames at the model's "
    f"size (H.264 at CRF 20, frames a sampling step apart, so close to keyframes), plus AAC at "
    f"{AUDIO_BITS_PER_SECOND // 1000} kb/s (Video.fit's first quality) and the MP4 index; the "
    "writer steps down Video.fit's quality ladder if a file still comes out over the limit"
)
# The file's frame rate is a whole number of these units (its numerator, the muxer's time scale,
# stays within 32 bits): 10^-8 for the rates of sampling (up to 20 slots a second), else 10^-6.
_RATE_UNITS = (10**8, 10**6)


def hms(seconds: float) -> str:
    """``HH:MM:SS`` of a time in seconds (rounded down to the second).

    >>> hms(3725.9)
    '01:02:05'
    """
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _estimated_bytes(frames: int, width: int, height: int, seconds: float, audio: bool) -> int:
    """The bytes of a segment file by :data:`BYTES_BASIS`."""
    video = frames * width * height * VIDEO_BITS_PER_PIXEL / 8
    sound = seconds * AUDIO_BITS_PER_SECOND / 8 if audio else 0.0
    return math.ceil(video + sound) + _CONTAINER_BYTES + frames * _INDEX_BYTES_PER_FRAME


# ---- The values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """One segment: where it lies on the original, what the formula gives it, and its frames.

    ``start`` and ``end`` are seconds on the original (``own_start``: where the overlap with
    the segment before ends); ``first_slot`` its first slot on the plan's grid; ``frames`` the
    formula's count for the segment file (all its frames); ``breakdown`` the formula on the
    file's duration ``file_duration`` (``file_rate`` frames per second, exact); ``est_bytes``
    the file's size by :data:`BYTES_BASIS`; ``asked_frames`` the plan's slots in all.
    """

    index: int
    start: float
    own_start: float
    end: float
    first_slot: int
    frames: int
    file_rate: Fraction
    breakdown: TokenBreakdown
    est_bytes: int
    source_duration: float
    asked_frames: int
    frames_per_slot: float | None = None  # native frames per slot; None: the file's unknown
    native_frame_count: int | None = None

    @property
    def duration(self) -> float:
        """Seconds of the original this segment covers."""
        return self.end - self.start

    @property
    def file_duration(self) -> float:
        """Seconds the segment file lasts (its frames over its rate)."""
        return float(self.frames / self.file_rate)

    @property
    def tokens(self) -> int:
        """The formula's prompt tokens for this segment as a video of its own."""
        return self.breakdown.total

    @property
    def width(self) -> int:
        """The model's frame width for this segment."""
        return self.breakdown.width

    @property
    def height(self) -> int:
        """The model's frame height for this segment."""
        return self.breakdown.height

    @property
    def slots(self) -> range:
        """This segment's slots on the plan's grid."""
        return range(self.first_slot, self.first_slot + self.frames)

    @property
    def request_times(self) -> tuple[float, ...]:
        """The frames' times on the segment's clock: one slot apart from 0 (the file's own
        clock runs a few microseconds slower, see the module doc)."""
        step = self.source_duration / self.asked_frames
        return tuple(_t(j * step) for j in range(self.frames))

    @property
    def file_indices(self) -> tuple[int, ...]:
        """The original's frame each slot shows (the frame starting nearest the slot's time)."""
        if self.frames_per_slot is None or self.native_frame_count is None:
            raise LimitError(
                "this plan does not know the original's frames: plan with native_fps= and "
                "native_frame_count= (plan_video_segments passes the probe's)."
            )
        last = self.native_frame_count - 1
        return tuple(min(math.floor(g * self.frames_per_slot + 0.5), last) for g in self.slots)

    @property
    def timemap(self) -> TimeMap:
        """The segment's frames on its own clock and on the original's."""
        return TimeMap.for_segment(
            self.start,
            self.end,
            self.request_times,
            self.file_indices,
            source_duration=self.source_duration,
            label=f"part {self.index + 1}",
        )

    def part_line(self, count: int) -> str:
        """What a request about this segment is told of its place in the whole, and which
        clock to give times on: the clip's own (its first frame is 00:00), the clock the frames
        were sent on; :func:`~mimo_nb.corpus.long.ask_long` maps them onto the original's."""
        return (
            f"This is part {self.index + 1} of {count}, from {hms(self.start)} to "
            f"{hms(self.end)} of the original video. Give times from the start of this clip "
            "(00:00), not of the original."
        )


@dataclass(frozen=True)
class Unsegmented:
    """What the whole video would get as one request: the formula's breakdown and what is lost.

    ``asked`` is the frames the fps asks for (no cap); ``breakdown.frames`` what the formula
    keeps (at most 2,048), each at ``breakdown.width`` x ``breakdown.height``.
    """

    asked: int
    breakdown: TokenBreakdown

    @property
    def frames(self) -> int:
        return self.breakdown.frames

    @property
    def lost_frames(self) -> int:
        """Frames asked for that one request cannot take."""
        return max(self.asked - self.frames, 0)

    @property
    def effective_fps(self) -> float:
        """Frames per second one request really samples."""
        return self.frames / self.breakdown.duration

    @property
    def pixels_per_frame(self) -> int:
        return self.breakdown.width * self.breakdown.height


@dataclass(frozen=True, repr=False)
class SegmentPlan(Displayed):
    """How a video is cut into segments and sent: see the module's doc for the rule.

    ``requests`` lists, per request, the indices of the segments it sends (one each, or packed
    up to ``context_length`` less ``reserve_tokens``). ``budget_note`` says how a budget chose the
    fps (empty without one).
    """

    duration: float
    width: int
    height: int
    fps: float
    media_resolution: str
    has_audio: bool
    asked_frames: int
    overlap: float
    overlap_frames: int
    max_frames_per_segment: int
    segments: tuple[Segment, ...]
    requests: tuple[tuple[int, ...], ...]
    per_request: str
    context_length: int | None
    reserve_tokens: int
    unsegmented: Unsegmented
    prices: Prices | None = None
    output_tokens: int = 0
    budget_note: str = ""

    @property
    def step(self) -> float:
        """Seconds between two slots."""
        return self.duration / self.asked_frames

    @property
    def total_tokens(self) -> int:
        """The formula's prompt tokens of every segment together."""
        return sum(s.tokens for s in self.segments)

    @property
    def total_frames(self) -> int:
        """Frames sent over all segments (overlapping slots counted in each segment)."""
        return sum(s.frames for s in self.segments)

    def request_tokens(self, request: int) -> int:
        """The video tokens of request ``request``."""
        return sum(self.segments[i].tokens for i in self.requests[request])

    @property
    def cost(self) -> Cost | None:
        """The estimated cost of every request (``output_tokens`` of answer each), or None
        without prices."""
        if self.prices is None:
            return None
        answers = self.output_tokens * len(self.requests)
        return estimate_cost(self.total_tokens, self.prices, output_tokens=answers)

    @property
    def timemap(self) -> TimeMap:
        """Every segment's frames on the original's one timeline."""
        return TimeMap.concat((s.timemap for s in self.segments), label="segments")

    @property
    def bytes_basis(self) -> str:
        return BYTES_BASIS

    def __repr__(self) -> str:
        return (
            f"<SegmentPlan {self.duration:g} s at fps={self.fps:g}: {len(self.segments)} "
            f"segments, {len(self.requests)} requests, {self.total_frames:,} frames, "
            f"{self.total_tokens:,} tokens (one request: {self.unsegmented.frames:,} frames)>"
        )


# ---- Planning -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Inputs:
    duration: float
    width: int
    height: int
    media_resolution: str
    native_fps: float | None
    native_frame_count: int | None
    max_frames: int
    overlap: float
    context_length: int | None
    per_request: str
    reserve_tokens: int
    prices: Prices | None
    output_tokens: int
    has_audio: bool


def _t(seconds: float) -> float:
    """A time held to the nanosecond, as the time map holds times."""
    return round(seconds, 9) + 0.0


def _even_down(n: int) -> int:
    return n - n % TEMPORAL_PATCH


def _segment_cap(max_frames_per_segment: int | None) -> int:
    """``max_frames_per_segment`` checked (the frame cap when None)."""
    return int(
        validate.positive_int(
            "max_frames_per_segment",
            MAX_FRAMES if max_frames_per_segment is None else max_frames_per_segment,
            minimum=TEMPORAL_PATCH,
            maximum=MAX_FRAMES,
            hint=f"A segment holds {TEMPORAL_PATCH} to {MAX_FRAMES:,} frames.",
        )
    )


def _asked_frames(duration: float, fps: float) -> int:
    """The formula's frame count with no cap: ceil(duration x fps), up to even, at least 2."""
    return max(math.ceil(math.ceil(duration * fps) / TEMPORAL_PATCH) * TEMPORAL_PATCH, 2)


def _file_rate_units(duration: float, asked: int) -> tuple[int, int]:
    """Slots per second rounded up (strictly above when exact), as (count, units a second)."""
    exact = Fraction(asked) / Fraction(duration)
    units = _RATE_UNITS[0] if exact <= 20 else _RATE_UNITS[1]
    return math.floor(exact * units) + 1, units


def _file_rate(duration: float, asked: int) -> Fraction:
    """The segment files' frame rate: see the module doc."""
    return Fraction(*_file_rate_units(duration, asked))


def _size_at(inputs: _Inputs, frames: int) -> tuple[int, int]:
    budget = frame_pixel_budget(frames, inputs.media_resolution)
    return model_frame_size(inputs.width, inputs.height, budget)


def _bytes_cap(inputs: _Inputs, cap: int, rate: Fraction) -> int:
    """The most frames (even, <= cap) whose segment file fits the base64 limit, by estimate."""
    limit = max_base64_file_bytes()
    for m in range(cap, 0, -TEMPORAL_PATCH):
        w, h = _size_at(inputs, m)
        if _estimated_bytes(m, w, h, float(m / rate), inputs.has_audio) <= limit:
            return m
    raise LimitError(
        f"even {TEMPORAL_PATCH} frames at this size are estimated over the base64 limit; "
        "this video cannot be cut into inline segments: send it by URL."
    )


def _run_lengths(asked: int, cap: int, overlap: int) -> list[int]:
    """Frames per segment (even, <= cap), as equal as pairs allow, the longer ones first."""
    if asked <= cap:
        return [asked]
    if cap - overlap < TEMPORAL_PATCH:
        raise LimitError(
            f"an overlap of {overlap} frames leaves no new frames in a segment of at most {cap}: "
            "lower overlap= or raise max_frames_per_segment=."
        )
    count = 1 + math.ceil((asked - cap) / (cap - overlap))
    pairs = (asked + (count - 1) * overlap) // TEMPORAL_PATCH
    base, extra = divmod(pairs, count)
    return [TEMPORAL_PATCH * (base + (k < extra)) for k in range(count)]


def _pack(tokens: list[int], inputs: _Inputs) -> tuple[tuple[int, ...], ...]:
    room = None if inputs.context_length is None else inputs.context_length - inputs.reserve_tokens
    if room is not None:
        for k, t in enumerate(tokens):
            if t > room:
                raise LimitError(
                    f"segment {k + 1} takes {t:,} tokens, over the context of "
                    f"{inputs.context_length:,} less {inputs.reserve_tokens:,} reserved for the "
                    "prompt and answer: lower max_frames_per_segment= or fps."
                )
    if inputs.per_request == "one" or room is None:
        return tuple((k,) for k in range(len(tokens)))
    requests: list[list[int]] = [[]]
    used = 0
    for k, t in enumerate(tokens):
        if requests[-1] and used + t > room:
            requests.append([])
            used = 0
        requests[-1].append(k)
        used += t
    return tuple(tuple(r) for r in requests)


def _plan_at(inputs: _Inputs, fps: float) -> SegmentPlan:
    d = inputs.duration
    asked = _asked_frames(d, fps)
    step = d / asked
    overlap = 0
    if inputs.overlap > 0:
        overlap = math.ceil(inputs.overlap / step / TEMPORAL_PATCH - 1e-9) * TEMPORAL_PATCH
    rate = _file_rate(d, asked)
    cap = _bytes_cap(inputs, inputs.max_frames, rate)
    lengths = _run_lengths(asked, cap, overlap)
    frames_per_slot = None
    count = inputs.native_frame_count
    if inputs.native_fps is not None:
        count = count if count is not None else max(math.ceil(d * inputs.native_fps), 1)
        frames_per_slot = step * inputs.native_fps
    mute = not inputs.has_audio
    segments = []
    own = 0  # the first slot the segment brings new
    for k, m in enumerate(lengths):
        first = own - (overlap if k else 0)
        seconds = float(m / rate)
        b = explain_video_tokens(
            seconds, inputs.width, inputs.height, fps, inputs.media_resolution, mute
        )
        if b.frames != m or sampled_frame_count(seconds, fps) != m:
            raise LimitError(  # the module doc proves this cannot happen; say so if it does
                f"segment {k + 1}: the formula samples {b.frames} frames from a {seconds:g} s "
                f"file of {m}; please report this video's duration and fps."
            )
        end = d if k == len(lengths) - 1 else _t((first + m) * step)
        segments.append(
            Segment(
                index=k,
                start=_t(first * step),
                own_start=_t(own * step),
                end=end,
                first_slot=first,
                frames=m,
                file_rate=rate,
                breakdown=b,
                est_bytes=_estimated_bytes(m, b.width, b.height, seconds, inputs.has_audio),
                source_duration=d,
                asked_frames=asked,
                frames_per_slot=frames_per_slot,
                native_frame_count=count,
            )
        )
        own = first + m
    whole = explain_video_tokens(d, inputs.width, inputs.height, fps, inputs.media_resolution, mute)
    return SegmentPlan(
        duration=d,
        width=inputs.width,
        height=inputs.height,
        fps=fps,
        media_resolution=inputs.media_resolution,
        has_audio=inputs.has_audio,
        asked_frames=asked,
        overlap=inputs.overlap,
        overlap_frames=overlap,
        max_frames_per_segment=cap,
        segments=tuple(segments),
        requests=_pack([s.tokens for s in segments], inputs),
        per_request=inputs.per_request,
        context_length=inputs.context_length,
        reserve_tokens=inputs.reserve_tokens,
        unsegmented=Unsegmented(asked, whole),
        prices=inputs.prices,
        output_tokens=inputs.output_tokens,
    )


def _fits(plan: SegmentPlan, max_tokens: int | None, max_cost: float | None) -> bool:
    if max_tokens is not None and plan.total_tokens > max_tokens:
        return False
    cost = plan.cost
    return max_cost is None or (cost is not None and cost.total <= max_cost)


def _plan_for_budget(
    inputs: _Inputs, top: float, max_tokens: int | None, max_cost: float | None
) -> SegmentPlan:
    """The plan at the largest fps on the budget planner's grid (at most ``top``) that fits."""
    for fps in sorted((f for f in FPS_GRID if f <= top), reverse=True):
        plan = _plan_at(inputs, fps)
        if _fits(plan, max_tokens, max_cost):
            parts = [f"{max_tokens:,} tokens"] if max_tokens is not None else []
            if max_cost is not None and inputs.prices is not None:
                parts.append(f"{max_cost:g} {inputs.prices.currency}")
            note = (
                f"fps={fps:g}: the largest on the budget grid (0.1 to {top:g}) whose segments "
                f"fit {' and '.join(parts)}"
            )
            return replace(plan, budget_note=note)
    lowest = _plan_at(inputs, FPS_GRID[0])
    cost = lowest.cost
    need = f"{lowest.total_tokens:,} tokens" + (f", {cost}" if cost is not None else "")
    raise LimitError(
        f"no fps on the grid fits the budget: even fps={FPS_GRID[0]:g} needs {need}. Raise "
        "max_tokens= or max_cost=, or ask about a part of the video."
    )


def plan_segments(
    duration: float,
    width: int,
    height: int,
    *,
    fps: float | None = None,
    media_resolution: str = "default",
    native_fps: float | None = None,
    native_frame_count: int | None = None,
    max_frames_per_segment: int | None = None,
    overlap: float = 0.0,
    context_length: int | None = None,
    per_request: Literal["one", "pack"] = "one",
    reserve_tokens: int = 4096,
    max_tokens: int | None = None,
    max_cost: float | None = None,
    prices: Prices | None = None,
    output_tokens: int = 0,
    has_audio: bool = True,
) -> SegmentPlan:
    """Cut a video into segments the formula samples whole, at ``fps`` (see the module doc).

    Args:
        duration, width, height: the original's length (s) and displayed frame size.
        fps: frames per second asked (2 if None); with a budget, the most to try (10 if None).
        media_resolution: ``"default"`` or ``"max"``.
        native_fps, native_frame_count: the original's frames, so each segment knows which it
            holds (``file_indices``, ``timemap``); ``plan_video_segments`` passes the probe's.
        max_frames_per_segment: fewer frames per segment than the cap (2,048) leave each frame
            more pixels under the shared budget.
        overlap: seconds each segment repeats of the one before (rounded up to even slots).
        context_length, per_request, reserve_tokens: ``"one"`` segment per request, or
            ``"pack"`` consecutive segments into a request up to ``context_length`` less
            ``reserve_tokens`` (for the prompt and the answer).
        max_tokens, max_cost: a budget for all segments; the plan takes the largest fps on
            :data:`~mimo_nb.core.budget.FPS_GRID` whose total fits (``max_cost`` needs
            ``prices``; ``output_tokens`` of answer per request count).
        has_audio: False for a silent video (no audio tokens, no audio bytes).

    >>> plan_segments(600, 640, 360, fps=5).segments[0].frames
    1500
    >>> plan = plan_segments(7200, 1280, 720, max_tokens=300_000)
    >>> plan.fps, len(plan.segments), plan.total_tokens
    (0.2, 3, 247332)
    """
    duration = validate.positive("duration", duration, maximum=validate.MAX_DURATION)
    width, height = validate.size(width, height)
    media_resolution = validate_media_resolution(media_resolution)
    native_fps = validate.positive("native_fps", native_fps, allow_none=True)
    native_frame_count = validate.positive_int(
        "native_frame_count", native_frame_count, allow_none=True
    )
    cap = _segment_cap(max_frames_per_segment)
    budget_given = max_tokens is not None or max_cost is not None
    prices = as_prices(prices)
    if max_cost is not None and prices is None:
        raise LimitError(
            "max_cost needs prices: pass prices=mn.load_prices(...) or mn.Prices(...)."
        )
    inputs = _Inputs(
        duration=duration,
        width=width,
        height=height,
        media_resolution=media_resolution,
        native_fps=native_fps,
        native_frame_count=native_frame_count,
        max_frames=_even_down(cap),
        overlap=validate.non_negative("overlap", overlap, hint="(seconds)"),
        context_length=validate.positive_int("context_length", context_length, allow_none=True),
        per_request=validate.choice("per_request", per_request, ("one", "pack")),
        reserve_tokens=validate.non_negative_int("reserve_tokens", reserve_tokens),
        prices=prices,
        output_tokens=validate.non_negative_int("output_tokens", output_tokens),
        has_audio=bool(has_audio),
    )
    if inputs.per_request == "pack" and inputs.context_length is None:
        raise LimitError(
            "per_request='pack' packs segments up to a context length: pass context_length= "
            "(mn.context_length(model) has the cited ones)."
        )
    if budget_given:
        top = 10.0 if fps is None else validate_fps(fps)
        return _plan_for_budget(
            inputs,
            top,
            validate.non_negative_int("max_tokens", max_tokens, allow_none=True),
            validate.non_negative("max_cost", max_cost, allow_none=True),
        )
    return _plan_at(inputs, validate_fps(FPS_DEFAULT if fps is None else fps))


# ---- Many videos at once ------------------------------------------------------------------


def _file_rate_array(d: np.ndarray, asked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_file_rate` over arrays: its numerator and denominator (units), exactly.

    The float quotient decides every element whose exact value is not within rounding of an
    integer (or of 20 slots a second); those few take the scalar's exact fractions.
    """
    slots_per_second = asked / d
    units = np.where(slots_per_second <= 20, _RATE_UNITS[0], _RATE_UNITS[1]).astype(np.int64)
    scaled = asked * (units / d)  # exact value asked * units / d, to a few ulps
    whole = np.floor(scaled)
    near = np.abs(scaled - np.round(scaled)) <= scaled * 1e-12 + 1e-9
    near |= np.abs(slots_per_second - 20) <= 1e-9
    num = whole.astype(np.int64) + 1
    for i in np.flatnonzero(near):
        num[i], units[i] = _file_rate_units(float(d[i]), int(asked[i]))
    return num, units


def plan_segments_array(
    duration: npt.ArrayLike,
    width: npt.ArrayLike,
    height: npt.ArrayLike,
    *,
    fps: npt.ArrayLike = FPS_DEFAULT,
    media_resolution: npt.ArrayLike = "default",
    max_frames_per_segment: int | None = None,
    overlap: float = 0.0,
    has_audio: npt.ArrayLike = True,
) -> dict[str, npt.NDArray[np.int64]]:
    """:func:`plan_segments` for many videos at once (a corpus), one segment per request.

    Arguments broadcast like numpy's; each element's numbers equal the scalar plan's on the
    same inputs (budgets and packing are the scalar's alone). Returns int64 arrays:
    ``segments`` (how many), ``asked_frames``, ``frames`` (sent over all segments, overlaps
    counted in each), ``longest`` (frames of the longest segment), ``max_frames_per_segment``
    (after the byte limit), ``tokens`` (the plan's ``total_tokens``), ``est_bytes`` (all segment
    files by :data:`BYTES_BASIS`), and ``unsegmented_frames`` and ``unsegmented_tokens`` (the
    whole video as one request).

    >>> out = plan_segments_array([7200, 600], [1920, 640], [1080, 360], fps=[2, 5])
    >>> out["segments"].tolist(), out["tokens"].tolist()
    ([8, 2], [1117832, 243758])
    >>> plan_segments(600, 640, 360, fps=5).total_tokens  # the same as one plan
    243758
    """
    d, w, h, f, is_max = _check_array_args(duration, width, height, fps, media_resolution)
    audio = np.asarray(has_audio, dtype=bool)
    d, w, h, f, is_max, audio = np.broadcast_arrays(d, w, h, f, is_max, audio)
    d, w, h, f, is_max, audio = (a.ravel() for a in (d, w, h, f, is_max, audio))
    shape = np.broadcast_shapes(*(np.shape(a) for a in (duration, width, height, fps)))
    shape = np.broadcast_shapes(shape, np.shape(media_resolution), np.shape(has_audio))
    cap0 = _even_down(_segment_cap(max_frames_per_segment))
    overlap = validate.non_negative("overlap", overlap, hint="(seconds)")

    asked = np.maximum((np.ceil(np.ceil(d * f) / TEMPORAL_PATCH) * TEMPORAL_PATCH), 2)
    asked = asked.astype(np.int64)
    step = d / asked
    over = np.zeros_like(asked)
    if overlap > 0:
        over = np.ceil(overlap / step / TEMPORAL_PATCH - 1e-9).astype(np.int64) * TEMPORAL_PATCH
    num, units = _file_rate_array(d, asked)

    def seconds(m: np.ndarray, at: Any = slice(None)) -> np.ndarray:  # float(m / rate)
        return (m * units[at]) / num[at]

    def est_bytes(m: np.ndarray, mw: np.ndarray, mh: np.ndarray, at: Any = slice(None)) -> Any:
        video = (m * mw * mh).astype(np.float64) * VIDEO_BITS_PER_PIXEL / 8
        sound = np.where(audio[at], seconds(m, at) * AUDIO_BITS_PER_SECOND / 8, 0.0)
        index = _CONTAINER_BYTES + m * _INDEX_BYTES_PER_FRAME
        return np.ceil(video + sound).astype(np.int64) + index

    # The byte limit, as _bytes_cap: the most frames (even, <= cap) whose file fits. Where the
    # cap does not fit, counts are tried downwards, 64 at a time, from the most whose sound and
    # index alone fit (more cannot: the picture only adds bytes).
    limit = max_base64_file_bytes()
    cap = np.full_like(asked, cap0)
    mw, mh = model_frame_size_array(w, h, cap, is_max)
    todo = np.flatnonzero(est_bytes(cap, mw, mh) > limit)
    per_frame = np.where(audio[todo], units[todo] / num[todo] * AUDIO_BITS_PER_SECOND / 8, 0.0)
    most = (limit - _CONTAINER_BYTES) / (per_frame + _INDEX_BYTES_PER_FRAME)
    top = np.minimum(most.astype(np.int64) // TEMPORAL_PATCH * TEMPORAL_PATCH + 4, cap0)
    window = TEMPORAL_PATCH * np.arange(64)
    while todo.size:
        m = top[:, None] - window
        at = todo[:, None]
        mw, mh = model_frame_size_array(w[at], h[at], np.maximum(m, TEMPORAL_PATCH), is_max[at])
        fits = (est_bytes(m, mw, mh, at) <= limit) & (m >= TEMPORAL_PATCH)
        found = fits.any(axis=1)
        cap[todo[found]] = m[found, fits[found].argmax(axis=1)]
        todo, top = todo[~found], top[~found] - window.size * TEMPORAL_PATCH
        if np.any(top < TEMPORAL_PATCH):
            bad = int(todo[top < TEMPORAL_PATCH][0])
            raise LimitError(
                f"video {bad}: even {TEMPORAL_PATCH} frames at this size are estimated over the "
                "base64 limit; it cannot be cut into inline segments: send it by URL."
            )

    # The run lengths, as _run_lengths: `extra` segments of long = short + 2, the rest short.
    split = asked > cap
    if np.any(split & (cap - over < TEMPORAL_PATCH)):
        bad = int(np.flatnonzero(split & (cap - over < TEMPORAL_PATCH))[0])
        raise LimitError(
            f"video {bad}: an overlap of {int(over[bad])} frames leaves no new frames in a segment "
            f"of at most {int(cap[bad])}: lower overlap= or raise max_frames_per_segment=."
        )
    room = np.where(split, cap - over, 1)
    count = np.where(split, 1 + np.ceil((asked - cap) / room), 1).astype(np.int64)
    pairs = (asked + (count - 1) * over) // TEMPORAL_PATCH
    base, extra = np.divmod(pairs, count)
    short, long = TEMPORAL_PATCH * base, TEMPORAL_PATCH * (base + 1)

    mute, resolution = ~audio, np.where(is_max, "max", "default")
    totals = np.zeros_like(asked)
    sizes = np.zeros_like(asked)
    for m, n in ((short, count - extra), (long, extra)):
        b = explain_video_tokens_array(seconds(m), w, h, f, resolution, mute)
        used = n > 0
        if np.any(used & (b["frames"] != m)):  # the module doc proves this cannot happen
            bad = int(np.flatnonzero(used & (b["frames"] != m))[0])
            raise LimitError(
                f"video {bad}: the formula samples {int(b['frames'][bad])} frames from a segment "
                f"file of {int(m[bad])}; please report this video's duration and fps."
            )
        totals += n * b["total"]
        sizes += np.where(used, n * est_bytes(m, b["width"], b["height"]), 0)
    whole = explain_video_tokens_array(d, w, h, f, resolution, mute)
    out = {
        "segments": count,
        "asked_frames": asked,
        "frames": TEMPORAL_PATCH * pairs,
        "longest": np.where(extra > 0, long, short),
        "max_frames_per_segment": cap,
        "tokens": totals,
        "est_bytes": sizes,
        "unsegmented_frames": whole["frames"],
        "unsegmented_tokens": whole["total"],
    }
    return {k: v.reshape(shape) for k, v in out.items()}
