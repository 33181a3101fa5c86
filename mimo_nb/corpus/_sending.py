"""One budgeted, paced sender for every run that sends many requests (Corpus.ask, mn.sweep,
ask_long): a cap on money is a cap.

A :class:`Sender` owns the money of one run: what the answers cost so far (``spent``), the most
the requests in flight can still cost (``reserved``), and whether the cap has stopped the run
(``stopped``). :meth:`Sender.send` takes one prepared request through the same steps for every
caller:

1. a replay from the cache is sent at once: it costs nothing and is not paced;
2. a request that could take the spend past ``max_cost`` at its worst (its estimated prompt and
   the whole ``max_completion_tokens``), beside the worst of those in flight, is skipped, and so
   is every request after it (the run stops);
3. a request heavier than the token quota is refused with the pacer's error (it could never be
   sent);
4. it reserves its worst case, waits for the pacer, and is checked again: answers that came in
   while it waited may have cost more than their estimate;
5. it is sent, the pacer is settled with the usage's total tokens (or the charge it was admitted
   with), and the spend records its actual cost, or its worst case when the answer has no usage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from mimo_nb.errors import LimitError

if TYPE_CHECKING:
    from mimo_nb.api.client import AsyncMimoClient
    from mimo_nb.api.pacing import Pacer
    from mimo_nb.api.request import PreparedRequest
    from mimo_nb.api.response import Completion

T = TypeVar("T")

OVER_BUDGET = "not sent: max_cost would be crossed"


@dataclass
class Sent:
    """What became of one request: an answer, an error, or skipped for the budget.

    ``reserved_cost`` is set when the answer came without usage (and there are prices): it
    counts at its worst case, never at 0.
    """

    completion: Completion | None = None
    error: Exception | None = None
    skipped: bool = False
    reserved_cost: float | None = None


class Sender:
    """The money and the pacing of one run's requests (see the module's steps).

    Args:
        client: the :class:`~mimo_nb.api.client.AsyncMimoClient` that sends (and caches).
        pacer: the run's :class:`~mimo_nb.api.pacing.Pacer` (its quotas).
        max_cost: the cap on the run's spend (None: no cap); needs the client's prices.
    """

    def __init__(self, client: AsyncMimoClient, pacer: Pacer, max_cost: float | None) -> None:
        self.client, self.pacer, self.max_cost = client, pacer, max_cost
        self.spent = self.reserved = 0.0
        self.stopped = False

    def over_budget(self, worst: float) -> bool:
        """True if a request of ``worst`` cost, beside those in flight at theirs, could take the
        spend past ``max_cost``."""
        return self.max_cost is not None and self.spent + self.reserved + worst > self.max_cost

    def _over_budget_now(self) -> bool:
        """The same check for a request that holds its own reservation already."""
        if self.max_cost is not None and self.spent + self.reserved > self.max_cost:
            self.stopped = True
            return True
        return False

    async def send(
        self, prepared: PreparedRequest, *, worst: float, charge: int, cached: bool
    ) -> Sent:
        """Send one request within the budget and the quotas; ``worst`` is its most cost,
        ``charge`` its most tokens against the quota, ``cached`` True to replay it unpaced."""
        if cached:
            return await self._send(prepared, worst)  # replayed: nothing paid, nothing paced
        if self.stopped or self.over_budget(worst):
            self.stopped = True
            return Sent(skipped=True)
        try:
            self.pacer.check(charge)
        except LimitError as exc:  # e.g. its file grew past the quota since the estimate
            return Sent(error=exc)
        self.reserved += worst
        try:
            ticket = await self.pacer.acquire(charge)
            if self._over_budget_now():  # answers that came in while it waited cost more
                self.pacer.settle(ticket, 0)
                return Sent(skipped=True)
            sent = Sent()
            try:
                sent = await self._send(prepared, worst)
            # answered, failed or cancelled: the request keeps its place for a window from now
            finally:
                usage = sent.completion.usage if sent.completion is not None else None
                self.pacer.settle(ticket, usage.total_tokens if usage is not None else None)
            return sent
        finally:
            self.reserved -= worst

    async def _send(self, prepared: PreparedRequest, worst: float) -> Sent:
        try:
            completion = await self.client.send(prepared)
        except Exception as exc:  # noqa: BLE001  (one request's failure is its row)
            return Sent(error=exc)
        sent = Sent(completion)
        if completion.usage is None and self.client.prices is not None:
            # No usage: it counts at its reserved worst case, never at 0 (the cap must hold).
            sent.reserved_cost = float(worst)
        if completion.origin != "cache":
            if sent.reserved_cost is not None:
                self.spent += sent.reserved_cost
            elif completion.cost is not None:
                self.spent += completion.cost.total
        return sent


async def each(
    items: Sequence[T],
    concurrency: int,
    one: Callable[[T], Awaitable[Any]],
    done: Callable[[], Any] | None = None,
) -> None:
    """Await ``one(item)`` for every item in order, at most ``concurrency`` at once; call
    ``done()`` after each (a progress bar's update).

    Never more workers than items: concurrency=10**6 starts no million coroutines.
    """
    queue = list(items)[::-1]

    async def worker() -> None:
        while queue:
            await one(queue.pop())
            if done is not None:
                done()

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(queue)))))
