"""Ask about a video of any length: its segments concurrently, paced, cached, then one merge.

:func:`ask_long` cuts the video by its :class:`~mimo_nb.core.segments.SegmentPlan` (or takes
the files already written), asks every request of the plan concurrently (at most
``concurrency`` at once, within the account's quotas) with a line before the prompt saying which
part of the whole it covers, and, given ``merge_prompt``, asks one text-only request over the
segment answers. Answers are cached by the client (``AsyncMimoClient(cache=...)``), so a run
killed halfway resumes where it stopped and pays for no segment twice. ``max_cost`` is a real
cap: the run is refused before anything is sent when the forecast is over it, and a request is
sent only while the spend, plus the most the requests in flight can cost, stays within it.

The result, a :class:`LongAnswer`, keeps every request's Completion, the times each answer
names mapped onto the original's clock (:func:`~mimo_nb.core.times.find_times` and
:func:`~mimo_nb.core.timemap.ground` on the segment's time map), and the estimate against the
actual usage per request and in total. It renders as one timeline.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mimo_nb.api.pacing import Pacer, check_count
from mimo_nb.api.request import prepare_request
from mimo_nb.core import validate
from mimo_nb.core.display_hook import Displayed
from mimo_nb.core.pricing import Prices, estimate_cost, estimate_text_tokens
from mimo_nb.core.segments import SegmentPlan, hms, plan_segments
from mimo_nb.core.timemap import GroundedTime, ground
from mimo_nb.core.times import find_times
from mimo_nb.corpus._sending import OVER_BUDGET, Sender, Sent, each
from mimo_nb.errors import LimitError
from mimo_nb.media.segments import (
    FROM_THE_VIDEO,
    SegmentFile,
    VideoSegments,
    plan_video_segments,
)
from mimo_nb.media.video import Video

if TYPE_CHECKING:
    from mimo_nb.api.client import AsyncMimoClient
    from mimo_nb.api.request import PreparedRequest
    from mimo_nb.api.response import Completion

__all__ = ["LongPart", "LongAnswer", "ask_long", "part_prompt", "on_original_clock"]

ANSWERED, REPLAYED, SKIPPED, FAILED = "answered", "replayed", "skipped", "error"
NOT_PLACED = "(after the end of this part: not placed)"


def part_prompt(plan: SegmentPlan, request: int, prompt: str) -> str:
    """The prompt of request ``request``: where its videos lie in the whole, then ``prompt``.

    >>> from mimo_nb.core.segments import plan_segments
    >>> plan = plan_segments(7200, 1280, 720, fps=2)
    >>> print(part_prompt(plan, 1, "Summarise."))  # doctest: +NORMALIZE_WHITESPACE
    This is part 2 of 8, from 00:15:00 to 00:30:00 of the original video. Give times from the
    start of this clip (00:00), not of the original.
    <BLANKLINE>
    Summarise.
    """
    count = len(plan.segments)
    lines = [plan.segments[k].part_line(count) for k in plan.requests[request]]
    if len(lines) > 1:
        lines = [f"Video {i + 1}: {line}" for i, line in enumerate(lines)]
    return "\n".join(lines) + "\n\n" + prompt


def on_original_clock(text: str, times: Sequence[GroundedTime]) -> str:
    """``text`` with each time it names rewritten as ``HH:MM:SS`` on the original's clock.

    A time after the end of its part (flagged ``past_end``: say, a model that answered on the
    original's clock although told not to) is not moved: its words stay, marked, since adding
    the part's start to it would place it where nothing was seen.

    >>> from mimo_nb.core.segments import plan_segments
    >>> second = plan_segments(7200, 1280, 720, fps=2, native_fps=30).segments[1]
    >>> text = "The speaker sits down at 00:10; at 00:15:30 she stands."
    >>> print(on_original_clock(text, ground(find_times(text), second.timemap)))
    ... # doctest: +NORMALIZE_WHITESPACE
    The speaker sits down at 00:15:10; at 00:15:30 (after the end of this part: not placed)
    she stands.
    """
    out, at = [], 0
    for g in sorted(times, key=lambda g: g.ref.span):
        a, b = g.ref.span
        if g.past_end:
            shown = f"{g.ref.text} {NOT_PLACED}"
        else:
            shown = hms(g.source_start) + ("" if g.source_end is None else f"-{hms(g.source_end)}")
        out += [text[at:a], shown]
        at = b
    return "".join(out) + text[at:]


@dataclass
class LongPart:
    """One request of a long video: its segments, the answer (or why none) and its numbers.

    ``times`` are the answer's times tied to the segment's frames and mapped onto the original
    (empty for a request of several segments: which video a time belongs to is not said).
    """

    request: int
    segments: tuple[int, ...]
    prompt: str
    est_prompt_tokens: int = 0
    est_cost: float | None = None
    status: str = ""
    completion: Completion | None = None
    error: str | None = None
    times: list[GroundedTime] = field(default_factory=list)

    @property
    def prompt_tokens(self) -> int | None:
        """The prompt tokens the server reported (None without an answer or usage)."""
        usage = None if self.completion is None else self.completion.usage
        return None if usage is None else usage.prompt_tokens

    @property
    def cost(self) -> float | None:
        """What the answer cost (None without an answer, usage or prices)."""
        cost = None if self.completion is None else self.completion.cost
        return None if cost is None else cost.total


@dataclass
class LongAnswer(Displayed):
    """Every request's answer about a long video, the merged answer, and the money.

    ``forecast`` is the estimated cost of the requests that were to be sent; ``spent`` what the
    answers sent (not replayed from the cache) cost, an answer without usage at its worst case.
    ``merge_error`` says why the merge asked for has no answer (the cap, the quota, or its
    error).
    """

    plan: SegmentPlan
    files: list[SegmentFile]
    prompt: str
    parts: list[LongPart]
    merged: Completion | None = None
    merge_prompt: str | None = None
    prices: Prices | None = None
    forecast: float = 0.0
    spent: float = 0.0
    max_cost: float | None = None
    merge_error: str | None = None

    @property
    def completions(self) -> list[Completion | None]:
        """Each request's Completion, in the plan's order (None where there is none)."""
        return [p.completion for p in self.parts]

    @property
    def times(self) -> list[GroundedTime]:
        """Every time the answers name, on the original's clock, in order, with its flags. A
        time flagged ``past_end`` lies after its part's end: its ``source_start`` (the part's
        start added to it) is no moment that part showed; filter on ``g.past_end`` to drop it."""
        return sorted((g for p in self.parts for g in p.times), key=lambda g: g.source_start)

    @property
    def text(self) -> str:
        """The merged answer, or each part's answer with its times on the original's clock."""
        if self.merged is not None:
            return self.merged.content
        return "\n\n".join(_part_text(self.plan, p) for p in self.parts if p.completion)

    @property
    def est_prompt_tokens(self) -> int:
        return sum(p.est_prompt_tokens for p in self.parts)

    @property
    def prompt_tokens(self) -> int:
        """Prompt tokens the server reported over every answered request."""
        return sum(p.prompt_tokens or 0 for p in self.parts)

    def __repr__(self) -> str:
        done = sum(1 for p in self.parts if p.completion is not None)
        return (
            f"<LongAnswer {done}/{len(self.parts)} parts answered, "
            f"{'merged' if self.merged else 'not merged'}, estimate "
            f"{self.est_prompt_tokens:,} prompt tokens, reported {self.prompt_tokens:,}>"
        )


def _part_text(plan: SegmentPlan, part: LongPart) -> str:
    assert part.completion is not None
    first, last = plan.segments[part.segments[0]], plan.segments[part.segments[-1]]
    head = f"Part {part.request + 1} ({hms(first.start)} to {hms(last.end)}):"
    return head + "\n" + on_original_clock(part.completion.content, part.times)


def _segments_of(
    video_or_segments: Video | VideoSegments, fps: float | None, options: dict[str, Any]
) -> VideoSegments:
    if isinstance(video_or_segments, VideoSegments):
        if options or (fps is not None and fps != video_or_segments.plan.fps):
            raise LimitError(
                "these segments are planned already (fps "
                f"{video_or_segments.plan.fps:g}): pass the Video to plan again with other "
                "options."
            )
        return video_or_segments
    if isinstance(video_or_segments, Video):
        return plan_video_segments(video_or_segments, fps=fps, **options)
    raise LimitError(
        "ask_long takes a Video or the VideoSegments of plan_video_segments(video, ...); got "
        f"{type(video_or_segments).__name__}."
    )


class _LongRun:
    """One :func:`ask_long`: prepare each request, check the cache and the budget, send paced."""

    def __init__(self, client: AsyncMimoClient, answer: LongAnswer, options: dict[str, Any]):
        self.client, self.answer, self.options = client, answer, options
        self.output_tokens: int = options.pop("output_tokens")
        self.pacer: Pacer = options.pop("pacer")
        self.concurrency: int = options.pop("concurrency")
        self.prepared: dict[int, PreparedRequest] = {}
        self.cached: set[int] = set()
        self.sender = Sender(client, self.pacer, answer.max_cost)  # the spend, the cap, pacing

    def _cost(self, prompt_tokens: int, output_tokens: int) -> float | None:
        prices = self.answer.prices
        if prices is None:
            return None
        return estimate_cost(prompt_tokens, prices, output_tokens=output_tokens).total

    async def prepare(self) -> None:
        plan, files = self.answer.plan, self.answer.files
        for part in self.answer.parts:
            paths = [files[k].path for k in part.segments]
            prepared = await self.client.build_request(
                paths,
                part.prompt,
                fps=plan.fps,
                media_resolution=plan.media_resolution,
                **self.options,
            )
            self.prepared[part.request] = prepared
            part.est_prompt_tokens = prepared.estimate.prompt_tokens
            part.est_cost = self._cost(part.est_prompt_tokens, self.output_tokens)
            if await asyncio.to_thread(self._in_cache, prepared):  # hashing blocks: off the loop
                self.cached.add(part.request)

    def _in_cache(self, prepared: PreparedRequest) -> bool:
        cache = self.client.cache
        return cache is not None and cache.get(prepared.cache_material()) is not None

    def forecast(self, merge_tokens: int) -> float:
        costs = [p.est_cost or 0.0 for p in self.answer.parts if p.request not in self.cached]
        return sum(costs) + (self._cost(merge_tokens, self.output_tokens) or 0.0)

    def _send(self, prepared: PreparedRequest, *, cached: bool) -> Awaitable[Sent]:
        """Send one request through the run's sender, at its most cost and tokens."""
        limit = self.options["max_completion_tokens"]
        prompt_tokens = prepared.estimate.prompt_tokens
        return self.sender.send(
            prepared,
            worst=self._cost(prompt_tokens, limit) or 0.0,
            charge=prompt_tokens + limit,
            cached=cached,
        )

    async def send_all(self) -> None:
        """Send every part (the heaviest is checked against the token quota before any)."""
        limit = self.options["max_completion_tokens"]
        if self.answer.parts:
            self.pacer.check(max(p.est_prompt_tokens for p in self.answer.parts) + limit)
        await each(self.answer.parts, self.concurrency, self._one)

    async def _one(self, part: LongPart) -> None:
        prepared = self.prepared[part.request]
        sent = await self._send(prepared, cached=part.request in self.cached)
        if sent.skipped:
            part.status, part.error = SKIPPED, OVER_BUDGET
        elif sent.error is not None:
            part.status, part.error = FAILED, f"{type(sent.error).__name__}: {sent.error}"
        elif (completion := sent.completion) is not None:
            part.completion = completion
            part.status = REPLAYED if completion.origin == "cache" else ANSWERED
            if len(part.segments) == 1:
                segment = self.answer.plan.segments[part.segments[0]]
                part.times = ground(find_times(completion.content), segment.timemap)

    async def merge(self, merge_prompt: str) -> None:
        """Ask the merge through the same sender: within the cap, paced, cached."""
        prepared = _merge_request(
            self.client,
            self.answer,
            merge_prompt,
            self.options["system"],
            self.options["max_completion_tokens"],
        )
        cached = await asyncio.to_thread(self._in_cache, prepared)
        sent = await self._send(prepared, cached=cached)
        if sent.skipped:
            self.answer.merge_error = OVER_BUDGET
        elif sent.error is not None:
            self.answer.merge_error = f"{type(sent.error).__name__}: {sent.error}"
        self.answer.merged = sent.completion


async def ask_long(
    client: AsyncMimoClient,
    video_or_segments: Video | VideoSegments,
    prompt: str,
    *,
    fps: float | None = None,
    concurrency: int = 4,
    max_cost: float | None = None,
    merge_prompt: str | None = None,
    folder: str | None = None,
    files: Sequence[SegmentFile] | None = None,
    system: str | None = None,
    max_completion_tokens: int = 1024,
    output_tokens: int | None = None,
    requests_per_minute: int | None = None,
    tokens_per_minute: int | None = None,
    window: float = 60.0,
    **plan_options: Any,
) -> LongAnswer:
    """Ask ``prompt`` about every segment of a long video, then (optionally) merge the answers.

    Args:
        client: an :class:`~mimo_nb.api.client.AsyncMimoClient`; give it ``cache=`` to resume
            after a kill, and ``prices=`` for costs and ``max_cost``.
        video_or_segments: a :class:`Video` (planned here with ``fps`` and ``plan_options``,
            :func:`~mimo_nb.core.segments.plan_segments`' keywords) or the
            :class:`VideoSegments` of :func:`plan_video_segments`.
        prompt: asked of every request, after a line saying which part of the whole it covers.
        concurrency: requests in flight at once; ``requests_per_minute`` and
            ``tokens_per_minute`` pace them (and the merge) as
            :meth:`Corpus.ask <mimo_nb.corpus.Corpus.ask>` does, over a ``window`` of seconds
            (60: per minute); a request heavier than ``tokens_per_minute`` is refused before
            anything is sent.
        max_cost: refuse to start when the forecast (requests not in the cache, and the merge)
            is over it; while running, send a request (the merge too) only while the spend and
            the most the requests in flight can cost stay within it, checked again after waiting
            for the quotas. An answer without usage counts at its worst case.
        merge_prompt: asked, text only, over the segment answers (their times rewritten on the
            original's clock) once every part is answered.
        folder, files: where to write the segment files (a new temporary folder by default), or
            the files :meth:`VideoSegments.write` wrote already.
        system, max_completion_tokens: as for ``client.ask``; ``output_tokens`` the answer
            length the forecast assumes (default ``max_completion_tokens``).
    """
    if not asyncio.iscoroutinefunction(getattr(client, "send", None)):
        raise LimitError("ask_long needs an AsyncMimoClient: pass mimo_nb.AsyncMimoClient(...).")
    validate.keywords("ask_long", plan_options, ask_long, plan_segments, but=FROM_THE_VIDEO)
    cut = _segments_of(video_or_segments, fps, plan_options)
    check_count(concurrency, "concurrency")
    max_cost = validate.non_negative("max_cost", max_cost, allow_none=True, hint="(None: no cap)")
    output_tokens = validate.non_negative_int(
        "output_tokens", max_completion_tokens if output_tokens is None else output_tokens
    )
    prices = client.prices
    if max_cost is not None and prices is None:
        raise LimitError("max_cost needs prices: pass AsyncMimoClient(prices=mn.Prices(...)).")
    plan = cut.plan
    if files is None:
        where = folder if folder is not None else tempfile.mkdtemp(prefix="mimo-segments-")
        files = await asyncio.to_thread(cut.write, where)
    if len(files) != len(plan.segments):
        raise LimitError(f"files holds {len(files)} segments; the plan has {len(plan.segments)}.")
    parts = [
        LongPart(r, segments, part_prompt(plan, r, prompt))
        for r, segments in enumerate(plan.requests)
    ]
    answer = LongAnswer(
        plan,
        list(files),
        prompt,
        parts,
        merge_prompt=merge_prompt,
        prices=prices,
        max_cost=max_cost,
    )
    run = _LongRun(
        client,
        answer,
        dict(
            system=system,
            max_completion_tokens=max_completion_tokens,
            output_tokens=output_tokens,
            concurrency=concurrency,
            pacer=Pacer(requests_per_minute, tokens_per_minute, window=window),
        ),
    )
    await run.prepare()
    merge_tokens = 0
    if merge_prompt is not None:
        merge_tokens = estimate_text_tokens(merge_prompt) + output_tokens * len(parts)
    answer.forecast = run.forecast(merge_tokens)
    if max_cost is not None and answer.forecast > max_cost:
        currency = prices.currency if prices is not None else ""
        raise LimitError(
            f"the forecast for this video's {len(parts) - len(run.cached)} requests to send is "
            f"{answer.forecast:.4f} {currency}, over max_cost={max_cost:g}: nothing was sent. "
            "Plan with a lower fps or a budget (max_cost= in plan_segments picks the fps), "
            "lower max_completion_tokens, or raise max_cost."
        )
    await run.send_all()
    if merge_prompt is not None and all(p.completion is not None for p in parts):
        await run.merge(merge_prompt)
    answer.spent = run.sender.spent
    return answer


def _merge_request(
    client: AsyncMimoClient,
    answer: LongAnswer,
    merge_prompt: str,
    system: str | None,
    max_completion_tokens: int,
) -> PreparedRequest:
    """The one text-only request over the parts' answers, times on the original's clock."""
    answers = "\n\n".join(_part_text(answer.plan, p) for p in answer.parts)
    text = (
        f"These are answers about the {len(answer.parts)} parts of one video of "
        f"{hms(answer.plan.duration)}, to the question: {answer.prompt}\n\n{answers}\n\n"
        f"{merge_prompt}"
    )
    return prepare_request(
        [],
        text,
        model=client.model,
        system=system,
        max_completion_tokens=max_completion_tokens,
        context_lengths=client.context_lengths,
    )
