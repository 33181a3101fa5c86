"""Asking about every video of a corpus: paced against the quotas, within a budget, cached and
resumable, and the table of answers.

Every request is prepared (and checked against the cache) on one event loop, sent at most
``concurrency`` at a time when the quotas (:class:`~mimo_nb.api.pacing.Pacer`) and ``max_cost``
allow, and recorded as an item of :class:`CorpusAnswers`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mimo_nb.api.pacing import Pacer, check_count, check_number, minimum_wall_time
from mimo_nb.core.pricing import Prices, estimate_text_tokens
from mimo_nb.core.profiles import DEFAULT_PROFILE, get_profile
from mimo_nb.core.tokens import (
    explain_video_tokens_array,
    validate_fps,
    validate_media_resolution,
)
from mimo_nb.corpus._forecast import profile_video_tokens
from mimo_nb.corpus._optional import _need_pandas, _progress
from mimo_nb.corpus._paths import _is_url
from mimo_nb.corpus._sending import OVER_BUDGET, Sender, each
from mimo_nb.errors import LimitError, MimoError

if TYPE_CHECKING:
    import pandas as pd

    from mimo_nb.api.client import AsyncMimoClient
    from mimo_nb.api.request import PreparedRequest
    from mimo_nb.api.response import Completion
    from mimo_nb.corpus._corpus import Corpus
    from mimo_nb.media.video import Video

STATUS_ANSWERED, STATUS_REPLAYED, STATUS_ERROR, STATUS_SKIPPED = (
    "answered",
    "replayed",
    "error",
    "skipped",
)
STATUS_WOULD_SEND, STATUS_WOULD_REPLAY, STATUS_NOT_PROBED = (
    "would send",
    "would replay",
    "not probed",
)


@dataclass
class _Item:
    """One row's request and what became of it."""

    position: int
    prepared: PreparedRequest | None = None
    cached: bool = False
    status: str = ""
    completion: Completion | None = None
    error_type: str | None = None
    error: str | None = None
    reserved_cost: float | None = None  # the answer had no usage: counted at its worst case


@dataclass(repr=False)
class CorpusAnswers:
    """The outcome of :meth:`Corpus.ask`: per item the estimate, the answer (or error) and its
    cost."""

    corpus: Corpus
    items: list[_Item] = field(repr=False)
    est_prompt_tokens: npt.NDArray[np.int64] = field(repr=False)
    est_cost: npt.NDArray[np.float64] = field(repr=False)
    prices: Prices | None
    forecast_cost: float
    spent: float
    dry_run: bool
    minimum_seconds: float
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def completions(self) -> list[Completion | None]:
        """The answers in scan order (None where there is none)."""
        by_position: dict[int, Completion | None] = {
            it.position: it.completion for it in self.items
        }
        return [by_position.get(i) for i in range(len(self.corpus))]

    @property
    def requests(self) -> list[PreparedRequest]:
        """The prepared requests (exact bodies; ``print(r)`` elides the base64)."""
        return [it.prepared for it in self.items if it.prepared is not None]

    def counts(self) -> dict[str, int]:
        """How many items ended in each status."""
        out: dict[str, int] = {}
        for item in self.items:
            out[item.status] = out.get(item.status, 0) + 1
        return out

    def to_pandas(self) -> pd.DataFrame:
        """The scan's rows with status, estimate beside actual tokens and cost, the answer or
        error."""
        pd = _need_pandas()
        scan = self.corpus.to_pandas()[["path", "name", "duration", "width", "height", "has_audio"]]
        records = []
        by_position = {it.position: (k, it) for k, it in enumerate(self.items)}
        for position in range(len(self.corpus)):
            k, item = by_position.get(position, (None, None))
            record: dict[str, Any] = {
                "status": STATUS_NOT_PROBED,
                "origin": None,
                "est_prompt_tokens": None,
                "prompt_tokens": None,
                "est_video_tokens": None,
                "video_tokens": None,
                "est_audio_tokens": None,
                "audio_tokens": None,
                "completion_tokens": None,
                "est_cost": None,
                "cost": None,
                "cost_reserved": False,
                "content": None,
                "error_type": None,
                "error": None,
            }
            if item is not None and k is not None:
                estimate = item.prepared.estimate if item.prepared is not None else None
                record.update(
                    status=item.status,
                    est_prompt_tokens=int(self.est_prompt_tokens[k]),
                    est_cost=float(self.est_cost[k]),
                    error_type=item.error_type,
                    error=item.error,
                )
                if estimate is not None and estimate.complete:
                    record.update(
                        est_video_tokens=estimate.video_tokens,
                        est_audio_tokens=estimate.audio_tokens,
                    )
                done = item.completion
                if done is not None:
                    cost = done.cost
                    record.update(
                        origin=done.origin, content=done.content, cost=cost.total if cost else None
                    )
                    if item.reserved_cost is not None:  # no usage: its reserved worst case
                        record.update(cost=item.reserved_cost, cost_reserved=True)
                    if done.usage is not None:
                        record.update(
                            prompt_tokens=done.usage.prompt_tokens,
                            video_tokens=done.usage.video_tokens,
                            audio_tokens=done.usage.audio_tokens,
                            completion_tokens=done.usage.completion_tokens,
                        )
            else:
                record["error"] = self.corpus._table.iloc[position]["error"]
            records.append(record)
        answers = pd.DataFrame.from_records(records)
        for column in (
            "est_prompt_tokens",
            "prompt_tokens",
            "est_video_tokens",
            "video_tokens",
            "est_audio_tokens",
            "audio_tokens",
            "completion_tokens",
        ):
            answers[column] = answers[column].astype("Int64")
        return pd.concat([scan.reset_index(drop=True), answers], axis=1)

    def __repr__(self) -> str:
        return f"<CorpusAnswers {self}>"

    def __str__(self) -> str:
        currency = self.prices.currency if self.prices else ""
        counts = ", ".join(f"{k} {v}" for k, v in self.counts().items())
        head = "Dry run: nothing was sent. " if self.dry_run else ""
        profile = self.settings.get("profile", DEFAULT_PROFILE)
        rules = "" if profile == DEFAULT_PROFILE else f" (tokens by profile {profile!r})"
        text = (
            f"{head}{len(self.items)} items: {counts}. Forecast for the requests to send"
            f"{rules}: {self.forecast_cost:.4f} {currency}"
        )
        if not self.dry_run:
            text += f"; spent {self.spent:.4f} {currency} (from the answers' usage"
            reserved = sum(
                1
                for it in self.items
                if it.reserved_cost is not None
                and it.completion is not None
                and it.completion.origin != "cache"
            )
            if reserved:
                text += (
                    f"; {reserved:,} came without usage and count at their reserved worst case: "
                    "the estimated prompt plus the whole max_completion_tokens"
                )
            text += ")"
        if self.minimum_seconds:
            text += f". The quotas allow it in no less than {_duration(self.minimum_seconds)}"
        cap = self.settings.get("max_cost")
        if self.dry_run and cap is not None:
            verdict = (
                "within" if self.forecast_cost <= cap else "over, so the run would be refused:"
            )
            text += f". The forecast is {verdict} max_cost={cap:g}"
        return text + "."

    def _repr_html_(self) -> str:
        from mimo_nb.display.render import corpus_answers_html

        return corpus_answers_html(self)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


REFUSAL_HINT = (
    "Lower fps (corpus.max_fps(cost=...) finds the largest that fits), lower "
    "max_completion_tokens or output_tokens, ask a subset (corpus[:n]), or raise max_cost."
)


def _per_row(value: Any, rows: int, what: str) -> list[Any]:
    """One value per corpus row: a single value repeated, or a sequence of exactly ``rows``."""
    if isinstance(value, (str, int, float)):
        return [value] * rows
    listed = list(value)
    if len(listed) != rows:
        raise LimitError(
            f"{what} holds {len(listed)} values for a corpus of {rows} rows; give one value, "
            "or one per row."
        )
    return listed


class _AskRun:
    """One :meth:`Corpus.ask`: prepare every request, check the cache and budget, then send
    paced.

    ``prompt``, ``fps`` and ``media_resolution`` are one value for every row, or one value per
    row of the corpus (a sweep asks each task's question at each setting in one run: one pacer,
    one budget, one cache).
    """

    def __init__(
        self,
        corpus: Corpus,
        client: AsyncMimoClient,
        prompt: str | Sequence[str],
        *,
        fps: float | Sequence[float],
        media_resolution: str | Sequence[str],
        system: str | None,
        max_completion_tokens: int,
        concurrency: int,
        requests_per_minute: int | None,
        tokens_per_minute: int | None,
        window: float,
        max_cost: float | None,
        output_tokens: int | None,
        progress: bool,
        extra: dict[str, Any],
        refusal_hint: str = REFUSAL_HINT,
    ) -> None:
        if not asyncio.iscoroutinefunction(getattr(client, "send", None)):
            raise LimitError(
                "Corpus.ask needs an AsyncMimoClient (its requests share one event loop); "
                "pass mimo_nb.AsyncMimoClient(...), not MimoClient."
            )
        check_count(concurrency, "concurrency")
        if max_cost is not None:
            check_number(max_cost, "max_cost", positive=False, hint=" (None: no cap)")
        check_count(output_tokens, "output_tokens", 0, none_ok=True)
        rows = len(corpus)
        prompts = _per_row(prompt, rows, "prompt")
        fps_rows = [validate_fps(f) for f in _per_row(fps, rows, "fps")]
        resolutions = [
            validate_media_resolution(r)
            for r in _per_row(media_resolution, rows, "media_resolution")
        ]
        combos: list[tuple[Any, Any, Any]] = list(
            dict.fromkeys(zip(prompts, fps_rows, resolutions, strict=True))
        )
        for text, f, r in combos or [(prompt, fps, media_resolution)]:  # empty: as given
            client._check_ask_args(  # every per-call option, once, as client.ask would check it
                text,
                fps=f,
                media_resolution=r,
                system=system,
                max_completion_tokens=max_completion_tokens,
                **extra,
            )
        self.corpus, self.client, self.refusal_hint = corpus, client, refusal_hint
        self.fps = validate_fps(fps) if isinstance(fps, (int, float)) else tuple(fps_rows)
        self.media_resolution = (
            validate_media_resolution(media_resolution)
            if isinstance(media_resolution, str)
            else tuple(resolutions)
        )
        self.profile = get_profile(client.profile)  # whose rules the estimates follow
        self.system, self.max_completion_tokens, self.extra = system, max_completion_tokens, extra
        self.concurrency, self.max_cost, self.progress = concurrency, max_cost, progress
        self.output_tokens = max_completion_tokens if output_tokens is None else output_tokens
        self.pacer = Pacer(requests_per_minute, tokens_per_minute, window=window)
        self.prices: Prices | None = client.prices
        if max_cost is not None and self.prices is None:
            raise LimitError("max_cost needs prices: pass AsyncMimoClient(prices=mn.Prices(...)).")
        positions = np.flatnonzero(corpus.ok)
        self.items = [_Item(int(p)) for p in positions]
        self.prompts = [prompts[p] for p in positions]  # per item, as fps and resolution
        self.settings = [(fps_rows[p], resolutions[p]) for p in positions]
        text = np.asarray(
            [estimate_text_tokens((system or "") + p) for p in self.prompts], dtype=np.int64
        )
        self.est_prompt = self._video_tokens() + text
        self.charge = self.est_prompt + max_completion_tokens  # the most a request can weigh
        self.est_cost = self._costs(self.output_tokens)
        self.worst_cost = self._costs(max_completion_tokens)
        self.sender = Sender(client, self.pacer, max_cost)  # the spend, the cap, the pacing

    def _video_tokens(self) -> npt.NDArray[np.int64]:
        """Each item's video tokens at its own setting, as the forecast makes them: the array
        estimator for the hosted API, else video by video by the client's profile (the
        function the client estimates each request by)."""
        if not self.settings:
            return np.zeros(0, dtype=np.int64)
        fps, resolutions = zip(*self.settings, strict=True)
        if not self.profile.is_default:
            return profile_video_tokens(self.corpus, fps, resolutions, self.profile)["tokens"]
        d, w, h, mute = self.corpus._columns()
        return explain_video_tokens_array(d, w, h, list(fps), list(resolutions), mute)["total"]

    def _estimate(self, k: int, prompt_tokens: int) -> None:
        """Set request k's estimate, and with it its weight against the quotas and its costs."""
        self.est_prompt[k] = prompt_tokens
        self.charge[k] = prompt_tokens + self.max_completion_tokens
        if self.prices is not None:
            p = self.prices
            self.est_cost[k] = (prompt_tokens * p.input + self.output_tokens * p.output) / 1e6
            self.worst_cost[k] = (
                prompt_tokens * p.input + self.max_completion_tokens * p.output
            ) / 1e6

    def _costs(self, output_tokens: int) -> npt.NDArray[np.float64]:
        if self.prices is None:
            return np.zeros(len(self.items))
        p = self.prices
        return np.asarray(
            (self.est_prompt * p.input + output_tokens * p.output) / 1e6, dtype=np.float64
        )

    def _source(self, position: int) -> Any:
        row = self.corpus._table.iloc[position]
        if _is_url(row["path"]):
            return row["path"]
        if not all(
            _present(row[c])
            for c in (
                "format",
                "native_fps",
                "native_frame_count",
                "codec",
                "constant_rate",
                "keyframe_interval",
            )
        ):
            return _open(row["path"])  # a table from elsewhere (from_pandas): probe it now
        return _request_video(row)

    async def _prepare(self, k: int) -> None:
        item = self.items[k]
        try:
            source = await asyncio.to_thread(
                self._source, item.position
            )  # a stat, maybe a probe: off the loop
            fps, media_resolution = self.settings[k]
            prepared = await self.client.build_request(
                source,
                self.prompts[k],
                fps=fps,
                media_resolution=media_resolution,
                system=self.system,
                max_completion_tokens=self.max_completion_tokens,
                **self.extra,
            )
            item.prepared = prepared
            if (
                prepared.estimate.complete
            ):  # the file as it is now (the scan's estimate, unless it changed)
                self._estimate(k, prepared.estimate.prompt_tokens)
            cache = self.client.cache
            if cache is not None:  # hashing the file is blocking: off the loop
                item.cached = await asyncio.to_thread(
                    lambda: cache.get(prepared.cache_material()) is not None
                )
        except MimoError as exc:
            item.status, item.error_type, item.error = STATUS_ERROR, type(exc).__name__, str(exc)

    async def _prepare_all(self) -> None:
        gate = asyncio.Semaphore(8)

        async def one(k: int) -> None:
            async with gate:
                await self._prepare(k)

        await asyncio.gather(*(one(k) for k in range(len(self.items))))

    def _forecast(self) -> float:
        return float(
            sum(
                self.est_cost[k]
                for k, it in enumerate(self.items)
                if not it.cached and not it.status
            )
        )

    async def execute(self, *, dry_run: bool) -> CorpusAnswers:
        started = time.monotonic()
        if len(self.items):
            self.pacer.check(int(self.charge.max()))
        if dry_run or self.client.cache is not None:  # to know what the cache holds before starting
            await self._prepare_all()
        forecast = self._forecast()
        to_send = [k for k, it in enumerate(self.items) if not it.cached and not it.status]
        minimum = minimum_wall_time(
            [int(self.charge[k]) for k in to_send],
            requests_per_minute=self.pacer.requests_per_minute,
            tokens_per_minute=self.pacer.tokens_per_minute,
            window=self.pacer.window,
        )
        if dry_run:
            for item in self.items:
                item.status = item.status or (
                    STATUS_WOULD_REPLAY if item.cached else STATUS_WOULD_SEND
                )
        else:
            if self.max_cost is not None and forecast > self.max_cost:
                currency = self.prices.currency if self.prices else ""
                raise LimitError(
                    f"the forecast for the {len(to_send):,} requests to send is {forecast:.4f} "
                    f"{currency}, over max_cost={self.max_cost:g}: nothing was sent. "
                    + self.refusal_hint
                )
            await self._send_all()
        return CorpusAnswers(
            self.corpus,
            self.items,
            self.est_prompt,
            self.est_cost,
            self.prices,
            forecast,
            self.spent,
            dry_run,
            minimum,
            time.monotonic() - started,
            {
                "fps": self.fps,
                "media_resolution": self.media_resolution,
                "max_cost": self.max_cost,
                "profile": self.profile.name,
            },
        )

    @property
    def spent(self) -> float:
        """What the answers sent so far cost (no usage: their worst case)."""
        return self.sender.spent

    async def _send_all(self) -> None:
        bar = _progress(len(self.items), self.progress, "ask", "video")
        try:
            await each(range(len(self.items)), self.concurrency, self._one, lambda: bar.update(1))
        finally:
            bar.close()

    async def _one(self, k: int) -> None:
        item = self.items[k]
        if (
            item.prepared is None and not item.status
        ):  # no cache to check: built just before it is sent
            await self._prepare(k)
        if item.status:  # failed while preparing
            return
        assert item.prepared is not None
        sent = await self.sender.send(
            item.prepared,
            worst=float(self.worst_cost[k]),
            charge=int(self.charge[k]),
            cached=item.cached,
        )
        if sent.skipped:
            item.status, item.error = STATUS_SKIPPED, OVER_BUDGET
        elif sent.error is not None:
            exc = sent.error
            item.status, item.error_type, item.error = STATUS_ERROR, type(exc).__name__, str(exc)
        elif sent.completion is not None:
            item.completion, item.reserved_cost = sent.completion, sent.reserved_cost
            item.status = STATUS_REPLAYED if sent.completion.origin == "cache" else STATUS_ANSWERED


def _request_video(row: Any) -> Video:
    """The Video a request is built from, from the scan's row without probing again.

    Only what a request needs is rebuilt (format, duration, size, audio); a file whose size
    differs from the scan's is opened afresh instead, so a changed file is not sent with a
    stale estimate.
    """
    from mimo_nb.media.probe import Probe
    from mimo_nb.media.video import Video

    path = Path(row["path"])
    try:
        changed = os.stat(path).st_size != int(row["size_bytes"])
    except OSError:
        changed = True
    if changed:  # gone or rewritten since the scan: the probe says what it is now (or why not)
        return Video.open(path)
    rotation = int(row["rotation"]) if _present(row["rotation"]) else 0
    width, height = int(row["width"]), int(row["height"])
    stored_w, stored_h = (height, width) if rotation in (90, 270) else (width, height)
    rate = (
        Fraction(row["rate"])
        if isinstance(row["rate"], str)
        else Fraction(float(row["native_fps"])).limit_denominator(1001)
    )
    return Video(
        Probe(
            path=path,
            format=str(row["format"]),
            duration=float(row["duration"]),
            stored_width=stored_w,
            stored_height=stored_h,
            rotation=rotation,
            native_fps=float(row["native_fps"]),
            frame_count=int(row["native_frame_count"]),
            has_audio=bool(row["has_audio"]),
            codec=str(row["codec"]),
            constant_rate=bool(row["constant_rate"]),
            keyframe_interval=int(row["keyframe_interval"]),
            rate=rate,
        )
    )


def _open(path: str) -> Video:
    from mimo_nb.media.video import Video

    return Video.open(path)


def _present(value: Any) -> bool:
    try:
        return value is not None and not bool(_need_pandas().isna(value))
    except (TypeError, ValueError):
        return True
